"""Learning-rate schedules: small callables ``schedule(step) -> lr``.

Schedules are unit-agnostic: an optimizer given ``lr=schedule`` calls it with the number of optimizer
steps done so far (0 for the first update), while a per-epoch callback may call it with the epoch index.
``step_size``/``decay_steps``/``warmup_steps`` are counted in whatever unit the caller uses.

Every schedule has ``get_config()`` (JSON-able, with a ``"name"``) and is re-created by ``from_config``;
``get`` resolves a name, a config dict, a number (-> ``Constant``) or a schedule.
"""

from __future__ import annotations

import bisect
import math
import numbers
from typing import Any, ClassVar

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.validation import build, from_named_config, lookup, positive_int, real_number


class Schedule:
    """Base class: subclasses set ``name`` and implement ``__call__`` and ``get_config``."""

    name: ClassVar[str]

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """``lr = value`` at every step."""

    name = "constant"

    def __init__(self, value: float) -> None:
        self.value = real_number(value, "value", ">= 0", lambda v: v >= 0)

    def __call__(self, step: int) -> float:
        return self.value

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


class StepDecay(Schedule):
    """``lr = initial * gamma ** (step // step_size)``: multiply by ``gamma`` every ``step_size`` steps."""

    name = "step_decay"

    def __init__(self, initial: float, step_size: int, gamma: float = 0.1) -> None:
        self.initial = real_number(initial, "initial", "> 0", lambda v: v > 0)
        self.step_size = positive_int(step_size, "step_size", 1)
        self.gamma = real_number(gamma, "gamma", "> 0", lambda v: v > 0)

    def __call__(self, step: int) -> float:
        return self.initial * self.gamma ** (step // self.step_size)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "initial": self.initial, "step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """``lr = initial * decay_rate ** (step / decay_steps)`` (smooth, not staircase)."""

    name = "exponential_decay"

    def __init__(self, initial: float, decay_rate: float, decay_steps: int = 1) -> None:
        self.initial = real_number(initial, "initial", "> 0", lambda v: v > 0)
        self.decay_rate = real_number(decay_rate, "decay_rate", "> 0", lambda v: v > 0)
        self.decay_steps = positive_int(decay_steps, "decay_steps", 1)

    def __call__(self, step: int) -> float:
        return self.initial * self.decay_rate ** (step / self.decay_steps)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "initial": self.initial, "decay_rate": self.decay_rate,
                "decay_steps": self.decay_steps}


class CosineDecay(Schedule):
    """Half a cosine from ``initial`` (step 0) down to ``final`` (step ``decay_steps``), then ``final``."""

    name = "cosine_decay"

    def __init__(self, initial: float, decay_steps: int, final: float = 0.0) -> None:
        self.initial = real_number(initial, "initial", "> 0", lambda v: v > 0)
        self.decay_steps = positive_int(decay_steps, "decay_steps", 1)
        self.final = real_number(final, "final", f"in [0, initial={self.initial}]", lambda v: 0 <= v <= self.initial)

    def __call__(self, step: int) -> float:
        progress = min(step, self.decay_steps) / self.decay_steps
        return self.final + (self.initial - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "initial": self.initial, "decay_steps": self.decay_steps, "final": self.final}


class WarmUp(Schedule):
    """Linear warm-up in front of another schedule.

    For ``step < warmup_steps``: ``lr = target * (step + 1) / warmup_steps`` with ``target = schedule(0)``,
    so the ramp starts at ``target / warmup_steps`` (never 0, no wasted step) and reaches ``target`` at
    step ``warmup_steps - 1``. Afterwards ``lr = schedule(step - warmup_steps)``: the wrapped schedule
    starts from its own step 0. ``schedule`` may be a float (a ``Constant``) or a config dict.
    """

    name = "warmup"

    def __init__(self, schedule: Schedule | float | dict[str, Any], warmup_steps: int) -> None:
        self.schedule = get(schedule)
        self.warmup_steps = positive_int(warmup_steps, "warmup_steps", 0)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.schedule(0) * (step + 1) / self.warmup_steps
        return self.schedule(step - self.warmup_steps)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "schedule": self.schedule.get_config(), "warmup_steps": self.warmup_steps}


class PiecewiseConstantDecay(Schedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while ``step <= boundaries[1]``, ...,
    ``values[-1]`` afterwards (Keras's rule)."""

    name = "piecewise_constant"

    def __init__(self, boundaries: list[int], values: list[float], name: str | None = None) -> None:
        if len(values) != len(boundaries) + 1 or list(boundaries) != sorted(boundaries):
            raise InvalidValueError(f"PiecewiseConstantDecay needs sorted boundaries and one more value than "
                                    f"boundaries, got {len(boundaries)} boundaries and {len(values)} values")
        self.boundaries, self.values = [int(b) for b in boundaries], [float(v) for v in values]

    def __call__(self, step: int) -> float:
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "boundaries": self.boundaries, "values": self.values}


class InverseTimeDecay(Schedule):
    """``lr = initial / (1 + decay_rate * step / decay_steps)`` (the quotient floored when ``staircase``)."""

    name = "inverse_time_decay"

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None) -> None:
        self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), int(decay_steps)
        self.decay_rate, self.staircase = float(decay_rate), bool(staircase)

    def __call__(self, step: int) -> float:
        t = step / self.decay_steps
        return self.initial_learning_rate / (1 + self.decay_rate * (t // 1 if self.staircase else t))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate, "staircase": self.staircase}


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, ExponentialDecay, CosineDecay, WarmUp, PiecewiseConstantDecay,
                              InverseTimeDecay)
}


def from_config(config: dict[str, Any]) -> Schedule:
    """Re-create a schedule from ``get_config()`` output."""
    return from_named_config("schedule", config, SCHEDULES)


def get(identifier: Schedule | float | str | dict[str, Any], **kwargs: Any) -> Schedule:
    """Resolve a schedule, a number (``Constant``), a name (constructed with ``kwargs``) or a config dict."""
    if isinstance(identifier, Schedule):
        return identifier
    if isinstance(identifier, str):
        return build("schedule", identifier, lookup("schedule", identifier, SCHEDULES), kwargs)
    if isinstance(identifier, dict):
        return from_config(identifier)
    if isinstance(identifier, numbers.Real) and not isinstance(identifier, bool):
        return Constant(identifier)
    raise InvalidTypeError(f"schedule must be a Schedule, a number, a name or a config dict, got {identifier!r} "
                           f"({type(identifier).__name__})")
