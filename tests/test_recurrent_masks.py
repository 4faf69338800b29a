"""Masks in the recurrent layers (``ctx.mask`` ``(N, T)``, True: a real step), Keras's semantics: a padding step
keeps every state and repeats the previous output. Float64 finite differences with padding at the end, at the
start, in the middle and everywhere; padded sequences against the same sequences run alone and against
PyTorch's packed sequences; the repeated outputs; ``compute_mask``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked

import nnscratch as nn
from nnscratch.core.errors import ShapeError
from nnscratch.utils.gradcheck import check_module

X = np.random.default_rng(0).standard_normal((5, 6, 3))
MASK = np.array([[1, 1, 1, 1, 0, 0],  # padding at the end
                 [0, 0, 1, 1, 1, 1],  # at the start
                 [1, 1, 0, 0, 1, 1],  # in the middle
                 [1, 0, 1, 0, 1, 0],  # every other step
                 [0, 0, 0, 0, 0, 0]], bool)  # padding alone


def float64(layer: nn.Layer, steps: int | None = None, features: int = 3) -> Any:
    """``layer`` in float64, built for ``steps`` (None: any length)."""
    layer.set_dtype(np.float64).build((None, steps, features))  # Keras's batch shape
    return layer


def outputs(value: Any) -> list[np.ndarray]:
    return list(value) if isinstance(value, list) else [value]


LAYERS = {
    "SimpleRNN": lambda: nn.SimpleRNN(4),
    "SimpleRNN-relu-sequences-backwards": lambda: nn.SimpleRNN(3, activation="relu", return_sequences=True,
                                                                go_backwards=True),
    "LSTM": lambda: nn.LSTM(3),
    "LSTM-sequences": lambda: nn.LSTM(3, return_sequences=True),
    "LSTM-state-backwards": lambda: nn.LSTM(3, return_state=True, go_backwards=True),
    "LSTM-sequences-state": lambda: nn.LSTM(2, return_sequences=True, return_state=True),
    "LSTM-dropouts": lambda: nn.LSTM(3, dropout=0.3, recurrent_dropout=0.4, return_sequences=True, seed=1),
    "GRU": lambda: nn.GRU(3),
    "GRU-sequences-backwards": lambda: nn.GRU(3, return_sequences=True, go_backwards=True),
    "GRU-state": lambda: nn.GRU(3, return_state=True),
    "GRU-dropouts-no-bias": lambda: nn.GRU(3, dropout=0.3, recurrent_dropout=0.4, use_bias=False, seed=2),
    "Bidirectional-LSTM-concat": lambda: nn.Bidirectional(nn.LSTM(2)),
    "Bidirectional-GRU-sequences-sum": lambda: nn.Bidirectional(nn.GRU(2, return_sequences=True), merge_mode="sum"),
    "Bidirectional-SimpleRNN-sequences-mul": lambda: nn.Bidirectional(nn.SimpleRNN(2, return_sequences=True),
                                                                      merge_mode="mul"),
    "Bidirectional-LSTM-sequences-states-ave": lambda: nn.Bidirectional(
        nn.LSTM(2, return_sequences=True, return_state=True), merge_mode="ave"),
    "Bidirectional-GRU-none": lambda: nn.Bidirectional(nn.GRU(2), merge_mode=None),
    "Bidirectional-LSTM-sequences-none-states": lambda: nn.Bidirectional(
        nn.LSTM(2, return_sequences=True, return_state=True), merge_mode=None),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_gradients_through_padding(make) -> None:
    layer = float64(make(), 6)
    wrapped = Masked(layer, MASK)
    errors = check_module(wrapped, X, training=True)
    assert {"input", "inner.kernel", "inner.recurrent_kernel"} <= set(errors) or \
        {"input", "inner.forward_layer.kernel", "inner.backward_layer.recurrent_kernel"} <= set(errors), errors
    assert max(errors.values()) < 1e-7, errors
    # the padding steps reach nothing: their inputs get no gradient at all
    outs = outputs(wrapped.forward(X, training=True))
    dx = wrapped.backward([np.ones_like(o) for o in outs] if len(outs) > 1 else np.ones_like(outs[0]))
    assert np.all(dx[~MASK] == 0) and np.count_nonzero(dx[MASK]) > dx[MASK].size // 2
    # and the mask was used: without it the same layer gives other outputs
    plain = outputs(Masked(layer, None).forward(X, training=True))
    assert not all(np.allclose(a, b) for a, b in zip(outs, plain))


LENGTHS = np.array([6, 4, 1, 3])


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_padded_sequences_end_as_they_do_alone(kind, go_backwards, side) -> None:
    """Each sample, padded (with anything) to 6 steps, ends in the states of its real steps run alone."""
    x = np.random.default_rng(1).standard_normal((4, 6, 3)) * 5
    steps = np.arange(6)
    mask = steps < LENGTHS[:, None] if side == "right" else steps >= 6 - LENGTHS[:, None]
    layer = float64(getattr(nn, kind)(3, return_state=True, go_backwards=go_backwards))
    out, *states = Masked(layer, mask).forward(x)
    for i in range(4):
        alone, *alone_states = layer.forward(x[i:i + 1, mask[i]])
        np.testing.assert_allclose(out[i], alone[0], rtol=1e-12, atol=1e-14)
        for s, a in zip(states, alone_states, strict=True):
            np.testing.assert_allclose(s[i], a[0], rtol=1e-12, atol=1e-14)
    assert not np.allclose(out, layer.forward(x)[0])  # the padding would have changed them


def test_bidirectional_padded_sequences_end_as_they_do_alone() -> None:
    x = np.random.default_rng(2).standard_normal((4, 6, 3))
    mask = np.arange(6) < LENGTHS[:, None]
    layer = float64(nn.Bidirectional(nn.GRU(3, return_state=True), merge_mode=None))
    fwd, bwd, h_f, h_b = Masked(layer, mask).forward(x)
    np.testing.assert_array_equal(fwd, h_f)
    np.testing.assert_array_equal(bwd, h_b)
    for i in range(4):
        alone = layer.forward(x[i:i + 1, :LENGTHS[i]])
        for got, expected in zip((fwd, bwd, h_f, h_b), alone, strict=True):
            np.testing.assert_allclose(got[i], expected[0], rtol=1e-12, atol=1e-14)


def test_dropout_holds_over_padding() -> None:
    """With dropout drawn per sample, 6 steps of which the last 2 are padding end as the 4 real steps do."""
    x = np.random.default_rng(3).standard_normal((3, 6, 3))
    mask = np.repeat(np.arange(6)[None] < 4, 3, axis=0)
    layer = float64(nn.LSTM(3, dropout=0.4, recurrent_dropout=0.4, return_state=True, seed=5))

    def run(wrapped: nn.Layer, inputs: np.ndarray, training: bool = True) -> list[np.ndarray]:
        wrapped.set_rng(np.random.default_rng(7), seeded=True)
        return wrapped.forward(inputs, training)

    padded, plain = run(Masked(layer, mask), x), run(layer, x[:, :4])
    for a, b in zip(padded, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert not np.allclose(padded[0], run(layer, x[:, :4], training=False)[0])  # dropout was on


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
def test_a_padding_step_repeats_the_previous_output(kind, go_backwards) -> None:
    layer = float64(getattr(nn, kind)(3, return_sequences=True, return_state=True, go_backwards=go_backwards))
    out, *states = Masked(layer, MASK).forward(X)
    kept = MASK[:, ::-1] if go_backwards else MASK  # the returned sequence is in reading order
    for t in range(6):
        before = out[:, t - 1] if t else np.zeros_like(out[:, 0])
        np.testing.assert_array_equal(out[~kept[:, t], t], before[~kept[:, t]])
        assert np.all(out[kept[:, t], t] != before[kept[:, t]])
    np.testing.assert_array_equal(states[0], out[:, -1])
    for s in states:  # a sample of padding alone keeps its zero states
        np.testing.assert_array_equal(s[-1], 0)
        assert np.all(s[:-1] != 0)


def test_bidirectional_halves_repeat_in_their_own_reading_order() -> None:
    layer = float64(nn.Bidirectional(nn.LSTM(2, return_sequences=True), merge_mode=None))
    fwd, bwd = Masked(layer, MASK).forward(X)
    for t in range(6):
        held = ~MASK[:, t]
        np.testing.assert_array_equal(fwd[held, t], (fwd[:, t - 1] if t else np.zeros_like(fwd[:, 0]))[held])
        np.testing.assert_array_equal(bwd[held, t], (bwd[:, t + 1] if t < 5 else np.zeros_like(bwd[:, 0]))[held])


def test_an_all_real_mask_changes_nothing_and_a_wrong_one_is_refused() -> None:
    layer = float64(nn.LSTM(3, return_sequences=True))
    plain = layer.forward(X)
    np.testing.assert_array_equal(Masked(layer, np.ones((5, 6), bool)).forward(X), plain)
    np.testing.assert_array_equal(Masked(layer, MASK.astype(np.float32)).forward(X),
                                  Masked(layer, MASK).forward(X))  # a 0/1 mask reads as booleans
    with pytest.raises(ShapeError, match=r"LSTM: the mask must have shape \(batch, steps\) = \(5, 6\), got \(5, 5\)"):
        Masked(layer, MASK[:, :5]).forward(X)


def to_torch(layer: Any, ref: Any, suffix: str = "") -> None:
    """Copy an nnscratch LSTM/GRU's weights into PyTorch's layer ``ref`` (direction ``suffix``)."""
    import torch

    u = layer.units
    order = np.r_[u:2 * u, 0:u, 2 * u:3 * u] if isinstance(layer, nn.GRU) else np.arange(4 * u)
    b = layer.bias.data
    with torch.no_grad():
        getattr(ref, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(layer.kernel.data.T[order].copy()))
        getattr(ref, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(layer.recurrent_kernel.data.T[order].copy()))
        getattr(ref, f"bias_ih_l0{suffix}").copy_(torch.from_numpy((b[0] if b.ndim == 2 else b)[order].copy()))
        getattr(ref, f"bias_hh_l0{suffix}").copy_(torch.from_numpy(b[1][order].copy() if b.ndim == 2
                                                                   else np.zeros(4 * u)))


def from_torch_grads(layer: Any, ref: Any, suffix: str = "") -> None:
    """Compare ``layer``'s kernel gradients with those PyTorch's ``ref`` holds."""
    u = layer.units
    order = np.r_[u:2 * u, 0:u, 2 * u:3 * u] if isinstance(layer, nn.GRU) else np.arange(4 * u)
    for ours, theirs in ((layer.kernel.grad, f"weight_ih_l0{suffix}"),
                         (layer.recurrent_kernel.grad, f"weight_hh_l0{suffix}")):
        np.testing.assert_allclose(ours.T[order], getattr(ref, theirs).grad.numpy(), rtol=1e-9, atol=1e-12)
    bias = layer.bias.grad[0] if layer.bias.grad.ndim == 2 else layer.bias.grad
    np.testing.assert_allclose(bias[order], getattr(ref, f"bias_ih_l0{suffix}").grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
def test_against_pytorch_packed_sequences(kind, bidirectional) -> None:
    """Right-padded batches against ``pack_padded_sequence``: the outputs at the real steps, the final states,
    and every gradient (the outputs' gradient at the padding steps is 0, as PyTorch's outputs are there)."""
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rng = np.random.default_rng(4)
    x, lengths = rng.standard_normal((4, 6, 3)), np.array([6, 2, 4, 1])
    mask = np.arange(6) < lengths[:, None]
    inner = getattr(nn, kind)(3, return_sequences=True, return_state=True)
    layer = float64(nn.Bidirectional(inner) if bidirectional else inner)
    wrapped = Masked(layer, mask)
    out, *states = wrapped.forward(x)
    ref = getattr(torch.nn, kind)(3, 3, batch_first=True, bidirectional=bidirectional).double()
    halves = [(layer.forward_layer, ""), (layer.backward_layer, "_reverse")] if bidirectional else [(layer, "")]
    for half, suffix in halves:
        to_torch(half, ref, suffix)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    packed = pack_padded_sequence(xt, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
    theirs, final = ref(packed)
    theirs = pad_packed_sequence(theirs, batch_first=True, total_length=6)[0]
    final = list(final) if kind == "LSTM" else [final]  # each (directions, N, units)
    theirs_states = [s[d] for d in range(len(halves)) for s in final]  # ours: forward h (c), then backward's
    np.testing.assert_allclose(out[mask], theirs.detach().numpy()[mask], rtol=1e-10, atol=1e-12)
    for ours, t in zip(states, theirs_states, strict=True):
        np.testing.assert_allclose(ours, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape) * mask[:, :, None]
    gs = [rng.standard_normal(s.shape) for s in states]
    dx = wrapped.backward([g, *gs])
    loss = (theirs * torch.from_numpy(g)).sum() + sum((t * torch.from_numpy(d)).sum()
                                                      for t, d in zip(theirs_states, gs))
    loss.backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for half, suffix in halves:
        from_torch_grads(half, ref, suffix)


def test_compute_mask_is_keras() -> None:
    """keras/src/layers/rnn/rnn.py and bidirectional.py: the mask with return_sequences, else None; None for each
    state (Keras's Bidirectional lists the states' masks only when stateful; its caller gives them none)."""
    m = MASK

    def same(got: Any, expected: Any) -> bool:  # identity, element by element
        if isinstance(expected, list):
            return isinstance(got, list) and len(got) == len(expected) and all(map(same, got, expected))
        return got is expected

    for cls in (nn.SimpleRNN, nn.LSTM, nn.GRU):
        assert cls.supports_masking
        assert same(cls(2).compute_mask(X, m), None)
        assert same(cls(2, return_sequences=True, go_backwards=True).compute_mask(X, m), m)
    assert same(nn.LSTM(2, return_state=True).compute_mask(X, m), [None, None, None])
    assert same(nn.LSTM(2, return_sequences=True, return_state=True).compute_mask(X, m), [m, None, None])
    assert same(nn.GRU(2, return_sequences=True, return_state=True).compute_mask(X, [m]), [m, None])
    assert same(nn.SimpleRNN(2, return_sequences=True).compute_mask(X, None), None)
    bi = nn.Bidirectional
    assert bi.supports_masking
    assert same(bi(nn.LSTM(2)).compute_mask(X, m), None)
    assert same(bi(nn.LSTM(2, return_sequences=True), merge_mode="sum").compute_mask(X, m), m)
    assert same(bi(nn.GRU(2), merge_mode=None).compute_mask(X, m), [None, None])
    assert same(bi(nn.GRU(2, return_sequences=True), merge_mode=None).compute_mask(X, m), [m, m])
    assert same(bi(nn.LSTM(2, return_sequences=True, return_state=True), merge_mode=None).compute_mask(X, m),
                [m, m, None, None, None, None])
    assert same(bi(nn.GRU(2, return_sequences=True, return_state=True), merge_mode="ave").compute_mask(X, m),
                [m, None, None])
    assert same(bi(nn.LSTM(2, return_state=True)).compute_mask(X, m), [None] * 5)


def test_a_model_carries_the_mask_through_stacked_layers() -> None:
    """Masking -> LSTM(return_sequences) -> GRU: each sample as if its zero-padded steps were not there."""
    x = np.random.default_rng(5).standard_normal((4, 6, 3)).astype(np.float32)
    x[np.arange(6) >= LENGTHS[:, None]] = 0.0
    inputs = nn.Input((None, 3))
    lstm, gru = nn.LSTM(4, return_sequences=True), nn.GRU(3)
    model = nn.Model(inputs, gru(lstm(nn.Masking()(inputs))), seed=0)
    got = model.predict(x)
    for i in range(4):
        expected = gru.forward(lstm.forward(x[i:i + 1, :LENGTHS[i]]))
        np.testing.assert_allclose(got[i], expected[0], rtol=1e-5, atol=1e-6)
