"""Inputs with an axis of variable size: ``Input(shape=(None, F))``, Keras's ``Input(shape=(None,), dtype="int32")``.

A model built once takes sequences of any length; at each length it computes what a model built for that
length computes with the same weights, and its gradients pass the float64 finite-difference check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import ShapeError
from nnscratch.keras import layers
from nnscratch.utils.gradcheck import check_module

FEATURES = 3
LENGTHS = (4, 7)


def _one(layer: Any, t: Any) -> Any:
    return layer(t)


def _attention(layer: Any, t: Any) -> Any:
    return layer(t, t, use_causal_mask=True)


# name: (a fresh layer, how it is called on the symbolic sequence)
SEQUENCE_LAYERS: dict[str, tuple[Callable[[], Any], Callable[[Any, Any], Any]]] = {
    "LSTM": (lambda: layers.LSTM(4), _one),
    "GRU-sequences": (lambda: layers.GRU(3, return_sequences=True), _one),
    "SimpleRNN-backwards": (lambda: layers.SimpleRNN(3, go_backwards=True, return_sequences=True), _one),
    "Bidirectional-LSTM": (lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True)), _one),
    "Conv1D-valid": (lambda: layers.Conv1D(4, 3, activation="tanh"), _one),
    "Conv1D-same-strided": (lambda: layers.Conv1D(4, 3, strides=2, padding="same"), _one),
    "Conv1D-causal-dilated": (lambda: layers.Conv1D(2, 2, padding="causal", dilation_rate=2), _one),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(2), _one),
    "AveragePooling1D-same": (lambda: layers.AveragePooling1D(3, strides=2, padding="same"), _one),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), _one),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(), _one),
    "Dense": (lambda: layers.Dense(2), _one),
    "LayerNormalization": (lambda: layers.LayerNormalization(), _one),
    "TimeDistributed-Dense": (lambda: layers.TimeDistributed(layers.Dense(2)), _one),
    "MultiHeadAttention-causal": (lambda: layers.MultiHeadAttention(2, 3), _attention),
}


def _model(make: Callable[[], Any], call: Callable[[Any, Any], Any], length: int | None) -> nn.Model:
    inputs = nn.Input(shape=(length, FEATURES), dtype="float64")
    return nn.Model(inputs, call(make(), inputs), seed=0)


@pytest.mark.parametrize("name", SEQUENCE_LAYERS)
def test_each_length_computes_what_a_fixed_model_does(name: str) -> None:
    make, call = SEQUENCE_LAYERS[name]
    model = _model(make, call, None)
    assert model.input_shape == (None, FEATURES)
    rng = np.random.default_rng(0)
    for length in LENGTHS:
        x = rng.standard_normal((2, length, FEATURES))
        errors = check_module(model, x)
        # (attention's key bias adds the same number to every score of a query: its gradient is 0, ~1e-17)
        errors = {k: v for k, v in errors.items() if not k.endswith("key_bias")}
        assert max(errors.values()) < 1e-7, (length, errors)
        fixed = _model(make, call, length)
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(model.predict(x), fixed.predict(x), rtol=0, atol=1e-12)


def test_output_shapes_say_which_axes_vary() -> None:
    inputs = keras.Input(shape=(None,), dtype="int32")
    embedded = layers.Embedding(20, 4)(inputs)
    assert embedded.shape == (None, None, 4)
    assert layers.Conv1D(5, 3)(embedded).shape == (None, None, 5)
    assert layers.GlobalMaxPooling1D()(embedded).shape == (None, 4)
    assert layers.LSTM(2)(embedded).shape == (None, 2)
    assert layers.Flatten()(embedded).shape == (None, None)
    assert layers.Reshape((-1, 2))(embedded).shape == (None, None, 2)
    assert "(None, None, 4)" in _summary(keras.Model(inputs, embedded))


def _summary(model: nn.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def _text_classifier() -> nn.Model:
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(12, 6)(inputs)
    x = layers.Conv1D(8, 3, activation="relu", padding="same")(x)
    outputs = layers.Dense(1, activation="sigmoid")(layers.GlobalMaxPooling1D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _tokens(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of tokens 1..11, labelled 1 when token 3 occurs."""
    x = np.random.default_rng(seed).integers(1, 12, (n, length))
    return x, (x == 3).any(axis=1).astype("float32")


def test_trains_on_one_length_and_predicts_on_others() -> None:
    keras.utils.set_random_seed(0)
    model = _text_classifier()
    x, y = _tokens(400, 10, 1)
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    for length in (4, 10, 25):
        xv, yv = _tokens(300, length, 2 + length)
        assert model.evaluate(xv, yv, return_dict=True, verbose=0)["accuracy"] > 0.9, length


class _Buckets(keras.utils.PyDataset):
    """Batches of different lengths, as a bucketing pipeline gives them."""

    def __init__(self, batches: list[tuple[np.ndarray, np.ndarray]]) -> None:
        super().__init__()
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.batches[i]


def test_batches_of_different_lengths_train_as_single_steps() -> None:
    batches = [_tokens(16, length, length) for length in (5, 9, 3)]
    keras.utils.set_random_seed(0)
    model = _text_classifier()
    keras.utils.set_random_seed(0)
    stepped = _text_classifier()
    stepped.set_weights(model.get_weights())
    model.fit(_Buckets(batches), epochs=1, shuffle=False, verbose=0)
    for x, y in batches:
        stepped.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), stepped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sequential_forms(tmp_path) -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, FEATURES)).astype("float32")
    for model in (keras.Sequential([keras.Input(shape=(None, FEATURES)), layers.GRU(2), layers.Dense(1)]),
                  keras.Sequential([layers.GRU(2, input_shape=(None, FEATURES)), layers.Dense(1)])):
        assert model.input_shape == (None, FEATURES)
        assert model.predict(x).shape == model.predict(x[:, :3]).shape == (2, 1)


