"""Keras's ``stateful=True`` for ``SimpleRNN``, ``LSTM``, ``GRU`` (both forms) and ``Bidirectional``: a sequence
fed in chunks gives exactly the numbers of the whole sequence (float64), ``reset_states`` on the layer and on the
model, ``fit(shuffle=False)`` / ``predict`` / ``evaluate`` carrying the states between batches, the batch-size
error, ``initial_state`` overriding the carried states, masks, float64 finite differences from a nonzero carried
state, and the configuration and model files (which keep ``stateful`` but never the states)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked

import nnscratch as nn
from nnscratch.core.call import Call
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.core.shapes import SampleShape
from nnscratch.training.parallel import DataParallel
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
KINDS = ["SimpleRNN", "LSTM", "GRU", "GRU-before"]
X = RNG.standard_normal((4, 9, 3))  # 4 sequences of 9 steps, fed as steps 0-4 then 5-8


def pair(kind: str, units: int = 5, **kwargs: Any) -> tuple[Any, Any]:
    """A stateful float64 layer and a plain one with the same weights, both built for any number of steps."""
    if kind == "GRU-before":
        kind, kwargs = "GRU", {**kwargs, "reset_after": False}
    layers = []
    for stateful in (True, False):
        layer = getattr(nn, kind)(units, stateful=stateful, seed=0, **kwargs).set_dtype(np.float64)
        layer.build(SampleShape((None, 3)))
        layers.append(layer)
    if layers[0].bias is not None:  # a nonzero bias: every block of it matters
        layers[0].bias.data[...] = np.random.default_rng(7).standard_normal(layers[0].bias.shape) * 0.5
    layers[1].set_weights(layers[0].get_weights())
    return layers[0], layers[1]


class Pinned(nn.Layer):
    """Test-only: runs ``inner`` from the same carried states at every call (``check_module`` calls it many times)."""

    checks_dtype = False

    def __init__(self, inner: nn.Layer, states: list[np.ndarray], masks: Any = None) -> None:
        super().__init__()
        self.inner, self.pinned, self.masks = inner, states, masks

    def forward_call(self, ctx: Call, x: Any) -> Any:
        self.inner.reset_states(self.pinned)
        record = ctx.sub("inner")
        record.mask = self.masks
        return self.inner.forward_call(record, x)

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        return self.inner.backward_call(ctx.recorded("inner"), grad_out)


# ---------------------------------------------------------------------------------------------- the layers
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_chunks_give_exactly_the_whole_sequence(kind, return_sequences) -> None:
    stateful, plain = pair(kind, return_sequences=return_sequences, return_state=True)
    assert stateful.states is None
    first, *_ = stateful(X[:, :5])
    second, *finals = stateful(X[:, 5:])
    whole, *whole_finals = plain(X)
    if return_sequences:
        np.testing.assert_array_equal(np.concatenate([first, second], axis=1), whole)
    else:
        np.testing.assert_array_equal(second, whole)
    for carried, got, expected in zip(stateful.states, finals, whole_finals):
        np.testing.assert_array_equal(carried, expected)
        np.testing.assert_array_equal(got, expected)
        assert carried is not got  # the layer keeps copies: the caller may change its outputs
    assert len(stateful.states) == (2 if kind == "LSTM" else 1)
    # reset: the zero start again (any batch size), bit for bit the plain layer's
    stateful.reset_states()
    assert stateful.states is None
    np.testing.assert_array_equal(stateful(X[:3])[0], plain(X[:3])[0])
    stateful.reset_state()  # Keras 3's name
    assert stateful.states is None


def test_a_plain_layer_is_unchanged_and_carries_nothing() -> None:
    _, plain = pair("LSTM")
    first = plain(X)
    np.testing.assert_array_equal(plain(X), first)
    assert plain.states is None and plain.stateful is False
    plain.reset_states()  # a no-op, as Keras's
    with pytest.raises(InvalidValueError, match="is not stateful"):
        plain.reset_states([np.zeros((4, 5)), np.zeros((4, 5))])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_reset_states_with_given_states_is_an_initial_state(kind) -> None:
    stateful, plain = pair(kind)
    states = [RNG.standard_normal((4, 5)) for _ in range(stateful.state_count)]
    stateful.reset_states(states if len(states) > 1 else states[0])
    np.testing.assert_array_equal(stateful(X), plain(X, initial_state=states))
    with pytest.raises(ShapeError, match=r"state 1 \(c\) must have shape \(batch, units\) = \(4, 5\)"):
        pair("LSTM")[0].reset_states([np.zeros((4, 5)), np.zeros((3, 5))])
    with pytest.raises(InvalidValueError, match="takes 2 initial states"):
        pair("LSTM")[0].reset_states([np.zeros((4, 5))])


def test_another_batch_size_is_one_clear_error_until_a_reset() -> None:
    stateful, plain = pair("LSTM")
    stateful(X)
    carried = [s.copy() for s in stateful.states]
    with pytest.raises(ShapeError, match=r"LSTM '.*' is stateful: it carries the final states of its previous batch, "
                                         r"of 4 samples .* got a batch of 3\. Give every batch 4 samples"):
        stateful(X[:3])
    for s, saved in zip(stateful.states, carried):  # the refused call changed nothing
        np.testing.assert_array_equal(s, saved)
    stateful.reset_states()
    np.testing.assert_array_equal(stateful(X[:3]), plain(X[:3]))  # after a reset: any size
    assert stateful.states[0].shape == (3, 5)


def test_initial_state_overrides_the_carried_states_and_its_finals_are_carried() -> None:
    stateful, plain = pair("LSTM", return_state=True)
    stateful(X[:, :5])
    states = [RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))]
    out, h, c = stateful(X[:, 5:], initial_state=states)
    expected, eh, ec = plain(X[:, 5:], initial_state=states)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(stateful.states[0], eh)
    np.testing.assert_array_equal(stateful.states[1], ec)
    # backward of a call with its own states returns their gradients; from carried ones, dL/dx alone
    grads = stateful.backward([np.ones_like(out), None, None])
    assert isinstance(grads, list) and len(grads) == 3
    stateful(X[:, :5])
    dx = stateful.backward([np.ones((4, 5)), None, None])
    assert isinstance(dx, np.ndarray) and dx.shape == (4, 5, 3)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU-before"])
def test_masked_steps_keep_the_carried_states(kind) -> None:
    mask = np.ones((4, 9), bool)
    mask[0, 3:7] = False  # padding across the cut
    mask[1, 5:] = False  # a second chunk of padding alone
    mask[2, :5] = False  # a first chunk of padding alone
    mask[3, 4] = mask[3, 8] = False  # padding at the end of both chunks
    stateful, plain = pair(kind, return_sequences=True)
    masked = Masked(stateful, None)
    masked.masks = mask[:, :5]
    first = masked.forward(X[:, :5])
    masked.masks = mask[:, 5:]
    second = masked.forward(X[:, 5:])
    whole = Masked(plain, mask).forward(X)
    np.testing.assert_array_equal(first, whole[:, :5])
    # the carried states are the whole sequence's; a chunk's outputs too, but at padding steps before its first
    # real step, where the output is zero (Keras's with initial states: recurrent_states)
    lead = ~np.logical_or.accumulate(mask[:, 5:], axis=1)
    np.testing.assert_array_equal(second[~lead], whole[:, 5:][~lead])
    assert not second[lead].any() and lead[1].all()
    stateful.reset_states()
    plain_final = Masked(pair(kind, return_sequences=False, return_state=True)[1], mask)
    plain_final.inner.set_weights(stateful.get_weights())
    finals = plain_final.forward(X)[1:]
    masked.masks = mask[:, :5]
    masked.forward(X[:, :5])
    masked.masks = mask[:, 5:]
    masked.forward(X[:, 5:])
    for carried, expected in zip(stateful.states, finals):
        np.testing.assert_array_equal(carried, expected)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["plain", "sequences+state", "dropout", "masked", "initial_state"])
def test_gradients_from_a_nonzero_carried_state(kind, mode) -> None:
    """Within one batch: the carried states are constants (truncated backpropagation through time); dL/dx and
    every weight's gradient against float64 central differences."""
    kwargs: dict[str, Any] = {"units": 3}
    if mode == "sequences+state":
        kwargs.update(return_sequences=True, return_state=True)
    if mode == "dropout":
        kwargs.update(dropout=0.3, recurrent_dropout=0.3)
    layer = pair(kind, **kwargs)[0]
    layer(X[:, :4])  # carried states from a first batch
    states = [s.copy() for s in layer.states]
    assert all(np.abs(s).max() > 0.05 for s in states)
    mask = None
    if mode == "masked":
        mask = np.ones((4, 5), bool)
        mask[0, :2] = mask[1, 3:] = mask[2, 1] = False
    module = Pinned(layer, states, mask)
    x: Any = X[:, 4:]
    if mode == "initial_state":
        x = [X[:, 4:], *[RNG.standard_normal(s.shape) for s in states]]
    errors = check_module(module, x, training=mode == "dropout")
    assert max(errors.values()) < 1e-6, errors
    assert set(errors) == ({"input"} if mode != "initial_state" else {f"input.{i}" for i in range(len(x))}) | {
        f"inner.{n}" for n, _ in layer.named_parameters()}


