"""A layer with several outputs (``return_state``, ``return_attention_scores``) called inside another layer's
``call()``: one op of the tape whose outputs are each differentiable (``CallEngine.apply``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnscratch import keras, ops
from nnscratch.utils.gradcheck import check_module

X = np.random.default_rng(0).standard_normal((3, 5, 4))


class Encoder(keras.layers.Layer):
    """keras-io's subclassed seq2seq encoder: the LSTM's sequence and both final states, all used."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = keras.layers.LSTM(3, return_sequences=True, return_state=True)
        self.dense = keras.layers.Dense(2)

    def call(self, x: Any) -> Any:
        seq, h, c = self.lstm(x)
        return self.dense(ops.tanh(h) * c) + ops.mean(seq, axis=1)[:, :2]


def test_an_lstm_with_its_states_inside_call_has_exact_gradients() -> None:
    encoder = Encoder().set_dtype(np.float64)
    errors = check_module(encoder, X)
    assert max(errors.values()) < 1e-7, errors
    seq, h, c = encoder.lstm.set_dtype(np.float64)(X)  # the same outputs as the layer called on arrays
    expected = encoder.dense(np.tanh(h) * c) + seq.mean(axis=1)[:, :2]
    np.testing.assert_allclose(encoder(X), expected, rtol=1e-12)


def test_an_output_nothing_reads_gets_a_zero_gradient() -> None:
    class StateOnly(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.gru = keras.layers.GRU(3, return_state=True)

        def call(self, x: Any) -> Any:
            _, h = self.gru(x)  # the output is the state here; read one of the two only
            return ops.sum(h * h, axis=1, keepdims=True)

    layer = StateOnly().set_dtype(np.float64)
    errors = check_module(layer, X)
    assert max(errors.values()) < 1e-7, errors


def test_attention_scores_inside_call() -> None:
    class Scored(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.att = keras.layers.Attention()

        def call(self, x: Any) -> Any:
            out, scores = self.att([x, x], return_attention_scores=True)
            return ops.concatenate([out, scores], axis=-1)

    layer = Scored().set_dtype(np.float64)
    errors = check_module(layer, X)
    assert max(errors.values()) < 1e-7, errors
    assert layer(X).shape == (3, 5, 4 + 5)
