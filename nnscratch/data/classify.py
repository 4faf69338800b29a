"""Classify image files with a saved image model (the cat classifier of ``examples/train_cat.py``).

    from nnscratch.predict import load_classifier, classify_images
    clf = load_classifier("cat_model.npz")
    for label, prob in classify_images(["my_cat.jpg"], clf):
        print(label, prob)          # e.g. "cat 0.93": prob is the probability of the printed label

A classifier file is an ordinary model file (``nnscratch.io.model_file``) whose record also holds
``"classes"`` (names, ``classes[i]`` for output/label ``i``) and ``"preprocessing"`` (how a photo becomes a
model input: ``{"size": [64, 64], "scale": 255, "flatten": true}``); ``save_classifier`` writes both.
When they are absent, the defaults of the cat dataset are used (``DEFAULT_CLASSES``, ``DEFAULT_PREPROCESSING``).

Training and prediction share ``preprocess_images``, so a photo is scaled exactly like the training images:
``(N, H, W, 3)`` uint8 -> ``flatten_images`` (when ``flatten``) -> ``scale_images`` (``x / 255``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ImageError, ModelFileError, NNScratchError
from ..io.model_file import model_path, read_model_file, save_model
from ..models.loading import load_model
from .preprocess import flatten_images, scale_images

DEFAULT_CLASSES = ["non-cat", "cat"]
DEFAULT_PREPROCESSING: dict[str, Any] = {"size": [64, 64], "scale": 255, "flatten": True}
SCALE_RANGE = (1e-6, 1e9)  # a preprocessing scale outside it makes 0-255 pixels overflow float32 or vanish


# ----------------------------------------------------------------------------- preprocessing
def preprocess_images(images: np.ndarray, preprocessing: dict[str, Any] | None = None,
                      dtype: Any = np.float32) -> np.ndarray:
    """uint8 images ``(N, H, W, 3)`` -> model inputs: ``(N, H*W*3)`` in [0, 1] (or ``(N, H, W, 3)`` when
    ``preprocessing["flatten"]`` is false). Used by training and by prediction alike."""
    prep = {**DEFAULT_PREPROCESSING, **(preprocessing or {})}
    x = flatten_images(images) if prep["flatten"] else np.asarray(images)
    if float(prep["scale"]) == 255.0:
        return scale_images(x, dtype)
    dtype = np.dtype(dtype)
    return x.astype(dtype) / dtype.type(prep["scale"])


def input_shape_for(preprocessing: dict[str, Any] | None = None) -> tuple[int, ...]:
    """The model input shape that ``preprocessing`` produces: ``(H*W*3,)`` flattened, else ``(H, W, 3)``."""
    prep = {**DEFAULT_PREPROCESSING, **(preprocessing or {})}
    height, width = prep["size"]
    return (height * width * 3,) if prep["flatten"] else (height, width, 3)


# ----------------------------------------------------------------------------- classifier files
@dataclass
class Classifier:
    """A loaded image model with its class names and preprocessing (see ``load_classifier``)."""

    model: Any
    classes: list[str] = field(default_factory=lambda: list(DEFAULT_CLASSES))
    preprocessing: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PREPROCESSING))
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` a photo is resized to."""
        height, width = self.preprocessing["size"]
        return int(height), int(width)


def save_classifier(model: Any, path: str | os.PathLike, classes: Sequence[str] = DEFAULT_CLASSES,
                    preprocessing: dict[str, Any] | None = None) -> Path:
    """Save ``model`` with its class names and preprocessing in the file's record; returns the path."""
    prep = {**DEFAULT_PREPROCESSING, **(preprocessing or {})}
    return save_model(model, path, extra_config={"classes": list(classes), "preprocessing": prep})


