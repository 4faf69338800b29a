"""``MultiHeadAttention``'s ``attention_mask`` and ``return_attention_scores`` (Keras 3): float64 gradient checks
(with the inputs' Keras masks, the causal mask and dropout), PyTorch as the oracle of the mask and the per-head
weights, Keras's semantics (AND with the other masks, rows with no key allowed, broadcasting), eager / traced /
graph calls, model files, ONNX, and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from torch_oracles import torch_multihead_attention

import nnscratch as nn
from nnscratch import keras, ops
from nnscratch.core.call import Call
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
Q, V, K = RNG.standard_normal((2, 4, 6)), RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 7))
X = RNG.standard_normal((2, 4, 6))  # for self-attention
QM = np.array([[True, True, True, False], [True, True, False, False]])
VM = np.array([[True, True, True, False, False], [True, True, True, True, False]])
AM = RNG.random((2, 4, 5)) > 0.35  # an attention mask (N, Tq, Tv) ...
AM[0, 1] = False  # ... with a query step allowed no key
SELF = RNG.random((2, 4, 4)) > 0.3
SELF[1, 2] = False


class WithMask(nn.Layer):
    """Runs ``inner`` with the attention mask ``mask`` (a constant, so the gradient checks perturb only the
    sequences) and the Keras input masks ``masks`` on its record, as a graph does."""

    checks_dtype = False

    def __init__(self, inner: nn.MultiHeadAttention, mask: Any, masks: Any = None) -> None:
        super().__init__()
        self.inner, self.mask, self.masks = inner, mask, masks

    def forward_call(self, ctx: Call, xs: Any) -> Any:
        record = ctx.sub("inner")
        record.mask = None if self.masks is None else [*self.masks, *[None] * (4 - len(self.masks))]
        ctx.with_key = len(xs) == 3
        return self.inner.forward_call(record, [xs[0], xs[1], xs[-1], self.mask])

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        dq, dv, dk, dmask = self.inner.backward_call(ctx.recorded("inner"), grad_out)
        assert dmask is None
        return [dq, dv, dk] if ctx.with_key else [dq, dv + dk]


def built(layer: nn.MultiHeadAttention, xs: list[np.ndarray], scores: bool = False) -> nn.MultiHeadAttention:
    """``layer`` in float64, built for ``xs``, its weights moved off their initial values (biases non-zero)."""
    layer.set_dtype(np.float64).build([x.shape[1:] for x in xs])
    layer.set_weights([w + 0.3 + 0.5 * RNG.random(w.shape) for w in layer.get_weights()])
    layer.return_attention_scores = scores
    return layer


# ---------------------------------------------------------------------------------------------- gradients
GRAD_CASES: dict[str, tuple[Any, list[np.ndarray], Any, Any, bool]] = {
    "mask": (lambda: nn.MultiHeadAttention(2, 3), [Q, V], AM, None, False),
    "mask-0/1-floats-broadcast": (lambda: nn.MultiHeadAttention(2, 3), [Q, V], AM[:1].astype(float), None, False),
    "scores": (lambda: nn.MultiHeadAttention(3, 2, value_dim=4, output_shape=5), [Q, V, K], None, None, True),
    "mask-scores-key": (lambda: nn.MultiHeadAttention(3, 2, value_dim=4), [Q, V, K], AM, None, True),
    "mask-scores-causal-input-masks": (lambda: nn.MultiHeadAttention(2, 3, use_causal_mask=True), [X, X], SELF,
                               [QM, QM], True),
    "mask-scores-dropout": (lambda: nn.MultiHeadAttention(2, 3, dropout=0.3, seed=1), [Q, V], AM, [QM, VM], True),
}


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradients(name: str) -> None:
    """dL/d(inputs) and dL/d(weights) for a loss on the output and (with the scores) on the attention scores."""
    make, xs, mask, masks, scores = GRAD_CASES[name]
    inner = built(make(), xs, scores)
    layer: nn.Layer = inner if mask is None and masks is None else WithMask(inner, mask, masks)
    errors = check_module(layer, xs, training=True)
    assert len(errors) == len(xs) + len(inner.weights)
    errors.pop(next(k for k in errors if k.endswith("key_bias")))  # a row's shift, which softmax ignores: 0
    assert max(errors.values()) < 1e-7, errors
    assert np.abs(inner.key_bias.grad).max() < 1e-12


def test_gradients_inside_a_traced_layer() -> None:
    """A Keras-style layer (call(), no backward) using the mask (a traced Tensor computed from its input, which
    broadcasts (N, 1, Tv)) and both outputs: the tape's gradients check out."""
    class Block(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.att = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, use_causal_mask=True)

        def call(self, x: Any) -> Any:
            keep = ops.greater(x[:, :, 0], 0.0)
            out, scores = self.att(x, x, attention_mask=keep[:, None, :], return_attention_scores=True)
            return [ops.tanh(out), scores * 2.0]

    block = Block().set_dtype(np.float64)
    errors = check_module(block, X, training=True)
    errors.pop("att.key_bias")
    assert max(errors.values()) < 1e-7, errors
    out, scores = block.forward(X)
    keep = X[:, :, 0] > 0
    allowed = keep[:, None, :] & np.tril(np.ones((4, 4), bool))
    assert (scores[np.broadcast_to(~allowed[:, None], scores.shape)] == 0).all()
    assert not block.att.return_attention_scores  # the call's option only


