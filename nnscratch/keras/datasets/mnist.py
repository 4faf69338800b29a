"""``keras.datasets.mnist.load_data()``: MNIST as Keras returns it, from nnscratch's checksum-verified files."""

from __future__ import annotations

import os

import numpy as np

from ...data.mnist import load_mnist


def load_data(path: str | os.PathLike | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images ``(60000, 28, 28)``/``(10000, 28, 28)`` and
    uint8 labels. ``path`` is a folder holding the four IDX files (default: nnscratch's data folders; get the
    files with ``python -m nnscratch.datasets fetch mnist``). Raises ``DatasetError`` when they are missing."""
    data = load_mnist(path)
    return ((data.x_train, data.y_train.astype(np.uint8)), (data.x_test, data.y_test.astype(np.uint8)))
