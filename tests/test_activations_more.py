"""Keras 3's other activations (``selu``, ``swish``, ``softplus``, ``softsign``, ``hard_sigmoid``, ``hard_silu``,
``mish``, ``log_softmax``, ``exponential``, ``relu6``, and the small ones), ``ReLU(max_value, negative_slope,
threshold)`` and ``Softmax(axis)``: formulas, PyTorch, exact gradients, extreme inputs, saving, ONNX, and the
plain ``ReLU()``/``Softmax()`` left bit for bit as they were."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core import functional as F
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, NNScratchError
from nnscratch.core.rewrites import find_fusion
from nnscratch.layers import activations as A
from nnscratch.utils.gradcheck import check_module

ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x / 6 + 0.5, 0, 1)  # Keras 3's own form of relu6(x + 3) / 6


def _log_softmax(x: np.ndarray) -> np.ndarray:
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


# name -> (NumPy reference for moderate inputs, the layer class it gives)
REFERENCE: dict[str, tuple[Callable[[np.ndarray], np.ndarray], type]] = {
    "selu": (lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(x)), nn.layers.SELU),
    "swish": (lambda x: x / (1 + np.exp(-x)), nn.layers.Swish),
    "silu": (lambda x: x / (1 + np.exp(-x)), nn.layers.Swish),
    "softplus": (lambda x: np.log1p(np.exp(x)), nn.layers.Softplus),
    "softsign": (lambda x: x / (1 + np.abs(x)), nn.layers.Softsign),
    "hard_sigmoid": (_hard_sigmoid, nn.layers.HardSigmoid),
    "hard_silu": (lambda x: x * _hard_sigmoid(x), nn.layers.HardSwish),
    "hard_swish": (lambda x: x * _hard_sigmoid(x), nn.layers.HardSwish),
    "mish": (lambda x: x * np.tanh(np.log1p(np.exp(x))), nn.layers.Mish),
    "log_softmax": (_log_softmax, nn.layers.LogSoftmax),
    "exponential": (np.exp, nn.layers.Exponential),
    "relu6": (lambda x: np.minimum(np.maximum(x, 0), 6), nn.ReLU),
    "celu": (lambda x: np.maximum(x, 0) + np.minimum(np.expm1(x), 0), nn.layers.CELU),
    "squareplus": (lambda x: (x + np.sqrt(x * x + 4)) / 2, nn.layers.Squareplus),
    "tanh_shrink": (lambda x: x - np.tanh(x), nn.layers.TanhShrink),
    "log_sigmoid": (lambda x: -np.log1p(np.exp(-x)), nn.layers.LogSigmoid),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)), nn.layers.SparsePlus),
    "hard_tanh": (lambda x: np.clip(x, -1, 1), nn.layers.HardTanh),
    "soft_shrink": (lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)), nn.layers.SoftShrink),
    "hard_shrink": (lambda x: np.where(np.abs(x) > 0.5, x, 0), nn.layers.HardShrink),
}
NAMES = list(REFERENCE)
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])  # where a piecewise activation has no derivative

# torch.nn.functional's name for each activation it has (torch's hardsigmoid is Keras 3's relu6(x + 3) / 6)
TORCH = {"selu": "selu", "swish": "silu", "silu": "silu", "softplus": "softplus", "softsign": "softsign",
         "hard_sigmoid": "hardsigmoid", "hard_silu": "hardswish", "hard_swish": "hardswish", "mish": "mish",
         "log_softmax": "log_softmax", "relu6": "relu6", "celu": "celu", "tanh_shrink": "tanhshrink",
         "log_sigmoid": "logsigmoid", "hard_tanh": "hardtanh", "soft_shrink": "softshrink",
         "hard_shrink": "hardshrink"}


def _x(*shape: int, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    """Normal draws, none within 0.02 of a kink (so finite differences see one piece)."""
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    near = np.min(np.abs(x[..., None] - KINKS), axis=-1) < 0.02
    return np.where(near, x + 0.05, x)


def _worst(errors: dict[str, float]) -> float:
    assert errors, "no tensors were checked"
    return max(errors.values())


# ---------------------------------------------------------------- names, formulas, dtypes
@pytest.mark.parametrize("name", NAMES)
def test_each_name_gives_its_layer_and_matches_the_formula(name: str) -> None:
    reference, cls = REFERENCE[name]
    for layer in (A.get(name), nn.Activation(name), A.get(name.upper().replace("_", "-"))):
        assert type(layer) is cls
    assert type(nn.Dense(3, activation=name).activation) is cls
    x = _x(4, 7)
    y = nn.Activation(name).forward(x)
    assert y.dtype == np.float64 and y.shape == x.shape
    np.testing.assert_allclose(y, reference(x), rtol=1e-12, atol=1e-14)
    x32 = x.astype(np.float32)
    y32 = nn.Activation(name).forward(x32)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, reference(x32.astype(np.float64)), rtol=2e-6, atol=2e-6)


def test_the_aliases_are_the_same_layers_and_functions() -> None:
    assert nn.layers.SiLU is nn.layers.Swish and nn.layers.HardSiLU is nn.layers.HardSwish
    assert keras.activations.swish is keras.activations.silu
    assert keras.activations.hard_swish is keras.activations.hard_silu
    relu6 = nn.Activation("relu6")
    assert type(relu6) is nn.ReLU and relu6.max_value == 6 and not relu6.plain


def test_unknown_names_are_still_refused() -> None:
    with pytest.raises(InvalidValueError, match="unknown activation 'sel'.*did you mean 'selu'"):
        nn.Activation("sel")
    with pytest.raises(NNScratchError, match="keras.activations.sparsemax is not available"):
        keras.activations.sparsemax  # noqa: B018


@pytest.mark.parametrize("name", sorted(TORCH))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_gradient_match_torch(name: str, dtype: type) -> None:
    torch = pytest.importorskip("torch")
    x = _x(5, 6, seed=1).astype(dtype)
    layer = nn.Activation(name)
    y = layer.forward(x)
    g = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    dx = layer.backward(g)
    t = torch.tensor(x, requires_grad=True)
    fn = getattr(torch.nn.functional, TORCH[name])
    ty = fn(t, dim=-1) if name == "log_softmax" else fn(t)
    ty.backward(torch.tensor(g))
    assert y.dtype == dtype and dx.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=tol, atol=tol)
    if name == "hard_sigmoid" and dtype == np.float64:  # torch's backward multiplies by 1.0f / 6.0f, a float32 number
        np.testing.assert_array_equal(dx, np.where(np.abs(x) < 3, g / 6, 0))
        tol = 1e-7
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=tol, atol=tol)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("name", NAMES)
def test_finite_difference_gradients_float64(name: str) -> None:
    assert _worst(check_module(nn.Activation(name), _x(4, 6, seed=3))) < 1e-7


@pytest.mark.parametrize("name", ["selu", "swish", "softplus", "softsign", "hard_sigmoid", "hard_silu", "mish",
                                  "log_softmax", "exponential", "relu6"])
def test_dense_and_conv_take_each_as_activation(name: str) -> None:
    dense = nn.Dense(4, activation=name)
    errors = check_module(dense, _x(5, 3, scale=1.0))
    assert set(errors) == {"input", "weight", "bias"} and _worst(errors) < 1e-6
    conv = nn.Conv2D(3, 3, padding="same", activation=name)
    assert conv.relu is False
    assert _worst(check_module(conv, _x(2, 5, 5, 2, seed=4, scale=1.0))) < 1e-6
    linear = nn.Conv2D(3, 3, padding="same").set_dtype(np.float64)
    linear.build((5, 5, 2))
    linear.set_weights(conv.get_weights())
    x = _x(2, 5, 5, 2, seed=5)
    np.testing.assert_allclose(conv.forward(x), nn.Activation(name).forward(linear.forward(x)), rtol=1e-13)


# ---------------------------------------------------------------- extreme inputs
def test_extreme_inputs_are_exact_and_finite() -> None:
    big = np.array([[1000.0, -1000.0, 1e30, -1e30, 0.0]])
    for dtype in (np.float64, np.float32):
        x = big.astype(dtype)
        for name in NAMES:
            if name in ("exponential", "log_softmax"):
                continue
            layer = nn.Activation(name)
            y = layer.forward(x)
            dx = layer.backward(np.ones_like(x))
            assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx)), (name, dtype, y, dx)
        sp = nn.layers.Softplus()
        np.testing.assert_array_equal(sp.forward(x)[0, [0, 2]], x[0, [0, 2]])  # softplus(1000) == 1000
        for name in ("swish", "mish", "hard_silu", "sparse_plus", "relu6"):
            expected = x[0, [0, 2]] if name != "relu6" else [6, 6]
            np.testing.assert_array_equal(nn.Activation(name).forward(x)[0, [0, 2]], expected)
        np.testing.assert_allclose(nn.layers.Squareplus().forward(x)[0, [0, 2]], [1000.001, 1e30], rtol=1e-7)
        selu = nn.layers.SELU().forward(x)[0]
        np.testing.assert_allclose(selu[:2], [SCALE * 1000, -SCALE * ALPHA], rtol=1e-6)
        assert nn.layers.Softsign().forward(x)[0, 2] == 1 and nn.layers.LogSigmoid().forward(x)[0, 1] == -1000
    # tiny and still positive where the dtype can hold the value
    assert 0 < nn.layers.Softplus().forward(np.array([[-700.0]]))[0, 0] == pytest.approx(np.exp(-700), rel=1e-12)
    assert 0 < nn.layers.Softplus().forward(np.array([[-100.0]], np.float32))[0, 0]
    assert 0 < nn.layers.Squareplus().forward(np.array([[-1e30]]))[0, 0] == pytest.approx(1e-30, rel=1e-12)
    assert -nn.layers.Mish().forward(np.array([[-700.0]]))[0, 0] == pytest.approx(700 * np.exp(-700), rel=1e-12)
    # log_softmax of [1000, 0]: exact
    for dtype in (np.float64, np.float32):
        y = nn.layers.LogSoftmax().forward(np.array([[1000.0, 0.0], [0.0, -1e30]], dtype))
        np.testing.assert_array_equal(y, np.array([[0.0, -1000.0], [0.0, -1e30]], dtype))
    with np.errstate(over="raise"):
        assert nn.layers.Exponential().forward(np.array([[1000.0]]))[0, 0] == np.inf  # exp's own answer


# ---------------------------------------------------------------- ReLU(max_value, negative_slope, threshold)
def _keras_relu(x: np.ndarray, negative_slope: float = 0.0, max_value: float | None = None,
                threshold: float = 0.0) -> np.ndarray:
    """Keras 3's ``ReLU.static_call``, line by line in NumPy."""
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return np.maximum(x, negative_slope * x)
        negative_part = np.maximum(-x + threshold, 0) if threshold != 0 else np.maximum(-x, 0)
    else:
        negative_part = 1
    clip_max = max_value is not None
    if threshold != 0:
        x = np.where(x > threshold, x, 0)
    elif max_value == 6:
        x = np.minimum(np.maximum(x, 0), 6)
        clip_max = False
    else:
        x = np.maximum(x, 0)
    if clip_max:
        x = np.clip(x, 0, max_value)
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


