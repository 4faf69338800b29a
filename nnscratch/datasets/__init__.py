"""Dataset loaders (cat vs non-cat, MNIST), checksum-verified, and the tools to get the files.

Files are looked for in ``root`` (when given), else ``$NNSCRATCH_DATA``, the checkout's ``datasets/``
folder, and ``~/.cache/nnscratch``; get them with ``python -m nnscratch.datasets fetch``.

    x_train, y_train, x_test, y_test, classes = load_cat()   # (209, 64, 64, 3) uint8, (209,) int64, ...
    X = scale_images(flatten_images(x_train))                # (209, 12288) float32 in [0, 1]
"""

from ..core.errors import DatasetError
from ..data.cat import CatData, load_cat
from ..data.checksum import verify_file
from ..data.download import copy_verified, download
from ..data.errors import ChecksumError, DownloadError, MissingFileError
from ..data.files import KNOWN_FILES, KnownFile
from ..data.mnist import MnistData, load_mnist
from ..data.paths import data_dir, find_file, search_dirs
from ..data.preprocess import flatten_images, scale_images

__all__ = [
    "CatData", "ChecksumError", "DatasetError", "DownloadError", "KNOWN_FILES", "KnownFile", "MissingFileError",
    "MnistData", "copy_verified", "data_dir", "download", "find_file", "flatten_images", "load_cat",
    "load_mnist", "scale_images", "search_dirs", "verify_file",
]
