"""``keras.optimizers.schedules``: Keras's schedule classes, with Keras's arguments and formulas, built as
nnscratch schedules (``nnscratch.training.schedules``); evaluated at the optimizer's step count."""

from __future__ import annotations

from typing import Any

from ...core.errors import InvalidValueError
from ...training import schedules as _native
from ...training.schedules import Schedule
from .._names import module_getattr

__all__ = ["CosineDecay", "ExponentialDecay", "LearningRateSchedule", "PiecewiseConstantDecay", "InverseTimeDecay"]

LearningRateSchedule = Schedule


def _no_name(name: Any) -> None:
    if name is not None and not isinstance(name, str):
        raise InvalidValueError(f"schedule name must be a string, got {name!r}")


def ExponentialDecay(initial_learning_rate: float, decay_steps: int, decay_rate: float,  # noqa: N802
                     staircase: bool = False, name: str | None = None) -> Schedule:
    """``lr = initial * decay_rate ** (step / decay_steps)`` (the exponent floored when ``staircase``)."""
    _no_name(name)
    if staircase:
        return _native.StepDecay(initial_learning_rate, decay_steps, decay_rate)
    return _native.ExponentialDecay(initial_learning_rate, decay_rate, decay_steps)


def CosineDecay(initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,  # noqa: N802
                name: str | None = None, warmup_target: float | None = None, warmup_steps: int = 0) -> Schedule:
    """Half a cosine from ``initial_learning_rate`` to ``alpha * initial_learning_rate`` over ``decay_steps``."""
    _no_name(name)
    if warmup_target is not None or warmup_steps:
        raise InvalidValueError("CosineDecay's warm-up is not provided; wrap the schedule in "
                                "nnscratch.schedules.WarmUp(schedule, warmup_steps) instead")
    return _native.CosineDecay(initial_learning_rate, decay_steps, final=alpha * initial_learning_rate)


PiecewiseConstantDecay = _native.PiecewiseConstantDecay
InverseTimeDecay = _native.InverseTimeDecay

__getattr__ = module_getattr("keras.optimizers.schedules", globals(), {
    "PolynomialDecay": "not provided; use ExponentialDecay, CosineDecay, PiecewiseConstantDecay or InverseTimeDecay",
    "CosineDecayRestarts": "not provided; use CosineDecay",
})