RELU_ARGS = [dict(max_value=6.0), dict(negative_slope=0.3), dict(threshold=1.5), dict(max_value=10, negative_slope=0.5),
             dict(max_value=4.0, threshold=1.0), dict(max_value=4.0, negative_slope=0.2, threshold=1.0),
             dict(negative_slope=0.1, threshold=2.0), dict(max_value=0.5, threshold=2.0)]


@pytest.mark.parametrize("kwargs", RELU_ARGS, ids=str)
def test_relu_arguments_follow_keras_including_the_boundaries(kwargs: dict) -> None:
    points = [kwargs.get("max_value") or 7.0, kwargs.get("threshold", 0.0)]
    x = np.concatenate([np.linspace(-12, 12, 49), points, np.nextafter(points, 100), np.nextafter(points, -100)])
    layer = nn.ReLU(**kwargs)
    assert not layer.plain
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)[None]
        y = layer.forward(xd)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, _keras_relu(xd.astype(np.float64), **kwargs), rtol=1e-6, atol=1e-6)
    xg = _x(4, 9, seed=6) * 2
    xg = np.where(np.abs(xg - points[0]) < 0.02, xg + 0.05, xg)
    xg = np.where(np.abs(xg - points[1]) < 0.02, xg + 0.05, xg)
    assert _worst(check_module(nn.ReLU(**kwargs), xg)) < 1e-7
    np.testing.assert_array_equal(keras.activations.relu(x, **kwargs), layer.forward(x))
    copy = nn.ReLU.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config() == {"max_value": kwargs.get("max_value"),
                                                        "negative_slope": kwargs.get("negative_slope", 0.0),
                                                        "threshold": kwargs.get("threshold", 0.0)}


