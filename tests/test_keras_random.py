"""``keras.random``: draws for layers written with ``keras.ops`` (the VAE sampling layer of Keras's guides)."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import NNScratchError, keras
from nnscratch.keras import layers, ops
from nnscratch.utils.gradcheck import check_module


class Sampling(keras.layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, 1): the reparameterisation of a VAE."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed if seed is not None else keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(shape=(ops.shape(z_mean)[0], ops.shape(z_mean)[1]), seed=self.seed)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


class Encoder(keras.layers.Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.log_var, self.sample = layers.Dense(2), layers.Dense(2), Sampling(seed)

    def call(self, inputs):
        return self.sample([self.mean(inputs), self.log_var(inputs)])


def test_an_int_seed_repeats_and_a_seed_generator_streams():
    a, b = keras.random.normal((3, 4), seed=7), keras.random.normal((3, 4), seed=7)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    gen = keras.random.SeedGenerator(1)
    assert not np.array_equal(keras.random.uniform((5,), seed=gen), keras.random.uniform((5,), seed=gen))
    keras.utils.set_random_seed(3)
    first = keras.random.uniform((4,), minval=2, maxval=3)
    keras.utils.set_random_seed(3)
    np.testing.assert_array_equal(first, keras.random.uniform((4,), minval=2, maxval=3))
    assert np.all((first >= 2) & (first < 3))
    ints = keras.random.randint((100,), 0, 3, seed=0)
    assert set(np.unique(ints)) <= {0, 1, 2} and ints.dtype == np.int32
    assert np.abs(keras.random.truncated_normal((1000,), stddev=2.0, seed=0)).max() <= 4.0
    np.testing.assert_array_equal(np.sort(keras.random.shuffle(np.arange(10), seed=0)), np.arange(10))


def test_sampling_layer_gradients_with_a_fixed_draw():
    encoder = Encoder(seed=5)  # an int seed: the same eps at every evaluation, so finite differences apply
    encoder.set_dtype("float64")
    errors = check_module(encoder, np.random.default_rng(0).standard_normal((6, 3)))
    assert {"input", "mean.weight", "log_var.bias"} <= set(errors)
    assert max(errors.values()) < 1e-6, errors


def test_dropout_scales_the_kept_entries_and_passes_gradients():
    x = np.ones((200, 50), np.float32)
    y = keras.random.dropout(x, 0.25, seed=0)
    kept = np.asarray(y) != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(np.asarray(y)[kept], 1 / 0.75, rtol=1e-6)

    class Drop(keras.layers.Layer):
        def call(self, inputs):
            return keras.random.dropout(ops.tanh(inputs), 0.5, seed=3)

    layer = Drop()
    layer.set_dtype("float64")
    errors = check_module(layer, np.random.default_rng(1).standard_normal((4, 5)))
    assert errors["input"] < 1e-6
    with pytest.raises(NNScratchError, match="rate"):
        keras.random.dropout(x, 1.0)


def test_a_model_with_a_sampling_layer_trains():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(1)(Encoder()(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    x = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    history = model.fit(x, x[:, :1], epochs=5, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