def _sequential_regressor() -> nn.Model:
    model = keras.Sequential([keras.Input(shape=(None, 1)), layers.GRU(3), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize("make", [_text_classifier, _sequential_regressor], ids=["functional", "sequential"])
def test_files_keep_the_variable_axis(make, tmp_path) -> None:
    keras.utils.set_random_seed(0)
    model = make()
    shape = model.input_shape
    assert shape[0] is None
    rng = np.random.default_rng(0)

    def data(n: int, length: int) -> np.ndarray:
        return rng.integers(1, 12, (n, length, *shape[1:])).astype("float32")

    x = data(64, 8)
    y = (x.reshape(len(x), -1).mean(axis=1) > 6).astype("float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[nn.Checkpoint(tmp_path / "ckpt")])
    short, long = data(5, 3), data(5, 30)
    model.save(tmp_path / "m.keras")
    rebuilt = keras.models.model_from_json(model.to_json())  # the architecture alone
    rebuilt.set_weights(model.get_weights())
    resumed = make()
    resumed.fit(x, y, epochs=1, verbose=0, resume_from=tmp_path / "ckpt")  # (the one epoch is done already)
    for loaded in (nn.load_model(tmp_path / "m.keras"), rebuilt, resumed):
        assert loaded.input_shape == shape
        np.testing.assert_array_equal(loaded.predict(short), model.predict(short))
        np.testing.assert_array_equal(loaded.predict(long), model.predict(long))


class _Tagger(keras.Model):
    def __init__(self) -> None:
        super().__init__()
        self.embedding, self.rnn = layers.Embedding(10, 4), layers.GRU(3)

    def call(self, x: Any) -> Any:
        return self.rnn(self.embedding(x))


def test_wrong_shapes_get_one_clear_error(tmp_path) -> None:
    model = _model(lambda: layers.LSTM(2), _one, None)
    with pytest.raises(ShapeError, match=r"x has shape \(2, 5\), but the model was built for inputs of shape "
                                         r"\(batch, None, 3\)"):
        model.predict(np.zeros((2, 5)))
    with pytest.raises(ShapeError, match=r"dense_var \(Dense\) cannot take inputs of shape \(batch, None\), "
                                         r"with an axis of variable size \(None\)"):
        layers.Dense(2, name="dense_var")(layers.Flatten()(keras.Input(shape=(None, 3))))
    with pytest.raises(ShapeError, match=r"key has 4 steps, value 3"):
        q, v, k = (keras.Input(shape=(None, 2)) for _ in range(3))
        mha = keras.Model([q, v, k], layers.MultiHeadAttention(1, 2)(q, v, k))
        mha.predict([np.zeros((1, 5, 2)), np.zeros((1, 3, 2)), np.zeros((1, 4, 2))])
    with pytest.raises(ShapeError, match=r"Tagger \(a subclassed model\) takes inputs of fixed shape, got "
                                         r"\(None,\) with an axis of variable size \(None\)"):
        _Tagger().build((None, None))
    assert _Tagger().build((None, 6)).input_shape == (6,)
    pytest.importorskip("onnx")
    with pytest.raises(ShapeError, match=r"ONNX export needs fixed shapes, .* \(batch, None, 3\) with an axis of "
                                         r"variable size \(None\)"):
        model.export(tmp_path / "m.onnx")


class PositionalEmbedding(keras.layers.Layer):
    """keras-io's translation Transformer: tokens and their positions, each through an Embedding."""

    def __init__(self, sequence_length: int, vocab_size: int, embed_dim: int) -> None:
        super().__init__()
        self.tokens = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.positions = layers.Embedding(input_dim=sequence_length, output_dim=embed_dim)

    def call(self, inputs: Any) -> Any:
        positions = keras.ops.arange(0, keras.ops.shape(inputs)[-1], 1)
        return self.tokens(inputs) + self.positions(positions)


class Block(keras.layers.Layer):
    """Sub-layers a layer written with call() builds on its first (variable-length) input."""

    def __init__(self) -> None:
        super().__init__()
        self.attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
        self.ffn = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(4)])
        self.norm = layers.LayerNormalization()

    def call(self, x: Any) -> Any:
        return self.norm(x + self.ffn(x + self.attention(x, x)))


def test_a_layer_written_with_call_takes_sequences_of_any_length_through_its_sub_layers() -> None:
    """Its Embedding, Dense, Sequential and attention are built for the variable axis, not the probe's length;
    a position embedding of 6 rows (the longest sequence) is probed with short sequences."""
    embed, block, pool = PositionalEmbedding(6, 20, 4), Block(), layers.GlobalAveragePooling1D()
    inputs = nn.Input(shape=(None,))
    model = nn.Model(inputs, pool(block(embed(inputs))), seed=0)
    assert model.output.shape == (None, 4)
    tokens = np.random.default_rng(0).integers(1, 20, (3, 6)).astype(np.float32)
    for length in (2, 5, 6):
        fixed = nn.Input(shape=(length,))  # the same layers, and weights, on a fixed length
        np.testing.assert_allclose(model.predict(tokens[:, :length]),
                                   nn.Model(fixed, pool(block(embed(fixed)))).predict(tokens[:, :length]), rtol=1e-6)
    with pytest.raises(Exception, match="input_dim=6"):  # longer than the position embedding: its own error
        model.predict(np.ones((1, 7), np.float32))