def _check_preprocessing(prep: Any, path: Any) -> dict[str, Any]:
    if not isinstance(prep, dict):
        raise ModelFileError(f"'{path}' has a bad preprocessing record {prep!r}: expected an object")
    prep = {**DEFAULT_PREPROCESSING, **prep}
    size, scale = prep["size"], prep["scale"]
    if not (isinstance(size, (list, tuple)) and len(size) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ModelFileError(f"'{path}' has a bad preprocessing size {size!r}: expected [height, width]")
    height, width = size
    from . import image as image_module  # Pillow: loaded on first use, not by the command line's start

    if height * width > image_module.MAX_PIXELS:
        raise ModelFileError(f"'{path}' has a preprocessing size {size!r} of {height * width} pixels, more than the "
                             f"limit of {image_module.MAX_PIXELS} (nnscratch.data.image.MAX_PIXELS)")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ModelFileError(f"'{path}' has a bad preprocessing scale {scale!r}: expected a positive number")
    low, high = SCALE_RANGE
    if not low <= scale <= high:
        raise ModelFileError(f"'{path}' has a preprocessing scale {scale!r} out of range: pixels are divided by it, "
                             f"so it must be between {low:g} and {high:g} for the inputs to stay finite and distinct")
    if not isinstance(prep["flatten"], bool):
        raise ModelFileError(f"'{path}' has a bad preprocessing flatten {prep['flatten']!r}: expected true or false")
    return {**prep, "size": [int(s) for s in size]}


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def load_classifier(path: str | os.PathLike) -> Classifier:
    """Load a saved image classifier and check it can take photos.

    The model's input shape must be what its preprocessing produces: ``(12288,)`` (64x64 RGB flattened)
    or ``(64, 64, 3)`` (a convolutional model) with the default preprocessing. Its output must be one
    sigmoid unit for two classes, or one unit per class. Raises ``ModelFileError`` (missing file, not a
    model, a model for other inputs, such as MNIST's 784 pixels) with a message naming what is wrong.
    """
    config, _ = read_model_file(path)
    shown = path if Path(path).exists() else model_path(path)
    actual = tuple(config["input_shape"])
    if "preprocessing" in config:
        prep = _check_preprocessing(config["preprocessing"], shown)
        expected = [input_shape_for(prep)]
    else:  # a plain model file: the cat dataset's 64x64 RGB images, flattened or not
        prep = dict(DEFAULT_PREPROCESSING)
        expected = [input_shape_for(prep), input_shape_for({**prep, "flatten": False})]
        if actual == expected[1]:
            prep["flatten"] = False
    if actual not in expected:
        height, width = prep["size"]
        wanted = " or ".join(f"{_shape_text(s)}{' (flattened)' if len(s) == 1 else ''}" for s in expected)
        raise ModelFileError(f"'{shown}' is not a model for {height}x{width} RGB images: its input shape is "
                             f"{_shape_text(actual)}, expected {wanted}")
    classes = config.get("classes", DEFAULT_CLASSES)
    if not (isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) for c in classes)):
        raise ModelFileError(f"'{shown}' has a bad class list {classes!r}: expected two or more names")
    model = load_model(path)
    try:
        outputs = model.predict(np.zeros((1, *actual), dtype=model.dtype)).shape[1:]
    except MemoryError:
        raise ModelFileError(f"'{shown}': not enough memory to run the model") from None
    except (NNScratchError, ValueError, NotImplementedError) as exc:
        raise ModelFileError(f"'{shown}': the model cannot run on inputs of shape "
                             f"{_shape_text(actual)}: {exc}") from None
    units = int(np.prod(outputs))
    if not (units == len(classes) or (units == 1 and len(classes) == 2)):
        raise ModelFileError(f"'{shown}' has {units} output(s) but {len(classes)} class names {classes}: "
                             "expected one sigmoid output for two classes or one output per class")
    return Classifier(model, list(classes), prep, Path(path))


# ----------------------------------------------------------------------------- prediction
def _as_classifier(model: Any) -> Classifier:
    if isinstance(model, Classifier):
        return model
    if isinstance(model, (str, os.PathLike)):
        return load_classifier(model)
    return Classifier(model)


def predict_probabilities(images: np.ndarray, model: Any) -> np.ndarray:
    """Class probabilities ``(N, classes)`` of uint8 images ``(N, H, W, 3)`` already of the model's size."""
    clf = _as_classifier(model)
    x = preprocess_images(images, clf.preprocessing, clf.model.dtype)
    probs = np.asarray(clf.model.predict_proba(x), dtype=np.float64).reshape(len(x), -1)
    if probs.shape[1] == 1:  # one sigmoid unit: the probability of classes[1]
        probs = np.concatenate([1.0 - probs, probs], axis=1)
    return probs


def classify_arrays(images: np.ndarray, model: Any) -> list[tuple[str, float]]:
    """``(label, probability of that label)`` for each uint8 image ``(N, H, W, 3)`` of the model's size."""
    clf = _as_classifier(model)
    probs = predict_probabilities(images, clf)
    best = probs.argmax(axis=1)
    return [(clf.classes[i], float(p[i])) for i, p in zip(best, probs)]


def load_images(paths: Iterable[str | os.PathLike], model: Any) -> np.ndarray:
    """The image files as one uint8 batch ``(N, H, W, 3)`` at the classifier's size (``ImageError`` if one is bad)."""
    from .image import load_image

    clf = _as_classifier(model)
    images = [load_image(p, clf.size) for p in paths]
    height, width = clf.size
    return np.stack(images) if images else np.empty((0, height, width, 3), np.uint8)


def classify_image(path: str | os.PathLike, model: Any) -> tuple[str, float]:
    """``(label, probability of that label)`` for one image file; raises ``ImageError`` if it is not an image."""
    return classify_images([path], model)[0]


def classify_images(paths: Iterable[str | os.PathLike], model: Any) -> list[tuple[str, float]]:
    """``[(label, probability of that label), ...]`` for image files, in order.

    ``model`` is a ``Classifier`` (``load_classifier``), a model file path, or a model (default classes and
    preprocessing). Any common format is read (EXIF orientation applied, palette, grayscale and transparent
    images converted to RGB on white) and resized to the model's size. Raises ``ImageError`` naming the
    first file that is not a readable image.
    """
    clf = _as_classifier(model)
    paths = list(paths)
    if not paths:
        return []
    return classify_arrays(load_images(paths, clf), clf)


def classify_paths(paths: Iterable[str | os.PathLike], model: Any, center_crop: bool = False) -> list[dict[str, Any]]:
    """One result per file, in order, never raising for a bad image: ``{"path", "label", "probability",
    "probabilities": {class: p}}``, or ``{"path", "error"}`` for a file that is not a readable image.

    ``center_crop`` crops the largest centered square before resizing instead of squeezing the image.
    """
    from .image import prepare_image

    clf = _as_classifier(model)
    results: list[dict[str, Any]] = []
    for path in paths:
        try:
            image = prepare_image(path, clf.size, center_crop=center_crop)
        except ImageError as exc:
            results.append({"path": str(path), "error": str(exc)})
            continue
        probs = predict_probabilities(image[np.newaxis], clf)[0]
        best = int(probs.argmax())
        results.append({"path": str(path), "label": clf.classes[best], "probability": float(probs[best]),
                        "probabilities": {name: float(p) for name, p in zip(clf.classes, probs)}})
    return results
