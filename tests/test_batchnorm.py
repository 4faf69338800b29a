"""BatchNorm: gradient checks, batch vs running statistics, state, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.layers import BatchNorm
from nnscratch.utils.gradcheck import check_module

SHAPES = [(6, 5), (3, 4, 5, 3), (2, 3, 1, 4)]


def random_state(bn: BatchNorm, rng: np.random.Generator) -> None:
    c = bn.gamma.shape[0]
    bn.gamma.data[...] = rng.standard_normal(c)
    bn.beta.data[...] = rng.standard_normal(c)
    bn.running_mean.data[...] = rng.standard_normal(c)
    bn.running_var.data[...] = rng.random(c) + 0.5


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradients(shape: tuple[int, ...], training: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 2 + 1
    bn = BatchNorm().set_dtype(np.float64)
    bn.forward(x)
    random_state(bn, rng)
    errors = check_module(bn, x, training=training)
    assert set(errors) == {"input", "gamma", "beta"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_training_normalizes_with_batch_statistics(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).standard_normal(shape) * 3 + 2
    bn = BatchNorm(eps=1e-12).set_dtype(np.float64)
    y = bn.forward(x, training=True)
    axes = tuple(range(x.ndim - 1))
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1, rtol=1e-9)


def test_running_statistics_update() -> None:
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 5)) * 2 + 1
    bn = BatchNorm(momentum=0.8).set_dtype(np.float64)
    bn.forward(x, training=True)
    bn.forward(x, training=True)
    values = x.reshape(-1, 5)
    mean, unbiased = values.mean(axis=0), values.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.data, (1 - 0.8 ** 2) * mean)  # from 0, twice
    np.testing.assert_allclose(bn.running_var.data, 0.8 ** 2 + (1 - 0.8 ** 2) * unbiased)  # from 1, twice


def test_eval_uses_running_statistics_and_leaves_them_alone() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    bn = BatchNorm(eps=1e-3).set_dtype(np.float64)
    bn.forward(x)
    random_state(bn, rng)
    state = bn.state_dict()
    y = bn.forward(x, training=False)
    expected = (x - state["running_mean"]) / np.sqrt(state["running_var"] + 1e-3) * state["gamma"] + state["beta"]
    np.testing.assert_allclose(y, expected)
    for name, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    assert not np.allclose(bn.forward(x, training=True), y)  # training mode: batch statistics


def test_eval_converges_to_train_on_a_fixed_distribution() -> None:
    rng = np.random.default_rng(0)
    bn = BatchNorm(momentum=0.5).set_dtype(np.float64)
    x = rng.standard_normal((256, 3)) * [1, 2, 3] + [0, 5, -5]
    for _ in range(40):
        train = bn.forward(x, training=True)
    np.testing.assert_allclose(bn.forward(x, training=False), train, atol=1e-2)


def test_state_holds_running_statistics_but_optimizer_does_not() -> None:
    bn = BatchNorm()
    bn.forward(np.zeros((2, 3, 3, 4), np.float32))
    assert [name for name, _ in bn.named_parameters()] == ["gamma", "beta"]
    assert len(bn.parameters()) == 2
    assert set(bn.state_dict()) == {"gamma", "beta", "running_mean", "running_var"}
    assert all(v.shape == (4,) and v.dtype == np.float32 for v in bn.state_dict().values())
    np.testing.assert_array_equal(bn.state_dict()["running_var"], 1)


def test_float32_stays_float32() -> None:
    x = np.random.default_rng(0).standard_normal((8, 5, 5, 3)).astype(np.float32)
    bn = BatchNorm()
    for training in (True, False):
        y = bn.forward(x, training=training)
        dx = bn.backward(np.ones_like(y))
        assert y.dtype == dx.dtype == bn.gamma.grad.dtype == bn.running_var.data.dtype == np.float32


def test_batch_of_one_value_per_channel() -> None:
    bn = BatchNorm()
    with pytest.raises(InvalidValueError, match="more than one value per channel"):
        bn.forward(np.ones((1, 4), np.float32), training=True)
    assert bn.forward(np.ones((1, 4), np.float32)).shape == (1, 4)  # inference is fine
    assert BatchNorm().forward(np.ones((1, 2, 2, 4), np.float32), training=True).shape == (1, 2, 2, 4)


@pytest.mark.parametrize("kwargs", [dict(momentum=1.0), dict(momentum=-0.1), dict(momentum="0.9"), dict(eps=0),
                                    dict(eps=-1e-5), dict(axis=1), dict(axis=0)])
def test_invalid_arguments(kwargs: dict) -> None:
    with pytest.raises(InvalidValueError):
        BatchNorm(**kwargs)


def test_shape_errors() -> None:
    with pytest.raises(ShapeError):
        BatchNorm().forward(np.zeros(3, np.float32))
    bn = BatchNorm()
    bn.forward(np.zeros((2, 4), np.float32))
    with pytest.raises(ShapeError):
        bn.forward(np.zeros((2, 5), np.float32))


def test_config_round_trip() -> None:
    bn = BatchNorm(momentum=0.99, eps=1e-3)
    copy = BatchNorm(**json.loads(json.dumps(bn.get_config())))
    assert copy.get_config() == bn.get_config() == {"momentum": 0.99, "eps": 1e-3, "axis": -1}