# ---------------------------------------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("causal", [False, True])
def test_mask_and_per_head_weights_against_pytorch(causal: bool) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    allowed = SELF | np.eye(4, dtype=bool)  # every query step may attend to some key (PyTorch: NaN otherwise)
    layer = built(nn.MultiHeadAttention(2, 3, use_causal_mask=causal), [X, X])
    out, weights = layer(X, X, attention_mask=allowed, return_attention_scores=True)
    g_out, g_weights = RNG.standard_normal(out.shape), RNG.standard_normal(weights.shape)
    dq, dv, dk, dmask = layer.backward([g_out, g_weights])  # (the key is the value: its own gradient)
    assert dmask is None
    ref = torch_multihead_attention(torch, layer)
    xt = torch.from_numpy(X.copy()).requires_grad_(True)
    hidden = ~(allowed & np.tril(np.ones((4, 4), bool))) if causal else ~allowed  # PyTorch's: True is NOT allowed
    theirs, their_weights = ref(xt, xt, xt, attn_mask=torch.from_numpy(np.repeat(hidden, 2, axis=0)),
                                need_weights=True, average_attn_weights=False)
    ((theirs * torch.from_numpy(g_out)).sum() + (their_weights * torch.from_numpy(g_weights)).sum()).backward()
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights, their_weights.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dq + dv + dk, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------- Keras's semantics
def test_no_key_allowed_gives_zero_weights_and_the_output_bias() -> None:
    """Keras's masked softmax (keras.layers.Softmax with a mask) zeroes the weights of hidden keys after the
    softmax: a row with no key allowed is all zeros, and its output is the output bias."""
    layer = built(nn.MultiHeadAttention(2, 3), [Q, V])
    out, weights = layer(Q, V, attention_mask=AM, return_attention_scores=True)
    assert (weights[np.broadcast_to(~AM[:, None], weights.shape)] == 0).all()
    np.testing.assert_array_equal(weights[0, :, 1], 0.0)
    np.testing.assert_array_equal(out[0, 1], layer.output_bias.data)
    rows = AM.any(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1)[np.broadcast_to(rows[:, None], weights.shape[:3])], 1.0,
                               rtol=1e-12)


