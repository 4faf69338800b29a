"""Activation layers. Each is a parameter-free layer; ``get("relu")`` resolves one by name.

All map ``(batch, ...)`` to the same shape and are stable for inputs of any magnitude. Each keeps what
its backward needs on the call record (``ctx``), so one activation layer may be used at many places.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import functional as F
from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.validation import real_number, unknown_name


class _ByName(type):
    """``Activation("relu")`` (Keras's layer) is the activation layer of that name; subclasses construct as usual."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Activation:
            if len(args) + ("activation" in kwargs) != 1:
                raise InvalidTypeError("Activation takes one activation name, e.g. Activation('relu')")
            layer = get(args[0] if args else kwargs.pop("activation"))
            for key, value in kwargs.items():  # name=, trainable=
                if key not in ("name", "trainable"):
                    raise InvalidTypeError(f"Activation got an unexpected argument {key!r}")
                setattr(layer, key, value)
            return layer
        return super().__call__(*args, **kwargs)


class Activation(Layer, metaclass=_ByName):
    """Base class: elementwise, shape-preserving, no parameters. Its input is the "logits" a fused loss
    reads (``nnscratch.core.rewrites``): softmax/sigmoid + cross-entropy start backward below it.
    ``Activation("relu")`` gives the ``ReLU`` layer (Keras's ``Activation`` layer)."""

    supports_masking = True  # the mask of a masked input passes on (nnscratch.core.masking)

    abstract = True
    per_sample = True

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # works for any shape and float dtype

    def output_activation(self) -> Layer | None:
        return self

    def logits(self, ctx: Call) -> np.ndarray:
        return ctx.x

    def backward_from_logits(self, ctx: Call, grad: np.ndarray) -> np.ndarray:
        return grad


class ReLU(Activation):
    """max(x, 0); Keras's ``ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``: ``min(x, max_value)`` for
    x > threshold, ``negative_slope * (x - threshold)`` below it (0 at x = threshold, as Keras computes it).

    The plain ``ReLU()`` is ``np.maximum(x, 0)``, and only it may be applied by a ``MaxPool2D`` right after it
    (``nnscratch.layers.fusions``) or in place by a ``Conv2D``; ``"relu6"`` is ``ReLU(max_value=6)``.
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        at_least_0 = "a finite number >= 0"
        self.max_value = None if max_value is None else real_number(max_value, "ReLU max_value", at_least_0,
                                                                    lambda v: v >= 0)
        self.negative_slope = real_number(negative_slope, "ReLU negative_slope", at_least_0, lambda v: v >= 0)
        self.threshold = real_number(threshold, "ReLU threshold", at_least_0, lambda v: v >= 0)

    @property
    def plain(self) -> bool:
        """max(x, 0): no ``max_value``, ``negative_slope`` or ``threshold``."""
        return self.max_value is None and self.negative_slope == 0 and self.threshold == 0

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        if self.plain:
            ctx.y = y = np.maximum(x, 0)
            return y
        ctx.y = None
        t = x.dtype.type(self.threshold)
        y = np.where(x > t, x, x.dtype.type(0)) if self.threshold else np.maximum(x, x.dtype.type(0))
        if self.max_value is not None:
            np.minimum(y, x.dtype.type(self.max_value), out=y)
        if self.negative_slope:
            y += x.dtype.type(self.negative_slope) * np.minimum(x - t, x.dtype.type(0))
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        if ctx.y is not None:  # the plain ReLU
            return np.multiply(grad_out, ctx.y > 0, dtype=grad_out.dtype)
        x = ctx.x
        t = x.dtype.type(self.threshold)
        slope = x > t
        if self.max_value is not None:
            slope &= x < x.dtype.type(self.max_value)
        d = slope.astype(grad_out.dtype)
        if self.negative_slope:
            d += np.multiply(x < t, grad_out.dtype.type(self.negative_slope), dtype=grad_out.dtype)
        return grad_out * d

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Activation):
    """x for x > 0, alpha * x otherwise (``negative_slope``: Keras 3's name for ``alpha``)."""

    def __init__(self, alpha: float | None = None, negative_slope: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if alpha is not None and negative_slope is not None:
            raise InvalidValueError("LeakyReLU takes alpha or negative_slope (the same number), not both")
        slope = alpha if alpha is not None else negative_slope if negative_slope is not None else 0.01
        self.alpha = real_number(slope, "LeakyReLU alpha", "a finite number")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.slope = np.where(x > 0, 1, self.alpha).astype(x.dtype)
        return x * ctx.slope

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * ctx.slope

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class ELU(Activation):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = real_number(alpha, "ELU alpha", "a finite number")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        neg = self.alpha * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, neg).astype(x.dtype, copy=False)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x = ctx.x
        return grad_out * np.where(x > 0, 1, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    _C = np.sqrt(2 / np.pi)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        c, k = x.dtype.type(self._C), x.dtype.type(0.044715)  # constants in x's dtype: float32 stays float32
        ctx.t = np.tanh(c * (x + k * x**3))
        return x.dtype.type(0.5) * x * (1 + ctx.t)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        x, t = ctx.x, ctx.t
        c, k, half = x.dtype.type(self._C), x.dtype.type(3 * 0.044715), x.dtype.type(0.5)
        dt = (1 - t * t) * c * (1 + k * x * x)
        return grad_out * (half * (1 + t) + half * x * dt)


class Sigmoid(Activation):
    """1 / (1 + exp(-x)), computed without overflow. With binary cross-entropy, training fuses the two."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.y = y = F.sigmoid(x)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        y = ctx.y
        return grad_out * y * (1 - y)


class Tanh(Activation):
    """Hyperbolic tangent."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.y = y = np.tanh(x)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        y = ctx.y
        return grad_out * (1 - y * y)


def softmax_axis(axis: Any, what: str) -> int | tuple[int, ...]:
    """A softmax's ``axis``: an int, or a list/tuple of ints (normalized over all of them) that is not the batch
    axis 0."""
    several = isinstance(axis, (list, tuple))
    axes = list(axis) if several else [axis]
    if not axes or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise InvalidTypeError(f"{what} axis must be an int or a list of ints, got {axis!r}")
    if 0 in axes:
        raise InvalidValueError(f"{what} axis 0 is the batch axis (the samples); normalize over a sample's axes")
    return tuple(int(a) for a in axes) if several else int(axes[0])


def check_axis(x: np.ndarray, axis: int | tuple[int, ...], what: str) -> None:
    """``ShapeError`` unless every axis of ``axis`` is an axis of ``x``."""
    for a in axis if isinstance(axis, tuple) else (axis,):
        if not -x.ndim <= a < x.ndim:
            raise ShapeError(f"{what} axis {a} is out of range for an input of shape {x.shape}")


class Softmax(Activation):
    """exp(x) / sum(exp(x)) over ``axis`` (the last by default; a list of axes normalizes over all of them).
    With cross-entropy, training fuses the last-axis softmax and the loss."""

    supports_masking = False
    mask_refused = "Keras's Softmax takes the mask out of its normalization, which nnscratch does not"

    def __init__(self, axis: int | tuple[int, ...] | list[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = softmax_axis(axis, "Softmax")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        if self.axis != -1:
            check_axis(x, self.axis, "Softmax")
        ctx.y = y = F.softmax(x, axis=self.axis)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        y = ctx.y
        return y * (grad_out - (grad_out * y).sum(axis=self.axis, keepdims=True))

    def output_activation(self) -> Layer | None:
        return self if self.axis == -1 else None  # the fused cross-entropy normalizes the last axis

    def get_config(self) -> dict[str, Any]:
        return {"axis": list(self.axis) if isinstance(self.axis, tuple) else self.axis}


class Identity(Activation):
    """Returns its input unchanged (``activation=None`` or ``"linear"``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return x

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out

    def output_activation(self) -> Layer | None:
        return None


# Activation names (``activation="relu"``, ``Activation("relu")``) -> a function making the layer; the modules of
# the other activations (``smooth_activations``, ``piecewise_activations``) add theirs when imported (the package
# ``nnscratch.layers`` imports them all).
ACTIVATIONS: dict[str, Callable[[], Activation]] = {
    "relu": ReLU,
    "relu6": lambda: ReLU(max_value=6.0),
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "linear": Identity,
}


def get(activation: Any) -> Activation:
    """An activation layer from a name (``"relu"``), an instance or class, a function named after one
    (``keras.activations.relu``), or ``None`` (identity)."""
    if activation is None:
        return Identity()
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, type) and issubclass(activation, Activation) and activation is not Activation:
        return activation()
    if callable(activation) and getattr(activation, "__name__", None) in ACTIVATIONS:
        return ACTIVATIONS[activation.__name__]()
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]()
        raise unknown_name("activation", activation, ACTIVATIONS)
    raise InvalidTypeError(f"activation must be a name, an Activation layer or None, got {activation!r} "
                           f"({type(activation).__name__})")
