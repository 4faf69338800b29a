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
import numbers
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from ..core.errors import DTypeError, InvalidTypeError, InvalidValueError, ModelFileError, NotBuiltError
from ..core.parameter import Parameter
from ..core.validation import build, lookup
from . import schedules
from .optimizer_args import Clipping, keras_arguments
from .schedules import Schedule


def _check(name: str, value: object, expected: str, ok: Callable[[Any], bool]) -> float:
    """Return ``value`` as a float if it is a finite real number satisfying ``ok``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not ok(value):
        raise InvalidValueError(f"{name} must be {expected}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: subclasses set ``name``/``slots`` and implement ``_update``.

    ``slots`` names the per-parameter state arrays; ``state_dict`` stores them as ``"<index>.<slot>"``.
    """

    name: ClassVar[str]
    decoupled_weight_decay: ClassVar[bool] = False
    _schedule: Schedule | None

    def __init__(
        self, params: Iterable[Parameter] | None = None, lr: float | Schedule = 0.01, weight_decay: float = 0.0,
        clipnorm: float | None = None, clipvalue: float | None = None, global_clipnorm: float | None = None,
    ) -> None:
        self.clipping = Clipping(clipnorm, clipvalue, global_clipnorm)
        if not callable(lr):
            _check("lr", lr, "> 0 (or a schedule)", lambda v: v > 0)
        self.lr = lr
        self.weight_decay = _check("weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        self.iterations = 0
        self.params: list[Parameter] = []
        self.state: list[dict[str, np.ndarray]] = []
        self._scratch: dict[np.dtype, np.ndarray] = {}  # per dtype: (2, largest size) -> g, tmp
        self._buffers: list[tuple[np.ndarray, ...]] = []  # per parameter: (g, tmp)
        self._attached = False
        if params is not None:
            self.attach(params)

    # ---------------------------------------------------------------- learning rate
    @property
    def lr(self) -> float:
        """The learning rate of the next step (the schedule evaluated at ``iterations``)."""
        return float(self._schedule(self.iterations)) if self._schedule is not None else self._lr

    @lr.setter
    def lr(self, value: float | Schedule) -> None:
        """Set a float (replaces any schedule; 0 is allowed so a decayed schedule may reach it) or a schedule."""
        if callable(value):
            self._schedule, self._lr = value, 0.0
        else:
            self._schedule, self._lr = None, _check("lr", value, ">= 0", lambda v: v >= 0)

    # ---------------------------------------------------------------- parameters and state
    @property
    def slots(self) -> tuple[str, ...]:
        return ()

    def attach(self, params: Iterable[Parameter]) -> None:
        """Bind the trainable parameters (duplicates dropped); rebinding to other params resets the state."""
        trainable: list[Parameter] = []
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise InvalidValueError(f"params must contain Parameter objects, "
                                        f"got {type(p).__name__} at position {i}")
            if not np.issubdtype(p.data.dtype, np.floating):
                raise DTypeError(f"parameter {i} has dtype {p.data.dtype}; optimizers need floating-point parameters")
            if p.trainable and not any(p is q for q in trainable):
                trainable.append(p)
        if (self._attached and len(trainable) == len(self.params)
                and all(p is q for p, q in zip(trainable, self.params))):
            return
        self.params = trainable
        self.state = [{slot: np.zeros_like(p.data) for slot in self.slots} for p in trainable]
        sizes: dict[np.dtype, int] = {}
        for p in trainable:
            sizes[p.data.dtype] = max(sizes.get(p.data.dtype, 0), p.data.size)
        self._scratch = {dtype: np.empty((2, size), dtype) for dtype, size in sizes.items()}
        self._buffers = [  # per parameter: views of the shared scratch, shaped like the parameter
            tuple(self._scratch[p.data.dtype][k, : p.data.size].reshape(p.data.shape) for k in (0, 1))
            for p in trainable
        ]
        self.iterations = 0
        self._attached = True

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every attached parameter's ``data`` in place, then count the step."""
        if not self._attached:
            raise NotBuiltError(f"{type(self).__name__} has no parameters: pass them to the constructor or call "
                                "attach()")
        lr = self.lr
        self.iterations += 1
        decay = self.weight_decay and not self.decoupled_weight_decay
        grads = [p.grad for p in self.params]
        if self.clipping.active:
            grads = self.clipping.apply(grads)
        for p, g, state, (g_buf, tmp) in zip(self.params, grads, self.state, self._buffers):
            if decay:
                np.multiply(p.data, self.weight_decay, out=g_buf)
                g_buf += g
                g = g_buf
            self._update(p.data, g, state, tmp, lr)

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        """Update ``data`` in place from gradient ``g`` (do not write to ``g``); ``tmp`` is free scratch."""
        raise NotImplementedError

    # ---------------------------------------------------------------- persistence
    def state_dict(self) -> dict[str, np.ndarray | float | int]:
        """A flat copy: ``"iterations"``, ``"lr"`` (current value) and ``"<index>.<slot>"`` arrays."""
        d: dict[str, np.ndarray | float | int] = {"iterations": self.iterations, "lr": self.lr}
        for i, state in enumerate(self.state):
            for slot, array in state.items():
                d[f"{i}.{slot}"] = array.copy()
        return d

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output (e.g. read back from an .npz); all-or-nothing.

        ``"lr"`` is only restored when the learning rate is a float: a schedule follows ``iterations``.
        """
        expected = {f"{i}.{slot}": array for i, state in enumerate(self.state) for slot, array in state.items()}
        for key in ("iterations", "lr", *expected):
            if key not in d:
                raise ModelFileError(f"optimizer state: missing entry {key!r}")
        for key in d:
            if key not in expected and key not in ("iterations", "lr"):
                raise ModelFileError(
                    f"optimizer state: unexpected entry {key!r} ({type(self).__name__} has {len(self.params)} "
                    f"parameters with slots {list(self.slots)})"
                )
        values = {key: np.asarray(d[key]) for key in expected}
        for key, array in expected.items():
            if values[key].shape != array.shape or not np.issubdtype(values[key].dtype, np.floating):
                raise ModelFileError(
                    f"optimizer state: entry {key!r} has shape {values[key].shape} and dtype {values[key].dtype}, "
                    f"expected {array.shape} floating-point"
                )
        iterations, lr = np.asarray(d["iterations"]), np.asarray(d["lr"])
        if iterations.shape != () or not np.issubdtype(iterations.dtype, np.integer) or iterations < 0:
            raise ModelFileError("optimizer state: entry 'iterations' must be an integer >= 0, got "
                                 f"{d['iterations']!r}")
        if lr.shape != () or not np.issubdtype(lr.dtype, np.number) or not np.isfinite(lr) or lr < 0:
            raise ModelFileError(f"optimizer state: entry 'lr' must be a finite number >= 0, got {d['lr']!r}")
        for key, array in expected.items():
            np.copyto(array, values[key])
        self.iterations = int(iterations)
        if self._schedule is None:
            self._lr = float(lr)

    def get_config(self) -> dict[str, Any]:
        """JSON-able constructor arguments plus ``"name"``; a schedule ``lr`` gives its own config."""
        if self._schedule is None:
            lr: Any = self._lr
        elif hasattr(self._schedule, "get_config"):
            lr = self._schedule.get_config()
        else:
            raise InvalidValueError(f"lr schedule {self._schedule!r} has no get_config(); use one from "
                                    "nnscratch.schedules")
        return {"name": self.name, "lr": lr, "weight_decay": self.weight_decay, **self.clipping.get_config()}

    learning_rate = property(lambda self: self.lr, lambda self, value: setattr(self, "lr", value),
                             doc="Keras's name of ``lr``.")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum; slot ``momentum`` if ``momentum > 0``."""

    name = "sgd"

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

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        m, v, t = state["m"], state["v"], self.iterations
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - self.beta2**t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - self.beta1**t)
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