def test_it_is_anded_with_the_input_masks_and_the_causal_mask() -> None:
    """Keras's _compute_attention_mask: attention_mask & query_mask[:, :, None] & value_mask[:, None, :] & causal."""
    layer = built(nn.MultiHeadAttention(2, 3, use_causal_mask=True), [X, X], scores=True)
    out, weights = WithMask(layer, SELF, [QM, QM]).forward([X, X])
    combined = SELF & QM[:, :, None] & QM[:, None, :] & np.tril(np.ones((4, 4), bool))
    free = built(nn.MultiHeadAttention(2, 3), [X, X], scores=True)
    free.set_weights(layer.get_weights())
    want_out, want_weights = free(X, X, attention_mask=combined)
    np.testing.assert_allclose(out, want_out, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(weights, want_weights, rtol=1e-13, atol=1e-15)


FORMS = {"int": AM.astype(np.int32), "float": AM.astype(np.float32), "lists": AM.astype(int).tolist(),
         "(Tq, Tv)": AM[1],
         "(1, Tq, Tv)": AM[:1], "(N, 1, Tv)": AM[:, :1], "(N, Tq, 1)": AM[:, :, :1]}


@pytest.mark.parametrize("form", FORMS)
def test_numbers_and_shapes_that_broadcast(form: str) -> None:
    """0/1 numbers (and nested lists) are booleans; a mask broadcasts to (N, Tq, Tv) as in Keras ((Tq, Tv): for
    every sample)."""
    layer = built(nn.MultiHeadAttention(2, 3), [Q, V], scores=True)
    given = FORMS[form]
    array = np.asarray(given) != 0
    full = np.broadcast_to(array if array.ndim == 3 else array[None], AM.shape).copy()
    for got, want in zip(layer(Q, V, attention_mask=given), layer(Q, V, attention_mask=full)):
        np.testing.assert_array_equal(got, want)


def test_without_a_mask_nothing_changes() -> None:
    layer = built(nn.MultiHeadAttention(2, 3), [Q, V])
    plain = layer(Q, V)
    np.testing.assert_array_equal(layer(Q, V, attention_mask=np.ones((2, 4, 5), bool)), plain)
    out, weights = layer(Q, V, return_attention_scores=True)
    np.testing.assert_array_equal(out, plain)
    assert weights.shape == (2, 2, 4, 5)
    assert layer.get_config() == built(nn.MultiHeadAttention(2, 3), [Q, V]).get_config()  # (the call's option only)


# ---------------------------------------------------------------------------------------------- graphs and files
def graph_model(scores: bool) -> tuple[nn.Model, nn.MultiHeadAttention]:
    """Tokens and a mask as inputs: with the scores an (N, Tq, Tv) Input is the attention mask; without, a key mask
    (N, Tv) from which the attention mask (N, 1, Tv) is computed."""
    tokens, given = nn.Input((5,)), nn.Input((5, 5) if scores else (5,))
    x = nn.Embedding(12, 6)(tokens)
    mha = nn.MultiHeadAttention(2, 3)
    att = mha(x, x, attention_mask=given if scores else ops.expand_dims(given, 1), return_attention_scores=scores)
    out, weights = att if scores else (att, None)
    y = nn.Dense(1)(nn.GlobalAvgPool1D()(out))
    return nn.Model([tokens, given], [y, weights] if scores else y, seed=0), mha


@pytest.mark.parametrize("scores", [False, True])
def test_a_graph_with_a_mask_input_trains_saves_and_loads(tmp_path: Any, scores: bool) -> None:
    model, mha = graph_model(scores)
    tokens = RNG.integers(0, 12, (16, 5)).astype(np.float32)
    keep = np.arange(5)[None] < RNG.integers(1, 6, (16, 1))
    allowed = np.repeat(keep[:, None], 5, axis=1) if scores else keep
    y = RNG.standard_normal((16, 1)).astype(np.float32)
    targets = [y, np.zeros((16, 2, 5, 5), np.float32)] if scores else y
    model.compile(optimizer="adam", loss=["mse", "mse"] if scores else "mse")
    before = mha.get_weights()
    model.fit([tokens, allowed], targets, epochs=2, batch_size=8, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, mha.get_weights()) if a.ndim == 3)
    got = model.predict([tokens, allowed])
    if scores:
        weights = got[1]
        assert (weights[np.broadcast_to(~keep[:, None, None, :], weights.shape)] == 0).all()
    model.save(tmp_path / "m.npz")
    again = nn.load_model(tmp_path / "m.npz").predict([tokens, allowed])
    for a, b in zip(got, again) if scores else [(got, again)]:
        np.testing.assert_array_equal(a, b)
    config = mha.get_config()
    assert type(mha).from_config(config).get_config() == config
    assert config.get("return_attention_scores", False) == scores


def test_the_list_form_a_model_file_replays() -> None:
    mha = built(nn.MultiHeadAttention(2, 3), [Q, V])
    np.testing.assert_array_equal(mha([Q, V, V, AM]), mha(Q, V, attention_mask=AM))
    np.testing.assert_array_equal(mha([Q, V, K[:, :, :3]], attention_mask=AM), mha(Q, V, K[:, :, :3], attention_mask=AM))


