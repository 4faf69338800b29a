"""Optimizers against hand-written NumPy reference formulas, plus state, config and validation."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch.core.errors import InvalidValueError, ModelFileError, NotBuiltError
from nnscratch.core.parameter import Parameter
from nnscratch.training import optimizers, schedules
from nnscratch.training.optimizers import SGD, Adam, AdamW, RMSprop

SHAPE = (3, 4)
W0 = np.random.default_rng(0).standard_normal(SHAPE)
GRADS = list(np.random.default_rng(1).standard_normal((6, *SHAPE)))


def run(opt: optimizers.Optimizer, grads: list[np.ndarray] = GRADS, w0: np.ndarray = W0) -> np.ndarray:
    p = Parameter(w0.copy())
    opt.attach([p])
    for g in grads:
        p.grad[...] = g
        opt.step()
    return p.data


# ---------------------------------------------------------------- references (plain NumPy, fresh arrays)
def ref_sgd(lr: Callable[[int], float], mu: float = 0.0, nesterov: bool = False, wd: float = 0.0) -> np.ndarray:
    w, v = W0.copy(), np.zeros(SHAPE)
    for t, grad in enumerate(GRADS):
        g = grad + wd * w
        v = mu * v + g
        d = (g + mu * v if nesterov else v) if mu else g
        w = w - lr(t) * d
    return w


def ref_rmsprop(lr: float, rho: float, eps: float, mu: float = 0.0, wd: float = 0.0) -> np.ndarray:
    w, s, b = W0.copy(), np.zeros(SHAPE), np.zeros(SHAPE)
    for grad in GRADS:
        g = grad + wd * w
        s = rho * s + (1 - rho) * g**2
        u = g / (np.sqrt(s) + eps)
        b = mu * b + u
        w = w - lr * (b if mu else u)
    return w


def ref_adam(lr: Callable[[int], float], b1: float, b2: float, eps: float, wd: float = 0.0, decoupled: bool = False) -> np.ndarray:
    w, m, v = W0.copy(), np.zeros(SHAPE), np.zeros(SHAPE)
    for t, grad in enumerate(GRADS, start=1):
        a = lr(t - 1)
        if decoupled:
            w = w - a * wd * w
            g = grad
        else:
            g = grad + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - a * m_hat / (np.sqrt(v_hat) + eps)
    return w


def const(value: float) -> Callable[[int], float]:
    return lambda t: value


CASES = [
    ("sgd", lambda: SGD(lr=0.1), lambda: ref_sgd(const(0.1))),
    ("sgd-momentum", lambda: SGD(lr=0.1, momentum=0.9), lambda: ref_sgd(const(0.1), mu=0.9)),
    ("sgd-nesterov", lambda: SGD(lr=0.1, momentum=0.8, nesterov=True), lambda: ref_sgd(const(0.1), 0.8, True)),
    ("sgd-wd", lambda: SGD(lr=0.1, momentum=0.5, weight_decay=0.3), lambda: ref_sgd(const(0.1), 0.5, wd=0.3)),
    (
        "sgd-schedule",
        lambda: SGD(lr=schedules.StepDecay(0.5, step_size=2, gamma=0.5), momentum=0.9),
        lambda: ref_sgd(lambda t: 0.5 * 0.5 ** (t // 2), mu=0.9),
    ),
    ("rmsprop", lambda: RMSprop(lr=0.01, rho=0.8, eps=1e-3), lambda: ref_rmsprop(0.01, 0.8, 1e-3)),
    (
        "rmsprop-momentum-wd",
        lambda: RMSprop(lr=0.01, rho=0.9, eps=1e-7, momentum=0.7, weight_decay=0.2),
        lambda: ref_rmsprop(0.01, 0.9, 1e-7, mu=0.7, wd=0.2),
    ),
    ("adam", lambda: Adam(lr=0.05, eps=1e-3), lambda: ref_adam(const(0.05), 0.9, 0.999, 1e-3)),
    (
        "adam-wd",
        lambda: Adam(lr=0.05, beta1=0.5, beta2=0.9, weight_decay=0.1),
        lambda: ref_adam(const(0.05), 0.5, 0.9, 1e-8, wd=0.1),
    ),
    (
        "adam-schedule",
        lambda: Adam(lr=schedules.WarmUp(schedules.CosineDecay(0.1, 4), 2)),
        lambda: ref_adam(schedules.WarmUp(schedules.CosineDecay(0.1, 4), 2), 0.9, 0.999, 1e-8),
    ),
    ("adamw", lambda: AdamW(lr=0.05, weight_decay=0.3), lambda: ref_adam(const(0.05), 0.9, 0.999, 1e-8, 0.3, True)),
]


@pytest.mark.parametrize("make, reference", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matches_reference(make, reference) -> None:
    np.testing.assert_allclose(run(make()), reference(), rtol=1e-12, atol=1e-14)


def test_adamw_differs_from_adam_with_l2() -> None:
    assert not np.allclose(run(AdamW(lr=0.05, weight_decay=0.3)), run(Adam(lr=0.05, weight_decay=0.3)))


@settings(max_examples=25, deadline=None)
@given(
    lr=st.floats(1e-4, 1.0),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.0, 0.999),
    wd=st.floats(0.0, 1.0),
    decoupled=st.booleans(),
)
def test_adam_property(lr: float, b1: float, b2: float, wd: float, decoupled: bool) -> None:
    cls = AdamW if decoupled else Adam
    got = run(cls(lr=lr, beta1=b1, beta2=b2, eps=1e-6, weight_decay=wd))
    np.testing.assert_allclose(got, ref_adam(const(lr), b1, b2, 1e-6, wd, decoupled), rtol=1e-10, atol=1e-12)


ALL = [
    lambda: SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda: RMSprop(momentum=0.5, weight_decay=0.1),
    lambda: Adam(weight_decay=0.1),
    lambda: AdamW(),
]


@pytest.mark.parametrize("make", ALL)
def test_in_place_and_preallocated(make) -> None:
    params = [Parameter(np.ones((4, 5), np.float32)), Parameter(np.ones(7, np.float32))]
    opt = make()
    opt.attach(params)
    data = [p.data for p in params]
    state = [dict(s) for s in opt.state]
    scratch = dict(opt._scratch)
    for _ in range(3):
        for p in params:
            p.grad.fill(0.5)
        opt.step()
    assert all(p.data is d for p, d in zip(params, data))
    assert all(p.data.dtype == np.float32 for p in params)
    for s, before in zip(opt.state, state):
        assert s.keys() == before.keys()
        assert all(s[k] is before[k] and s[k].dtype == np.float32 for k in s)
    assert all(opt._scratch[k] is v for k, v in scratch.items())
    assert not np.array_equal(params[0].data, np.ones((4, 5)))


@pytest.mark.parametrize("make", ALL)
def test_step_allocates_no_large_temporaries(make) -> None:
    p = Parameter(np.ones(100_000))  # 800 kB
    opt = make()
    opt.attach([p])
    p.grad.fill(0.1)
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(lr=0.05),
        lambda: SGD(lr=0.05, momentum=0.9, nesterov=True),
        lambda: RMSprop(lr=0.01),
        lambda: Adam(lr=0.05),
        lambda: AdamW(lr=0.05, weight_decay=1e-4),
    ],
)
def test_minimizes_quadratic(make) -> None:
    target = np.array([1.0, -2.0, 3.0])
    scale = np.array([1.0, 4.0, 0.5])
    p = Parameter(np.zeros(3))
    opt = make()
    opt.attach([p])
    for _ in range(1500):
        opt.zero_grad()
        p.grad += 2 * scale * (p.data - target)
        opt.step()
    np.testing.assert_allclose(p.data, target, atol=0.02)
    assert opt.iterations == 1500


def test_non_trainable_and_duplicates_are_skipped() -> None:
    w, frozen = Parameter(np.ones(3)), Parameter(np.ones(3), trainable=False)
    opt = SGD([w, frozen, w], lr=0.1, momentum=0.9)
    assert opt.params == [w] and len(opt.state) == 1
    w.grad[...] = frozen.grad[...] = 1.0
    opt.step()
    np.testing.assert_array_equal(frozen.data, 1.0)
    np.testing.assert_allclose(w.data, 0.9)


def test_attach_same_is_noop_and_other_resets() -> None:
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = Adam([a])
    a.grad.fill(1.0)
    opt.step()
    m = opt.state[0]["m"]
    opt.attach([a])
    assert opt.iterations == 1 and opt.state[0]["m"] is m and m[0] != 0
    opt.attach([a, b])
    assert opt.iterations == 0 and len(opt.state) == 2
    assert not opt.state[0]["m"].any()


def test_step_before_attach_raises() -> None:
    with pytest.raises(NotBuiltError, match="attach"):
        Adam().step()


def test_zero_grad() -> None:
    p = Parameter(np.ones(3))
    p.grad.fill(2.0)
    grad = p.grad
    SGD([p]).zero_grad()
    assert p.grad is grad and not grad.any()


def test_lr_property_schedule_and_setter() -> None:
    opt = SGD([Parameter(np.zeros(1))], lr=schedules.ExponentialDecay(1.0, 0.5))
    assert opt.lr == 1.0
    opt.step()
    opt.step()
    assert opt.lr == 0.25
    opt.lr = 0.3  # what a LearningRateScheduler callback does: replaces the schedule
    opt.step()
    assert opt.lr == 0.3 and opt.get_config()["lr"] == 0.3
    opt.lr = 0.0
    with pytest.raises(InvalidValueError, match="lr"):
        opt.lr = -1.0


def roundtrip_npz(d: dict) -> dict:
    buf = io.BytesIO()
    np.savez(buf, **d)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("make", ALL + [lambda: Adam(lr=schedules.CosineDecay(0.01, 5))])
def test_state_dict_roundtrip(make) -> None:
    a = [Parameter(W0.copy()), Parameter(np.ones(5))]
    opt = make()
    opt.attach(a)
    grads = np.random.default_rng(2).standard_normal((6, *SHAPE))
    for g in grads[:3]:
        a[0].grad[...] = g
        a[1].grad.fill(g.sum())
        opt.step()
    saved = roundtrip_npz(opt.state_dict())
    b = [Parameter(a[0].data.copy()), Parameter(a[1].data.copy())]
    clone = optimizers.from_config(json.loads(json.dumps(opt.get_config())))
    clone.attach(b)
    clone.load_state_dict(saved)
    assert clone.iterations == 3 and clone.lr == opt.lr
    for g in grads[3:]:
        for params, o in ((a, opt), (b, clone)):
            params[0].grad[...] = g
            params[1].grad.fill(g.sum())
            o.step()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_keys_and_copies() -> None:
    p0, p1 = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = Adam([p0, p1])
    d = opt.state_dict()
    assert set(d) == {"iterations", "lr", "0.m", "0.v", "1.m", "1.v"}
    assert set(SGD([p0], momentum=0.9).state_dict()) == {"iterations", "lr", "0.momentum"}
    p0.grad.fill(1.0)
    opt.step()
    assert not d["0.m"].any()


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda d: d.pop("1.v"), "1.v"),
        (lambda d: d.pop("iterations"), "iterations"),
        (lambda d: d.update({"2.m": np.zeros(1)}), "2.m"),
        (lambda d: d.update({"0.m": np.zeros(3)}), "0.m"),
        (lambda d: d.update({"iterations": -1}), "iterations"),
        (lambda d: d.update({"lr": np.nan}), "lr"),
    ],
)
def test_load_state_dict_mismatch(edit, key) -> None:
    opt = Adam([Parameter(np.ones(2)), Parameter(np.ones(3))])
    d = opt.state_dict()
    d["0.m"] = np.full(2, 7.0)
    edit(d)
    with pytest.raises(ModelFileError, match=repr(key)):
        opt.load_state_dict(d)
    assert not opt.state[0]["m"].any()  # nothing half-loaded


def test_get_and_config() -> None:
    assert isinstance(optimizers.get("ADAM"), Adam)
    mom = optimizers.get("momentum", lr=0.2)
    assert isinstance(mom, SGD) and mom.momentum == 0.9 and mom.lr == 0.2
    opt = RMSprop(lr=0.01, momentum=0.5)
    assert optimizers.get(opt) is opt
    for o in (SGD(momentum=0.3, nesterov=True), opt, Adam(beta1=0.8), AdamW(weight_decay=0.2)):
        config = o.get_config()
        assert optimizers.get(json.loads(json.dumps(config))).get_config() == config
    assert AdamW().get_config()["weight_decay"] == 0.01


def test_unknown_name_suggests() -> None:
    with pytest.raises(InvalidValueError, match="did you mean 'adam'"):
        optimizers.get("addam")
    with pytest.raises(InvalidValueError, match="bad arguments"):
        optimizers.get("sgd", betas=0.9)


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (SGD, {"lr": 0}, "lr"),
        (SGD, {"lr": -0.1}, "lr"),
        (Adam, {"lr": float("nan")}, "lr"),
        (Adam, {"lr": "0.1"}, "lr"),
        (SGD, {"momentum": 1.0}, "momentum"),
        (RMSprop, {"momentum": -0.1}, "momentum"),
        (SGD, {"nesterov": True}, "nesterov"),
        (RMSprop, {"rho": 1.0}, "rho"),
        (RMSprop, {"eps": 0.0}, "eps"),
        (Adam, {"beta1": 1.0}, "beta1"),
        (AdamW, {"beta2": -0.5}, "beta2"),
        (Adam, {"eps": -1e-8}, "eps"),
        (AdamW, {"weight_decay": -0.1}, "weight_decay"),
    ],
)
def test_invalid_hyperparameters(cls, kwargs, name) -> None:
    with pytest.raises(InvalidValueError, match=name):
        cls(**kwargs)


def test_attach_rejects_non_parameters() -> None:
    with pytest.raises(InvalidValueError, match="position 0"):
        SGD([np.ones(3)])
