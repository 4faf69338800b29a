"""Dataset loaders (cat vs non-cat, MNIST), checksum-verified, and the tools to get the files.

Files are looked for in ``root`` (when given), else ``$NNSCRATCH_DATA``, the checkout's ``datasets/``
folder, and ``~/.cache/nnscratch``; get them with ``python -m nnscratch.datasets fetch``.

    x_train, y_train, x_test, y_test, classes = load_cat()   # (209, 64, 64, 3) uint8, (209,) int64, ...
    X = scale_images(flatten_images(x_train))                # (209, 12288) float32 in [0, 1]

Each name loads its module on first use (PEP 562), so ``load_mnist`` never loads h5py (the cat files need it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..core.errors import DatasetError

if TYPE_CHECKING:
    from ..data.cat import CatData, load_cat
    from ..data.checksum import verify_file
    from ..data.download import copy_verified, download
    from ..data.errors import ChecksumError, DownloadError, MissingFileError
    from ..data.files import KNOWN_FILES, KnownFile
    from ..data.mnist import MnistData, load_mnist
    from ..data.paths import data_dir, find_file, search_dirs
    from ..data.preprocess import flatten_images, scale_images

_LAZY = {  # name -> its module in nnscratch.data
    "CatData": "cat", "load_cat": "cat", "verify_file": "checksum", "copy_verified": "download",
    "download": "download", "ChecksumError": "errors", "DownloadError": "errors", "MissingFileError": "errors",
    "KNOWN_FILES": "files", "KnownFile": "files", "MnistData": "mnist", "load_mnist": "mnist", "data_dir": "paths",
    "find_file": "paths", "search_dirs": "paths", "flatten_images": "preprocess", "scale_images": "preprocess",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Load a name's module on first use (PEP 562) and keep the name here."""
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = getattr(importlib.import_module(f"..data.{_LAZY[name]}", __name__), name)
        return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})


__all__ = [
    "CatData", "ChecksumError", "DatasetError", "DownloadError", "KNOWN_FILES", "KnownFile", "MissingFileError",
    "MnistData", "copy_verified", "data_dir", "download", "find_file", "flatten_images", "load_cat",
    "load_mnist", "scale_images", "search_dirs", "verify_file",
]
