"""``keras.utils``: ``to_categorical``, ``pad_sequences``, ``set_random_seed``, ``normalize``, ``clear_session``,
``PyDataset`` (``Sequence``), ``image_dataset_from_directory``, ``load_img``, ``img_to_array``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..core.random import set_random_seed
from ..data.sequences import pad_sequences
from ..training.batch_source import PyDataset
from ._names import module_getattr
from .backend import clear_session

Sequence = PyDataset  # Keras 2's name

__all__ = ["PyDataset", "Sequence", "clear_session", "image_dataset_from_directory", "img_to_array", "load_img",
           "normalize", "pad_sequences", "set_random_seed", "to_categorical"]

_RESAMPLE = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")  # Pillow's filters, by Keras's names


def load_img(path: Any, color_mode: str = "rgb", target_size: Any = None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False) -> Any:
    """A Pillow image of the file at ``path`` (read by ``nnscratch.data.image``: image formats only, pixel count
    checked before decoding, EXIF orientation applied), ``"rgb"`` or ``"grayscale"``, resized to
    ``target_size = (height, width)`` when given (``keep_aspect_ratio``: from the centred window of that
    aspect ratio)."""
    from PIL import Image

    from ..data.image import prepare_image

    if color_mode not in ("rgb", "grayscale"):
        raise InvalidValueError(f"load_img color_mode must be 'rgb' or 'grayscale', got {color_mode!r} (nnscratch "
                                "composites transparency on white)")
    if interpolation not in _RESAMPLE:
        raise InvalidValueError(f"load_img interpolation must be one of {', '.join(map(repr, _RESAMPLE))}, got "
                                f"{interpolation!r}")
    size = None if target_size is None else tuple(target_size)
    resample = getattr(Image.Resampling, interpolation.upper())
    rgb = prepare_image(path, size, center_crop=keep_aspect_ratio, resample=resample)
    image = Image.fromarray(rgb)
    return image.convert("L") if color_mode == "grayscale" else image


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = "float32") -> np.ndarray:
    """``(height, width, channels)`` array of a Pillow image (or array); a grayscale image gets one channel."""
    if data_format not in (None, "channels_last"):
        raise InvalidValueError("nnscratch images are channels-last: img_to_array takes data_format='channels_last'")
    array = np.asarray(img, dtype=dtype)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise InvalidValueError(f"img_to_array takes an image of shape (height, width[, channels]), got {array.shape}")
    return array


def image_dataset_from_directory(directory: Any, **kwargs: Any) -> Any:
    """Keras's function over ``nnscratch.data.image_folder`` (Pillow loads only when it is called): an
    ``ImageFolder`` dataset of ``(images, labels)`` batches, two for ``subset="both"``."""
    from ..data.image_folder import image_dataset_from_directory as from_directory

    return from_directory(directory, **kwargs)


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot rows ``(*x.shape, num_classes)`` float32 for integer class labels ``x`` (Keras's rule: a
    trailing axis of size 1 is dropped first; ``num_classes`` defaults to ``max(x) + 1``)."""
    labels = np.asarray(x)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and (labels.dtype.kind not in "iub" and not np.all(labels == np.round(labels))):
        raise InvalidValueError("to_categorical takes whole-number class labels")
    labels = labels.astype(np.int64)
    classes = int(labels.max()) + 1 if num_classes is None and labels.size else int(num_classes or 0)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise InvalidValueError(f"to_categorical: labels must be in 0..{classes - 1}, got "
                                f"{labels.min()}..{labels.max()}")
    return np.eye(classes, dtype=np.float32)[labels]


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """``x`` divided by its ``order``-norm along ``axis`` (rows of zeros stay zero)."""
    x = np.asarray(x, dtype=np.float32) if not np.issubdtype(np.asarray(x).dtype, np.floating) else np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


_TF_DATA = "it builds a tf.data pipeline; load the files into NumPy arrays (nnscratch.data.image reads images)"
__getattr__ = module_getattr("keras.utils", globals(), {
    **dict.fromkeys(["text_dataset_from_directory", "audio_dataset_from_directory",
                     "timeseries_dataset_from_array", "split_dataset"], _TF_DATA),
    "plot_model": "nnscratch draws no model graphs; model.summary() prints the layers",
    "get_file": "nnscratch downloads only its own verified files (python -m nnscratch.datasets fetch)",
    "custom_object_scope": "pass custom_objects= to load_model", "register_keras_serializable":
        "register your layer class with nnscratch.register_layer",
    "get_custom_objects": "pass custom_objects= to load_model",
})
