"""MaxPool2D, AvgPool2D, GlobalAvgPool2D: loop reference, gradient checks, tie routing, errors, config."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from nnscratch import Conv2D, Dense, Flatten, LeakyReLU, ReLU, Sequential
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.layers import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from nnscratch.utils.gradcheck import check_module

CONFIGS = [
    dict(),
    dict(pool_size=3, strides=2),
    dict(pool_size=3, strides=1),
    dict(pool_size=2, strides=3),
    dict(pool_size=(2, 3), strides=(1, 2)),
    dict(pool_size=3, strides=2, padding="same"),
    dict(pool_size=2, padding="same"),
    dict(pool_size=(2, 3), strides=(1, 2), padding=1),
]


def reference_pool(x: np.ndarray, layer: MaxPool2D | AvgPool2D) -> np.ndarray:
    """Max or mean of the real (unpadded) cells of every window, by loops."""
    (top, bottom), (left, right) = layer.pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=np.nan)
    (kh, kw), (sh, sw) = layer.pool_size, layer.strides
    oh, ow = (xp.shape[1] - kh) // sh + 1, (xp.shape[2] - kw) // sw + 1
    reduce = np.nanmax if isinstance(layer, MaxPool2D) else np.nanmean
    y = np.empty((len(x), oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j] = reduce(xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(1, 2))
    return y


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_forward_matches_reference(cls: type, config: dict) -> None:
    x = np.random.default_rng(0).standard_normal((2, 7, 9, 3))
    layer = cls(**config).set_dtype(np.float64)
    np.testing.assert_allclose(layer.forward(x), reference_pool(x, layer), rtol=1e-12)


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_gradients(cls: type, config: dict) -> None:
    x = np.random.default_rng(1).standard_normal((2, 7, 9, 3))
    errors = check_module(cls(**config), x)
    assert errors["input"] < 1e-6, errors


def test_max_pool_routes_ties_to_the_first_element() -> None:
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, 2:, 2:, 1] = [[1, 3], [3, 2]]  # tie between (2, 3) and (3, 2): the first in row-major order wins
    pool = MaxPool2D()
    y = pool.forward(x)
    np.testing.assert_array_equal(y[0, :, :, 1], [[0, 0], [0, 3]])
    dx = pool.backward(np.ones_like(y))
    expected = np.zeros((4, 4, 2), np.float32)
    expected[0, 0, :] = expected[0, 2, :] = expected[2, 0, :] = 1  # all-zero windows: their first cell
    expected[2, 2, 0] = 1
    expected[2, 3, 1] = 1
    np.testing.assert_array_equal(dx[0], expected)
    assert dx.sum() == y.size  # each output gradient goes to exactly one input


def test_overlapping_max_pool_adds_gradients_of_shared_cells() -> None:
    x = np.zeros((1, 5, 5, 1))
    x[0, 2, 2, 0] = 1  # the maximum of all four 3x3 windows (stride 2)
    pool = MaxPool2D(3, 2).set_dtype(np.float64)
    dx = pool.backward(np.ones_like(pool.forward(x)))
    assert dx[0, 2, 2, 0] == 4 and dx.sum() == 4


def test_strides_default_to_pool_size() -> None:
    assert MaxPool2D(3).strides == (3, 3)
    assert AvgPool2D((2, 3)).strides == (2, 3)
    assert MaxPool2D(3, strides=1).strides == (1, 1)


def test_same_padding_excludes_padded_cells() -> None:
    x = np.ones((2, 5, 7, 3), np.float32)
    for cls in (MaxPool2D, AvgPool2D):
        y = cls(3, 2, padding="same").forward(x)
        assert y.shape == (2, 3, 4, 3)
        np.testing.assert_array_equal(y, 1)  # padding never wins a max nor dilutes a mean
    y = MaxPool2D(3, 2, padding="same").forward(-x)
    np.testing.assert_array_equal(y, -1)


def test_odd_size_valid_drops_the_remainder() -> None:
    x = np.arange(2 * 7 * 9 * 1, dtype=np.float64).reshape(2, 7, 9, 1)
    pool = AvgPool2D().set_dtype(np.float64)
    y = pool.forward(x)
    assert y.shape == (2, 3, 4, 1)
    dx = pool.backward(np.ones_like(y))
    assert dx.shape == x.shape
    assert (dx[:, 6] == 0).all() and (dx[:, :, 8] == 0).all()  # last row/column belong to no window
    np.testing.assert_array_equal(dx[:, :6, :8], 0.25)


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_float32_stays_float32(cls: type) -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 4)).astype(np.float32)
    for config in (dict(), dict(pool_size=3, strides=2, padding="same")):
        pool = cls(**config)
        y = pool.forward(x)
        assert y.dtype == pool.backward(np.ones_like(y)).dtype == np.float32


def test_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"\(batch, height, width, channels\).*\(batch, 16\)"):
        MaxPool2D().forward(np.zeros((2, 16), np.float32))
    with pytest.raises(ShapeError, match=r"window 5x5 is larger than its \(padded\) input 3x8"):
        AvgPool2D(5).forward(np.zeros((1, 3, 8, 2), np.float32))
    with pytest.raises(ShapeError, match=r"4, 4, 1"):
        pool = MaxPool2D()
        pool.forward(np.zeros((1, 4, 4, 1), np.float32))
        pool.forward(np.zeros((1, 6, 6, 1), np.float32))
    with pytest.raises(ShapeError, match=r"\(batch, height, width, channels\)"):
        GlobalAvgPool2D().forward(np.zeros((2, 3, 4), np.float32))


@pytest.mark.parametrize("kwargs", [
    dict(pool_size=0), dict(pool_size=(2, 2, 2)), dict(pool_size="2"), dict(strides=0), dict(strides=(2, 0)),
    dict(padding="full"), dict(padding=-1), dict(pool_size=2, padding=2), dict(pool_size=3, padding=(1, 3)),
])
@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_invalid_arguments(cls: type, kwargs: dict) -> None:
    with pytest.raises(InvalidValueError):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_config_round_trip(cls: type) -> None:
    pool = cls((3, 2), strides=(1, 2), padding=(1, 1))
    copy = cls(**json.loads(json.dumps(pool.get_config())))
    assert copy.get_config() == pool.get_config()
    assert (copy.pool_size, copy.strides, copy.padding) == ((3, 2), (1, 2), (1, 1))
    assert cls(**cls(padding="same").get_config()).padding == "same"


def test_global_avg_pool() -> None:
    x = np.random.default_rng(0).standard_normal((3, 5, 4, 6))
    pool = GlobalAvgPool2D().set_dtype(np.float64)
    y = pool.forward(x)
    assert y.shape == (3, 6)
    np.testing.assert_allclose(y, x.mean(axis=(1, 2)))
    assert check_module(GlobalAvgPool2D(), x)["input"] < 1e-6
    assert GlobalAvgPool2D().get_config() == {"keepdims": False, "data_format": "channels_last"}
    x32 = x.astype(np.float32)
    pool32 = GlobalAvgPool2D()
    assert pool32.backward(pool32.forward(x32)).dtype == np.float32


def general_max_pool(x: np.ndarray, **config) -> MaxPool2D:
    """A MaxPool2D built for ``x`` and forced onto the general (window by window) path."""
    pool = MaxPool2D(**config).set_dtype(x.dtype)
    pool.build(x.shape[1:])
    plan = dataclasses.replace(pool.plans(x.shape[1:3]), pairwise=False)
    pool.plans = lambda hw: plan
    return pool


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3, 8, 10, 16])
def test_pairwise_max_pool_equals_the_general_path(channels: int, dtype: type) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-1, 2, (3, 6, 8, channels)).astype(dtype)  # three values: ties in most windows
    fast, general = MaxPool2D().set_dtype(dtype), general_max_pool(x)
    y = fast.forward(x, training=True)
    assert fast.plans(x.shape[1:3]).pairwise
    np.testing.assert_array_equal(y, general.forward(x, training=True))
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = fast.backward(g)
    np.testing.assert_array_equal(dx, general.backward(g))
    assert dx.dtype == dtype and dx.flags.c_contiguous
    assert np.count_nonzero(dx) == np.count_nonzero(g)  # each gradient reaches exactly one input


def test_pairwise_max_pool_gradients() -> None:
    x = np.random.default_rng(1).standard_normal((2, 6, 8, 3))
    pool = MaxPool2D()
    assert check_module(pool, x)["input"] < 1e-6
    assert pool.plans(x.shape[1:3]).pairwise


@pytest.mark.parametrize("config, shape, pairwise", [
    (dict(), (2, 6, 8, 3), True),
    (dict(padding="same"), (2, 6, 8, 3), True),  # no padding needed on even sizes
    (dict(), (2, 7, 8, 3), False),
    (dict(padding="same"), (2, 6, 9, 3), False),
    (dict(pool_size=2, strides=1), (2, 6, 8, 3), False),
    (dict(pool_size=(2, 3)), (2, 6, 9, 3), False),
])
def test_only_even_unpadded_two_by_two_pools_are_pairwise(config: dict, shape: tuple, pairwise: bool) -> None:
    x = np.random.default_rng(2).standard_normal(shape)
    pool = MaxPool2D(**config).set_dtype(np.float64)
    pool.forward(x)
    assert pool.plans(x.shape[1:3]).pairwise is pairwise
    assert check_module(MaxPool2D(**config), x)["input"] < 1e-6


def test_pairwise_training_output_is_a_reused_buffer() -> None:
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 8)).astype(np.float32)
    pool = MaxPool2D()
    first = pool.forward(x, training=True)
    assert np.shares_memory(pool.forward(x, training=True), first)
    assert not np.shares_memory(pool.forward(x), pool.forward(x))


# ReLU -> MaxPool2D in a Sequential: the pool applies the ReLU and its mask on its smaller output.
def relu_pool_model(relu_layer: bool, pool: dict, conv_before: bool = False) -> Sequential:
    convs = [Conv2D(4, 3, padding="same"), ReLU()] if relu_layer else [Conv2D(4, 3, padding="same", activation="relu")]
    first = [Conv2D(3, 3, padding="same")] if conv_before else []  # the linked convolution then needs dL/dx
    return Sequential([*first, *convs, MaxPool2D(**pool), Flatten(), Dense(3)], seed=0, dtype="float64")


def unlink(model) -> None:
    model.rewrites = False  # every node as written, no fusion


def fused_steps(model) -> list[tuple[str, list[str]]]:
    """The fusions in the model's training plan: (fusion name, names of the layers it replaced)."""
    steps = model.graph.plan(input_grad=False, use_rewrites=model.rewrites).steps
    return [(s.fusion, s.key) for s in steps if s.fusion]