def test_relu_examples_from_keras_docs_and_its_gradients_at_the_kinks() -> None:
    x = np.array([-10, -5, 0.0, 5, 10])
    np.testing.assert_array_equal(nn.ReLU(max_value=10, negative_slope=0.5).forward(x), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(keras.activations.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(keras.activations.relu(x, threshold=5.0), [0, 0, 0, 0, 10])
    layer = nn.ReLU(max_value=6.0, negative_slope=0.1, threshold=1.0)
    layer.forward(np.array([-1.0, 1.0, 3.0, 6.0, 8.0]))
    np.testing.assert_array_equal(layer.backward(np.ones(5)), [0.1, 0, 1, 0, 0])


@pytest.mark.parametrize("kwargs", [dict(max_value=-1), dict(negative_slope=-0.1), dict(threshold=-1.0),
                                    dict(negative_slope=None), dict(max_value=float("nan"))], ids=str)
def test_relu_refuses_keras_refused_arguments(kwargs: dict) -> None:
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        nn.ReLU(**kwargs)


def test_only_the_plain_relu_takes_the_fast_paths() -> None:
    from nnscratch.layers.pooling import MaxPool2D

    assert find_fusion(nn.ReLU(), MaxPool2D(2)) is not None
    assert find_fusion(nn.ReLU(max_value=6), MaxPool2D(2)) is None
    assert nn.Conv2D(2, 3, activation="relu").relu and nn.Conv2D(2, 3, activation=nn.ReLU()).relu
    for act in ("relu6", nn.ReLU(negative_slope=0.1), nn.ReLU(threshold=0.5)):
        conv = nn.Conv2D(2, 3, activation=act)
        assert not conv.relu
        assert find_fusion(conv, MaxPool2D(2)) is None
    # a relu6 conv followed by a pool computes the clipped values in a model, with and without rewrites
    x = _x(2, 8, 8, 1, seed=7).astype(np.float32)
    model = nn.Sequential([nn.Input((8, 8, 1)), nn.Conv2D(4, 3, activation="relu6"), nn.MaxPool2D(2)])
    linear = nn.Sequential([nn.Input((8, 8, 1)), nn.Conv2D(4, 3), nn.MaxPool2D(2)])
    linear.set_weights(model.get_weights())
    y = model.predict(x)
    np.testing.assert_array_equal(y, np.clip(linear.predict(x), 0, 6))
    assert y.max() > 0  # the weights reach positive values, so the check is not vacuous


# ---------------------------------------------------------------- Softmax(axis)
def test_softmax_over_axis_1_of_a_sequence() -> None:
    x = _x(3, 4, 5, seed=8)
    layer = nn.Softmax(axis=1)
    y = layer.forward(x)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-14)
    assert _worst(check_module(nn.Softmax(axis=1), x)) < 1e-7
    assert layer.output_activation() is None and nn.Softmax().output_activation() is not None
    assert nn.Softmax.from_config(layer.get_config()).axis == 1
    model = nn.Sequential([nn.Input((4, 5)), nn.Dense(5), nn.Softmax(axis=1)])
    np.testing.assert_allclose(model.predict(x.astype(np.float32)).sum(axis=1), 1, rtol=1e-6)


def test_softmax_and_log_softmax_over_several_axes() -> None:
    x = _x(2, 3, 4, seed=9)
    y = nn.Softmax(axis=[1, 2]).forward(x)
    flat = x.reshape(2, -1)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y.reshape(2, -1), e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(nn.layers.LogSoftmax(axis=(1, 2)).forward(x), np.log(y), rtol=1e-13)
    assert _worst(check_module(nn.Softmax(axis=(1, 2)), x)) < 1e-7
    assert _worst(check_module(nn.layers.LogSoftmax(axis=(1, 2)), x)) < 1e-7
    assert nn.Softmax(axis=[1, 2]).get_config() == {"axis": [1, 2]}
    np.testing.assert_allclose(nn.layers.LogSoftmax(axis=1).forward(x), x - np.log(np.exp(x).sum(1, keepdims=True)),
                               rtol=1e-13)


@pytest.mark.parametrize("axis", [0, [1, 0], "last", 1.5, []])
def test_softmax_refuses_the_batch_axis_and_non_integers(axis: object) -> None:
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        nn.Softmax(axis=axis)
    with pytest.raises((InvalidValueError, InvalidTypeError)):
        nn.layers.LogSoftmax(axis=axis)
    with pytest.raises(NNScratchError, match="out of range"):
        nn.Softmax(axis=3).forward(np.zeros((2, 3)))


def test_plain_relu_and_softmax_are_bit_identical_to_before() -> None:
    rng = np.random.default_rng(10)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal((6, 7, 5)) * 4).astype(dtype)
        g = rng.standard_normal(x.shape).astype(dtype)
        relu = nn.ReLU()
        assert relu.plain and relu.get_config() == {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}
        y = relu.forward(x)
        np.testing.assert_array_equal(y, np.maximum(x, 0))
        np.testing.assert_array_equal(relu.backward(g), np.multiply(g, np.maximum(x, 0) > 0, dtype=dtype))
        np.testing.assert_array_equal(keras.activations.relu(x), np.maximum(x, 0))
        softmax = nn.Softmax()
        y = softmax.forward(x)
        ref = F.softmax(x, axis=-1)
        np.testing.assert_array_equal(y, ref)
        np.testing.assert_array_equal(softmax.backward(g), ref * (g - (g * ref).sum(axis=-1, keepdims=True)))


