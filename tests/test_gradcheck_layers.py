"""Every core layer's analytic gradients match central finite differences in float64."""

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.utils.gradcheck import check_module

TOL = 1e-6


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _assert_close(errors):
    assert errors, "no tensors were checked"
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOL, f"{worst}: relative error {errors[worst]:.2e}"


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu", "softmax"])
def test_dense_with_activation(activation):
    layer = nn.Dense(4, activation=activation)
    layer.set_rng(np.random.default_rng(1))
    errors = check_module(layer, _x(5, 3))
    assert set(errors) == {"input", "weight", "bias"}
    _assert_close(errors)


@pytest.mark.parametrize("activation", [None, "softmax"])
def test_dense_maps_the_last_axis_of_sequences(activation):
    """Keras's Dense on (N, T, F): the same map at every step, (N, T, units)."""
    layer = nn.Dense(4, activation=activation).set_dtype(np.float64)
    x = _x(3, 5, 2, 6)
    out = layer.forward(x)
    assert out.shape == (3, 5, 2, 4)
    flat = nn.Dense(4, activation=activation).set_dtype(np.float64)
    flat.build((6,))
    flat.set_weights(layer.get_weights())
    np.testing.assert_allclose(out.reshape(-1, 4), flat.forward(x.reshape(-1, 6)), rtol=1e-14)
    _assert_close(check_module(layer, x))


def test_dense_without_bias():
    errors = check_module(nn.Dense(3, use_bias=False), _x(4, 6))
    assert set(errors) == {"input", "weight"}
    _assert_close(errors)


@pytest.mark.parametrize("cls", [nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.Identity])
def test_activation_layers(cls):
    _assert_close(check_module(cls(), _x(4, 5) * 2))


def test_dropout_in_training_mode_uses_its_mask():
    layer = nn.Dropout(0.4)
    errors = check_module(layer, _x(6, 8), training=True)
    _assert_close(errors)
    layer.set_rng(np.random.default_rng(0))
    y = layer.forward(np.ones((200, 50)), training=True)
    kept = y != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(y[kept], 1 / 0.6)  # inverted dropout scales survivors


def test_dropout_is_identity_at_inference():
    x = _x(3, 4)
    assert nn.Dropout(0.5).forward(x, training=False) is x


def test_flatten_and_reshape():
    _assert_close(check_module(nn.Flatten(), _x(2, 3, 4)))
    _assert_close(check_module(nn.Reshape((4, 3)), _x(2, 12)))
    assert nn.Reshape((-1, 2)).forward(_x(2, 6)).shape == (2, 3, 2)


def test_sequential_stack():
    model = nn.Sequential([nn.Dense(5, activation="tanh"), nn.Dropout(0.2), nn.Dense(4, activation="relu"),
                           nn.Dense(3), nn.Softmax()], seed=3, dtype="float64")
    _assert_close(check_module(model, _x(4, 6), training=True))


def test_gradcheck_detects_a_wrong_gradient():
    class Broken(nn.Tanh):
        def backward(self, grad_out):
            return grad_out  # forgets the derivative of tanh

    errors = check_module(Broken(), _x(3, 3))
    assert errors["input"] > 1e-2
