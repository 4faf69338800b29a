"""Layers, losses and penalties written with nnscratch.ops and no backward: the tape differentiates them."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import ops
from nnscratch.core.errors import InvalidValueError
from nnscratch.utils.gradcheck import check_module, check_training


@pytest.fixture(autouse=True)
def seeded():
    nn.set_random_seed(0)
    yield
    nn.set_random_seed(None)


class OpsDense(nn.Layer):
    """A dense layer written Keras's way: build with add_weight, call with ops, no backward."""

    def __init__(self, units: int, penalty: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.penalty = units, penalty

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        if self.penalty:
            self.add_loss(self.penalty * ops.sum(ops.square(self.w)))
        return ops.tanh(ops.matmul(inputs, self.w) + self.b)

    def get_config(self):
        return {"units": self.units, "penalty": self.penalty}


class Block(nn.Layer):
    """A custom layer that calls built-in layers inside call()."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = nn.Dense(4, activation="relu", bias_initializer="uniform")
        self.out = nn.Dense(3)

    def call(self, inputs):
        return self.out(self.inner(inputs)) + inputs[..., :3]


def test_a_custom_layer_with_call_only_has_exact_gradients():
    layer = OpsDense(3)
    errors = check_module(layer, np.random.default_rng(0).standard_normal((5, 4)))
    assert max(errors.values()) < 1e-7, errors
    assert {"w", "b", "input"} <= set(errors)


def test_a_custom_layer_used_twice_and_one_calling_built_in_layers():
    x_in = nn.Input(shape=(3,), dtype="float64")
    shared = OpsDense(3)
    model = nn.Model(x_in, Block()(shared(shared(x_in))))
    errors = check_module(model, np.random.default_rng(0).standard_normal((6, 3)))
    assert max(errors.values()) < 1e-7, errors
    assert len(model.weights) == 6


def test_custom_layer_and_lambda_train_inside_a_functional_model(tmp_path):
    x_in = nn.Input(shape=(4,))
    h = OpsDense(8)(x_in)
    h = nn.Lambda(lambda t: ops.concatenate([t, ops.square(t)], axis=-1))(h)
    model = nn.Model(x_in, nn.Dense(1)(h), seed=0)
    model.compile("mse", nn.Adam(lr=1e-2))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 4)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:2]).astype(np.float32)
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    with pytest.raises(InvalidValueError, match="cannot be saved"):
        model.save(tmp_path / "m")


def test_add_loss_penalty_gradient_reaches_the_weights():
    x = np.random.default_rng(0).standard_normal((8, 4))
    y = np.random.default_rng(1).standard_normal((8, 3))
    grads = {}
    for penalty in (0.0, 0.1):
        nn.set_random_seed(3)
        x_in = nn.Input(shape=(4,), dtype="float64")
        layer = OpsDense(3, penalty=penalty)
        model = nn.Model(x_in, layer(x_in))
        model.compile("mse", "sgd")
        value, grads[penalty] = model.compute_gradients(x, y)
        if penalty:
            errors = check_training(model, x, y)
            assert max(errors.values()) < 1e-7, errors
            w = layer.w.data
            np.testing.assert_allclose(grads[0.1]["layers.0.w"] - grads[0.0]["layers.0.w"], 2 * 0.1 * w, rtol=1e-9)
            assert value == pytest.approx(model.evaluate(x, y, return_dict=True)["loss"])


def test_a_custom_loss_function_written_with_ops():
    def huber(y_true, y_pred):
        err = ops.abs(y_pred - y_true)
        return ops.mean(ops.where(err < 1.0, 0.5 * ops.square(err), err - 0.5), axis=-1)

    x_in = nn.Input(shape=(3,), dtype="float64")
    model = nn.Model(x_in, nn.Dense(2)(nn.Dense(5, activation="tanh")(x_in)))
    model.compile(loss=huber, optimizer="adam")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 3)), 3 * rng.standard_normal((10, 2))
    errors = check_training(model, x, y)
    assert max(errors.values()) < 1e-7, errors
    assert model.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(float(np.mean(huber(y, model.predict(x)))))


def test_a_loss_class_with_call():
    class Squared(nn.Loss):
        name = "squared"

        def call(self, y_true, y_pred):
            return ops.sum(ops.square(y_pred - y_true), axis=-1)

    x_in = nn.Input(shape=(2,), dtype="float64")
    model = nn.Model(x_in, nn.Dense(2)(x_in))
    model.compile(Squared(), "sgd")
    rng = np.random.default_rng(0)
    errors = check_training(model, rng.standard_normal((6, 2)), rng.standard_normal((6, 2)))
    assert max(errors.values()) < 1e-7, errors


def test_a_contrastive_loss_trains_a_two_input_network_sharing_one_embedding():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((4, 6)) * 2
    def pairs(n):
        a, b = rng.integers(0, 4, n), rng.integers(0, 4, n)
        same = rng.random(n) < 0.5
        b = np.where(same, a, b)
        xa = centers[a] + 0.5 * rng.standard_normal((n, 6))
        xb = centers[b] + 0.5 * rng.standard_normal((n, 6))
        return xa.astype(np.float32), xb.astype(np.float32), (a == b).astype(np.float32)

    e_in = nn.Input(shape=(6,))
    embedding = nn.Model(e_in, nn.Dense(2)(nn.Dense(16, activation="relu")(e_in)), name="embedding")
    a, b = nn.Input(shape=(6,)), nn.Input(shape=(6,))
    distance = nn.Lambda(lambda t: ops.sqrt(ops.sum(ops.square(t[0] - t[1]), axis=-1, keepdims=True) + 1e-9))
    model = nn.Model([a, b], distance([embedding(a), embedding(b)]), seed=0)

    def contrastive(same, d, margin=1.0):
        return ops.mean(same * ops.square(d) + (1 - same) * ops.square(ops.maximum(margin - d, 0.0)), axis=-1)

    model.compile(loss=contrastive, optimizer=nn.Adam(lr=1e-2))
    xa, xb, same = pairs(512)
    history = model.fit([xa, xb], same, epochs=15, batch_size=64, verbose=0)
    assert history["loss"][-1] < 0.3 * history["loss"][0]
    ta, tb, tsame = pairs(256)
    d = model.predict([ta, tb]).reshape(-1)
    assert np.mean((d < 0.5) == (tsame > 0.5)) > 0.9  # same pairs close, different pairs far
    assert len(model.weights) == 4  # one embedding, shared by both branches
