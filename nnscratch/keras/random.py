"""``keras.random``: random draws for layers and losses written with ``keras.ops``.

A draw is a NumPy array, a constant to the tape (no gradient flows into it); ``dropout`` multiplies its input
by a drawn mask, so the gradient reaches the input. ``seed`` is a ``SeedGenerator`` (a stream of draws, as in a
layer's ``self.seed_generator = keras.random.SeedGenerator(1337)``), an int (the same draw every call, as in
Keras) or None (nnscratch's shared generator, seeded by ``keras.utils.set_random_seed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..core.errors import InvalidValueError
from ..core.random import layer_rng, make_rng

__all__ = ["SeedGenerator", "dropout", "normal", "randint", "shuffle", "truncated_normal", "uniform"]


class SeedGenerator:
    """A generator of draws: each call with ``seed=`` this object continues its stream."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        self.seed = seed
        self.rng = make_rng(seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


def _rng(seed: Any) -> np.random.Generator | np.random.RandomState:
    if isinstance(seed, SeedGenerator):
        return seed.rng
    return layer_rng() if seed is None else make_rng(seed)


def _shape(shape: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in (shape if isinstance(shape, (tuple, list)) else [shape]))


def _float(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype or "float32")
    if dt.kind != "f":
        raise InvalidValueError(f"keras.random: dtype must be a float type, got {dt}")
    return dt


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None) -> np.ndarray:
    """Draws from N(mean, stddev^2), shape ``shape``."""
    return _rng(seed).normal(mean, stddev, _shape(shape)).astype(_float(dtype))


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> np.ndarray:
    """Draws from N(mean, stddev^2) redrawn until within two standard deviations of the mean."""
    rng, size = _rng(seed), _shape(shape)
    z = rng.standard_normal(size)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return (mean + stddev * z).astype(_float(dtype))


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None) -> np.ndarray:
    """Draws from U[minval, maxval), shape ``shape``."""
    return _rng(seed).uniform(minval, maxval, _shape(shape)).astype(_float(dtype))


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> np.ndarray:
    """Integers in [minval, maxval), shape ``shape``."""
    rng = _rng(seed)
    draw = rng.integers(minval, maxval, _shape(shape)) if isinstance(rng, np.random.Generator) else \
        rng.randint(minval, maxval, _shape(shape))
    return np.asarray(draw).astype(dtype)


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> np.ndarray:
    """``x`` with its entries permuted along ``axis``."""
    x = np.asarray(x)
    return np.take(x, _rng(seed).permutation(x.shape[axis]), axis=axis)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Any:
    """Entries of ``inputs`` zeroed with probability ``rate``, the others scaled by ``1 / (1 - rate)``;
    differentiable in ``inputs``. ``noise_shape`` broadcasts one mask (e.g. ``(batch, 1, 1, channels)``)."""
    if not 0 <= rate < 1:
        raise InvalidValueError(f"keras.random.dropout: rate must be in [0, 1), got {rate}")
    shape = np.shape(inputs) if noise_shape is None else _shape(noise_shape)
    keep = _rng(seed).random(shape) >= rate
    dtype = getattr(inputs, "dtype", np.float32)
    return ops.multiply(inputs, (keep / (1.0 - rate)).astype(dtype))
