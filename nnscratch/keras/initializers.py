"""``keras.initializers``: nnscratch's initializers under Keras's names (no per-initializer ``seed``:
seed everything with ``keras.utils.set_random_seed``)."""

from __future__ import annotations

from typing import Any

from ..core import initializers as _native
from ..core.errors import InvalidValueError
from ..core.initializers import Initializer, VarianceScaling, get
from ._names import module_getattr

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer", "LecunNormal",
           "Ones", "RandomNormal", "RandomUniform", "VarianceScaling", "Zeros", "get"]


def _seedless(cls: Any) -> Any:
    def make(*args: Any, seed: Any = None, **kwargs: Any) -> Initializer:
        if seed is not None:
            raise InvalidValueError(f"{cls.__name__}(seed=...) is not supported: nnscratch's layers draw from one "
                                    "generator; call keras.utils.set_random_seed(seed) before building the model")
        return cls(*args, **kwargs)

    make.__name__ = make.__qualname__ = cls.__name__
    return make


GlorotUniform, GlorotNormal = _seedless(_native.GlorotUniform), _seedless(_native.GlorotNormal)
HeUniform, HeNormal = _seedless(_native.HeUniform), _seedless(_native.HeNormal)
LecunNormal = _seedless(_native.LeCunNormal)
Zeros, Ones, Constant = _native.Zeros, _native.Ones, _native.Constant


def RandomNormal(mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> Initializer:  # noqa: N802
    return _seedless(_native.Normal)(mean, stddev, seed=seed)


def RandomUniform(minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> Initializer:  # noqa: N802
    return _seedless(_native.Uniform)(minval, maxval, seed=seed)


__getattr__ = module_getattr("keras.initializers", globals(), dict.fromkeys(
    ["TruncatedNormal", "Orthogonal", "Identity", "LecunUniform", "STFT"],
    "nnscratch has no such initializer; use one of keras.initializers.__all__"))
