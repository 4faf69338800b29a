"""Keras masks in ``MultiHeadAttention``, ``Attention`` and ``AdditiveAttention`` (``ctx.mask``): float64 gradient
checks with query, value, key and causal masks and dropout, a direct NumPy formula, PyTorch as the oracle of key
padding, Keras's treatment of fully hidden rows, ``compute_mask``, and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked
from torch_oracles import torch_multihead_attention

import nnscratch as nn
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError
from nnscratch.layers.dot_attention import AdditiveAttention, Attention
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
Q, V, K = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 3))
Q6 = RNG.standard_normal((2, 4, 6))
QM = np.array([[True, True, True, False], [True, True, False, False]])  # padding query steps at the end
VM = np.array([[True, True, True, False, False], [True, True, True, True, False]])
KM = np.array([[True, False, True, True, True], [True, True, True, True, True]])
LEFT = np.array([[False, True, True, True], [True, True, True, True]])  # causal: sample 0's query 0 sees no key


def built(layer: nn.Layer, xs: list[np.ndarray]) -> Any:
    """``layer`` in float64, built for ``xs``, its weights moved off their initial values (biases non-zero)."""
    layer.set_dtype(np.float64).build([x.shape[1:] for x in xs])
    layer.set_weights([w + 0.3 + 0.5 * RNG.random(w.shape) for w in layer.get_weights()])
    return layer


def run(layer: nn.Layer, xs: list[np.ndarray], masks: Any, training: bool = False) -> Any:
    return Masked(layer, masks).set_dtype(layer.dtype).forward(xs, training)


# ---------------------------------------------------------------------------------------------- gradients
GRAD_CASES: dict[str, tuple[Any, list[np.ndarray], list[Any]]] = {
    "mha-query-value": (lambda: nn.MultiHeadAttention(2, 3), [Q6, V], [QM, VM]),
    "mha-value-key": (lambda: nn.MultiHeadAttention(3, 2, value_dim=4, output_shape=5), [Q6, V, K], [None, VM, KM]),
    "mha-query-only": (lambda: nn.MultiHeadAttention(2, 3), [Q6, V], [QM, None]),
    "mha-causal-left-padding": (lambda: nn.MultiHeadAttention(2, 3, use_causal_mask=True), [Q6, Q6], [LEFT, LEFT]),
    "mha-causal-no-key": (lambda: nn.MultiHeadAttention(2, 3, use_causal_mask=True), [Q6, Q6], [None, LEFT]),
    "mha-dropout": (lambda: nn.MultiHeadAttention(2, 3, dropout=0.3, seed=1), [Q6, V], [QM, VM]),
    "dot-query-value": (lambda: Attention(use_scale=True), [Q, V], [QM, VM]),
    "dot-value-only": (lambda: Attention(), [Q, V], [None, VM]),
    "concat-scale-key": (lambda: Attention(use_scale=True, score_mode="concat"), [Q, V, K], [QM, VM, KM]),
    "dot-causal": (lambda: Attention(use_scale=True, use_causal_mask=True), [Q, Q], [QM, QM]),
    "dot-scores-out": (lambda: Attention(return_attention_scores=True), [Q, V], [QM, VM]),
    "dot-dropout": (lambda: Attention(use_scale=True, dropout=0.4, seed=1), [Q, V], [QM, VM]),
    "additive": (lambda: AdditiveAttention(), [Q, V], [QM, VM]),
    "additive-key-causal": (lambda: AdditiveAttention(use_causal_mask=True), [Q, V, K], [QM, VM, None]),
    "additive-dropout-scores": (lambda: AdditiveAttention(dropout=0.3, seed=2, return_attention_scores=True),
                                [Q, V], [None, VM]),
}


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradients(name: str) -> None:
    make, xs, masks = GRAD_CASES[name]
    inner = built(make(), xs)
    errors = check_module(Masked(inner, masks), xs, training=True)
    assert len(errors) == len(xs) + len(inner.weights)
    # MultiHeadAttention's key bias shifts a row's scores alike, which softmax ignores: a zero gradient
    key_bias = errors.pop("inner.key_bias", None)
    assert max(errors.values()) < 1e-7, errors
    if key_bias is not None:
        assert np.abs(inner.key_bias.grad).max() < 1e-12
    if inner.dropout:  # the check ran with dropped weights
        dropped, kept = (run(inner, xs, masks, training) for training in (True, False))
        assert not np.allclose(np.asarray(dropped if isinstance(dropped, np.ndarray) else dropped[0]),
                               np.asarray(kept if isinstance(kept, np.ndarray) else kept[0]))


# ---------------------------------------------------------------------------------------------- formulas
def masked_softmax(s: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the allowed entries only, 0 elsewhere (a row with none allowed: all 0)."""
    s = np.where(allowed, s, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(top), top, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def mha_allowed(layer: nn.MultiHeadAttention, xs: list[np.ndarray], masks: list[Any]) -> np.ndarray:
    """``(N, Tq, Tv)``: where query step i may attend to key step j (Keras's ``_compute_attention_mask``)."""
    allowed = np.ones((len(xs[0]), xs[0].shape[1], xs[1].shape[1]), bool)
    for i, m in enumerate(masks):
        if m is not None:
            allowed &= m[:, :, None] if i == 0 else m[:, None, :]
    if layer.use_causal_mask:
        allowed &= np.tril(np.ones(allowed.shape[1:], bool))
    return allowed


def mha_reference(layer: nn.MultiHeadAttention, xs: list[np.ndarray], masks: list[Any]) -> np.ndarray:
    """MultiHeadAttention with Keras's attention mask, written with einsum apart from the layer."""
    q, v = xs[0], xs[1]
    k = xs[2] if len(xs) == 3 else v

    def proj(x: np.ndarray, kernel: Any, bias: Any) -> np.ndarray:
        return np.einsum("ntd,dhk->nthk", x, kernel.data) + bias.data

    qh, kh = proj(q, layer.query_kernel, layer.query_bias), proj(k, layer.key_kernel, layer.key_bias)
    vh = proj(v, layer.value_kernel, layer.value_bias)
    scores = np.einsum("nqhk,nvhk->nhqv", qh, kh) / np.sqrt(layer.key_dim)
    p = masked_softmax(scores, mha_allowed(layer, xs, masks)[:, None])
    context = np.einsum("nhqv,nvhd->nqhd", p, vh)
    return np.einsum("nqhd,hde->nqe", context, layer.output_kernel.data) + layer.output_bias.data


@pytest.mark.parametrize("name", [n for n in GRAD_CASES if n.startswith("mha") and "dropout" not in n])
def test_mha_formula(name: str) -> None:
    make, xs, masks = GRAD_CASES[name]
    layer = built(make(), xs)
    out = run(layer, xs, masks)
    np.testing.assert_allclose(out, mha_reference(layer, xs, masks), rtol=1e-12, atol=1e-12)
    # a query step that may attend to no key (a padding query; a real one whose keys are all hidden) gets
    # all-zero weights: its output is the output bias, whatever the inputs
    none = ~mha_allowed(layer, xs, masks).any(axis=-1)
    if masks[0] is not None or layer.use_causal_mask:
        assert none.any()
    np.testing.assert_array_equal(out[none], np.broadcast_to(layer.output_bias.data, out[none].shape))
    assert (np.abs(out[~none] - layer.output_bias.data) > 0).all()


def dot_reference(layer: Attention, xs: list[np.ndarray], masks: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Attention and AdditiveAttention with a value mask and a query mask (no fully hidden rows): the softmax
    over the real keys only; the output rows of masked query steps 0."""
    q, v = xs[0], xs[1]
    k = xs[2] if len(xs) == 3 else v
    w = {p.name: p.data for p in layer.weights}
    if isinstance(layer, AdditiveAttention):
        s = np.einsum("nqvd,d->nqv", np.tanh(q[:, :, None] + k[:, None]), w.get("scale", np.ones(q.shape[-1])))
    elif layer.score_mode == "dot":
        s = np.einsum("nqd,nvd->nqv", q, k) * w.get("scale", 1.0)
    else:
        s = w["concat_score_weight"] * np.tanh(w.get("scale", 1.0) * (q[:, :, None] + k[:, None])).sum(axis=-1)
    allowed = np.ones(s.shape, bool) if masks[1] is None else np.repeat(masks[1][:, None], s.shape[1], axis=1)
    if layer.use_causal_mask:
        allowed &= np.tril(np.ones(s.shape[1:], bool))
    p = masked_softmax(s, allowed)
    out = p @ v
    if masks[0] is not None:
        out[~masks[0]] = 0.0
    return out, p


@pytest.mark.parametrize("name", [n for n in GRAD_CASES if not n.startswith("mha") and "dropout" not in n])
def test_dot_attention_formula_and_zero_weights(name: str) -> None:
    make, xs, masks = GRAD_CASES[name]
    layer = built(make(), xs)
    layer.return_attention_scores = True
    out, weights = run(layer, xs, masks)
    want_out, want_weights = dot_reference(layer, xs, masks)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights, want_weights, rtol=1e-12, atol=1e-14)
    if masks[1] is not None:  # padding keys get exactly zero weight, in every row (masked queries' too)
        assert (weights[np.broadcast_to(~masks[1][:, None], weights.shape)] == 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)  # Keras leaves the query mask out of them
    if masks[0] is not None:
        assert (out[~masks[0]] == 0).all() and (np.abs(out[masks[0]]).min(axis=-1) > 0).all()


@pytest.mark.parametrize("make, query", [(lambda: nn.MultiHeadAttention(2, 3), Q6),
                                         (lambda: Attention(use_scale=True), Q), (lambda: AdditiveAttention(), Q)])
def test_padding_values_do_not_reach_the_output(make: Any, query: np.ndarray) -> None:
    xs = [query, V]
    layer = built(make(), xs)
    out = run(layer, xs, [None, VM])
    changed = V.copy()
    changed[~VM] = 1e3
    np.testing.assert_array_equal(run(layer, [xs[0], changed], [None, VM]), out)
    assert not np.allclose(layer.forward([xs[0], changed]), layer.forward(xs))  # unmasked: they do


def test_fully_hidden_rows_in_attention_are_keras_s() -> None:
    """Keras's Attention takes 1e9 off the hidden scores and does not zero them after the softmax: a row whose keys
    are all hidden is the unmasked softmax in float64 (the same shift for all) and, in float32, where 1e9 swallows
    the scores (ulp 64), uniform."""
    hidden = np.array([[False] * 5, [True, True, False, False, True]])
    layer = built(Attention(return_attention_scores=True), [Q, V])
    _, weights = run(layer, [Q, V], [None, hidden])
    _, free = layer.forward([Q, V])
    np.testing.assert_allclose(weights[0], free[0], rtol=1e-6)
    assert (weights[1][:, ~hidden[1]] == 0).all()
    layer32 = Attention(return_attention_scores=True)
    _, weights32 = run(layer32, [Q.astype(np.float32), V.astype(np.float32)], [None, hidden])
    np.testing.assert_array_equal(weights32[0], np.float32(1 / 5))
    assert (weights32[1][:, ~hidden[1]] == 0).all()
    # the value's and the causal mask hide a key once (sample 0's key 1, for query step 0): sample 0's first two
    # query steps, whose visible keys are padding, weigh all their keys as unmasked
    causal = built(Attention(use_causal_mask=True, return_attention_scores=True), [Q, Q])
    _, weights = run(causal, [Q, Q], [None, np.array([[False, False, True, True], [True] * 4])])
    _, free = Attention(return_attention_scores=True).set_dtype(np.float64)([Q, Q])
    np.testing.assert_allclose(weights[0, :2], free[0, :2], rtol=1e-6)
    assert (weights[0, 2:][np.triu(np.ones((2, 4), bool), k=3)] == 0).all() and (weights[0, 2:, :2] == 0).all()


def test_key_mask_is_ignored_by_attention_as_in_keras() -> None:
    layer = built(Attention(use_scale=True), [Q, V, K])
    np.testing.assert_array_equal(run(layer, [Q, V, K], [QM, VM, KM]), run(layer, [Q, V, K], [QM, VM, None]))
    mha = built(nn.MultiHeadAttention(2, 3), [Q6, V, K])
    assert not np.allclose(run(mha, [Q6, V, K], [None, VM, KM]), run(mha, [Q6, V, K], [None, VM, None]))


@pytest.mark.parametrize("make, xs", [(lambda: nn.MultiHeadAttention(2, 3, use_causal_mask=True), [Q6, Q6]),
                                      (lambda: Attention(use_causal_mask=True, dropout=0.2, seed=1), [Q, Q])])
def test_without_masks_nothing_changes(make: Any, xs: list[np.ndarray]) -> None:
    layer = built(make(), xs)
    layer.set_rng(np.random.default_rng(5), seeded=True)
    plain = layer.forward(xs, training=True)
    layer.set_rng(np.random.default_rng(5), seeded=True)  # the same dropout draws again
    np.testing.assert_array_equal(run(layer, xs, [None] * len(xs), training=True), plain)
    layer.set_rng(np.random.default_rng(5), seeded=True)
    real = [np.ones(x.shape[:2], bool) for x in xs]  # every step real: the masked path, the same numbers
    np.testing.assert_allclose(run(layer, xs, real, training=True), plain, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------------------------- PyTorch
def test_mha_key_padding_against_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    x = RNG.standard_normal((2, 5, 6))
    layer = built(nn.MultiHeadAttention(2, 3), [x, x])
    masks = [VM, VM]  # self-attention: the padding steps are queries and keys
    wrapper = Masked(layer, masks).set_dtype(np.float64)
    out = wrapper.forward([x, x])
    g = RNG.standard_normal(out.shape) * VM[:, :, None]  # the padding queries' outputs are not compared
    dq, dv = wrapper.backward(g)
    ref = torch_multihead_attention(torch, layer)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    theirs, _ = ref(xt, xt, xt, key_padding_mask=torch.from_numpy(~VM), need_weights=False)
    theirs.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out[VM], theirs.detach().numpy()[VM], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out[~VM], np.broadcast_to(layer.output_bias.data, out[~VM].shape))
    np.testing.assert_allclose(dq + dv, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_key_padding_against_pytorch_sdpa(causal: bool) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    F = torch.nn.functional
    xs = [Q, V, K] if not causal else [Q, Q]
    masks = [QM, VM, None] if not causal else [QM, QM]
    layer = built(Attention(use_scale=True, use_causal_mask=causal), xs)
    wrapper = Masked(layer, masks).set_dtype(np.float64)
    out = wrapper.forward(xs)
    g = RNG.standard_normal(out.shape)
    grads = wrapper.backward(g)
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    q, v = ts[0], ts[1]
    k = ts[2] if len(ts) == 3 else v
    allowed = torch.from_numpy(masks[1])[:, None, :]  # SDPA's boolean mask: True takes part
    if causal:
        allowed = allowed & torch.ones(q.shape[1], k.shape[1], dtype=torch.bool).tril()
    scale = float(layer.scale.data)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=scale)
    theirs = theirs * torch.from_numpy(masks[0])[:, :, None]
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, t in zip(grads, ts):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_additive_key_padding_against_pytorch_autograd() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    layer = built(AdditiveAttention(), [Q, V])
    wrapper = Masked(layer, [QM, VM]).set_dtype(np.float64)
    out = wrapper.forward([Q, V])
    g = RNG.standard_normal(out.shape)
    layer.scale.zero_grad()
    dq, dv = wrapper.backward(g)
    q, v = torch.tensor(Q, requires_grad=True), torch.tensor(V, requires_grad=True)
    scale = torch.tensor(layer.scale.data, requires_grad=True)
    s = (scale * torch.tanh(q[:, :, None] + v[:, None])).sum(-1)
    s = s.masked_fill(torch.from_numpy(~VM)[:, None, :], float("-inf"))
    theirs = (torch.softmax(s, dim=-1) @ v) * torch.from_numpy(QM)[:, :, None]
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dq, q.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dv, v.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.scale.grad, scale.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------- masks out, errors
def test_compute_mask_is_the_query_s() -> None:
    for layer, xs in ((nn.MultiHeadAttention(2, 3), [Q6, V]), (Attention(), [Q, V]), (AdditiveAttention(), [Q, V])):
        assert layer.supports_masking
        np.testing.assert_array_equal(layer.compute_mask(xs, [QM, VM]), QM)
        np.testing.assert_array_equal(layer.compute_mask(xs, [QM, None, KM]), QM)
        assert layer.compute_mask(xs, [None, VM]) is None
        assert layer.compute_mask(xs, None) is None
    scores = Attention(return_attention_scores=True)
    out_mask, weights_mask = scores.compute_mask([Q, V], [QM, VM])
    np.testing.assert_array_equal(out_mask, QM)
    assert weights_mask is None
    assert scores.compute_mask([Q, V], [None, VM]) == [None, None]


def test_in_a_graph_with_an_embedding_that_masks_zeros() -> None:
    tokens = nn.Input((5,))
    embedding, mha, att = nn.Embedding(10, 6, mask_zero=True), nn.MultiHeadAttention(2, 3), Attention()
    x = embedding(tokens)
    model = nn.Model(tokens, [mha(x, x), att([x, x])], seed=0)
    data = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 0]], np.float32)
    real, e = data != 0, embedding.forward(data)
    for layer, got in zip((mha, att), model.predict(data)):
        xs = [e, e]
        np.testing.assert_allclose(got, run(layer, xs, [real, real]), rtol=1e-6, atol=1e-7)
        assert not np.allclose(got, layer.forward(xs), rtol=1e-3)


def test_bad_masks_and_mask_arguments() -> None:
    layer = built(Attention(), [Q, V])
    with pytest.raises(InvalidValueError, match="one mask .* per input"):
        run(layer, [Q, V], [QM])
    with pytest.raises(InvalidValueError, match="one mask .* per input"):
        run(layer, [Q, V], QM)
    with pytest.raises(ShapeError, match=r"input 1's mask has shape \(2, 4\)"):
        run(layer, [Q, V], [None, QM])
    with pytest.raises(InvalidTypeError, match="must be a boolean array"):
        run(layer, [Q, V], [QM.astype(np.float64), None])
    with pytest.raises(InvalidValueError, match="list of masks"):
        layer.compute_mask([Q, V], QM)
    mha = built(nn.MultiHeadAttention(2, 3), [Q6, V])
    with pytest.raises(ShapeError, match=r"input 0's mask has shape \(2, 5\)"):
        run(mha, [Q6, V], [VM, VM])
    with pytest.raises(ShapeError, match=r"attention_mask has shape \(2, 4, 4\)"):
        mha(Q6, V, attention_mask=np.ones((2, 4, 4), bool))
    with pytest.raises(InvalidValueError, match=r"mask= \(Keras masks\) is not supported in nnscratch as a call"):
        layer([Q, V], mask=[QM, VM])
