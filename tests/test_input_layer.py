"""``InputLayer``: a graph model lists one per input first in ``model.layers`` (Keras's functional models); a
Sequential takes one as its first item and does not list it."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError


def two_input_model() -> keras.Model:
    a, b = keras.Input((3,), name="left"), keras.Input((4,), name="right")
    merged = keras.layers.Add(name="sum")([keras.layers.Dense(2, name="da")(a), keras.layers.Dense(2, name="db")(b)])
    return keras.Model([a, b], keras.layers.Dense(1, name="head")(merged))


def test_graph_models_list_their_inputs_first() -> None:
    model = two_input_model()
    assert [layer.name for layer in model.layers] == ["left", "right", "da", "db", "sum", "head"]
    first = model.layers[0]
    assert isinstance(first, keras.layers.InputLayer) and first.output is model.inputs[0] is first.input
    assert first.weights == [] and first.count_params() == 0 and first.batch_shape == (None, 3)
    assert model.layers[0] is model.layers[0]  # one InputLayer per input, not a new one each time
    assert model.get_layer(index=2).name == "da" and model.get_layer("right") is model.layers[1]
    # the parameters and their names do not change: InputLayers have none
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.3.weight", "layers.3.bias"]
    assert len(model.weights) == 6


def test_keras_feature_extraction_over_model_layers() -> None:
    model = two_input_model()
    features = keras.Model(model.inputs, [layer.output for layer in model.layers])
    xs = [np.ones((5, 3), np.float32), np.full((5, 4), 2, np.float32)]
    outs = features.predict(xs, verbose=0)
    assert [o.shape for o in outs] == [(5, 3), (5, 4), (5, 2), (5, 2), (5, 2), (5, 1)]
    np.testing.assert_array_equal(outs[0], xs[0])
    np.testing.assert_array_equal(outs[1], xs[1])
    np.testing.assert_allclose(outs[-1], model.predict(xs, verbose=0), rtol=1e-6)


def test_saved_and_loaded_models_keep_the_layer_order(tmp_path) -> None:
    model = two_input_model()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == ["InputLayer", "InputLayer", "Dense", "Dense",
                                                                 "Add", "Dense"]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]


def test_sequential_takes_an_input_layer_and_does_not_list_it() -> None:
    model = keras.Sequential([keras.layers.InputLayer(shape=(5,)), keras.layers.Dense(3)])
    assert model.built and model.input_shape == (5,) and len(model.layers) == 1
    added = keras.Sequential()
    added.add(keras.layers.InputLayer(batch_shape=(None, 6)))
    added.add(keras.layers.Dense(2))
    assert added.input_shape == (6,) and [type(layer).__name__ for layer in added.layers] == ["Dense"]
    assert keras.layers.InputLayer is nn.InputLayer


def test_config_round_trip_and_bad_arguments() -> None:
    layer = keras.layers.InputLayer(shape=(None, 8), dtype="float64", name="tokens")
    assert layer.name == "tokens" and layer.output.shape == (None, None, 8) and layer.dtype == np.float64
    copy = keras.layers.InputLayer.from_config(layer.get_config())
    assert copy.output.shape == (None, None, 8) and copy.get_config() == layer.get_config()
    with pytest.raises(InvalidValueError, match="needs shape"):
        keras.layers.InputLayer()
    with pytest.raises(InvalidValueError, match="sparse and ragged"):
        keras.layers.InputLayer(shape=(3,), sparse=True)
    with pytest.raises(InvalidValueError, match="must be a keras.Input tensor"):
        keras.layers.InputLayer(input_tensor=np.zeros(3))


def test_a_sequential_dtype_given_wins_over_its_inputs_and_left_out_follows_it():
    x = np.ones((1, 3))
    assert nn.Sequential([nn.Input((3,)), nn.Dense(2)], dtype="float64").predict(x).dtype == np.float64
    assert nn.Sequential([nn.Input((3,), dtype="float64"), nn.Dense(2)]).predict(x).dtype == np.float64
    assert nn.Sequential([nn.Input((3,)), nn.Dense(2)]).predict(x).dtype == np.float32
    assert nn.Sequential([nn.Dense(2)]).dtype == np.float32
