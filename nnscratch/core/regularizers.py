"""Weight penalties (Keras's ``l1``, ``l2``, ``l1_l2``): ``Dense(..., kernel_regularizer="l2")``.

A regularizer maps a weight array to a penalty added to the training loss, ``reg(w) -> float``, and
gives its gradient ``reg.gradient(w)``. Layers list the weights they penalize in
``regularized_weights()``; the trainer adds the penalties to the loss (training and evaluation, as
Keras does) and their gradients into ``param.grad``.

    l1:   l1 * sum(|w|)      gradient l1 * sign(w)
    l2:   l2 * sum(w**2)     gradient 2 * l2 * w
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import InvalidTypeError, InvalidValueError


def _factor(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)) or value < 0:
        raise InvalidValueError(f"regularizer {name} must be a finite number >= 0, got {value!r}")
    return float(value)


class Regularizer:
    """``l1 * sum(|w|) + l2 * sum(w**2)``; ``L1``, ``L2`` and ``L1L2`` are the same class with Keras's defaults."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = _factor("l1", l1), _factor("l2", l2)

    def __call__(self, w: np.ndarray) -> float:
        value = 0.0
        if self.l1:
            value += self.l1 * float(np.sum(np.abs(w), dtype=np.float64))
        if self.l2:
            value += self.l2 * float(np.vdot(w, w))
        return value

    def gradient(self, w: np.ndarray) -> np.ndarray:
        g = np.zeros_like(w)
        if self.l1:
            g += w.dtype.type(self.l1) * np.sign(w)
        if self.l2:
            g += w.dtype.type(2 * self.l2) * w
        return g

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


def L1(l1: float = 0.01) -> Regularizer:  # noqa: N802 - Keras's name
    return Regularizer(l1=l1)


def L2(l2: float = 0.01) -> Regularizer:  # noqa: N802 - Keras's name
    return Regularizer(l2=l2)


def L1L2(l1: float = 0.0, l2: float = 0.0) -> Regularizer:  # noqa: N802 - Keras's name
    return Regularizer(l1=l1, l2=l2)


NAMES = {"l1": lambda: L1(), "l2": lambda: L2(), "l1_l2": lambda: L1L2(0.01, 0.01)}


def get(identifier: Any) -> Regularizer | None:
    """``None``, a name (``"l1"``, ``"l2"``, ``"l1_l2"``: Keras's default factors 0.01), a config dict or a
    regularizer."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in NAMES:
        return NAMES[identifier.lower()]()
    if isinstance(identifier, dict) and set(identifier) <= {"l1", "l2"}:
        return Regularizer(**identifier)
    raise InvalidTypeError(f"a regularizer must be None, 'l1', 'l2', 'l1_l2', a config dict or "
                           f"nnscratch.keras.regularizers.L2(...), got {identifier!r}")


def config_of(reg: Regularizer | None) -> dict[str, float] | None:
    return None if reg is None else reg.get_config()


class Penalized:
    """Mixin for a layer with ``weight``/``bias`` parameters: ``kernel_regularizer``/``bias_regularizer``."""

    weight: Any
    bias: Any

    def set_regularizers(self, kernel: Any = None, bias: Any = None, activity: Any = None) -> None:
        if activity is not None:
            raise InvalidValueError("activity_regularizer is not supported by nnscratch (weight penalties are: "
                                    "kernel_regularizer, bias_regularizer)")
        self.kernel_regularizer, self.bias_regularizer = get(kernel), get(bias)

    def regularized_weights(self) -> list[tuple[Any, Regularizer]]:
        """``(parameter, regularizer)`` pairs the trainer adds to the loss."""
        pairs = ((self.weight, self.kernel_regularizer), (self.bias, self.bias_regularizer))
        return [(p, r) for p, r in pairs if p is not None and r is not None]

    def regularizer_config(self) -> dict[str, Any]:
        return {k: r.get_config() for k, r in (("kernel_regularizer", self.kernel_regularizer),
                                               ("bias_regularizer", self.bias_regularizer)) if r is not None}


def penalized(layer: Any) -> Iterator[tuple[Any, Regularizer]]:
    """``(parameter, regularizer)`` for each penalized trainable weight of a trainable layer of ``layer`` (itself
    and every layer inside it: a model's); a layer or a weight reached twice counts once (with its first layer's
    regularizer). Keras's rule, which takes the penalties from ``trainable_weights``: a frozen layer's weights add
    none. A layer lists its pairs with ``regularized_weights()``."""
    seen: set[int] = set()
    for inner in layer.modules():
        terms = getattr(inner, "regularized_weights", None)
        if terms is None or not inner.trainable:
            continue
        for p, reg in terms():
            if p.trainable and id(p) not in seen:
                seen.add(id(p))
                yield p, reg


class Penalties:
    """Gives every layer (and model) Keras's ``losses``: the current weight penalties."""

    @property
    def losses(self) -> list[float]:
        """The current penalty of each penalized weight of this layer and the layers inside it (Keras's
        ``layer.losses``; for a model, every layer's, a shared one once), in the order training adds them to the
        loss: ``sum(model.losses)`` is a step's penalty. As in Keras, a frozen layer's (``trainable = False``)
        are left out. What a layer adds with ``add_loss`` belongs to one call: ``layer.last_call.losses``."""
        return [regularizer(p.data) for p, regularizer in penalized(self)]
