"""``model.losses``: the current weight penalties of a model (Keras's ``Model.losses``), which ``fit`` adds."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.training.regularization import penalized, penalty


def l2_of(p, factor=0.01):
    return factor * float(np.sum(p.data.astype(np.float64) ** 2))


def regularized_mlp(seed=0):
    nn.set_random_seed(seed)
    return nn.Sequential([nn.Input(shape=(4,), dtype="float64"),
                          nn.Dense(5, activation="tanh", kernel_regularizer="l2",
                                   bias_regularizer=keras.regularizers.l1(0.1)),
                          nn.Dense(3), nn.Dense(2, kernel_regularizer=keras.regularizers.l2(0.5))])


def test_values_are_the_penalties_of_each_penalized_weight():
    model = regularized_mlp()
    first, _, last = model.layers
    first.bias.data[:] = np.arange(5) - 2.0  # a bias of zeros would hide the l1 term
    assert model.losses == pytest.approx([l2_of(first.weight), 0.1 * float(np.abs(first.bias.data).sum()),
                                          l2_of(last.weight, 0.5)], rel=1e-12)
    assert sum(model.losses) == pytest.approx(penalty(list(penalized(model))), rel=1e-14)
    assert model.losses == first.losses + last.losses
    assert nn.Sequential([nn.Input(shape=(3,)), nn.Dense(2)]).losses == []


def test_sum_is_what_a_training_and_an_evaluation_step_add_to_the_data_loss():
    model = regularized_mlp(1)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.1))
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
    data_loss = float(np.mean((model.predict(x) - y) ** 2))
    expected = sum(model.losses)
    assert expected > 0.01
    assert model.evaluate(x, y) == pytest.approx(data_loss + expected, rel=1e-12)
    logs = model.train_on_batch(x, y)  # the loss of the weights before the step
    assert logs["loss"] == pytest.approx(data_loss + expected, rel=1e-12)
    assert sum(model.losses) != pytest.approx(expected, rel=1e-6)  # the step moved the weights: new values
    data_loss = float(np.mean((model.predict(x) - y) ** 2))
    assert model.evaluate(x, y) == pytest.approx(data_loss + sum(model.losses), rel=1e-12)


def test_nested_models_and_shared_layers_count_once():
    nn.set_random_seed(2)
    inner = nn.Sequential([nn.Input(shape=(3,)), nn.Dense(3, kernel_regularizer="l2")])
    shared = nn.Dense(3, kernel_regularizer="l1", bias_regularizer="l2")
    x = nn.Input(shape=(3,))
    y = nn.Add()([shared(x), shared(inner(x)), inner(shared(x))])
    model = nn.Model(inputs=x, outputs=nn.Dense(1, kernel_regularizer="l2")(y))
    assert len(model.losses) == 4
    assert sorted(model.losses) == pytest.approx(sorted(inner.losses + shared.losses + model.layers[-1].losses))
    outer = nn.Sequential([nn.Input(shape=(3,)), model, nn.Dense(2, kernel_regularizer="l2")])
    assert len(outer.losses) == 5
    assert sum(outer.losses) == pytest.approx(penalty(list(penalized(outer))), rel=1e-12)


def test_frozen_layers_and_models_add_nothing_as_in_keras():
    """Keras's ``losses`` take the penalties from ``trainable_weights``: a frozen layer's weights have none."""
    model = regularized_mlp(3)
    assert len(model.losses) == 3
    model.layers[0].trainable = False
    assert model.losses == model.layers[2].losses
    model.compile(loss="mse", optimizer="sgd")
    x, y = np.ones((2, 4)), np.zeros((2, 2))
    assert model.evaluate(x, y) == pytest.approx(float(np.mean(model.predict(x) ** 2)) + sum(model.losses))
    model.layers[0].trainable = True
    assert len(model.losses) == 3
    outer = nn.Sequential([nn.Input(shape=(4,), dtype="float64"), model])
    model.trainable = False  # the nested model and every layer in it
    assert outer.losses == [] and model.losses == []


def test_recurrent_embedding_separable_and_subclassed_models():
    nn.set_random_seed(4)
    tokens = nn.Input(shape=(6,))
    e = nn.Embedding(10, 4, embeddings_regularizer="l2")(tokens)
    h = nn.SeparableConv1D(3, 2, depthwise_regularizer="l1", pointwise_regularizer="l2")(e)
    h = nn.LSTM(2, kernel_regularizer="l2", recurrent_regularizer="l2", bias_regularizer="l1")(h)
    model = nn.Model(inputs=tokens, outputs=h)
    per_layer = [r(p.data) for layer in model.modules() for p, r in getattr(layer, "regularized_weights", list)()]
    assert len(model.losses) == 6 and sorted(model.losses) == pytest.approx(sorted(per_layer))

    class Net(nn.Model):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Dense(4, kernel_regularizer="l2")
            self.out = nn.Dense(1, bias_regularizer="l1")

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    net = Net()
    net.build((None, 3))
    assert net.losses == pytest.approx(net.hidden.losses + net.out.losses)
    assert len(net.losses) == 2


def test_a_weight_tied_between_two_layers_counts_once():
    nn.set_random_seed(5)
    a, b = nn.Dense(3, kernel_regularizer="l2"), nn.Dense(3, kernel_regularizer="l2")
    x = nn.Input(shape=(3,), dtype="float64")
    model = nn.Model(inputs=x, outputs=b(a(x)))
    b.weight = a.weight
    assert model.losses == pytest.approx([l2_of(a.weight)], rel=1e-12)
    assert len(list(penalized(model))) == 1


def test_every_layer_lists_its_own_and_its_inner_layers_penalties_and_a_frozen_one_none():
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    lstm = nn.LSTM(4, kernel_regularizer="l2", recurrent_regularizer="l1")
    both = nn.Bidirectional(nn.GRU(2, bias_regularizer="l2"))
    lstm.set_dtype("float64")(x)
    both.set_dtype("float64")(x)
    np.testing.assert_allclose(lstm.losses, [l2_of(lstm.kernel), 0.01 * np.abs(lstm.recurrent_kernel.data).sum()],
                               rtol=1e-12)
    assert len(both.losses) == 2  # the forward and the backward GRU's biases
    assert nn.Dropout(0.5).losses == []
    dense = nn.Dense(2, kernel_regularizer="l2")
    dense.build((3,))
    assert len(dense.losses) == 1
    dense.trainable = False
    assert dense.losses == []  # Keras's: a frozen layer's penalties are not added, nor listed