# ---------------------------------------------------------------- keras.activations functions
@pytest.mark.parametrize("name", NAMES)
def test_keras_functions_equal_the_layers_and_are_valid_activation_arguments(name: str) -> None:
    fn = getattr(keras.activations, name)
    assert type(A.get(fn)) is REFERENCE[name][1]
    assert type(nn.Dense(2, activation=fn).activation) is REFERENCE[name][1]
    x = _x(3, 5, seed=11)
    np.testing.assert_allclose(fn(x), nn.Activation(name).forward(x), rtol=1e-14)  # log_softmax: ops.log_softmax
    assert fn(x.astype(np.float32)).dtype == np.float32
    assert fn(np.arange(-3, 3)).dtype == np.float32  # integers are computed in float32 (Keras's floatx)


@pytest.mark.parametrize("name", ["selu", "swish", "softplus", "hard_sigmoid", "mish", "relu6"])
def test_keras_functions_are_differentiable_on_the_tape(name: str) -> None:
    from nnscratch.autodiff import vjp

    x = _x(3, 4, seed=12)
    out, back = vjp(lambda t: nn.ops.sum(getattr(keras.activations, name)(t) * 2.0), x)
    layer = nn.Activation(name)
    np.testing.assert_allclose(out, 2 * layer.forward(x).sum(), rtol=1e-14)
    np.testing.assert_allclose(back(None)[0], layer.backward(np.full(x.shape, 2.0)), rtol=1e-14)


