"""Array helpers that turn image batches into model inputs."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from ..core.errors import DTypeError, ShapeError


def flatten_images(x: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` or ``(N, H, W)`` -> ``(N, H*W*C)``, row-major (C order) like ``x.reshape(N, -1)``.

    For ``(N, 64, 64, 3)`` feature ``k`` of sample ``n`` is ``x[n, k // 192, (k // 3) % 64, k % 3]``.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ShapeError(f"flatten_images: x must have a batch axis and at least one more, got shape {x.shape}")
    return x.reshape(x.shape[0], -1)


def scale_images(x: np.ndarray, dtype: DTypeLike = np.float32) -> np.ndarray:
    """uint8 pixels (any shape) -> floats in [0, 1] (``x / 255``) of the floating ``dtype`` (default float32)."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise DTypeError(f"scale_images: x must hold uint8 pixels (0-255), got dtype {x.dtype}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"scale_images: dtype must be a floating type, got {dtype}")
    return x.astype(dtype) / dtype.type(255)
