"""Weight initializers: callables ``init(shape, rng=None, dtype=float32) -> np.ndarray``.

Fans come from the shape itself (PyTorch layout, see ``compute_fans``): a Dense weight is
``(out_features, in_features)``, a convolution kernel ``(out_channels, in_channels, kh, kw)``.
Random values are drawn in float64 with ``rng.standard_normal``/``rng.normal``/``rng.uniform`` in the
requested shape, then cast to ``dtype`` (float32 and float64 models get the same values up to rounding).
``rng`` may be a ``np.random.Generator`` or a ``np.random.RandomState``; ``None`` means the legacy global
generator, so ``np.random.seed(1); normal_fan_in((out, in), dtype=np.float64)`` equals
``np.random.seed(1); np.random.randn(out, in) / np.sqrt(in)`` bit for bit.

Names accepted by ``get`` (case-insensitive):

============================  ==========================================================================
``zeros``, ``ones``            all 0 / all 1
``constant``                   ``Constant(value=0.0)``
``uniform``                    ``Uniform(low=-0.05, high=0.05)``
``normal``                     ``Normal(mean=0.0, std=0.05)``
``scaled_normal``              ``randn(shape) * scale``, ``ScaledNormal(scale=0.01)``
``glorot_uniform``             alias ``xavier_uniform``: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
``glorot_normal``              alias ``xavier_normal``: N(0, 2 / (fan_in + fan_out)), not truncated
``he_uniform``                 U(-a, a), a = sqrt(6 / fan_in)
``he_normal``                  N(0, 2 / fan_in)
``lecun_normal``               alias ``normal_fan_in``: ``randn(shape) / sqrt(fan_in)`` (deeplearning.ai course)
``lecun_uniform``              U(-a, a), a = sqrt(3 / fan_in)
``variance_scaling``           the general form of the six above (``distribution="truncated_normal"`` too)
``truncated_normal``           ``TruncatedNormal(mean=0.0, std=0.05)``: N(mean, std**2) redrawn beyond 2 std
``orthogonal``                 ``Orthogonal(gain=1.0)``: orthonormal rows (or columns) times ``gain``
``identity``                   ``Identity(gain=1.0)``: ``gain * eye`` (2-D weights only)
============================  ==========================================================================
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from .errors import InvalidTypeError, InvalidValueError, ShapeError
from .limits import claim
from .validation import from_named_config, lookup

RNG = np.random.Generator | np.random.RandomState


def _check(name: str, value: object, expected: str, ok: Callable[[Any], bool]) -> float:
    """Return ``value`` as a float if it is a finite real number satisfying ``ok``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not ok(value):
        raise InvalidValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``.

    rank 0: ``(1, 1)``; rank 1: ``(n, n)``; rank 2 ``(out, in)``: ``(in, out)``;
    rank >= 3 ``(out_ch, in_ch, *kernel)``: ``(in_ch * prod(kernel), out_ch * prod(kernel))``.
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


