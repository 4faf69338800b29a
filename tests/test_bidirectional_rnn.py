"""``Bidirectional(RNN(cell))`` (Keras's; it was refused): both halves run the cell, the backward one a copy with
``go_backwards`` flipped; the same numbers as ``Bidirectional(LSTM)``/``(GRU)`` with the same weights (masks,
initial states, returned states, every merge mode), float64 finite differences, model files and ONNX."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidTypeError
from nnscratch.layers.rnn import RNN
from nnscratch.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)
LAYERS = {"lstm": (lambda **o: RNN(LSTMCell(4), **o), lambda **o: nn.LSTM(4, **o)),
          "gru": (lambda **o: RNN(GRUCell(3), **o), lambda **o: nn.GRU(3, **o)),
          "simple": (lambda **o: RNN(SimpleRNNCell(3), **o), lambda **o: nn.SimpleRNN(3, **o))}


def tokens(n: int = 4, steps: int = 6) -> np.ndarray:
    x = rng.integers(1, 12, (n, steps)).astype(np.float64)
    x[0, 4:], x[2, 2:] = 0, 0
    return x


def embedded(layer: Any, **bi: Any) -> nn.Model:
    ids = nn.Input((None,), dtype="float64")
    out = nn.Bidirectional(layer, **bi)(nn.Embedding(12, 3, mask_zero=True)(ids))
    return nn.Model(ids, out)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("sequences", [False, True])
def test_it_gives_what_the_recurrent_layer_gives(kind: str, sequences: bool, merge_mode: Any) -> None:
    cell_layer, plain_layer = LAYERS[kind]
    a = embedded(cell_layer(return_sequences=sequences), merge_mode=merge_mode)
    b = embedded(plain_layer(return_sequences=sequences), merge_mode=merge_mode)
    b.set_weights(a.get_weights())
    x = tokens()
    for got, expected in zip(a.predict(x) if merge_mode is None else [a.predict(x)],
                             b.predict(x) if merge_mode is None else [b.predict(x)], strict=True):
        np.testing.assert_array_equal(got, expected)


def test_initial_and_returned_states_as_the_layer() -> None:
    x_in = nn.Input((5, 3), dtype="float64")
    states_in = [nn.Input((4,), dtype="float64") for _ in range(4)]  # forward h, c, backward h, c
    a_out = nn.Bidirectional(RNN(LSTMCell(4), return_state=True))(x_in, initial_state=states_in)
    b_out = nn.Bidirectional(nn.LSTM(4, return_state=True))(x_in, initial_state=states_in)
    a, b = nn.Model([x_in, *states_in], a_out), nn.Model([x_in, *states_in], b_out)
    b.set_weights(a.get_weights())
    data = [rng.standard_normal((2, 5, 3)), *(rng.standard_normal((2, 4)) for _ in range(4))]
    got, expected = a.predict(data), b.predict(data)
    assert len(got) == len(expected) == 5
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    errors = check_module(a, data)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cells", [lambda: LSTMCell(3), lambda: [SimpleRNNCell(3), GRUCell(2)]], ids=["one", "stack"])
def test_finite_differences(cells: Any) -> None:
    x = nn.Input((None, 3), dtype="float64")
    model = nn.Model(x, nn.Bidirectional(RNN(cells(), return_sequences=True), merge_mode="mul")(x))
    errors = check_module(model, rng.standard_normal((2, 5, 3)))
    assert max(errors.values()) < 1e-6, errors


def test_saved_and_loaded(tmp_path) -> None:
    model = embedded(RNN([LSTMCell(3), GRUCell(2)], return_sequences=True))
    x = tokens()
    path = model.save(tmp_path / "bi.nns")
    loaded = nn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    backward = loaded.layers[-1].backward_layer
    assert isinstance(backward, RNN) and backward.go_backwards


def test_onnx_export(tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    x = nn.Input((6, 3))
    model = nn.Model(x, nn.Bidirectional(RNN(GRUCell(4), return_sequences=True))(x))
    session = ort.InferenceSession(str(model.export(tmp_path / "bi.onnx")), providers=["CPUExecutionProvider"])
    data = rng.standard_normal((3, 6, 3)).astype(np.float32)
    got = session.run(None, {session.get_inputs()[0].name: data})[0]
    np.testing.assert_allclose(got, model.predict(data), atol=1e-5)


def test_a_layer_that_is_not_recurrent_is_still_refused() -> None:
    with pytest.raises(InvalidTypeError, match=r"must be a recurrent layer \(SimpleRNN, LSTM, GRU, RNN, ConvLSTM2D\), got Dense"):
        nn.Bidirectional(nn.Dense(3))