LINK_CASES = [  # (relu_layer, pool, conv_before, input shape)
    (False, dict(), False, (3, 6, 8, 2)),
    (False, dict(), True, (3, 6, 8, 2)),
    (False, dict(padding="same"), False, (3, 5, 8, 3)),  # odd height: the general max-pool path
    (True, dict(), False, (3, 6, 8, 4)),
    (False, dict(pool_size=3, strides=2, padding="same"), False, (3, 6, 8, 2)),
    (True, dict(pool_size=2, strides=1), True, (3, 6, 8, 2)),
]


@pytest.mark.parametrize("relu_layer, pool, conv_before, shape", LINK_CASES, ids=str)
def test_relu_max_pool_link_gives_the_same_outputs_and_gradients(relu_layer: bool, pool: dict, conv_before: bool,
                                                                  shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, shape).astype(np.float64)  # integers: ties and zero windows are common
    g = rng.standard_normal((shape[0], 3))
    results = []
    for linked in (True, False):
        model = relu_pool_model(relu_layer, pool, conv_before).build(shape[1:])
        if not linked:
            unlink(model)
        assert [key for _, key in fused_steps(model)] == (
            [(len(model.layers) - 4, len(model.layers) - 3)] if linked else [])
        for _ in range(2):  # the second step reuses every buffer
            for p in model.parameters():
                p.zero_grad()
            out = model.forward(x, training=True).copy()
            dx = model.backward(g.copy()).copy()
        results.append([out, dx, *(p.grad.copy() for p in model.parameters())])
        np.testing.assert_array_equal(model.forward(x), out)  # inference: the same values
    for with_link, without in zip(*results):
        np.testing.assert_array_equal(with_link, without)
    assert np.count_nonzero(results[0][2]) > 0  # a convolution's weight gradient


