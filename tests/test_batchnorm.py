"""BatchNorm: gradient checks, batch vs running statistics, state, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.layers import BatchNorm, batchnorm
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


# The layout: values as rows of several channel vectors, element-wise work in blocks of rows.
@pytest.mark.parametrize("shape", [(2, 3), (4, 5), (2, 3, 7, 5), (6, 5, 3, 2), (7, 3)], ids=str)
@pytest.mark.parametrize("cap", [1, 6, 10, 30, 1 << 14])
def test_wide_rows_hold_whole_channel_vectors(shape: tuple[int, ...], cap: int) -> None:
    rows, width = batchnorm.wide_rows(shape, cap)
    c = shape[-1]
    assert rows * width == int(np.prod(shape)) and width % c == 0
    assert width <= max(cap, c)
    if cap >= np.prod(shape):
        assert rows == 1


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 3), (5, 2, 3, 2)], ids=str)
def test_gradients_with_many_rows_and_blocks(monkeypatch: pytest.MonkeyPatch, shape: tuple[int, ...],
                                             training: bool) -> None:
    monkeypatch.setattr(batchnorm, "ROW_VALUES", 2 * shape[-1])  # two channel vectors a row
    monkeypatch.setattr(batchnorm, "BLOCK_VALUES", 3 * 2 * shape[-1])  # three rows a block, the last shorter
    test_gradients(shape, training)


def reference(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dy: np.ndarray, eps: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Output, dL/dx, dL/dgamma, dL/dbeta of batch-statistics BatchNorm, textbook two-pass formulas in float64."""
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    xhat = (x - x.mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps)
    dxhat = dy * gamma
    dx = (dxhat - dxhat.mean(axis=axes) - xhat * (dxhat * xhat).mean(axis=axes)) / np.sqrt(x.var(axis=axes) + eps)
    return xhat * gamma + beta, dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


@pytest.mark.parametrize("offset", [0.0, 3.0, 1e3], ids=["centered", "offset", "far offset"])
def test_float32_matches_the_float64_formulas(offset: float) -> None:
    """float32 inputs of the residual network's size; a mean far from 0 (1000 std) takes the two-pass path."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((16, 14, 14, 32)) * 2 + offset).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    bn = BatchNorm(epsilon=1e-5)
    bn.forward(x[:2])
    bn.gamma.data[...] = rng.random(32) + 0.5
    bn.beta.data[...] = rng.standard_normal(32)
    y = bn.forward(x, training=True)
    dx = bn.backward(dy)
    want = reference(x, bn.gamma.data, bn.beta.data, dy, 1e-5)
    for got, expected in zip((y, dx, bn.gamma.grad, bn.beta.grad), want):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def test_eval_gradient_with_running_statistics_far_from_the_batch() -> None:
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 8)) + 500).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    bn = BatchNorm()
    bn.forward(x)
    bn.running_mean.data[...] = 500.5
    bn.running_var.data[...] = 0.25
    bn.forward(x, training=False)
    bn.backward(dy)
    xhat = (x.astype(np.float64) - 500.5) / np.sqrt(0.25 + 1e-3)
    np.testing.assert_allclose(bn.gamma.grad, (dy * xhat).sum(axis=0), rtol=1e-4, atol=1e-3)


def test_constant_channels_normalize_to_beta() -> None:
    x = np.zeros((4, 3, 3, 2), np.float32)
    x[..., 1] = 7.25  # a constant channel far from 0: the two-pass path, variance exactly 0
    bn = BatchNorm()
    y = bn.forward(x, training=True)
    np.testing.assert_array_equal(y, 0)
    np.testing.assert_array_equal(bn.backward(np.ones_like(x)), 0)


def test_one_batchnorm_at_two_places_of_a_graph() -> None:
    """Each call site has its own buffers: the second call's output and gradient never overwrite the first's."""
    from nnscratch import Add, Conv2D, Input, Model

    x = Input((4, 4, 2), dtype="float64")
    bn = BatchNorm()
    y = Add()([bn(Conv2D(3, 3, padding="same", use_bias=False)(x)), bn(Conv2D(3, 1, use_bias=False)(x))])
    model = Model(x, y)
    data = np.random.default_rng(0).standard_normal((3, 4, 4, 2))
    errors = check_module(model, data, training=True)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_no_input_gradient_when_the_call_needs_none(training: bool) -> None:
    from nnscratch.core.call import Call

    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((2, 5, 4, 3)), rng.standard_normal((2, 5, 4, 3))
    grads = []
    for input_grad in (True, False):
        bn = BatchNorm().set_dtype(np.float64)
        ctx = Call(training=training, input_grad=input_grad)
        bn.forward_call(ctx, x)
        dx = bn.backward_call(ctx, dy)
        assert (dx is None) is not input_grad
        grads.append([bn.gamma.grad.copy(), bn.beta.grad.copy()])
    for with_dx, without in zip(*grads):
        np.testing.assert_array_equal(with_dx, without)
