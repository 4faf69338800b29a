"""A folder of images, one subfolder per class, as batches for ``fit``: ``image_dataset_from_directory``
(Keras's function, which returns ``ImageFolder`` datasets here instead of tf.data pipelines).

    flowers/daisy/1.jpg, flowers/daisy/2.jpg, ..., flowers/tulip/1.jpg, ...
    train, val = image_dataset_from_directory("flowers", image_size=(64, 64), validation_split=0.2,
                                              subset="both", seed=1)
    model.fit(train, validation_data=val, epochs=5)

Each batch is ``(images, labels)``: images ``(batch, height, width, channels)`` float32 in 0..255 (not
scaled, as in Keras), read with ``nnscratch.data.image`` (only image formats, pixel count checked from the
header before decoding; an unreadable file raises ``ImageError`` naming it). Only the files are listed
up front: images are decoded batch by batch, so a folder larger than memory trains.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..core.errors import InvalidValueError
from ..core.validation import positive_int
from ..training.batch_source import PyDataset
from .image import prepare_image

EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # Keras's list
INTERPOLATIONS = {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST,
                  "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
                  "area": Image.Resampling.BOX}
CHANNELS = {"rgb": 3, "grayscale": 1}


class ImageFolder(PyDataset):
    """Batches of the image files ``file_paths`` with ``labels`` (None: images alone), in ``label_mode``
    ``"int"`` (class indices), ``"categorical"`` (one-hot rows), ``"binary"`` (0/1, two classes) or None.
    ``shuffle`` deals the files into new batches after each epoch (seeded by ``seed``)."""

    def __init__(self, file_paths: Sequence[str], labels: np.ndarray | None, class_names: list[str],
                 label_mode: str | None = "int", color_mode: str = "rgb", batch_size: int = 32,
                 image_size: tuple[int, int] = (256, 256), interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, shuffle: bool = False, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_options(label_mode, color_mode, interpolation)
        self.file_paths, self.class_names = list(file_paths), list(class_names)
        self.labels = labels
        self.label_mode, self.color_mode = label_mode, color_mode
        self.batch_size = positive_int(batch_size, "batch_size")
        self.image_size = (positive_int(image_size[0], "image_size[0]"), positive_int(image_size[1], "image_size[1]"))
        self.resample, self.crop = INTERPOLATIONS[interpolation], bool(crop_to_aspect_ratio)
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)
        self.order = np.arange(len(self.file_paths))

    def __len__(self) -> int:
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        images = np.stack([self._load(self.file_paths[i]) for i in rows]).astype(np.float32)
        if self.labels is None:
            return images
        labels = self.labels[rows]
        if self.label_mode == "categorical":
            return images, np.eye(len(self.class_names), dtype=np.float32)[labels]
        if self.label_mode == "binary":
            return images, labels.astype(np.float32).reshape(-1, 1)
        return images, labels

    def _load(self, path: str) -> np.ndarray:
        rgb = prepare_image(path, self.image_size, center_crop=self.crop, resample=self.resample)
        if self.color_mode == "grayscale":
            return np.asarray(Image.fromarray(rgb).convert("L"))[..., None]  # Pillow's ITU-R 601-2 luma
        return rgb

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.order = self.rng.permutation(len(self.file_paths))


def list_images(directory: Path, class_names: list[str] | None, follow_links: bool) -> tuple[list[str], list[int]]:
    """The image files under ``directory/<class>`` (sorted), with their class indices in ``class_names``."""
    paths, labels = [], []
    for k, name in enumerate(class_names or [""]):
        found = []
        for root, dirs, files in os.walk(directory / name, followlinks=follow_links):
            dirs.sort()
            found += [os.path.join(root, f) for f in files if f.lower().endswith(EXTENSIONS)]
        paths += sorted(found)
        labels += [k] * len(found)
    return paths, labels


def _choice(value: Any, name: str, allowed: Sequence[Any]) -> Any:
    if value not in allowed:
        raise InvalidValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")
    return value


def check_options(label_mode: Any, color_mode: Any, interpolation: Any) -> None:
    _choice(label_mode, "label_mode", ("int", "categorical", "binary", None))
    _choice(color_mode, "color_mode", tuple(CHANNELS))
    _choice(interpolation, "interpolation", tuple(INTERPOLATIONS))


def image_dataset_from_directory(directory: str | os.PathLike, labels: Any = "inferred", label_mode: str | None = "int",
                                 class_names: Sequence[str] | None = None, color_mode: str = "rgb",
                                 batch_size: int | None = 32, image_size: tuple[int, int] = (256, 256),
                                 shuffle: bool = True, seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False, verbose: bool = True,
                                 **kwargs: Any) -> Any:
    """Keras's ``image_dataset_from_directory``: an ``ImageFolder`` of the images under ``directory`` (two, as
    ``(training, validation)``, for ``subset="both"``). ``labels="inferred"``: one class per subfolder
    (sorted, or in the order of ``class_names``); a list gives the labels of the files in sorted order; None:
    no labels. ``validation_split`` with ``subset`` ``"training"``, ``"validation"`` or ``"both"`` splits the
    (shuffled, seeded) files. ``kwargs`` go to ``PyDataset`` (``workers``, ``max_queue_size``)."""
    root = Path(directory)
    if not root.is_dir():
        raise InvalidValueError(f"directory {str(root)!r} is not a folder")
    if batch_size is None:
        raise InvalidValueError("batch_size=None (single images) is not supported: give a batch size")
    check_options(label_mode, color_mode, interpolation)
    _choice(subset, "subset", ("training", "validation", "both", None))
    if (validation_split is None) != (subset is None):
        raise InvalidValueError("validation_split and subset go together (e.g. validation_split=0.2, subset='both')")
    if validation_split is not None and not 0 < validation_split < 1:
        raise InvalidValueError(f"validation_split must be between 0 and 1, got {validation_split}")
    if validation_split is not None and shuffle and seed is None:
        raise InvalidValueError("with validation_split and shuffle, give a seed, so that the training and "
                                "validation subsets do not overlap")
    if labels == "inferred":
        names = list(class_names) if class_names is not None else sorted(d.name for d in root.iterdir() if d.is_dir())
        missing = [n for n in names if not (root / n).is_dir()]
        if missing or not names:
            raise InvalidValueError(f"{root}: no class subfolders {missing or ''} (expected one folder per class)")
        paths, indices = list_images(root, names, follow_links)
    else:
        if class_names is not None:
            raise InvalidValueError("class_names goes with labels='inferred'")
        paths, _ = list_images(root, None, follow_links)
        indices = [] if labels is None else [int(v) for v in labels]
        if labels is not None and len(indices) != len(paths):
            raise InvalidValueError(f"labels has {len(indices)} entries for {len(paths)} image files")
        names = [str(k) for k in range(max(indices, default=-1) + 1)]
    if not paths:
        raise InvalidValueError(f"{root}: no image files ({', '.join(EXTENSIONS)})")
    if label_mode == "binary" and labels is not None and len(names) != 2:
        raise InvalidValueError(f"label_mode='binary' needs exactly 2 classes, found {len(names)}: {names}")
    with_labels = labels is not None and label_mode is not None
    if verbose:
        print(f"Found {len(paths)} files" + (f" belonging to {len(names)} classes." if with_labels else "."))
    order = np.random.default_rng(seed).permutation(len(paths)) if shuffle else np.arange(len(paths))
    files = [paths[i] for i in order]
    targets = np.asarray(indices, dtype=np.int32)[order] if with_labels else None

    def part(rows: slice, what: str | None) -> ImageFolder:
        if verbose and what:
            print(f"Using {len(files[rows])} files for {what}.")
        return ImageFolder(files[rows], None if targets is None else targets[rows], names, label_mode, color_mode,
                           batch_size, image_size, interpolation, crop_to_aspect_ratio, shuffle, seed, **kwargs)

    if validation_split is None:
        return part(slice(None), None)
    split = len(files) - int(validation_split * len(files))
    if subset == "both":
        return part(slice(None, split), "training"), part(slice(split, None), "validation")
    return part(slice(None, split), "training") if subset == "training" else part(slice(split, None), "validation")
