"""Keras's ``initial_state`` for ``SimpleRNN``, ``LSTM``, ``GRU`` (both forms) and ``Bidirectional``: float64
finite differences with respect to the input, the states and every weight (every mode, dropout, masks with
padding at the start, the end and everywhere); Keras's masked loop written out step by step (zero outputs at
leading padding, held initial states); PyTorch's layers with ``h0``/``c0``; the errors; keras-io's seq2seq
shape (encoder states -> decoder) checked, trained, saved and decoded step by step; ONNX's ``initial_h``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import DTypeError, InvalidValueError, ShapeError
from nnscratch.core.functional import sigmoid
from nnscratch.utils.gradcheck import check_module, check_training

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5, 3))
MASK = np.array([[1, 1, 1, 0, 0],  # padding at the end
                 [0, 0, 1, 1, 1],  # at the start
                 [1, 0, 1, 0, 1],  # every other step
                 [0, 0, 0, 0, 0]], bool)  # padding alone


def layer_for(kind: str, units: int = 3, **kwargs: Any) -> nn.Recurrent:
    """A float64 layer built for ``X``, with a random (nonzero) bias so that every bias gradient is exercised."""
    if kind == "GRU-before":
        kind, kwargs = "GRU", {**kwargs, "reset_after": False}
    layer = getattr(nn, kind)(units, seed=kwargs.pop("seed", 0), **kwargs).set_dtype(np.float64)
    layer.build((None, 5, 3))
    if layer.bias is not None:
        layer.bias.data[...] = np.random.default_rng(7).standard_normal(layer.bias.shape) * 0.5
    return layer


def states_for(layer: Any, n: int = 4, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, w)) * 0.8 for w in layer.state_widths()]


def as_list(value: Any) -> list[np.ndarray]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


KINDS = ["SimpleRNN", "LSTM", "GRU", "GRU-before"]
MODES = {
    "last": {},
    "sequences": {"return_sequences": True},
    "state": {"return_state": True},
    "sequences-state-backwards": {"return_sequences": True, "return_state": True, "go_backwards": True},
    "backwards": {"go_backwards": True},
    "dropouts-state": {"dropout": 0.3, "recurrent_dropout": 0.4, "return_state": True, "return_sequences": True},
    "no-bias-state-backwards": {"use_bias": False, "return_state": True, "go_backwards": True},
}


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_with_initial_states(kind, mode, masked) -> None:
    layer = layer_for(kind, **mode)
    states = states_for(layer)
    module = Masked(layer, [MASK, *[None] * len(states)]) if masked else layer  # the graph's list of masks
    errors = check_module(module, [X, *states], training=True)
    prefix = "inner." if masked else ""
    expected = {"input.0", *(f"input.{i + 1}" for i in range(len(states))), f"{prefix}kernel",
                f"{prefix}recurrent_kernel"}
    assert expected <= set(errors), errors
    assert max(errors.values()) < 1e-7, errors
    # the states' gradients are real: nonzero (what the step-0 products and the held steps pass back)
    outs = as_list(module.forward([X, *states], training=True))
    grads = module.backward([np.ones_like(o) for o in outs] if len(outs) > 1 else np.ones_like(outs[0]))
    assert len(grads) == 1 + len(states) and all(np.abs(g).sum() > 0 for g in grads[1:])


# ---------------------------------------------------------------------- Keras's loop, written out
def keras_cell(layer: Any) -> Any:
    """Keras's cell of ``layer`` (``(x_t, states) -> (output, new states)``) in NumPy, float64."""
    k, rk = layer.kernel.data, layer.recurrent_kernel.data
    b = layer.bias.data if layer.bias is not None else np.zeros((2, rk.shape[1]) if getattr(
        layer, "reset_after", False) else rk.shape[1])
    u = layer.units

    def simple(x: np.ndarray, s: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        h = np.tanh(x @ k + s[0] @ rk + b)
        return h, [h]

    def lstm(x: np.ndarray, s: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        i, f, g, o = np.split(x @ k + s[0] @ rk + b, 4, axis=1)
        c = sigmoid(f) * s[1] + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, [h, c]

    def gru(x: np.ndarray, s: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        h = s[0]
        if layer.reset_after:
            xz, xr, xh = np.split(x @ k + b[0], 3, axis=1)
            hz, hr, hh = np.split(h @ rk + b[1], 3, axis=1)
            z, r = sigmoid(xz + hz), sigmoid(xr + hr)
            cand = np.tanh(xh + r * hh)
        else:
            xz, xr, xh = np.split(x @ k + b, 3, axis=1)
            z, r = sigmoid(xz + h @ rk[:, :u]), sigmoid(xr + h @ rk[:, u:2 * u])
            cand = np.tanh(xh + (r * h) @ rk[:, 2 * u:])
        new = z * h + (1 - z) * cand
        return new, [new]

    return {"SimpleRNN": simple, "LSTM": lstm, "GRU": gru}[type(layer).__name__]


def keras_loop(layer: Any, x: np.ndarray, states: list[np.ndarray],
               mask: np.ndarray | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Keras's ``backend.rnn`` (TensorFlow's masked loop, any backend's unrolled one): a padding step keeps
    the states and repeats the previous *output*, which starts at zeros. The outputs in reading order."""
    cell = keras_cell(layer)
    if layer.go_backwards:
        x, mask = x[:, ::-1], None if mask is None else mask[:, ::-1]
    prev, outs = None, []
    for t in range(x.shape[1]):
        out, new = cell(x[:, t], states)
        if mask is not None:
            m = mask[:, t:t + 1]
            out = np.where(m, out, np.zeros_like(out) if prev is None else prev)
            new = [np.where(m, a, s) for a, s in zip(new, states)]
        states, prev = new, out
        outs.append(out)
    return np.stack(outs, axis=1), states


@pytest.mark.parametrize("mask", [None, MASK], ids=["unmasked", "masked"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("kind", KINDS)
def test_keras_loop_step_by_step(kind, go_backwards, mask) -> None:
    layer = layer_for(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
    states = states_for(layer)
    out, *finals = Masked(layer, mask).forward([X, *states])
    ref, ref_states = keras_loop(layer, X, states, mask)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)
    for a, b in zip(finals, ref_states, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    last = layer_for(kind, return_state=True, go_backwards=go_backwards)
    last_out, *_ = Masked(last, mask).forward([X, *states])
    np.testing.assert_allclose(last_out, ref[:, -1], rtol=1e-12, atol=1e-14)
    if mask is not None:
        reading = mask[:, ::-1] if go_backwards else mask
        lead = ~np.logical_or.accumulate(reading, axis=1)
        assert lead.sum() == 2 + 5  # the padding before each first real step (either way round)
        assert np.all(out[lead] == 0)  # Keras's zero outputs there, though the states held are the initial ones
        assert np.all(last_out[3] == 0)  # the sample that is all padding outputs zeros ...
        for a, s in zip(finals, states):  # ... and keeps its initial states
            np.testing.assert_array_equal(a[3], s[3])


@pytest.mark.parametrize("kind", KINDS)
def test_zero_states_are_the_call_without_states(kind) -> None:
    """``[x, zeros]`` computes exactly what ``x`` alone does (outputs, dL/dx, every weight's gradient)."""
    layer = layer_for(kind, return_sequences=True, return_state=True)
    zeros = [np.zeros((4, w)) for w in layer.state_widths()]
    outs, masked = [], Masked(layer, MASK)
    for x in (X, [X, *zeros]):
        for p in layer.parameters():
            p.zero_grad()
        out = masked.forward(x)
        dx = masked.backward([np.ones_like(o) for o in out])
        outs.append((out, as_list(dx)[0], [p.grad.copy() for p in layer.parameters()]))
    (a, da, ga), (b, db, gb) = outs
    for u, v in zip([*a, da, *ga], [*b, db, *gb], strict=True):
        np.testing.assert_array_equal(u, v)
    assert layer.input_shape == (5, 3)  # the sequence's shape, with states or without


# ---------------------------------------------------------------------- PyTorch
def torch_twin(torch: Any, layer: Any) -> Any:
    """``torch.nn.RNN``/``LSTM``/``GRU`` (batch first, float64) with ``layer``'s weights."""
    kind, u = type(layer).__name__, layer.units
    ref = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind](
        layer.kernel.shape[0], u, batch_first=True).double()
    # PyTorch's GRU gates are r, z, n where Keras has z, r, h; the others are in the same order
    order = np.r_[u:2 * u, 0:u, 2 * u:3 * u] if kind == "GRU" else np.arange(layer.kernel.shape[1])
    b = layer.bias.data
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(layer.kernel.data.T[order]))
        ref.weight_hh_l0.copy_(torch.from_numpy(layer.recurrent_kernel.data.T[order]))
        ref.bias_ih_l0.copy_(torch.from_numpy((b[0] if kind == "GRU" else b)[order]))
        ref.bias_hh_l0.copy_(torch.from_numpy(b[1][order] if kind == "GRU" else np.zeros(len(order))))
    return ref


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_against_pytorch_h0_c0(kind, go_backwards) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    layer = layer_for(kind, 4, return_sequences=True, return_state=True, go_backwards=go_backwards)
    states = states_for(layer)
    out, *finals = layer.forward([X, *states])
    rng = np.random.default_rng(3)
    g = [rng.standard_normal(o.shape) for o in (out, *finals)]
    dx, *dstates = layer.backward(g)
    ref = torch_twin(torch, layer)
    xt = torch.from_numpy((X[:, ::-1] if go_backwards else X).copy()).requires_grad_(True)
    st = [torch.from_numpy(s[None].copy()).requires_grad_(True) for s in states]  # (1, N, units)
    theirs, their_states = ref(xt, tuple(st) if kind == "LSTM" else st[0])
    their_states = list(their_states) if kind == "LSTM" else [their_states]
    loss = sum((a * torch.from_numpy(b)).sum() for a, b in zip([theirs, *(s[0] for s in their_states)], g))
    loss.backward()
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(finals, their_states, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy()[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx[:, ::-1] if go_backwards else dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for a, b in zip(dstates, st, strict=True):
        np.testing.assert_allclose(a, b.grad.numpy()[0], rtol=1e-9, atol=1e-12)
    u = layer.units
    order = np.r_[u:2 * u, 0:u, 2 * u:3 * u] if kind == "GRU" else np.arange(layer.kernel.shape[1])
    np.testing.assert_allclose(layer.kernel.grad.T[order], ref.weight_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.recurrent_kernel.grad.T[order], ref.weight_hh_l0.grad.numpy(), rtol=1e-9,
                               atol=1e-12)


# ---------------------------------------------------------------------- errors
def test_wrong_states_are_clear_errors() -> None:
    lstm = keras.layers.LSTM(3, name="dec")
    x, h, c = keras.Input((5, 2)), keras.Input((3,)), keras.Input((3,))
    with pytest.raises(InvalidValueError, match=r"LSTM 'dec' takes 2 initial states: h \(batch, 3\), c \(batch, 3\); "
                                                r"got 1"):
        lstm(x, initial_state=[h])
    with pytest.raises(ShapeError, match=r"LSTM 'dec': initial state 1 \(c\) must have shape \(batch, 3\).*got "
                                         r"\(batch, 4\)"):
        lstm(x, initial_state=[h, keras.Input((4,))])
    with pytest.raises(InvalidValueError, match="given its initial states twice"):
        lstm([x, h, c], initial_state=[h, c])
    with pytest.raises(InvalidValueError, match=r"mask= \(Keras masks\) is not supported"):
        lstm(x, mask=keras.Input((5,)))
    gru = nn.GRU(3, name="g")
    xs = np.zeros((2, 5, 2), np.float32)
    with pytest.raises(ShapeError, match=r"GRU 'g': initial state 0 \(h\) must have shape \(batch, units\) = "
                                         r"\(2, 3\) .*got \(3, 3\)"):
        gru(xs, initial_state=np.zeros((3, 3), np.float32))  # another batch size
    with pytest.raises(ShapeError, match=r"got \(2, 4\)"):
        gru([xs, np.zeros((2, 4), np.float32)])
    with pytest.raises(InvalidValueError, match=r"GRU 'g' takes 1 initial state: h \(batch, 3\); got 2"):
        gru.forward([xs, np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32)])
    with pytest.raises(DTypeError, match=r"initial state 0 \(h\) is float64"):
        gru.forward([xs, np.zeros((2, 3))])
    bi = nn.Bidirectional(nn.LSTM(2), name="bi")
    with pytest.raises(InvalidValueError, match=r"Bidirectional 'bi' takes 4 initial states: forward h \(batch, 2\), "
                                                r"forward c \(batch, 2\), backward h \(batch, 2\), backward c"):
        bi(x, initial_state=[keras.Input((2,))] * 2)
    np.testing.assert_array_equal(gru(xs, initial_state=np.ones((2, 3))), gru([xs, np.ones((2, 3), np.float32)]))


def test_built_shapes_and_the_list_form_of_build() -> None:
    layer = nn.LSTM(3).set_dtype(np.float64)
    layer.build([(None, None, 2), (None, 3), (None, 3)])  # Keras's batch shapes, the sequence's length free
    assert layer.input_shape == (None, 2) and layer.kernel.shape == (2, 12)
    other = nn.GRU(3)
    other.build((None, 5, 2), [(None, 3)])  # Keras's build(sequences_shape, initial_state_shape)
    assert other.input_shape == (5, 2)
    with pytest.raises(ShapeError, match=r"initial state 0 \(h\) must have shape \(batch, 3\), got \(batch, 4\)"):
        nn.SimpleRNN(3).build([(None, 5, 2), (None, 4)])
    # one layer, called with states at one place and without at another: one node of 3 inputs, one of 1
    x, h, c = keras.Input((None, 2)), keras.Input((3,)), keras.Input((3,))
    lstm = keras.layers.LSTM(3, return_sequences=True)
    y1, y2 = lstm(x, initial_state=[h, c]), lstm(x)
    assert y1.shape == y2.shape == (None, None, 3) and lstm.input_shape == (None, 2)
    model = keras.Model([x, h, c], [y1, y2])
    data = [RNG.standard_normal((2, 4, 2)).astype(np.float32), *(np.zeros((2, 3), np.float32),) * 2]
    with_zeros, without = model.predict(data)
    np.testing.assert_array_equal(with_zeros, without)


# ---------------------------------------------------------------------- a graph with masks
def test_a_masked_graph_passes_the_sequence_mask() -> None:
    """``Masking`` upstream: the graph gives the layer ``[mask, None, None]``; the numbers are the ones with the
    mask on the record, and the states' gradients come back through the graph."""
    x, h, c = keras.Input((5, 3), dtype="float64"), keras.Input((3,), dtype="float64"), keras.Input((3,), dtype="float64")
    lstm = keras.layers.LSTM(3, return_sequences=True, return_state=True)
    out = lstm(keras.layers.Masking(0.0)(x), initial_state=[h, c])
    model = keras.Model([x, h, c], out)
    data = np.where(MASK[:, :, None], X, 0.0)
    states = states_for(lstm)
    got = model.predict([data, *states])
    expected = Masked(lstm, MASK).forward([data, *states])
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    errors = check_module(model, [data, *states])
    del errors["input.0"]  # (moving a padding step's zeros makes it a real step: Masking's mask is no function)
    assert {"input.1", "input.2"} <= set(errors) and max(errors.values()) < 1e-7, errors


# ---------------------------------------------------------------------- keras-io's seq2seq
TOKENS, LATENT, STEPS = 6, 8, 5


def seq2seq(dtype: str = "float32") -> tuple[Any, Any, Any, Any]:
    """keras-io's character-level translator: the model and its encoder LSTM, decoder LSTM and Dense."""
    encoder_inputs = keras.Input(shape=(None, TOKENS), dtype=dtype)
    encoder = keras.layers.LSTM(LATENT, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, TOKENS), dtype=dtype)
    decoder_lstm = keras.layers.LSTM(LATENT, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_dense = keras.layers.Dense(TOKENS, activation="softmax")
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))
    return model, encoder, decoder_lstm, decoder_dense


def reversal_data(n: int, dtype: Any = np.float32, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Sequences of tokens 1..5 to be read back reversed: encoder input, teacher-forced decoder input (a start
    token 0, then the target shifted), one-hot targets (N, T, C)."""
    tokens = np.random.default_rng(seed).integers(1, TOKENS, (n, STEPS))
    eye = np.eye(TOKENS, dtype=dtype)
    target = tokens[:, ::-1]
    shifted = np.concatenate([np.zeros((n, 1), int), target[:, :-1]], axis=1)
    return [eye[tokens], eye[shifted]], eye[target]


def test_seq2seq_gradients_reach_the_encoder() -> None:
    keras.utils.set_random_seed(0)
    model, encoder, _, _ = seq2seq("float64")
    (xe, xd), y = reversal_data(3, np.float64)
    errors = check_module(model, [xe, xd])
    assert max(errors.values()) < 1e-7, errors
    assert {"input.0", "input.1"} <= set(errors)  # input.0 reaches the loss through the encoder's states only
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    errors = check_training(model, [xe, xd], y)
    assert max(errors.values()) < 1e-7, errors
    _, grads = model.compute_gradients([xe, xd], y)
    mine = [name for name, p in model.named_parameters() if any(p is q for q in encoder.parameters())]
    assert len(mine) == 3 and all(np.abs(grads[name]).sum() > 0 for name in mine), sorted(grads)
    assert {name for name in errors if name in mine} == set(mine)


def test_seq2seq_trains_saves_and_decodes_step_by_step(tmp_path) -> None:
    keras.utils.set_random_seed(1)
    model, encoder, decoder_lstm, decoder_dense = seq2seq()
    (xe, xd), y = reversal_data(256)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([xe, xd], y, batch_size=32, epochs=12, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert history.history["accuracy"][-1] > 0.75, history.history["accuracy"]  # (chance: 0.2, without the states)
    expected = model.predict([xe, xd])
    model.save(tmp_path / "s2s.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "s2s.keras").predict([xe, xd]), expected)
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy.predict([xe, xd]), expected)

    # keras-io's inference models: the same encoder, the same decoder LSTM called again on new state Inputs
    encoder_model = keras.Model(model.input[0], encoder.output[1:])
    state_inputs = [keras.Input(shape=(LATENT,)), keras.Input(shape=(LATENT,))]
    step_inputs = keras.Input(shape=(None, TOKENS))
    outs, h, c = decoder_lstm(step_inputs, initial_state=state_inputs)
    decoder_model = keras.Model([step_inputs, *state_inputs], [decoder_dense(outs), h, c])
    states = encoder_model.predict(xe)
    for t in range(STEPS):  # teacher-forced, one step at a time: the training model's outputs
        probs, *states = decoder_model.predict([xd[:, t:t + 1], *states])
        np.testing.assert_allclose(probs[:, 0], expected[:, t], rtol=1e-5, atol=1e-6)
    rebuilt = keras.Model.from_config(decoder_model.get_config())  # the list form [x, h, c] of a saved node
    rebuilt.set_weights(decoder_model.get_weights())
    first = [xd[:, :1], *encoder_model.predict(xe)]
    for a, b in zip(rebuilt.predict(first), decoder_model.predict(first), strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------- Bidirectional
BIDIRECTIONAL = {
    "LSTM-concat": lambda: nn.Bidirectional(nn.LSTM(2)),
    "GRU-sequences-states-sum": lambda: nn.Bidirectional(nn.GRU(2, return_sequences=True, return_state=True),
                                                         merge_mode="sum"),
    "SimpleRNN-none": lambda: nn.Bidirectional(nn.SimpleRNN(2, return_sequences=True), merge_mode=None),
}


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("make", BIDIRECTIONAL.values(), ids=BIDIRECTIONAL.keys())
def test_bidirectional_gradients_with_initial_states(make, masked) -> None:
    layer = make().set_dtype(np.float64)
    layer.build((None, 5, 3))
    states = states_for(layer)
    module = Masked(layer, [MASK, *[None] * len(states)]) if masked else layer
    errors = check_module(module, [X, *states], training=True)
    assert {f"input.{i}" for i in range(1 + len(states))} <= set(errors), errors
    assert max(errors.values()) < 1e-7, errors
    # each half starts from its own states: the forward layer's first, then the backward layer's
    k = layer.forward_layer.state_count
    forward = as_list(Masked(layer.forward_layer, MASK if masked else None).forward([X, *states[:k]]))
    backward = as_list(Masked(layer.backward_layer, MASK if masked else None).forward([X, *states[k:]]))
    got = as_list(module.forward([X, *states]))
    np.testing.assert_array_equal(got[-2 * k:] if layer.forward_layer.return_state else [], [*forward[1:],
                                                                                           *backward[1:]])
    f, b = forward[0], backward[0]
    if layer.forward_layer.return_sequences:
        b = b[:, ::-1]
    merged = {"concat": [np.concatenate([f, b], axis=-1)], "sum": [f + b], None: [f, b]}[layer.merge_mode]
    for a, e in zip(got, merged):
        np.testing.assert_array_equal(a, e)


def test_bidirectional_lstm_against_pytorch_h0_c0() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    x, h, c = keras.Input((5, 3), dtype="float64"), keras.Input((4,), dtype="float64"), keras.Input((4,), dtype="float64")
    bi = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, return_state=True))
    bh, bc = keras.Input((4,), dtype="float64"), keras.Input((4,), dtype="float64")
    model = keras.Model([x, h, c, bh, bc], bi(x, initial_state=[h, c, bh, bc]))
    for half in (bi.forward_layer, bi.backward_layer):
        half.bias.data[...] = RNG.standard_normal(half.bias.shape) * 0.5
    states = states_for(bi)
    out, fh, fc, bh, bc = model.predict([X, *states])
    ref = torch.nn.LSTM(3, 4, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for half, suffix in ((bi.forward_layer, ""), (bi.backward_layer, "_reverse")):
            getattr(ref, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(half.kernel.data.T.copy()))
            getattr(ref, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(half.recurrent_kernel.data.T.copy()))
            getattr(ref, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(half.bias.data.copy()))
            getattr(ref, f"bias_hh_l0{suffix}").zero_()
        h0 = torch.from_numpy(np.stack([states[0], states[2]]))
        c0 = torch.from_numpy(np.stack([states[1], states[3]]))
        theirs, (hn, cn) = ref(torch.from_numpy(X.copy()), (h0, c0))
    np.testing.assert_allclose(out, theirs.numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip((fh, bh, fc, bc), (hn[0], hn[1], cn[0], cn[1])):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- ONNX
ONNX_LAYERS = {
    "SimpleRNN-sequences": lambda: nn.SimpleRNN(3, return_sequences=True),
    "LSTM-state-backwards": lambda: nn.LSTM(3, return_state=True, return_sequences=True, go_backwards=True),
    "GRU": lambda: nn.GRU(3, return_state=True),
    "GRU-before-no-bias": lambda: nn.GRU(3, reset_after=False, use_bias=False, return_sequences=True),
    "Bidirectional-LSTM": lambda: nn.Bidirectional(nn.LSTM(3, return_sequences=True, return_state=True)),
}


@pytest.mark.parametrize("make", ONNX_LAYERS.values(), ids=ONNX_LAYERS.keys())
def test_onnx_initial_h_and_c(make, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    layer = make()
    x = keras.Input((5, 3))
    widths = layer.state_widths()
    states = [keras.Input((w,)) for w in widths]
    model = nn.Model([x, *states], layer(x, initial_state=states), seed=0)
    for sub in (getattr(layer, "forward_layer", layer), getattr(layer, "backward_layer", layer)):
        if sub.bias is not None:
            sub.bias.data[...] = RNG.standard_normal(sub.bias.shape).astype(np.float32) * 0.5
    data = [X.astype(np.float32), *(a.astype(np.float32) for a in states_for(layer))]
    session = ort.InferenceSession(str(model.export(tmp_path / "states.onnx")))
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), data, strict=True)})
    expected = as_list(model.predict(data))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    zero_states = [data[0], *(np.zeros_like(a) for a in data[1:])]  # the states matter
    assert not np.allclose(session.run(None, {i.name: a for i, a in zip(session.get_inputs(), zero_states)})[0],
                           got[0])


def test_onnx_seq2seq_with_fixed_lengths(tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    keras.utils.set_random_seed(2)
    model, *_ = seq2seq()
    fixed = keras.Model.from_config({**model.get_config(), "input_layers": [  # ONNX needs fixed lengths
        {"name": "e", "shape": [STEPS, TOKENS], "dtype": "float32"},
        {"name": "d", "shape": [STEPS, TOKENS], "dtype": "float32"}]})
    fixed.set_weights(model.get_weights())
    (xe, xd), _ = reversal_data(7)
    session = ort.InferenceSession(str(fixed.export(tmp_path / "s2s.onnx")))
    (got,) = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), (xe, xd), strict=True)})
    np.testing.assert_allclose(got, model.predict([xe, xd]), rtol=1e-5, atol=1e-6)


def test_inside_a_layer_written_with_call() -> None:
    """A Keras-style layer whose ``call`` feeds a Dense's output to an LSTM as its initial states (one tape op)."""

    class Decoder(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.project = keras.layers.Dense(3, activation="tanh")
            self.lstm = keras.layers.LSTM(3, return_sequences=True)

        def call(self, inputs: Any) -> Any:
            x, context = inputs
            h = self.project(context)
            return self.lstm(x, initial_state=[h, h])

    layer = Decoder()
    errors = check_module(layer, [X, RNG.standard_normal((4, 5))])
    assert {"input.0", "input.1", "project.weight", "lstm.recurrent_kernel"} <= set(errors), errors
    assert max(errors.values()) < 1e-7, errors
