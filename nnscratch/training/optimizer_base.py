"""``Optimizer``: the base class every optimizer shares — parameters bound with ``attach``, per-parameter
state, ``step``, gradient clipping, ``state_dict``. The update rules are in ``optimizers.py``."""


from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np

from ..core.errors import DTypeError, InvalidValueError, ModelFileError, NotBuiltError
from ..core.parameter import Parameter
from .contiguous import ContiguousParameters
from .optimizer_args import Clipping
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
    # ``_update`` is element-wise (see there): parameters are then packed side by side (``contiguous.py``).
    elementwise: ClassVar[bool] = False
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
        self._flat: ContiguousParameters | None = None
        self._flat_state: dict[str, np.ndarray] = {}
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
        self._flat = ContiguousParameters(trainable) if self.elementwise and ContiguousParameters.packable(
            trainable) else None
        if self._flat is not None:  # state and scratch flat too; per-parameter views of them for the slow path
            flat = self._flat
            self._flat_state = {slot: np.zeros_like(flat.data) for slot in self.slots}
            per_slot = {slot: flat.views(array) for slot, array in self._flat_state.items()}
            self.state = [{slot: per_slot[slot][i] for slot in self.slots} for i in range(len(trainable))]
            self._scratch = {flat.data.dtype: np.empty((2, flat.data.size), flat.data.dtype)}
            self._buffers = list(zip(*(flat.views(row) for row in self._scratch[flat.data.dtype])))
        else:
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
        """Set the attached parameters' gradients to zero."""
        if self._flat is not None and self._flat.intact():
            self._flat.zero_grad()
            return
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every attached parameter's ``data`` in place, then count the step."""
        if not self._attached:
            raise NotBuiltError(f"{type(self).__name__} has no parameters: pass them to the constructor or call "
                                "attach()")
        lr = self.lr
        self.iterations += 1
        decay = bool(self.weight_decay) and not self.decoupled_weight_decay
        flat = self._flat
        if flat is not None and not self.clipping.active and flat.intact():
            self._step_flat(flat, lr, decay)
            return
        grads = [p.grad for p in self.params]
        if self.clipping.active:
            grads = self.clipping.apply(grads)
        for p, g, state, (g_buf, tmp) in zip(self.params, grads, self.state, self._buffers):
            if decay:
                np.multiply(p.data, self.weight_decay, out=g_buf)
                g_buf += g
                g = g_buf
            self._update(p.data, g, state, tmp, lr)

    def _step_flat(self, flat: ContiguousParameters, lr: float, decay: bool) -> None:
        """The update over the packed vectors at once (``_update`` is element-wise, so the numbers are those of
        the per-parameter step). One thread: splitting it across threads made an MLP epoch slower, its
        pieces competing with the BLAS's own threads."""
        g_buf, tmp = self._scratch[flat.data.dtype]
        g = flat.gradients()
        if decay:
            np.multiply(flat.data, self.weight_decay, out=g_buf)
            g_buf += g
            g = g_buf
        self._update(flat.data, g, self._flat_state, tmp, lr)

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        """Update ``data`` in place from gradient ``g`` (do not write to ``g``); ``tmp`` is free scratch.

        With ``elementwise = True`` each number's update depends only on the same position of ``g``, the
        state and ``data``: the step may then run on several parameters at once, or on pieces of one."""
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


