"""``RNN`` around a cell of one's own (Keras's guide "Working with RNNs": a ``Layer`` with ``state_size``,
``build`` with ``add_weight`` and ``call(inputs, states)`` in ``keras.ops``), run on the autodiff tape: float64
finite differences in every mode (masks, initial states, ``get_initial_state`` with weights, sub-layers,
``add_loss``, stacks mixing built-in cells), ``SimpleRNN``'s numbers from the same weights, a guide-style
program trained, saved and reloaded with ``custom_objects``, and one clear error for each misuse."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked
from test_rnn_cells import keras_stacked_loop

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError
from nnscratch.keras import ops
from nnscratch.layers.rnn import RNN
from nnscratch.layers.rnn_cells import GRUCell, LSTMCell
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5, 3))
MASK = np.array([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 0, 1, 0, 1], [0, 0, 0, 0, 0]], bool)


class MinimalRNNCell(keras.layers.Layer):
    """The cell of Keras's RNN docstring and guide, with a tanh and a bias."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="orthogonal",
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="random_normal", name="bias")

    def call(self, inputs: Any, states: Any) -> Any:
        output = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel) + self.bias)
        return output, [output]

    def get_config(self) -> dict[str, Any]:
        return {"units": self.units}


class PeepholeCell(keras.layers.Layer):
    """Two states of different widths, an output of its own size, a Dense sub-layer, a learned initial state,
    a penalty added at every step and a ``training`` argument."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state_size = [3, 2]
        self.output_size = 4
        self.mix = keras.layers.Dense(4, activation="tanh")
        self.seen_training: list[Any] = []

    def build(self, input_shape: Any) -> None:
        self.w = self.add_weight(shape=(input_shape[-1] + 3, 3), initializer="glorot_uniform")
        self.u = self.add_weight(shape=(3, 2), initializer="glorot_uniform")
        self.h0 = self.add_weight(shape=(3,), initializer="random_normal")

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        return [ops.zeros((batch_size, 3), dtype=self.dtype) + self.h0, ops.zeros((batch_size, 2), dtype=self.dtype)]

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        self.seen_training.append(training)
        h, c = states
        h = ops.tanh(ops.matmul(ops.concatenate([inputs, h], axis=-1), self.w))
        c = c * ops.sigmoid(ops.matmul(h, self.u)) + 0.1
        self.add_loss(0.01 * ops.sum(ops.square(c)))
        return self.mix(ops.concatenate([h, c], axis=-1)), (h, c)


class WrapsLSTMCell(keras.layers.Layer):
    """A cell calling a built-in cell (one step of it) inside its call, then scaling its output."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = LSTMCell(3)
        self.state_size = self.inner.state_size

    def build(self, input_shape: Any) -> None:
        self.scale = self.add_weight(shape=(3,), initializer="ones")

    def call(self, inputs: Any, states: Any) -> Any:
        out, new = self.inner(inputs, states)
        return out * self.scale, new


MODES = {"last": {}, "sequences": {"return_sequences": True}, "state-backwards": {"return_state": True,
                                                                                 "go_backwards": True},
         "sequences-state-zero-output": {"return_sequences": True, "return_state": True,
                                         "zero_output_for_mask": True}}
CELLS = {
    "minimal": lambda: MinimalRNNCell(3),
    "peephole": PeepholeCell,
    "wraps-lstm-cell": WrapsLSTMCell,
    "stack-minimal-gru-peephole": lambda: [MinimalRNNCell(2), GRUCell(3), PeepholeCell()],
}