@pytest.mark.parametrize("conv_before", [False, True])
def test_relu_max_pool_link_passes_the_gradient_check(conv_before: bool) -> None:
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 2))
    model = relu_pool_model(False, {}, conv_before).build(x.shape[1:])
    errors = check_module(model, x, training=True)
    assert max(errors.values()) < 1e-6, errors


def test_only_a_relu_right_before_a_max_pool_is_linked() -> None:
    model = Sequential([Conv2D(2, 3, activation="relu"), MaxPool2D(), Conv2D(2, 3), MaxPool2D(),
                        Conv2D(2, 3, activation="relu"), AvgPool2D(), LeakyReLU(), MaxPool2D(), ReLU()]).build((80, 80, 2))
    assert fused_steps(model) == [("conv_relu+maxpool", (0, 1))]
    model.add(MaxPool2D())  # the plan of the rebuilt graph fuses the new pair
    assert fused_steps(model) == [("conv_relu+maxpool", (0, 1)), ("relu+maxpool", (8, 9))]


def test_linked_layers_called_one_by_one_keep_their_own_meaning() -> None:
    """The link lives in the model's forward: the same layers called one by one compute what they always do."""
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, (2, 6, 6, 2)).astype(np.float64)
    for relu_layer in (False, True):
        layers = [Conv2D(3, 3, padding="same"), ReLU()] if relu_layer else [Conv2D(3, 3, padding="same", activation="relu")]
        model = Sequential([*layers, MaxPool2D()], seed=0, dtype="float64")
        model.forward(x, training=True)
        g = rng.standard_normal(model.forward(x, training=True).shape)
        linked_dx = model.backward(g.copy()).copy()
        *front, pool = model.layers
        hidden = x
        for layer in front:
            hidden = layer.forward(hidden, training=True)
        hidden = hidden.copy()
        assert hidden.min() == 0
        np.testing.assert_array_equal(pool.forward(hidden, training=True), reference_pool(hidden, pool))
        dpool = pool.backward(g.copy()).copy()  # the plain max-pool gradient: windows of zeros get theirs too
        assert np.count_nonzero(dpool) == g.size
        dx = dpool
        for layer in reversed(front):
            dx = layer.backward(dx)
        np.testing.assert_array_equal(dx, linked_dx)
