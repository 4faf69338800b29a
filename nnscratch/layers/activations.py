"""Activation layers. Each is a parameter-free layer; ``get("relu")`` resolves one by name.

All map ``(batch, ...)`` to the same shape and are stable for inputs of any magnitude. Each keeps what
its backward needs on the call record (``ctx``), so one activation layer may be used at many places.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import functional as F
from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError
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
    """max(x, 0). A ``MaxPool2D`` right after it may apply it instead (``nnscratch.layers.fusions``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.y = y = np.maximum(x, 0)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return np.multiply(grad_out, ctx.y > 0, dtype=grad_out.dtype)


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


class Softmax(Activation):
    """exp(x) / sum(exp(x)) over the last axis. With cross-entropy, training fuses the two."""

    supports_masking = False
    mask_refused = "Keras's Softmax takes the mask out of its normalization, which nnscratch does not"

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        ctx.y = y = F.softmax(x, axis=-1)
        return y

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        y = ctx.y
        return y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True))


class Identity(Activation):
    """Returns its input unchanged (``activation=None`` or ``"linear"``)."""

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        ctx.x = x
        return x

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return grad_out

    def output_activation(self) -> Layer | None:
        return None


ACTIVATIONS: dict[str, type[Activation]] = {
    "relu": ReLU,
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
