"""``keras.datasets``: ``mnist.load_data()`` from nnscratch's verified MNIST files; the other Keras data sets
are not bundled."""

from __future__ import annotations

from .. import _names
from . import mnist

_WHY = ("nnscratch bundles only the data sets its own loaders verify (MNIST, cat vs non-cat: nnscratch.datasets); "
        "load other data into NumPy arrays yourself")
__getattr__ = _names.module_getattr("keras.datasets", globals(), dict.fromkeys(
    ["cifar10", "cifar100", "fashion_mnist", "imdb", "reuters", "boston_housing", "california_housing"], _WHY))

__all__ = ["mnist"]
