"""Ready-made training recipes: the cat classifier (dense, CNN, the course's reference) and MNIST (MLP, CNN).

    from nnscratch.recipes import train_cat, train_mnist
    result = train_cat(model="dense", seed=0)            # .model, .histories, .summary, .save(path)
    result = train_mnist(model="cnn", seed=0)

The examples and the ``nnscratch`` command line are thin layers over these functions. Each recipe loads on
first use (PEP 562): the MNIST one never loads h5py, which the cat files need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cat import CatResult, train_cat
    from .mnist import MnistResult, train_mnist

_LAZY = {"CatResult": "cat", "train_cat": "cat", "MnistResult": "mnist", "train_mnist": "mnist"}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Load a recipe's module on first use (PEP 562) and keep the name here."""
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})


__all__ = ["CatResult", "MnistResult", "train_cat", "train_mnist"]