def test_bidirectional_halves_carry_their_own_states() -> None:
    stateful, plain = (nn.Bidirectional(nn.LSTM(4, stateful=s, return_sequences=True, seed=0), merge_mode=None)
                       .set_dtype(np.float64) for s in (True, False))
    for layer in (stateful, plain):
        layer.build(SampleShape((None, 3)))
    plain.set_weights(stateful.get_weights())
    assert stateful.stateful and stateful.backward_layer.stateful and not plain.stateful
    f1, b1 = stateful(X[:, :5])
    f2, b2 = stateful(X[:, 5:])
    np.testing.assert_array_equal(np.concatenate([f1, f2], axis=1), plain(X)[0])
    # the backward half read chunk 1 from its end, then chunk 2 from its end: X[:, 5:] then X[:, :5], reversed
    swapped = plain(np.concatenate([X[:, 5:], X[:, :5]], axis=1))[1]
    np.testing.assert_array_equal(b2, swapped[:, :4])
    assert len(stateful.states) == 4
    stateful.reset_states()
    assert stateful.states is None and stateful.forward_layer.states is None
    np.testing.assert_array_equal(stateful(X)[1], plain(X)[1])
    with pytest.raises(InvalidValueError, match="must agree on return_sequences, return_state and stateful"):
        nn.Bidirectional(nn.LSTM(4, stateful=True), backward_layer=nn.LSTM(4, go_backwards=True))


