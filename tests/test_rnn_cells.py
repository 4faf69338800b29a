"""``RNN`` around the built-in cells (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``) and ``StackedRNNCells``: bit
for bit the layer of the same name in every mode (sequences, states, backwards, dropout, masks, initial states;
outputs and every gradient), Keras's stacked loop written out step by step, float64 finite differences,
PyTorch's ``nn.LSTM``/``nn.LSTMCell``, weights, penalties, configs, model files and ONNX."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked
from test_recurrent_initial_state import MASK, MODES, X  # the same sequences, masks and modes

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidTypeError, InvalidValueError
from nnscratch.layers.rnn import RNN
from nnscratch.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from nnscratch.layers.stacked_cells import StackedRNNCells
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(1)  # this file's own draws

CELLS = {"SimpleRNN": (nn.SimpleRNN, SimpleRNNCell, {}), "LSTM": (nn.LSTM, LSTMCell, {}),
         "GRU": (nn.GRU, GRUCell, {}), "GRU-before": (nn.GRU, GRUCell, {"reset_after": False})}
LOOP = ("return_sequences", "return_state", "go_backwards")
# MODES: the recurrent layers' modes, as the initial-state tests run them


def as_list(value: Any) -> list[np.ndarray]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def pair(kind: str, **options: Any) -> tuple[Any, RNN]:
    """A float64 layer (random nonzero bias) and ``RNN`` around the cell of the same configuration, same weights."""
    layer_cls, cell_cls, extra = CELLS[kind]
    loop = {k: v for k, v in options.items() if k in LOOP}
    step = {k: v for k, v in options.items() if k not in LOOP}
    layer = layer_cls(3, seed=0, **extra, **options).set_dtype(np.float64)
    layer.build((None, 5, 3))
    if layer.bias is not None:
        layer.bias.data[...] = np.random.default_rng(7).standard_normal(layer.bias.shape) * 0.5
    rnn = RNN(cell_cls(3, seed=0, **extra, **step), **loop).set_dtype(np.float64)
    rnn.build((None, 5, 3))
    rnn.set_weights(layer.get_weights())
    return layer, rnn


def run(layer: Any, x: Any, mask: Any) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Outputs, input gradients and weight gradients of one training call (the same dropout draws)."""
    wrapped = Masked(layer, mask)
    wrapped.set_rng(np.random.default_rng(5), seeded=True)
    wrapped.zero_grad()
    outs = as_list(wrapped.forward(x, training=True))
    g = [np.random.default_rng(9 + i).standard_normal(o.shape) for i, o in enumerate(outs)]
    dx = as_list(wrapped.backward(g if len(g) > 1 else g[0]))
    return outs, dx, [p.grad.copy() for p in layer.weights]


