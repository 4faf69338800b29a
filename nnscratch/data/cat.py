"""The deeplearning.ai "cat vs non-cat" dataset: 64x64 RGB photos labelled 1 (cat) or 0 (non-cat)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..core.errors import DatasetError
from .checksum import read_file
from .errors import bad_file

if TYPE_CHECKING:
    import h5py

TRAIN_FILE = "train_catvnoncat.h5"
TEST_FILE = "test_catvnoncat.h5"
IMAGE_SHAPE = (64, 64, 3)
MAX_IMAGES = 100_000  # per file (1.2 GB of pixels): a header declaring more is refused before reading


class CatData(NamedTuple):
    """The cat dataset; unpacks as ``x_train, y_train, x_test, y_test, classes = load_cat()``."""

    x_train: np.ndarray  # (209, 64, 64, 3) uint8 RGB
    y_train: np.ndarray  # (209,) int64, 1 = cat (72), 0 = non-cat (137)
    x_test: np.ndarray   # (50, 64, 64, 3) uint8 RGB
    y_test: np.ndarray   # (50,) int64, 1 = cat (33), 0 = non-cat (17)
    classes: list[str]   # ['non-cat', 'cat']: classes[label] is the name of a label


def load_cat(root: str | os.PathLike[str] | None = None, verify: bool = True) -> CatData:
    """Load ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` (see ``find_file`` for where they are looked for).

    ``verify`` checks each file's SHA-256 against the original first. Whatever ``verify``, the content is
    checked: images ``(N, 64, 64, 3)`` uint8, integer labels ``(N,)`` in {0, 1}, two class names.
    Raises ``DatasetError`` (or a subclass) naming the file, the problem and how to get the original.
    """
    x_train, y_train, classes = _read_split(TRAIN_FILE, "train", root, verify)
    x_test, y_test, test_classes = _read_split(TEST_FILE, "test", root, verify)
    if test_classes != classes:
        raise DatasetError(f"{TRAIN_FILE} has classes {classes} but {TEST_FILE} has {test_classes}")
    return CatData(x_train, y_train, x_test, y_test, classes)


def _read_split(name: str, split: str, root: str | os.PathLike[str] | None,
                verify: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(x, y, classes)`` from one file, whose datasets are ``<split>_set_x``, ``<split>_set_y``, ``list_classes``."""
    import h5py  # loaded when the cat files are read, not by ``import nnscratch`` or the command line's start

    path, data = read_file(name, root, verify)
    keys = (f"{split}_set_x", f"{split}_set_y", "list_classes")
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            for key in keys:
                if not isinstance(f.get(key), h5py.Dataset):
                    raise bad_file(path, f"HDF5 file has no dataset {key!r} (found: {sorted(f.keys())[:10]})")
            datasets = [f[key] for key in keys]
            _check_layout(path, keys, *datasets)  # shapes and dtypes, before any payload is read
            x, y, names = (np.asarray(d[()]) for d in datasets)
    except DatasetError:
        raise
    except MemoryError:
        raise bad_file(path, "not enough memory to read it") from None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, OverflowError) as exc:
        raise bad_file(path, f"not a readable HDF5 file ({len(data)} bytes; h5py: {exc})") from exc
    return _check_images(path, keys[0], x), _check_labels(path, keys[1], y, len(x)), _check_classes(path, names)


def _check_layout(path: Path, keys: tuple[str, ...], x: h5py.Dataset, y: h5py.Dataset, names: h5py.Dataset) -> None:
    """The datasets' shapes and dtypes, from the HDF5 metadata: nothing of their payload is read."""
    _check_images(path, keys[0], x)
    if x.shape[0] > MAX_IMAGES:
        raise bad_file(path, f"{keys[0]} declares {x.shape[0]} images, more than the limit of {MAX_IMAGES} "
                             "(nnscratch.data.cat.MAX_IMAGES)")
    if y.shape != (x.shape[0],):
        raise bad_file(path, f"{keys[1]} has shape {y.shape}, expected ({x.shape[0]},) (one label per image)")
    if y.dtype.kind not in "iub":
        raise bad_file(path, f"{keys[1]} has dtype {y.dtype}, expected integer labels")
    if names.shape != (2,) or names.dtype.kind not in "SUO":
        raise bad_file(path, f"list_classes has shape {names.shape} and dtype {names.dtype}, expected 2 names")


def _check_images(path: Path, key: str, x: np.ndarray | h5py.Dataset) -> np.ndarray | h5py.Dataset:
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
        raise bad_file(path, f"{key} has shape {x.shape}, expected (N, 64, 64, 3)")
    if x.dtype != np.uint8:
        raise bad_file(path, f"{key} has dtype {x.dtype}, expected uint8")
    return x


def _check_labels(path: Path, key: str, y: np.ndarray, n: int) -> np.ndarray:
    if y.shape != (n,):
        raise bad_file(path, f"{key} has shape {y.shape}, expected ({n},) (one label per image)")
    if y.dtype.kind not in "iub":
        raise bad_file(path, f"{key} has dtype {y.dtype}, expected integer labels")
    bad = np.setdiff1d(y, [0, 1])
    if bad.size:
        raise bad_file(path, f"{key} has labels {bad[:5].tolist()}, expected only 0 (non-cat) and 1 (cat)")
    return y.astype(np.int64)


def _check_classes(path: Path, names: np.ndarray) -> list[str]:
    if names.shape != (2,) or names.dtype.kind not in "SUO":
        raise bad_file(path, f"list_classes has shape {names.shape} and dtype {names.dtype}, expected 2 names")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names.tolist()]