def test_keras_functions_on_symbolic_tensors_add_the_layer() -> None:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.activations.selu(keras.layers.Dense(3)(inputs)))
    x = _x(2, 4, seed=13).astype(np.float32)
    dense = model.layers[1] if len(model.layers) > 2 else model.layers[0]
    np.testing.assert_allclose(model.predict(x), nn.layers.SELU().forward(dense.forward(x)), rtol=1e-6)
    assert any(type(layer) is nn.layers.SELU for layer in model.layers)


# ---------------------------------------------------------------- saving
def test_a_saved_model_with_every_activation_predicts_the_same(tmp_path) -> None:
    hidden: list[nn.Layer] = []
    for name in NAMES:
        hidden += [nn.Dense(6, activation=name), nn.Activation(name)]
    model = nn.Sequential([nn.Input((6,)), *hidden, nn.ReLU(max_value=4.0, negative_slope=0.2, threshold=0.1),
                           nn.Dense(6), nn.Reshape((2, 3)), nn.Softmax(axis=1)])
    x = _x(5, 6, seed=14).astype(np.float32) * 0.3
    model.save(tmp_path / "acts")
    loaded = nn.load_model(tmp_path / "acts")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.get_config() == model.get_config()


def test_training_with_selu_and_alpha_dropout_runs() -> None:
    model = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="selu", kernel_initializer="lecun_normal"),
                           nn.AlphaDropout(0.1), nn.Dense(8, activation="swish"), nn.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    x = _x(32, 4, seed=15).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


