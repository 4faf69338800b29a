"""Activation layers. Each is a parameter-free ``Module``; ``get("relu")`` resolves one by name.

All map ``(batch, ...)`` to the same shape and are stable for inputs of any magnitude.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import functional as F
from ..core.errors import InvalidTypeError
from ..core.layer import Module
from ..core.validation import real_number, unknown_name


class Activation(Module):
    """Base class: elementwise, shape-preserving, no parameters.

    ``fused`` is set by a model for one backward pass when the loss already returned dLoss/d(input)
    (softmax + cross-entropy, sigmoid + binary cross-entropy); ``backward`` then passes the gradient through.
    """

    per_sample = True

    fused = False

    def _ensure_built(self, x: np.ndarray) -> None:
        pass  # works for any shape and float dtype


class ReLU(Activation):
    """max(x, 0). Inside a ``Sequential``, a ``MaxPool2D`` right after applies it instead
    (``forward_before_relu``, ``MaxPool2D.forward_after_relu``)."""

    _skipped = False

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._skipped = False
        self.y = np.maximum(x, 0)
        return self.y

    def forward_before_relu(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """``x`` itself: the max-pool that follows applies the ReLU; the next ``backward`` then takes the
        gradient that pool returns, already masked, and passes it through."""
        self._skipped = True
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._skipped:
            return grad_out
        return np.multiply(grad_out, self.y > 0, dtype=grad_out.dtype)


class LeakyReLU(Activation):
    """x for x > 0, alpha * x otherwise."""

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = real_number(alpha, "LeakyReLU alpha", "a finite number")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.slope = np.where(x > 0, 1, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self.slope

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class ELU(Activation):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = real_number(alpha, "ELU alpha", "a finite number")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        neg = self.alpha * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, neg).astype(x.dtype, copy=False)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = self.x
        return grad_out * np.where(x > 0, 1, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class GELU(Activation):
    """Gaussian error linear unit, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    _C = np.sqrt(2 / np.pi)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        self.t = np.tanh(self._C * (x + 0.044715 * x**3))
        return 0.5 * x * (1 + self.t)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x, t = self.x, self.t
        dt = (1 - t * t) * self._C * (1 + 3 * 0.044715 * x * x)
        return grad_out * (0.5 * (1 + t) + 0.5 * x * dt)


class Sigmoid(Activation):
    """1 / (1 + exp(-x)), computed without overflow. Paired with binary cross-entropy, the model fuses the two."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        self.y = F.sigmoid(x)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self.fused:
            return grad_out
        y = self.y
        return grad_out * y * (1 - y)


class Tanh(Activation):
    """Hyperbolic tangent."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        y = self.y
        return grad_out * (1 - y * y)


class Softmax(Activation):
    """exp(x) / sum(exp(x)) over the last axis. Paired with cross-entropy, the model fuses the two."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        self.y = F.softmax(x, axis=-1)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self.fused:
            return grad_out
        y = self.y
        return y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True))


class Identity(Activation):
    """Returns its input unchanged (``activation=None`` or ``"linear"``)."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


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


def get(activation: str | Activation | None) -> Activation:
    """An activation layer from a name (``"relu"``), an instance, or ``None`` (identity)."""
    if activation is None:
        return Identity()
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]()
        raise unknown_name("activation", activation, ACTIVATIONS)
    raise InvalidTypeError(f"activation must be a name, an Activation layer or None, got {activation!r} "
                           f"({type(activation).__name__})")