@pytest.mark.parametrize("initial", [False, True], ids=["zeros", "initial-state"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
@pytest.mark.parametrize("kind", CELLS)
def test_rnn_around_a_cell_is_the_layer_bit_for_bit(kind, mode, masked, initial) -> None:
    layer, rnn = pair(kind, **mode)
    x = [X, *(np.random.default_rng(1).standard_normal((4, w)) for w in layer.state_widths())] if initial else X
    assert rnn.state_widths() == layer.state_widths()
    for ours, theirs in zip(run(rnn, x, MASK if masked else None), run(layer, x, MASK if masked else None),
                            strict=True):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)


def embedded(layer: nn.Layer) -> nn.Model:
    tokens = keras.Input((7,))
    return keras.Model(tokens, layer(keras.layers.Embedding(9, 4, mask_zero=True)(tokens)))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_in_a_model_with_embedding_mask_zero(kind) -> None:
    layer_cls, cell_cls, _ = CELLS[kind]
    flags = {"return_sequences": True, "return_state": True, "go_backwards": True}
    theirs, ours = embedded(layer_cls(3, **flags)), embedded(RNN(cell_cls(3), **flags))
    ours.set_weights(theirs.get_weights())
    tokens = np.random.default_rng(2).integers(1, 9, (6, 7)).astype("float32")
    tokens[0, 4:], tokens[1, :3], tokens[2] = 0, 0, 0
    for a, b in zip(ours.predict(tokens, verbose=0), theirs.predict(tokens, verbose=0), strict=True):
        np.testing.assert_array_equal(a, b)
    targets = [np.ones((6, *t.sample_shape), np.float32) for t in ours.outputs]
    for model in (ours, theirs):
        model.compile("mse", "sgd")
    (loss_a, grads_a), (loss_b, grads_b) = ours.compute_gradients(tokens, targets), theirs.compute_gradients(
        tokens, targets)
    assert loss_a == loss_b and len(grads_a) == len(grads_b) == 4
    for a, b in zip(grads_a.values(), grads_b.values()):
        np.testing.assert_array_equal(a, b)


def test_encoder_states_start_a_decoder_as_the_layers_do() -> None:
    def seq2seq(make: Any) -> nn.Model:
        x = keras.Input((5, 3))
        _, h, c = make(return_state=True)(x)
        return keras.Model(x, make(return_sequences=True)(x, initial_state=[h, c]))

    theirs = seq2seq(lambda **kw: keras.layers.LSTM(4, **kw))
    ours = seq2seq(lambda **kw: RNN(LSTMCell(4), **kw))
    ours.set_weights(theirs.get_weights())
    x = RNG.standard_normal((3, 5, 3)).astype("float32")
    np.testing.assert_array_equal(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


def keras_stacked_loop(cells: list[Any], x: np.ndarray, mask: np.ndarray, init: list[list[np.ndarray]],
                       backwards: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Keras's ``backend.rnn`` over ``StackedRNNCells.call``, one step at a time (each cell, or a function
    ``(x_t, states) -> (output, new_states)``, called directly)."""
    xs, keep = (x[:, ::-1], mask[:, ::-1]) if backwards else (x, mask)
    states, before, outs = init, None, []
    for t in range(x.shape[1]):
        step, new = xs[:, t], []
        for cell, own in zip(cells, states):
            step, own_new = cell(step, own)
            new.append(own_new)
        real = keep[:, t, None]
        before = np.zeros_like(step) if before is None else before
        out = np.where(real, step, before)
        states = [[np.where(real, a, b) for a, b in zip(n, s)] for n, s in zip(new, states)]
        before = out
        outs.append(out)
    return np.stack(outs, axis=1), [s for own in states for s in own]


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
def test_stacked_cells_compute_keras_stacked_loop(backwards) -> None:
    cells = [LSTMCell(3), GRUCell(4, reset_after=False), SimpleRNNCell(2, activation="relu")]
    rnn = RNN(StackedRNNCells(cells), return_sequences=True, return_state=True, go_backwards=backwards)
    rnn.set_dtype(np.float64).build((None, 5, 3))
    for p in rnn.weights:  # nonzero biases
        p.data[...] += np.random.default_rng(3).standard_normal(p.shape) * 0.3
    init = [[np.random.default_rng(i).standard_normal((4, w)) for w in (3, 3)] for i in range(1)]
    init += [[RNG.standard_normal((4, 4))], [np.abs(RNG.standard_normal((4, 2)))]]
    out, *states = Masked(rnn, MASK).forward([X, *(s for own in init for s in own)])
    ref, ref_states = keras_stacked_loop(cells, X, MASK, init, backwards)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)
    for a, b in zip(states, ref_states, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert [w.shape for w in rnn.get_weights()] == [(3, 12), (3, 12), (12,), (3, 12), (4, 12), (12,), (4, 2),
                                                    (2, 2), (2,)]
    assert rnn.cell.state_size == [[3, 3], 4, 2] and rnn.cell.output_size == 2


GRADIENT_CASES = {
    "LSTM-sequences-state-backwards": lambda: RNN(LSTMCell(3), return_sequences=True, return_state=True,
                                                  go_backwards=True),
    "GRU-dropouts": lambda: RNN(GRUCell(3, dropout=0.3, recurrent_dropout=0.4), return_sequences=True),
    "GRU-before-state": lambda: RNN(GRUCell(3, reset_after=False), return_state=True),
    "SimpleRNN-backwards": lambda: RNN(SimpleRNNCell(3), go_backwards=True),
    "stack-state-backwards": lambda: RNN([LSTMCell(2), GRUCell(3), SimpleRNNCell(2)], return_state=True,
                                         go_backwards=True),
    "stack-sequences-zero-output": lambda: RNN([GRUCell(2), LSTMCell(3, dropout=0.2)], return_sequences=True,
                                               zero_output_for_mask=True),
}


@pytest.mark.parametrize("initial", [False, True], ids=["zeros", "initial-state"])
@pytest.mark.parametrize("make", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_float64_gradients_with_masks(make, initial) -> None:
    rnn = make().set_dtype(np.float64)
    rnn.build((None, 5, 3))
    for p in rnn.weights:
        p.data[...] += np.random.default_rng(4).standard_normal(p.shape) * 0.3
    x = [X, *(RNG.standard_normal((4, w)) for w in rnn.state_widths())] if initial else X
    errors = check_module(Masked(rnn, MASK), x, training=True)
    assert max(errors.values()) < 1e-7, errors
    assert sum(k.startswith("inner.cell") for k in errors) == len(rnn.weights)


def test_zero_output_for_mask_gives_zeros_at_padding_steps() -> None:
    layer, plain = pair("LSTM", return_sequences=True)
    zeroed = RNN(LSTMCell(3), return_sequences=True, zero_output_for_mask=True).set_dtype(np.float64)
    zeroed.build((None, 5, 3))
    zeroed.set_weights(layer.get_weights())
    a, b = Masked(zeroed, MASK).forward(X), Masked(plain, MASK).forward(X)
    np.testing.assert_array_equal(a[MASK], b[MASK])
    assert np.all(a[~MASK] == 0) and np.any(b[~MASK] != 0)


def test_against_pytorch_lstm_and_lstm_cell() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    rnn = RNN(LSTMCell(4), return_sequences=True).set_dtype(np.float64)
    out = rnn.forward(X, training=True)
    g = np.random.default_rng(1).standard_normal(out.shape)
    dx = rnn.backward(g)
    cell = rnn.cell
    ref = torch.nn.LSTM(3, 4, batch_first=True).double()
    with torch.no_grad():  # PyTorch's gates are i, f, g, o as Keras's; it has two biases
        ref.weight_ih_l0.copy_(torch.from_numpy(cell.kernel.data.T))
        ref.weight_hh_l0.copy_(torch.from_numpy(cell.recurrent_kernel.data.T))
        ref.bias_ih_l0.copy_(torch.from_numpy(cell.bias.data))
        ref.bias_hh_l0.zero_()
    xt = torch.from_numpy(X.copy()).requires_grad_(True)
    theirs, _ = ref(xt)
    theirs.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cell.kernel.grad.T, ref.weight_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cell.recurrent_kernel.grad.T, ref.weight_hh_l0.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cell.bias.grad, ref.bias_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12)
    # one step, called directly: torch.nn.LSTMCell
    step = torch.nn.LSTMCell(3, 4).double()
    with torch.no_grad():
        step.weight_ih.copy_(ref.weight_ih_l0)
        step.weight_hh.copy_(ref.weight_hh_l0)
        step.bias_ih.copy_(ref.bias_ih_l0)
        step.bias_hh.zero_()
    h, c = RNG.standard_normal((4, 4)), RNG.standard_normal((4, 4))
    y, (h1, c1) = cell(X[:, 0], [h, c])
    th, tc = step(torch.from_numpy(X[:, 0].copy()), (torch.from_numpy(h), torch.from_numpy(c)))
    np.testing.assert_allclose(y, th.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(y, h1)
    np.testing.assert_allclose(c1, tc.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_weights_layout_and_penalties() -> None:
    rnn = RNN(LSTMCell(3, kernel_regularizer="l2", bias_regularizer=keras.regularizers.L1(0.1)))
    rnn.build((None, 5, 4))
    kernel, recurrent, bias = rnn.get_weights()
    assert kernel.shape == (4, 12) and recurrent.shape == (3, 12) and bias.shape == (12,)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(3), np.ones(3), np.zeros(6)])  # unit_forget_bias
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-6)  # orthogonal rows
    assert [n for n, _ in rnn.named_parameters()] == ["cell.kernel", "cell.recurrent_kernel", "cell.bias"]
    layer = nn.LSTM(3, kernel_regularizer="l2", bias_regularizer=keras.regularizers.L1(0.1))
    layer.build((None, 5, 4))
    layer.set_weights(rnn.get_weights())
    assert rnn.losses == pytest.approx(layer.losses) and len(rnn.losses) == 2
    gru = GRUCell(2)
    gru.build((None, 4))
    assert [w.shape for w in gru.get_weights()] == [(4, 6), (2, 6), (2, 6)]
    nn.set_random_seed(5)  # the layer's initial weights, drawn the same way
    rnn = RNN(GRUCell(3))
    rnn.build((None, 5, 4))
    nn.set_random_seed(5)
    layer = nn.GRU(3)
    layer.build((None, 5, 4))
    for a, b in zip(rnn.get_weights(), layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert gru.state_size == 2 and LSTMCell(5).state_size == [5, 5] and SimpleRNNCell(2).output_size == 2


def test_config_round_trip_and_model_files(tmp_path) -> None:
    x = keras.Input((None, 3))
    seq = RNN([LSTMCell(4, dropout=0.1), GRUCell(3, reset_after=False)], return_sequences=True, name="stack")(x)
    out = RNN(SimpleRNNCell(2, activation="relu", seed=3), go_backwards=True, zero_output_for_mask=True)(seq)
    model = keras.Model(x, keras.layers.Dense(1)(out))
    for layer in model.layers[1:3]:
        copy = RNN.from_config(layer.get_config())
        assert copy.get_config() == layer.get_config() and copy.cell is not layer.cell
    assert model.layers[1].get_config()["cell"]["class"] == "StackedRNNCells"
    model.compile("mse", "adam")
    data = RNG.standard_normal((16, 6, 3)).astype("float32")
    model.fit(data, np.ones((16, 1), np.float32), epochs=2, verbose=0)
    path = model.save(tmp_path / "m.keras")
    loaded = nn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    assert loaded.layers[2].cell.seed == 3 and isinstance(loaded.layers[1].cell.cells[1], GRUCell)


def test_keras_names_and_errors() -> None:
    assert keras.layers.RNN is RNN and keras.layers.LSTMCell is LSTMCell
    assert keras.layers.StackedRNNCells is StackedRNNCells
    with pytest.raises(InvalidValueError, match="return_sequences belong to the RNN layer"):
        LSTMCell(3, return_sequences=True)
    with pytest.raises(InvalidTypeError, match="no call.*use LSTMCell"):
        RNN(nn.LSTM(3))
    with pytest.raises(InvalidValueError, match="stateful=True"):
        RNN(GRUCell(2), stateful=True)
    with pytest.raises(InvalidValueError, match=r"call it as cell\(x_t, states\)"):
        SimpleRNNCell(2)(np.zeros((1, 3), np.float32))
    with pytest.raises(InvalidValueError, match="takes 2 initial states"):
        RNN(LSTMCell(2))(np.zeros((1, 4, 3), np.float32), initial_state=[np.zeros((1, 2), np.float32)])


@pytest.mark.parametrize(("dtype", "tolerance"), [("float32", 1e-5), ("float64", 1e-10)])
def test_onnx_export_matches_predict(tmp_path, dtype, tolerance) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_rnn_cell_converters  # noqa: F401  (registers the converters)

    x = nn.Input((6, 3), dtype=dtype)
    seq = RNN([LSTMCell(4), GRUCell(3, reset_after=False)], return_sequences=True, go_backwards=True)(x)
    out, *states = RNN([SimpleRNNCell(2), LSTMCell(3)], return_state=True)(seq)
    last = RNN(GRUCell(3))(seq, initial_state=states[2:3])
    step, (h,) = GRUCell(3)(keras.layers.Dense(5)(out), [last])
    model = nn.Model(x, [seq, out, *states, last, step, h])
    path = model.export(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        data = np.random.default_rng(n).standard_normal((n, 6, 3)).astype(dtype)
        got = session.run(None, {session.get_inputs()[0].name: data})
        for a, b in zip(got, model.predict(data, verbose=0), strict=True):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_allclose(a, b, atol=tolerance)