def test_a_traced_layer_taking_the_mask_as_an_input_trains_in_a_graph() -> None:
    """keras-io's pattern: a layer written with call() gets [sequence, mask] and passes the mask (a traced Tensor)
    to its attention; in a functional model the mask is a model input."""
    class Block(keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.att = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
            self.ffn = keras.layers.Dense(6)

        def call(self, inputs: Any) -> Any:
            x, allowed = inputs
            return self.ffn(x + self.att(x, x, attention_mask=allowed))

    tokens, allowed = nn.Input((5,)), nn.Input((5, 5))
    block = Block()
    steps = block([nn.Embedding(12, 6)(tokens), allowed])
    model = nn.Model([tokens, allowed], nn.Dense(1)(nn.GlobalAvgPool1D()(steps)), seed=0)
    model.compile(optimizer="adam", loss="mse")
    data = [RNG.integers(0, 12, (16, 5)).astype(np.float32), np.tril(np.ones((16, 5, 5), bool))]
    before = block.att.query_kernel.data.copy()
    history = model.fit(data, RNG.standard_normal((16, 1)), epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and not np.allclose(before, block.att.query_kernel.data)
    changed = data[0].copy()
    changed[:, -1] = (changed[:, -1] + 1) % 12  # the last token: with the mask only the last query step sees it
    per_step = nn.Model([tokens, allowed], steps)
    got, was = per_step.predict([changed, data[1]]), per_step.predict(data)
    np.testing.assert_array_equal(got[:, :4], was[:, :4])
    assert (np.abs(got[:, 4] - was[:, 4]).max(axis=-1) > 0).all()


@pytest.mark.parametrize("causal", [False, True])
def test_onnx_export_with_a_mask_input_and_the_scores(tmp_path: Any, causal: bool) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    query, value, mask = nn.Input((4, 6)), nn.Input((5, 3)), nn.Input((4, 5))
    out, weights = nn.MultiHeadAttention(2, 3, use_causal_mask=causal)(query, value, attention_mask=mask,
                                                                       return_attention_scores=True)
    model = nn.Model([query, value, mask], [out, weights], seed=0)
    data = [Q.astype(np.float32), V.astype(np.float32), AM.astype(np.float32)]
    session = ort.InferenceSession(str(model.export(tmp_path / "a.onnx")))
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), data)})
    for a, b in zip(got, model.predict(data)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------- errors
def test_bad_masks_and_calls() -> None:
    mha = nn.MultiHeadAttention(2, 3)
    q, v = Q.astype(np.float32), V.astype(np.float32)
    with pytest.raises(ShapeError, match=r"attention_mask has shape \(2, 4, 4\); .* need \(N, Tq, Tv\) = \(2, 4, 5\)"):
        mha(q, v, attention_mask=np.ones((2, 4, 4), bool))
    with pytest.raises(ShapeError, match=r"attention_mask has shape \(2, 2, 4, 5\)"):
        mha(q, v, attention_mask=np.ones((2, 2, 4, 5), bool))
    with pytest.raises(InvalidTypeError, match="booleans or 0/1 numbers"):
        mha(q, v, attention_mask=np.full((2, 4, 5), "yes"))
    for bad, shown in ((np.nan, "nan"), (-np.inf, "-inf"), (0.5, "0.5")):
        mask = np.ones((2, 4, 5), np.float32)
        mask[1, 2, 3] = bad
        with pytest.raises(InvalidValueError, match=f"must hold booleans or 0/1 numbers .* got {shown}"):
            mha(q, v, attention_mask=mask)
    with pytest.raises(InvalidValueError, match="the key or the attention mask twice"):
        mha([q, v, v, AM], attention_mask=AM)
    query, value = nn.Input((4, 6)), nn.Input((5, 3))
    with pytest.raises(ShapeError, match=r"attention_mask has shape \(None, 5, 4\)"):
        mha(query, value, attention_mask=nn.Input((5, 4)))
    with pytest.raises(InvalidTypeError, match="attention_mask in a graph must be a symbolic tensor"):
        mha(query, value, attention_mask=AM)
    out, weights = mha(query, value, return_attention_scores=True)
    assert weights.shape == (None, 2, 4, 5) and len(mha(query, value)) == 2  # left out: the layer's setting
    with pytest.raises(InvalidValueError, match="return_attention_scores=True; one layer keeps one setting"):
        mha(query, value, return_attention_scores=False)


def test_a_boolean_mask_input_is_carried_as_float32_and_predicts_as_its_0_1_copy():
    q, m = nn.Input((4, 6)), nn.Input((4, 4), dtype="bool")  # Keras programs declare mask inputs so
    model = nn.Model([q, m], nn.MultiHeadAttention(2, 3)(q, q, attention_mask=m))
    mask = np.tril(np.ones((2, 4, 4), bool))
    x = np.random.default_rng(0).standard_normal((2, 4, 6)).astype(np.float32)
    np.testing.assert_array_equal(model.predict([x, mask]), model.predict([x, mask.astype(np.float32)]))
    assert not np.array_equal(model.predict([x, mask]), model.predict([x, np.ones_like(mask)]))


def test_keras_3_query_value_and_key_masks_join_the_attention_mask() -> None:
    rng = np.random.default_rng(3)
    q, v = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 6))
    qm, vm, km = rng.random((2, 4)) > 0.3, rng.random((2, 5)) > 0.3, rng.random((2, 5)) > 0.2
    am = rng.random((2, 4, 5)) > 0.2
    mha = nn.MultiHeadAttention(2, 3).set_dtype("float64")
    expected = mha(q, v, v, attention_mask=qm[:, :, None] & vm[:, None, :] & km[:, None, :] & am)
    got = mha(q, v, v, query_mask=qm, value_mask=vm, key_mask=km.astype(np.int32), attention_mask=am)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(mha(q, v, query_mask=qm), mha(q, v, attention_mask=qm[:, :, None]))
    x, m = nn.Input((4, 6), dtype="float64"), nn.Input((4,), dtype="bool")  # in a graph: ops on symbolic tensors
    layer = nn.MultiHeadAttention(2, 3).set_dtype("float64")
    model = nn.Model([x, m], layer(x, x, query_mask=m, value_mask=m))
    keep = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    qq = rng.standard_normal((2, 4, 6))
    np.testing.assert_allclose(model.predict([qq, keep]), layer(qq, qq, attention_mask=keep[:, :, None] & keep[:, None]),
                               rtol=1e-12)
