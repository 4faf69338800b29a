"""``keras.initializers``: nnscratch's initializers under Keras's names; ``seed=s`` makes an initializer draw
the same values at every call (its own generator), as in Keras."""

from __future__ import annotations

from ..core import initializers as _native
from ..core.initializers import Initializer, VarianceScaling, get
from ._names import module_getattr

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "Initializer",
           "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "Zeros", "get"]


GlorotUniform, GlorotNormal = _native.GlorotUniform, _native.GlorotNormal
HeUniform, HeNormal = _native.HeUniform, _native.HeNormal
LecunNormal, LecunUniform = _native.LeCunNormal, _native.LeCunUniform
Orthogonal, Identity = _native.Orthogonal, _native.Identity
Zeros, Ones, Constant = _native.Zeros, _native.Ones, _native.Constant


def RandomNormal(mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> Initializer:  # noqa: N802
    return _native.Normal(mean, stddev, seed=seed)


def RandomUniform(minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> Initializer:  # noqa: N802
    return _native.Uniform(minval, maxval, seed=seed)


def TruncatedNormal(mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> Initializer:  # noqa: N802
    return _native.TruncatedNormal(mean, stddev, seed=seed)


__getattr__ = module_getattr("keras.initializers", globals(), dict.fromkeys(
    ["STFT"], "nnscratch has no such initializer; use one of keras.initializers.__all__"))