# ---------------------------------------------------------------- ONNX
ONNX_LAYERS: list[Callable[[], nn.Layer]] = [
    *[(lambda name=name: nn.Activation(name)) for name in NAMES],
    *[(lambda kwargs=kwargs: nn.ReLU(**kwargs)) for kwargs in RELU_ARGS],
    lambda: nn.Softmax(axis=1), lambda: nn.Softmax(axis=[1, 2]), lambda: nn.layers.LogSoftmax(axis=1),
    lambda: nn.layers.LogSoftmax(axis=(1, 2)), lambda: nn.layers.CELU(0.5), lambda: nn.layers.Squareplus(1.0),
    lambda: nn.layers.SoftShrink(0.2), lambda: nn.layers.HardShrink(1.5),
]


@pytest.mark.parametrize("make", ONNX_LAYERS)
def test_onnx_export_matches_in_onnxruntime(make: Callable[[], nn.Layer], tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    layer = make()
    model = nn.Sequential([nn.Input((4, 5)), nn.Dense(5), layer])
    path = model.export(tmp_path / "m.onnx", format="onnx")
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _x(3, 4, 5, seed=16).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["selu", "swish", "softplus", "softsign", "hard_sigmoid", "hard_silu", "mish",
                                  "log_softmax", "relu6", "log_sigmoid"])
def test_onnx_export_of_extreme_inputs(name: str, tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = nn.Sequential([nn.Input((5,)), nn.Activation(name)])
    path = model.export(tmp_path / "m.onnx", format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.array([[1000.0, -1000.0, 30.0, -30.0, 0.5], [1e30, -1e30, 0.0, 2.0, -2.0]], np.float32)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-5, atol=1e-6)
