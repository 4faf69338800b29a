"""Optimizers: update ``Parameter.data`` in place from ``Parameter.grad``.

An optimizer sees parameters, never layers. Bind them in the constructor or later with ``attach``
(parameters with ``trainable=False`` are skipped). Per-parameter state (momentum, Adam moments) is
allocated at attach time with the parameter's shape and dtype, and every update runs in place through
``out=`` into preallocated scratch buffers, so a step allocates no large temporaries.

``lr`` is a float or a schedule (``nnscratch.schedules``) evaluated at ``iterations`` (the number of
steps done) before each step. Formulas follow PyTorch (``g`` = gradient, ``wd`` = weight_decay)::

    L2 decay (SGD, RMSprop, Adam):  g = grad + wd * data
    SGD:      v = mu * v + g;  data -= lr * (g + mu * v if nesterov else v)       (v = g without momentum)
    RMSprop:  s = rho * s + (1 - rho) * g**2;  u = g / (sqrt(s) + eps)
              b = mu * b + u;  data -= lr * b                                    (b = u without momentum)
    Adam:     m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g**2;  t = iterations after the increment
              data -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)
    AdamW:    data -= lr * wd * data, then the Adam update with g = grad (decoupled decay)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.parameter import Parameter
from ..core.validation import build, lookup
from . import schedules
from .optimizer_args import keras_arguments
from .optimizer_base import Optimizer, _check  # noqa: F401  (Optimizer is part of this module's API)
from .schedules import Schedule


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum; slot ``momentum`` if ``momentum > 0``."""

    name = "sgd"
    elementwise = True

    @keras_arguments
    def __init__(
        self,
        params: Iterable[Parameter] | None = None,
        lr: float | Schedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        **clipping: Any,
    ) -> None:
        self.momentum = _check("momentum", momentum, "in [0, 1)", lambda v: 0 <= v < 1)
        if nesterov and self.momentum == 0:
            raise InvalidValueError("nesterov=True needs momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)
        super().__init__(params, lr, weight_decay, **clipping)

    @property
    def slots(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum else ()

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        if self.momentum:
            v = state["momentum"]
            v *= self.momentum
            v += g
            if self.nesterov:
                np.multiply(v, self.momentum, out=tmp)
                tmp += g
                tmp *= lr
            else:
                np.multiply(v, lr, out=tmp)
        else:
            np.multiply(g, lr, out=tmp)
        data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (PyTorch form: ``eps`` outside the square root); slots ``square_avg`` (+ ``momentum``)."""

    name = "rmsprop"
    elementwise = True

    @keras_arguments
    def __init__(
        self,
        params: Iterable[Parameter] | None = None,
        lr: float | Schedule = 0.001,
        rho: float = 0.9,
        eps: float = 1e-7,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        **clipping: Any,
    ) -> None:
        self.rho = _check("rho", rho, "in [0, 1)", lambda v: 0 <= v < 1)
        self.eps = _check("eps", eps, "> 0", lambda v: v > 0)
        self.momentum = _check("momentum", momentum, "in [0, 1)", lambda v: 0 <= v < 1)
        super().__init__(params, lr, weight_decay, **clipping)

    @property
    def slots(self) -> tuple[str, ...]:
        return ("square_avg", "momentum") if self.momentum else ("square_avg",)

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        s = state["square_avg"]
        s *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        if self.momentum:
            b = state["momentum"]
            b *= self.momentum
            b += tmp
            np.multiply(b, lr, out=tmp)
        else:
            tmp *= lr
        data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "eps": self.eps, "momentum": self.momentum}


class Adam(Optimizer):
    """Adam with bias correction and L2 ``weight_decay``; slots ``m`` and ``v``."""

    name = "adam"
    elementwise = True

    @keras_arguments
    def __init__(
        self,
        params: Iterable[Parameter] | None = None,
        lr: float | Schedule = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        **clipping: Any,
    ) -> None:
        self.beta1 = _check("beta1", beta1, "in [0, 1)", lambda v: 0 <= v < 1)
        self.beta2 = _check("beta2", beta2, "in [0, 1)", lambda v: 0 <= v < 1)
        self.eps = _check("eps", eps, "> 0", lambda v: v > 0)
        super().__init__(params, lr, weight_decay, **clipping)

    @property
    def slots(self) -> tuple[str, ...]:
        return ("m", "v")

    def first_moment(self, state: dict[str, np.ndarray], g: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        """``m = beta1 * m + (1 - beta1) * g`` in place (``tmp`` is overwritten); returns ``m``."""
        m = state["m"]
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        m += tmp
        return m

    def second_moment_root(self, state: dict[str, np.ndarray], g: np.ndarray, tmp: np.ndarray) -> float:
        """``v = beta2 * v + (1 - beta2) * g**2`` in place, then ``tmp = sqrt(v) + eps * sqrt(c2)`` with
        ``c2 = 1 - beta2**t``; returns ``sqrt(c2)``. (``x / (sqrt(v / c2) + eps)`` is ``x * sqrt(c2) / tmp``:
        the bias correction without a pass over ``v``.)"""
        v = state["v"]
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        root_c2 = math.sqrt(1.0 - self.beta2**self.iterations)
        np.sqrt(v, out=tmp)
        tmp += self.eps * root_c2
        return root_c2

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        m = self.first_moment(state, g, tmp)
        root_c2 = self.second_moment_root(state, g, tmp)  # lr / c1 * m / (sqrt(v / c2) + eps)
        np.divide(m, tmp, out=tmp)
        tmp *= lr * root_c2 / (1.0 - self.beta1**self.iterations)
        data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``data -= lr * weight_decay * data`` before the Adam update."""

    name = "adamw"
    decoupled_weight_decay = True

    @keras_arguments
    def __init__(
        self,
        params: Iterable[Parameter] | None = None,
        lr: float | Schedule = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        **clipping: Any,
    ) -> None:
        super().__init__(params, lr, beta1, beta2, eps, weight_decay, **clipping)

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        if self.weight_decay:
            data *= 1.0 - lr * self.weight_decay
        super()._update(data, g, state, tmp, lr)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "momentum": functools.partial(SGD, momentum=0.9),
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def _create(name: str, kwargs: dict[str, Any]) -> Optimizer:
    return build("optimizer", name, lookup("optimizer", name, OPTIMIZERS), kwargs)


def from_config(config: dict[str, Any]) -> Optimizer:
    """Re-create an (unattached) optimizer from ``get_config()`` output."""
    args = dict(config)
    name = args.pop("name", None)
    if not isinstance(name, str):
        raise InvalidValueError(f"optimizer config needs a string 'name', got {config!r}")
    if isinstance(args.get("lr"), dict):
        args["lr"] = schedules.from_config(args["lr"])
    return _create(name, args)


def get(identifier: Optimizer | str | dict[str, Any], **kwargs: Any) -> Optimizer:
    """Resolve an optimizer, a name (``"sgd"``, ``"momentum"`` = SGD(momentum=0.9), ``"rmsprop"``,
    ``"adam"``, ``"adamw"``; case-insensitive, built with ``kwargs``) or a config dict."""
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise InvalidValueError(f"cannot apply {sorted(kwargs)} to an existing optimizer instance")
        return identifier
    if isinstance(identifier, str):
        return _create(identifier, kwargs)
    if isinstance(identifier, dict):
        return from_config({**identifier, **kwargs})
    raise InvalidTypeError(f"optimizer must be an Optimizer, a name (e.g. 'adam') or a config dict, got {identifier!r} "
                           f"({type(identifier).__name__})")
