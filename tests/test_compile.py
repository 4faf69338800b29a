"""compile: the loss and optimizer by position in either order (nnscratch's and Keras's), metrics per output."""

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError
from nnscratch.training.losses import MeanSquaredError
from nnscratch.training.optimizers import SGD, Adam


def model():
    return nn.Sequential([nn.Dense(3, activation="tanh"), nn.Dense(1)], seed=0)


def trained_weights(**compile_call):
    x = np.random.default_rng(0).standard_normal((32, 2))
    y = x[:, :1] * x[:, 1:]
    m = model()
    args = compile_call.pop("args", ())
    m.compile(*args, **compile_call)
    m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    return m.get_weights(), m


@pytest.mark.parametrize("call", [
    {"args": ("mse", "sgd")},                        # nnscratch's order
    {"args": ("sgd", "mse")},                        # Keras's order
    {"args": ("sgd",), "loss": "mse"},               # Keras: compile("sgd", loss=...)
    {"args": ("mse",), "optimizer": "sgd"},
    {"args": ({"name": "sgd", "lr": 0.01}, "mse")},  # an optimizer config dict
    {"loss": "mse", "optimizer": "SGD"},
])
def test_the_loss_and_optimizer_come_in_either_order(call):
    expected, _ = trained_weights(loss="mse", optimizer=SGD(lr=0.01))
    weights, m = trained_weights(**call)
    assert isinstance(m.optimizer, SGD) and isinstance(m.trainer.losses[0], MeanSquaredError)
    for a, b in zip(weights, expected):
        np.testing.assert_array_equal(a, b)


def test_an_optimizer_instance_first_is_keras_order():
    m = model().compile(Adam(lr=1e-3), "mse", metrics=["mae"])
    assert isinstance(m.optimizer, Adam) and m.trainer.loss_spec == "mse" and m.trainer.metric_names == ["mae"]


def test_defaults_are_mse_and_adam():
    m = model().compile()
    assert isinstance(m.optimizer, Adam) and m.trainer.loss_spec == "mse"
    only_optimizer = model().compile("sgd")
    assert only_optimizer.trainer.loss_spec == "mse" and isinstance(only_optimizer.optimizer, SGD)


@pytest.mark.parametrize("args, kwargs, error, match", [
    (("mse", "mae"), {}, InvalidValueError, r"compile was given loss twice \('mse' and 'mae'\); an optimizer is .*adam"),
    (("adam", "sgd"), {}, InvalidValueError, r"compile was given optimizer twice \('adam' and 'sgd'\)"),
    (("adam",), {"optimizer": "sgd"}, InvalidValueError, "optimizer twice"),
    (("mse",), {"loss": "mae"}, InvalidValueError, "loss twice"),
    (("mse", "adam", ["mae"]), {"metrics": ["mse"]}, InvalidValueError, r"metrics twice \(\['mse'\] and \['mae'\]\)"),
    (("mse", "adam", ["mae"], None), {}, TypeError, "at most 3 positional arguments.*pass the others by name"),
])
def test_ambiguous_or_surplus_positional_arguments_are_refused(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        model().compile(*args, **kwargs)


def test_a_third_positional_is_the_metrics_or_keras_3s_loss_weights():
    v1 = model().compile("mse", "adam", ["mae"])  # nnscratch 0.1's compile(loss, optimizer, metrics)
    assert v1.trainer.metric_names == ["mae"] and v1.trainer.loss_weights is None
    keras2 = model().compile("adam", "mse", ["mae"])  # Keras 2's compile(optimizer, loss, metrics)
    assert keras2.trainer.metric_names == ["mae"]
    keras3 = model().compile("adam", "mse", [0.5])  # Keras 3's compile(optimizer, loss, loss_weights)
    assert keras3.trainer.loss_weights == [0.5] and keras3.trainer.metric_names == []


def test_metrics_by_output_name_take_one_metric_or_a_list():
    a, b = nn.Input((2,), name="a"), nn.Input((1,), name="b")
    h = nn.Dense(4, activation="relu")(nn.Concatenate()([a, b]))
    out1 = nn.Dense(1, name="out1")(h)
    out2 = nn.Dense(2, activation="softmax", name="out2")(h)
    m = nn.Model([a, b], [out1, out2])
    m.compile("adam", loss={"out1": "mse", "out2": "sparse_categorical_crossentropy"},
              metrics={"out1": ["mae", "mse"], "out2": "accuracy"})
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((16, 2)), rng.standard_normal((16, 1))
    history = m.fit({"a": xa, "b": xb}, {"out1": xb, "out2": (xa[:, 0] > 0).astype(int)}, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "out1_loss", "out2_loss", "out1_mae", "out1_mse", "out2_accuracy"}