# ---------------------------------------------------------------------------------------------- models
def stateful_model(units: int = 6, stateful: bool = True, seed: int = 0) -> nn.Model:
    nn.set_random_seed(seed)
    inputs = nn.Input(shape=(None, 2), batch_size=4, dtype="float64")
    h = nn.LSTM(units, stateful=stateful, return_sequences=True, name="lstm")(inputs)
    h = nn.GRU(units, stateful=stateful, name="gru")(h)
    model = nn.Model(inputs, nn.Dense(1, name="out")(h), seed=seed)
    model.compile(optimizer=nn.Adam(learning_rate=0.02), loss="mse")
    return model


def chunked(series: np.ndarray, steps: int) -> np.ndarray:
    """``(N, T, F)`` sequences as rows ``[chunk 0 of every sequence, chunk 1 of every sequence, ...]``: batches
    of ``N`` rows in which row ``i`` continues row ``i`` of the batch before (Keras's stateful layout)."""
    return np.concatenate([series[:, t:t + steps] for t in range(0, series.shape[1], steps)])


def test_model_reset_states_resets_every_stateful_layer_nested_models_too() -> None:
    inner = stateful_model()
    outer_in = nn.Input(shape=(None, 2), dtype="float64")
    outer = nn.Model(outer_in, nn.Dense(1)(inner(outer_in)))
    x = RNG.standard_normal((4, 6, 2))
    first = outer.predict(x)
    assert inner.get_layer("lstm").states is not None and inner.get_layer("gru").states is not None
    assert not np.array_equal(outer.predict(x), first)  # the second batch continued the first
    outer.reset_states()
    assert inner.get_layer("lstm").states is None and inner.get_layer("gru").states is None
    np.testing.assert_array_equal(outer.predict(x), first)
    outer.predict(x)
    inner.reset_state()  # Keras 3's name, on the nested model itself
    np.testing.assert_array_equal(outer.predict(x), first)


