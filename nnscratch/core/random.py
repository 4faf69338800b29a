"""Global seeding: ``set_random_seed(seed)`` makes layer initialization (and everything else that draws
from nnscratch's generators) repeat exactly, as ``keras.utils.set_random_seed`` does.

Layers created after ``set_random_seed(s)`` share one generator seeded with ``s``, so a model built in
the same order gets the same weights. A model's own ``seed=`` (``Sequential(..., seed=0)``) gives its
layers a generator of their own and takes precedence. Without either, each layer draws fresh entropy.
A random layer's own ``seed=`` (``Dropout(0.5, seed=3)``, as in Keras) gives that layer a generator of its
own, which neither of the two replaces: its draws repeat from run to run (``Layer.use_seed``).
"""

from __future__ import annotations

import random as _py_random
from typing import Any

import numpy as np

from .errors import InvalidValueError

_shared: np.random.Generator | None = None


def make_rng(seed: Any) -> np.random.Generator | np.random.RandomState:
    """A generator from ``None`` (fresh entropy), an int seed, or an existing Generator/RandomState."""
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise InvalidValueError(f"seed must be None, a non-negative int or a numpy Generator/RandomState, got {seed!r}")


def set_random_seed(seed: int | None) -> None:
    """Seed nnscratch's layers created from now on, NumPy's global generator and Python's ``random``."""
    global _shared
    if seed is None:
        _shared = None
        return
    rng = make_rng(seed)
    assert isinstance(rng, np.random.Generator)
    _shared = rng
    np.random.seed(int(seed) % 2**32)
    _py_random.seed(int(seed))


def layer_rng() -> np.random.Generator:
    """The generator a new layer starts with: the shared seeded one, or fresh entropy."""
    return _shared if _shared is not None else np.random.default_rng()


def layer_seed(layer: str, seed: Any) -> int | None:
    """A layer's own ``seed=`` (Keras's): ``None`` or a non-negative int, else one clear error naming the layer."""
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return None if seed is None else int(seed)
    raise InvalidValueError(f"{layer} seed must be None or a non-negative int, got {seed!r}")
