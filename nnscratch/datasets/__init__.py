"""Dataset loaders (cat vs non-cat, MNIST), checksum-verified, and the tools to get the files.

Files are looked for in ``root`` (when given), else ``$NNSCRATCH_DATA``, the checkout's ``datasets/``
folder, and ``~/.cache/nnscratch``; get them with ``python -m nnscratch.datasets fetch``.

    x_train, y_train, x_test, y_test, classes = load_cat()   # (209, 64, 64, 3) uint8, (209,) int64, ...
    X = scale_images(flatten_images(x_train))                # (209, 12288) float32 in [0, 1]

Each name loads its module on first use (PEP 562), so ``load_mnist`` never loads h5py (the cat files need it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import DatasetError
from ..core.lazy import lazy_names

if TYPE_CHECKING:
    from ..data.cat import CatData, load_cat
    from ..data.checksum import verify_file
    from ..data.download import copy_verified, download
    from ..data.errors import ChecksumError, DownloadError, MissingFileError
    from ..data.files import KNOWN_FILES, KnownFile
    from ..data.mnist import MnistData, load_mnist
    from ..data.paths import data_dir, find_file, search_dirs
    from ..data.preprocess import flatten_images, scale_images

_LAZY = {  # name -> (its module in nnscratch.data, the name there)
    "CatData": ("..data.cat", "CatData"), "load_cat": ("..data.cat", "load_cat"),
    "verify_file": ("..data.checksum", "verify_file"), "copy_verified": ("..data.download", "copy_verified"),
    "download": ("..data.download", "download"), "ChecksumError": ("..data.errors", "ChecksumError"),
    "DownloadError": ("..data.errors", "DownloadError"),
    "MissingFileError": ("..data.errors", "MissingFileError"), "KNOWN_FILES": ("..data.files", "KNOWN_FILES"),
    "KnownFile": ("..data.files", "KnownFile"), "MnistData": ("..data.mnist", "MnistData"),
    "load_mnist": ("..data.mnist", "load_mnist"), "data_dir": ("..data.paths", "data_dir"),
    "find_file": ("..data.paths", "find_file"), "search_dirs": ("..data.paths", "search_dirs"),
    "flatten_images": ("..data.preprocess", "flatten_images"),
    "scale_images": ("..data.preprocess", "scale_images"),
}
_getattr, __dir__ = lazy_names(__name__, globals(), _LAZY)
if not TYPE_CHECKING:
    __getattr__ = _getattr


__all__ = [
    "CatData", "ChecksumError", "DatasetError", "DownloadError", "KNOWN_FILES", "KnownFile", "MissingFileError",
    "MnistData", "copy_verified", "data_dir", "download", "find_file", "flatten_images", "load_cat",
    "load_mnist", "scale_images", "search_dirs", "verify_file",
]
