"""Learning-rate schedules: values at known steps, config round trips, validation."""

from __future__ import annotations

import json
import math

import pytest

from nnscratch.core.errors import InvalidValueError
from nnscratch.training import schedules
from nnscratch.training.schedules import Constant, CosineDecay, ExponentialDecay, StepDecay, WarmUp


def test_constant() -> None:
    assert [Constant(0.1)(s) for s in (0, 5, 10**6)] == [0.1] * 3


def test_step_decay() -> None:
    s = StepDecay(1.0, step_size=10, gamma=0.5)
    assert [s(t) for t in (0, 9, 10, 19, 20, 35)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]


def test_exponential_decay() -> None:
    s = ExponentialDecay(2.0, decay_rate=0.5)
    assert [s(t) for t in (0, 1, 3)] == [2.0, 1.0, 0.25]
    assert ExponentialDecay(1.0, 0.25, decay_steps=10)(5) == pytest.approx(0.5)


def test_cosine_decay() -> None:
    s = CosineDecay(1.0, decay_steps=100, final=0.1)
    assert s(0) == 1.0
    assert s(50) == pytest.approx(0.55)
    assert s(25) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert s(100) == pytest.approx(0.1) and s(1000) == pytest.approx(0.1)


def test_warmup_ramp_then_shifted_schedule() -> None:
    s = WarmUp(StepDecay(0.4, step_size=2, gamma=0.5), warmup_steps=4)
    assert [s(t) for t in range(4)] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert [s(t) for t in range(4, 9)] == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1])
    assert WarmUp(0.5, 2)(0) == 0.25 and WarmUp(0.5, 2)(7) == 0.5
    assert WarmUp(CosineDecay(1.0, 10), 0)(5) == CosineDecay(1.0, 10)(5)


@pytest.mark.parametrize(
    "schedule",
    [
        Constant(0.3),
        StepDecay(0.1, 3, 0.2),
        ExponentialDecay(0.1, 0.9, 7),
        CosineDecay(0.1, 50, 0.01),
        WarmUp(CosineDecay(0.1, 50), 5),
    ],
)
def test_config_roundtrip(schedule: schedules.Schedule) -> None:
    config = json.loads(json.dumps(schedule.get_config()))
    clone = schedules.from_config(config)
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(t) for t in range(0, 60, 7)] == [schedule(t) for t in range(0, 60, 7)]
    assert schedules.get(schedule) is schedule


def test_get() -> None:
    assert isinstance(schedules.get(0.1), Constant)
    s = schedules.get("Cosine_Decay", initial=0.5, decay_steps=10)
    assert isinstance(s, CosineDecay) and s(0) == 0.5
    with pytest.raises(InvalidValueError, match="did you mean 'step_decay'"):
        schedules.get("step_decay_", initial=0.1, step_size=1)
    with pytest.raises(InvalidValueError, match="bad config"):
        schedules.from_config({"name": "constant", "valu": 1.0})
    with pytest.raises(InvalidValueError):
        schedules.get([0.1])


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: Constant(-1.0), "value"),
        (lambda: StepDecay(0.0, 1), "initial"),
        (lambda: StepDecay(0.1, 0), "step_size"),
        (lambda: StepDecay(0.1, 1.5), "step_size"),
        (lambda: StepDecay(0.1, 1, gamma=0.0), "gamma"),
        (lambda: ExponentialDecay(0.1, -0.5), "decay_rate"),
        (lambda: ExponentialDecay(float("inf"), 0.5), "initial"),
        (lambda: CosineDecay(0.1, 10, final=0.2), "final"),
        (lambda: CosineDecay(0.1, 0), "decay_steps"),
        (lambda: WarmUp(0.1, -1), "warmup_steps"),
    ],
)
def test_invalid_arguments(make, name: str) -> None:
    with pytest.raises(InvalidValueError, match=name):
        make()