def test_predict_and_evaluate_carry_the_states_between_batches() -> None:
    model, plain = stateful_model(), stateful_model(stateful=False)
    plain.set_weights(model.get_weights())
    series = RNG.standard_normal((4, 12, 2))
    rows = chunked(series, 4)  # 3 batches of 4
    out = model.predict(rows, batch_size=4)
    np.testing.assert_array_equal(out[8:], plain.predict(series))  # the last batch ends the whole sequences
    carried = [s.copy() for s in model.get_layer("gru").states]
    model.reset_states()
    model.evaluate(rows, np.zeros((12, 1)), batch_size=4)
    np.testing.assert_array_equal(model.get_layer("gru").states[0], carried[0])
    with pytest.raises(ShapeError, match="carries the final states of its previous batch, of 4 samples"):
        model.predict(rows[:10], batch_size=4)  # its last batch has 2 rows
    model.reset_states()
    assert model.predict(rows[:2], batch_size=2).shape == (2, 1)  # after a reset the batch size is free


def test_fit_with_shuffle_false_carries_the_states_and_trains() -> None:
    t = np.arange(4 * 40).reshape(4, 40) * 0.3 + np.arange(4)[:, None]
    series = np.stack([np.sin(t), np.cos(t)], axis=-1)
    rows = chunked(series[:, :40], 5)
    target = np.concatenate([np.sin(t[:, 5 * (k + 1) - 1:5 * (k + 1)] + 0.3) for k in range(8)])
    model = stateful_model()
    lstm, gru = model.get_layer("lstm"), model.get_layer("gru")
    seen: list[tuple[Any, ...]] = []

    class Spy(nn.Callback):
        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            seen.append((lstm.get_weights(), None if lstm.states is None else [s.copy() for s in lstm.states]))

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            seen[-1] += ([s.copy() for s in lstm.states],)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            model.reset_states()  # Keras's usual: one pass over the sequences per epoch

    history = model.fit(rows, target, batch_size=4, epochs=15, shuffle=False, callbacks=[Spy()], verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert len(seen) == 15 * 8 and seen[0][1] is None and seen[8][1] is None  # each epoch starts from zeros
    check = nn.LSTM(6, stateful=True, return_sequences=True).set_dtype(np.float64)
    check.build(SampleShape((None, 2)))
    for k in range(1, 8):  # batch k started from batch k-1's final states, with the weights of that step
        weights, before, after = seen[k]
        np.testing.assert_array_equal(before[0], seen[k - 1][2][0])
        check.set_weights(weights)
        check.reset_states(before)
        check(rows[4 * k:4 * k + 4])
        np.testing.assert_allclose(check.states[0], after[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(check.states[1], after[1], rtol=0, atol=1e-12)
    assert gru.states[0].shape == (4, 6)


def test_a_stateful_model_never_splits_its_batch_across_threads() -> None:
    assert not nn.LSTM.per_sample and not nn.GRU.per_sample and not nn.SimpleRNN.per_sample
    for model in (stateful_model(), nn.Sequential([nn.Input(shape=(5, 2), batch_size=4),
                                                   nn.Bidirectional(nn.LSTM(3, stateful=True)), nn.Dense(1)])):
        assert not DataParallel.eligible(model)


def test_a_shape_probe_neither_reads_nor_writes_the_carried_states() -> None:
    layer = pair("GRU")[0]
    layer(X)
    carried = layer.states[0].copy()
    out = layer(nn.Input(shape=(None, 3), dtype="float64"))  # a new graph over the same layer: an empty-batch probe
    assert out.shape == (None, 5)
    np.testing.assert_array_equal(layer.states[0], carried)


def test_a_subclassed_model_carries_and_resets() -> None:
    class Net(nn.Model):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.SimpleRNN(4, stateful=True, seed=0)
            self.out = nn.Dense(1)

        def call(self, inputs: Any, training: Any = None) -> Any:
            return self.out(self.rnn(inputs))

    net = Net()
    x = RNG.standard_normal((4, 6, 2)).astype(np.float32)
    first = net.predict(x)
    assert not np.array_equal(net.predict(x), first)
    net.reset_states()
    np.testing.assert_array_equal(net.predict(x), first)


# ---------------------------------------------------------------------------------------------- configuration
@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, stateful=True),
    lambda: nn.GRU(3, stateful=True, reset_after=False),
    lambda: nn.SimpleRNN(3, stateful=True),
    lambda: nn.Bidirectional(nn.GRU(3, stateful=True)),
])
def test_config_round_trip_keeps_stateful(make) -> None:
    layer = make()
    copy = type(layer).from_config(layer.get_config())
    assert copy.stateful is True and copy.get_config() == layer.get_config()
    assert nn.LSTM(3).get_config()["stateful"] is False  # Keras's key, always there


