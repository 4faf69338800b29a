"""Ready-made training recipes: the cat classifier (dense, CNN, the course's reference) and MNIST (MLP, CNN).

    from nnscratch.recipes import train_cat, train_mnist
    result = train_cat(model="dense", seed=0)            # .model, .histories, .summary, .save(path)
    result = train_mnist(model="cnn", seed=0)

The examples and the ``nnscratch`` command line are thin layers over these functions. Each recipe loads on
first use (PEP 562): the MNIST one never loads h5py, which the cat files need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_names

if TYPE_CHECKING:
    from .cat import CatResult, train_cat
    from .mnist import MnistResult, train_mnist

_LAZY = {name: (f".{module}", name) for name, module in (
    ("CatResult", "cat"), ("train_cat", "cat"), ("MnistResult", "mnist"), ("train_mnist", "mnist"))}
_getattr, __dir__ = lazy_names(__name__, globals(), _LAZY)
if not TYPE_CHECKING:
    __getattr__ = _getattr


__all__ = ["CatResult", "MnistResult", "train_cat", "train_mnist"]