@pytest.mark.parametrize("initial", [False, True], ids=["own-start", "initial-state"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
@pytest.mark.parametrize("make", CELLS.values(), ids=CELLS.keys())
def test_float64_gradients(make, mode, masked, initial) -> None:
    rnn = RNN(make(), **mode).set_dtype(np.float64)
    rnn.build((None, 5, 3))
    x = [X, *(RNG.standard_normal((4, w)) for w in rnn.state_widths())] if initial else X
    errors = check_module(Masked(rnn, MASK if masked else None), x, training=True)
    assert max(errors.values()) < 1e-7, errors
    assert {*(f"inner.{n}" for n, _ in rnn.named_parameters())} <= set(errors)
    assert {"input.0", "input.1"} <= set(errors) if initial else "input" in errors


def test_a_learned_initial_state_penalties_and_the_training_flag() -> None:
    cell = PeepholeCell()
    rnn = RNN(cell, return_state=True).set_dtype(np.float64)
    out, h, c = rnn.forward(X, training=True)
    assert out.shape == (4, 4) and h.shape == (4, 3) and c.shape == (4, 2)
    assert cell.seen_training == [True] * 5 and len(rnn.last_call.losses) == 1
    rnn.zero_grad()
    rnn.backward([np.zeros_like(out), np.zeros_like(h), np.zeros_like(c)])
    assert np.any(cell.h0.grad != 0)  # the penalty reaches the learned initial state
    assert [n for n, _ in rnn.named_parameters()] == ["cell.w", "cell.u", "cell.h0", "cell.mix.weight",
                                                      "cell.mix.bias"]


@pytest.mark.parametrize("mode", [{"return_sequences": True, "return_state": True},
                                  {"go_backwards": True, "return_state": True}], ids=["sequences", "backwards"])
def test_a_simple_rnn_cell_of_ones_own_computes_simple_rnn(mode) -> None:
    layer = nn.SimpleRNN(3, **mode).set_dtype(np.float64)
    layer.build((None, 5, 3))
    rnn = RNN(MinimalRNNCell(3), **mode).set_dtype(np.float64)
    rnn.build((None, 5, 3))
    layer.set_weights(rnn.get_weights())
    h0 = RNG.standard_normal((4, 3))
    for x in (X, [X, h0]):
        for a, b in zip(Masked(rnn, MASK).forward(x), Masked(layer, MASK).forward(x), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
def test_a_stack_mixing_cells_computes_keras_stacked_loop(backwards) -> None:
    mine, gru, last = MinimalRNNCell(3), GRUCell(2), MinimalRNNCell(4)
    rnn = RNN([mine, gru, last], return_sequences=True, return_state=True, go_backwards=backwards)
    rnn.set_dtype(np.float64).build((None, 5, 3))

    def by_hand(cell: MinimalRNNCell) -> Any:
        k, r, b = (p.data for p in (cell.kernel, cell.recurrent_kernel, cell.bias))
        return lambda x, s: _pair(np.tanh(x @ k + s[0] @ r + b))

    init = [[RNG.standard_normal((4, w))] for w in (3, 2, 4)]
    out, *states = Masked(rnn, MASK).forward([X, *(s for own in init for s in own)])
    ref, ref_states = keras_stacked_loop([by_hand(mine), gru, by_hand(last)], X, MASK, init, backwards)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)
    for a, b in zip(states, ref_states, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def _pair(h: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    return h, [h]


def test_keras_guide_program_trains_saves_and_reloads(tmp_path) -> None:
    """keras-io "Working with RNNs": a custom cell in RNN, compiled, fitted, saved, reloaded with custom_objects."""
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((256, 8, 2)).astype("float32")
    y = (0.5 * x[:, :, 0].sum(axis=1, keepdims=True) - 0.3 * x[:, -1, 1:]).astype("float32")
    inputs = keras.Input((None, 2))
    seq = keras.layers.RNN(MinimalRNNCell(16), return_sequences=True)(inputs)
    last = keras.layers.RNN([MinimalRNNCell(8), keras.layers.GRUCell(8)])(seq)
    model = keras.Model(inputs, keras.layers.Dense(1)(last))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.25 * history.history["loss"][0]
    path = tmp_path / "guide.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, custom_objects={"MinimalRNNCell": MinimalRNNCell})
    np.testing.assert_array_equal(reloaded.predict(x, verbose=0), model.predict(x, verbose=0))
    longer = rng.standard_normal((3, 12, 2)).astype("float32")  # any length (Input((None, 2)))
    np.testing.assert_array_equal(reloaded.predict(longer, verbose=0), model.predict(longer, verbose=0))


def test_in_a_sequential_model_with_masking() -> None:
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.Masking(0.0),
                              keras.layers.RNN(MinimalRNNCell(4), return_sequences=True),
                              keras.layers.GlobalAveragePooling1D()])
    x = X.astype("float32") * MASK[:, :, None]
    out = model.predict(x, verbose=0)
    alone = model.predict(x[:1, :3], verbose=0)  # the first sample's real steps only
    np.testing.assert_allclose(out[0], alone[0], rtol=1e-5)


class NoStateSize(keras.layers.Layer):
    def call(self, inputs: Any, states: Any) -> Any:
        return inputs, states


class WrongStates(MinimalRNNCell):
    def call(self, inputs: Any, states: Any) -> Any:
        out, _ = super().call(inputs, states)
        return out, [out[:, :2]]


class NoPair(MinimalRNNCell):
    def call(self, inputs: Any, states: Any) -> Any:
        return super().call(inputs, states)[0]


class OneArgument(keras.layers.Layer):
    state_size = 2

    def call(self, inputs: Any) -> Any:
        return inputs


def test_errors_name_the_problem() -> None:
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(InvalidValueError, match=r"no state_size: set self.state_size"):
        RNN(NoStateSize())
    with pytest.raises(InvalidTypeError, match=r"must define call\(self, inputs, states\)"):
        RNN(OneArgument())
    with pytest.raises(InvalidTypeError, match="a cell must be a keras.layers.Layer"):
        RNN("lstm")
    with pytest.raises(ShapeError, match=r"call returned new states of shapes \[\(2, 2\)\]; its state_size 3 says"):
        RNN(WrongStates(3))(x)
    with pytest.raises(InvalidValueError, match=r"must return \(output, new_states\)"):
        RNN(NoPair(3))(x)
    with pytest.raises(ShapeError, match=r"expects inputs of shape \(batch, steps, features\), got \(batch, 3\)"):
        RNN(MinimalRNNCell(3))(np.zeros((2, 3), np.float32))
    with pytest.raises(ShapeError, match=r"expects inputs of shape \(batch, steps, features\)"):
        RNN(MinimalRNNCell(3))(keras.Input((4, 3, 2)))
    with pytest.raises(ShapeError, match=r"initial state 0 \(state 0\) must have shape \(batch, units\)"):
        RNN(MinimalRNNCell(3))(x, initial_state=[np.zeros((2, 4), np.float32)])


def test_onnx_export_refuses_a_cell_of_ones_own_by_name(tmp_path) -> None:
    pytest.importorskip("onnx")
    import nnscratch.interop.onnx_rnn_cell_converters  # noqa: F401  (registers the converters)

    x = nn.Input((5, 3))
    model = nn.Model(x, RNN(MinimalRNNCell(3, name="mine"), name="loop")(x))
    with pytest.raises(InvalidValueError, match=r"layer 'loop' \(RNN\).*cell 'mine' \(MinimalRNNCell\).*own"):
        model.export(tmp_path / "m.onnx")