def test_save_and_load_keep_stateful_but_not_the_states(tmp_path) -> None:
    model = stateful_model()
    x = RNG.standard_normal((4, 5, 2))
    model.predict(x)
    assert all("states" not in name for name in model.state_dict())
    assert len(model.get_weights()) == len(stateful_model(stateful=False).get_weights())
    model.save(tmp_path / "stateful.npz")
    loaded = nn.load_model(tmp_path / "stateful.npz")
    assert loaded.get_layer("lstm").stateful and loaded.get_layer("gru").stateful
    assert loaded.get_layer("lstm").states is None  # Keras saves no states either
    model.reset_states()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))  # both carried the same states


def test_onnx_export_of_a_stateful_layer_is_refused(tmp_path):
    pytest.importorskip("onnx")
    for layer in (nn.LSTM(3, stateful=True), nn.Bidirectional(nn.GRU(2, stateful=True))):
        model = nn.Sequential([nn.Input((4, 2)), layer])
        with pytest.raises(InvalidValueError, match="stateful=True: an ONNX graph carries no states"):
            model.export(tmp_path / "m.onnx")
        assert not (tmp_path / "m.onnx").exists()


def test_ray_training_refuses_a_stateful_layer() -> None:
    pytest.importorskip("ray")
    from nnscratch.distributed.ray_trainer import RayTrainer

    inputs = nn.Input((5, 3))
    model = nn.Model(inputs, nn.Dense(1)(nn.LSTM(4, stateful=True, name="carrier")(inputs)))
    model.compile(loss="mse", optimizer="adam")
    x, y = np.zeros((8, 5, 3), np.float32), np.zeros((8, 1), np.float32)
    with pytest.raises(InvalidValueError, match=r"layer 'carrier' \(LSTM\) is stateful: its states carry from one "
                                                r"batch to the next"):
        RayTrainer(model, [x], [y])