class Initializer:
    """Base class: subclasses set ``name`` and implement ``sample`` (float64 values) and ``get_config``.

    A random initializer made with ``seed=s`` (Keras's argument) draws from its own generator seeded with
    ``s`` at every call, so it gives the same values each time, whatever the layer's generator."""

    name: ClassVar[str]
    seed: int | None = None

    def set_seed(self, seed: Any) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise InvalidValueError(f"{type(self).__name__} seed must be a non-negative integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def seed_config(self) -> dict[str, Any]:
        return {} if self.seed is None else {"seed": self.seed}

    def __call__(self, shape: int | Sequence[int], rng: RNG | None = None, dtype: Any = np.float32) -> np.ndarray:
        """A new C-contiguous array of ``shape`` and exactly ``dtype``."""
        dims: Any = (shape,) if isinstance(shape, numbers.Integral) else shape
        try:
            sizes = tuple(map(operator.index, dims))
        except TypeError as exc:
            raise ShapeError(f"shape must be a tuple of integers, got {dims!r}") from exc
        if any(n < 0 for n in sizes):
            raise ShapeError(f"shape must not have negative sizes, got {sizes}")
        claim(sizes)  # while a model file is loaded: no more weights than the file holds
        fan_in, fan_out = compute_fans(sizes)
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        values = self.sample(sizes, fan_in, fan_out, np.random if rng is None else rng)
        return np.asarray(values, dtype=np.dtype(dtype), order="C")

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Every entry equals ``value``."""

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        self.value = _check("value", value, "a finite number", lambda v: True)

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        return np.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


class Zeros(Constant):
    name = "zeros"

    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class Ones(Constant):
    name = "ones"

    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class Uniform(Initializer):
    """U(low, high)."""

    name = "uniform"

    def __init__(self, low: float = -0.05, high: float = 0.05, seed: int | None = None) -> None:
        self.low = _check("low", low, "a finite number", lambda v: True)
        self.high = _check("high", high, f">= low={self.low}", lambda v: v >= self.low)
        self.set_seed(seed)

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        return rng.uniform(self.low, self.high, shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "low": self.low, "high": self.high, **self.seed_config()}


class Normal(Initializer):
    """N(mean, std**2)."""

    name = "normal"

    def __init__(self, mean: float = 0.0, std: float = 0.05, seed: int | None = None) -> None:
        self.mean = _check("mean", mean, "a finite number", lambda v: True)
        self.std = _check("std", std, ">= 0", lambda v: v >= 0)
        self.set_seed(seed)

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        return rng.normal(self.mean, self.std, shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "mean": self.mean, "std": self.std, **self.seed_config()}


class ScaledNormal(Initializer):
    """``rng.standard_normal(shape) * scale`` (the ``randn(...) * 0.01`` init)."""

    name = "scaled_normal"

    def __init__(self, scale: float = 0.01, seed: int | None = None) -> None:
        self.scale = _check("scale", scale, ">= 0", lambda v: v >= 0)
        self.set_seed(seed)

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        return rng.standard_normal(shape) * self.scale

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "scale": self.scale, **self.seed_config()}


def standard_truncated_normal(rng: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal values of ``shape``, each beyond 2 (in absolute value) redrawn until it is within."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():  # 4.6% of the draws per round: a few rounds, each over the remaining few
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return values


# The standard deviation of a standard normal truncated to [-2, 2] (Keras divides by it).
TRUNCATED_STD = 0.87962566103423978


class TruncatedNormal(Normal):
    """N(mean, std**2), every value more than 2 ``std`` from ``mean`` redrawn (Keras's ``TruncatedNormal``)."""

    name = "truncated_normal"

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        return self.mean + self.std * standard_truncated_normal(rng, shape)


class VarianceScaling(Initializer):
    """Variance ``scale / fan`` with ``fan`` = fan_in, fan_out or their mean (``mode="fan_avg"``).

    ``"normal"``: ``standard_normal(shape) / sqrt(fan / scale)``;
    ``"truncated_normal"`` (Keras's default): a normal truncated at 2 standard deviations, scaled so that its
    variance is ``scale / fan``; ``"uniform"``: ``U(-a, a)`` with ``a = sqrt(3 * scale / fan)``.
    """

    name = "variance_scaling"
    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("normal", "truncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "normal",
                 seed: int | None = None) -> None:
        self.scale = _check("scale", scale, "> 0", lambda v: v > 0)
        self.set_seed(seed)
        if mode not in self.MODES:
            raise InvalidValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        distribution = "normal" if distribution == "untruncated_normal" else distribution  # Keras's name
        if distribution not in self.DISTRIBUTIONS:
            raise InvalidValueError(f"distribution must be one of {self.DISTRIBUTIONS}, got {distribution!r}")
        self.mode = mode
        self.distribution = distribution

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        if self.distribution == "normal":
            return rng.standard_normal(shape) / np.sqrt(fan / self.scale)
        if self.distribution == "truncated_normal":
            return standard_truncated_normal(rng, shape) * (np.sqrt(self.scale / fan) / TRUNCATED_STD)
        limit = np.sqrt(3.0 * self.scale / fan)
        return rng.uniform(-limit, limit, shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **self.seed_config()}


class _Preset(VarianceScaling):
    """A named ``VarianceScaling`` without arguments; subclasses set ``name`` and ``preset``."""

    preset: ClassVar[tuple[float, str, str]]

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(*self.preset, seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.seed_config()}


class GlorotUniform(_Preset):
    name, preset = "glorot_uniform", (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    name, preset = "glorot_normal", (1.0, "fan_avg", "normal")


class HeUniform(_Preset):
    name, preset = "he_uniform", (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    name, preset = "he_normal", (2.0, "fan_in", "normal")


class LeCunNormal(_Preset):
    name, preset = "lecun_normal", (1.0, "fan_in", "normal")


class LeCunUniform(_Preset):
    name, preset = "lecun_uniform", (1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    """``gain`` times a random orthogonal matrix: the weight seen as ``(shape[0], prod(shape[1:]))`` (at least
    2-D) has orthonormal rows, or orthonormal columns when it has more rows than columns (QR of a normal
    matrix with the signs of R's diagonal, uniform over orthogonal matrices, as in Keras and PyTorch)."""

    name = "orthogonal"

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = _check("gain", gain, "a finite number", lambda v: True)
        self.set_seed(seed)

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        if len(shape) < 2:
            raise ShapeError(f"Orthogonal needs a weight of at least 2 dimensions, got shape {shape}")
        rows, cols = shape[0], math.prod(shape[1:])
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))
        return self.gain * (q.T if rows < cols else q).reshape(shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "gain": self.gain, **self.seed_config()}


class Identity(Initializer):
    """``gain * eye(rows, cols)`` for a 2-D weight (Keras's ``Identity``)."""

    name = "identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = _check("gain", gain, "a finite number", lambda v: True)

    def sample(self, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: Any) -> np.ndarray:
        if len(shape) != 2:
            raise ShapeError(f"Identity makes 2-D weights only, got shape {shape}")
        return self.gain * np.eye(*shape)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "gain": self.gain}


# Ready-to-use instances and factories.
zeros, ones = Zeros(), Ones()
constant, uniform, normal, scaled_normal = Constant, Uniform, Normal, ScaledNormal
glorot_uniform = xavier_uniform = GlorotUniform()
glorot_normal = xavier_normal = GlorotNormal()
he_uniform, he_normal = HeUniform(), HeNormal()
lecun_normal = normal_fan_in = LeCunNormal()
lecun_uniform = LeCunUniform()

INITIALIZERS: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (Zeros, Ones, Constant, Uniform, Normal, ScaledNormal, TruncatedNormal, VarianceScaling,
                GlorotUniform, GlorotNormal, HeUniform, HeNormal, LeCunNormal, LeCunUniform, Orthogonal, Identity)
}
ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal", "normal_fan_in": "lecun_normal",
           "random_normal": "normal", "random_uniform": "uniform"}  # Keras's names, same defaults


def from_config(config: dict[str, Any]) -> Initializer:
    """Re-create an initializer from ``get_config()`` output."""
    return from_named_config("initializer", config, INITIALIZERS, ALIASES)


def serialize(initializer: Callable[..., np.ndarray]) -> dict[str, Any]:
    """The ``get_config()`` of an initializer, for a model file; a plain function has none to save."""
    get_config = getattr(initializer, "get_config", None)
    if get_config is None:
        raise InvalidTypeError(f"initializer {initializer!r} is a plain function, which a model file cannot hold; "
                               "use a subclass of nnscratch.initializers.Initializer (it has get_config)")
    return get_config()


def get(identifier: str | dict[str, Any] | Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Resolve a name (default arguments), a config dict, or return an initializer/callable unchanged."""
    if isinstance(identifier, str):
        return lookup("initializer", identifier, INITIALIZERS, ALIASES)()
    if isinstance(identifier, dict):
        return from_config(identifier)
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise InvalidTypeError(f"initializer must be an Initializer, a name (e.g. 'glorot_uniform') or a config dict, "
                           f"got {identifier!r} ({type(identifier).__name__})")
