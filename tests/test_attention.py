"""``MultiHeadAttention``: float64 gradient checks, an independent einsum formula, PyTorch's layer as an oracle,
Keras's weight layout and call forms, and use inside a traced Keras-style layer."""

from __future__ import annotations

import numpy as np
import pytest
from torch_oracles import torch_multihead_attention

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
Q, V, K = RNG.standard_normal((2, 4, 6)), RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 7))

CASES = {
    "self-shaped": (lambda: nn.MultiHeadAttention(2, 3), [Q, V]),
    "key-value-output": (lambda: nn.MultiHeadAttention(3, 2, value_dim=4, output_shape=5), [Q, V, K]),
    "causal": (lambda: nn.MultiHeadAttention(2, 3, use_causal_mask=True), [Q, Q]),
    "dropout": (lambda: nn.MultiHeadAttention(2, 3, dropout=0.3, seed=1), [Q, V]),
    "no-bias": (lambda: nn.MultiHeadAttention(1, 4, use_bias=False), [Q, V]),
}


@pytest.mark.parametrize("make, xs", CASES.values(), ids=CASES.keys())
def test_gradients(make, xs) -> None:
    layer = make()
    errors = check_module(layer, xs, training=True)
    # the key bias shifts every score of a row alike, which softmax ignores: its gradient is zero
    errors.pop("key_bias", None)
    assert max(errors.values()) < 1e-7, errors
    if layer.key_bias is not None:
        assert np.abs(layer.key_bias.grad).max() < 1e-12


def reference(layer: nn.MultiHeadAttention, q: np.ndarray, v: np.ndarray, causal: bool = False) -> np.ndarray:
    """The formula with einsum, written apart from the layer."""
    def proj(x, kernel, bias):
        return np.einsum("ntd,dhk->nthk", x, kernel.data) + (0 if bias is None else bias.data)
    qh, kh = proj(q, layer.query_kernel, layer.query_bias), proj(v, layer.key_kernel, layer.key_bias)
    vh = proj(v, layer.value_kernel, layer.value_bias)
    scores = np.einsum("nqhk,nvhk->nhqv", qh, kh) / np.sqrt(layer.key_dim)
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[2:], bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    context = np.einsum("nhqv,nvhd->nqhd", p, vh)
    return np.einsum("nqhd,hde->nqe", context, layer.output_kernel.data) + layer.output_bias.data


@pytest.mark.parametrize("causal", [False, True])
def test_the_formula(causal) -> None:
    layer = nn.MultiHeadAttention(3, 2, value_dim=4, use_causal_mask=causal).set_dtype(np.float64)
    value = Q if causal else V
    np.testing.assert_allclose(layer.forward([Q, value]), reference(layer, Q, value, causal), rtol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_against_pytorch(causal) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    layer = nn.MultiHeadAttention(2, 3, use_causal_mask=causal).set_dtype(np.float64)
    x = RNG.standard_normal((2, 5, 6))
    out = layer.forward([x, x])
    g = RNG.standard_normal(out.shape)
    dq, dv = layer.backward(g)
    ref = torch_multihead_attention(torch, layer)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    mask = torch.from_numpy(np.triu(np.ones((5, 5), bool), k=1)) if causal else None
    theirs, _ = ref(xt, xt, xt, attn_mask=mask, need_weights=False)
    theirs.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dq + dv, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_keras_layout_and_call_forms(tmp_path) -> None:
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    query, value = keras.Input((4, 6)), keras.Input((5, 3))
    model = keras.Model([query, value], mha(query, value))
    assert [w.shape for w in mha.get_weights()] == [(6, 2, 3), (2, 3), (3, 2, 3), (2, 3), (3, 2, 3), (2, 3),
                                                     (2, 3, 6), (6,)]
    q32, v32 = Q.astype(np.float32), V.astype(np.float32)
    np.testing.assert_array_equal(model.predict([q32, v32]), mha(q32, v32))
    model.save(tmp_path / "mha.npz")
    np.testing.assert_array_equal(nn.load_model(tmp_path / "mha.npz").predict([q32, v32]), model.predict([q32, v32]))


def test_inside_a_keras_style_transformer_block() -> None:
    """keras-io's TransformerBlock: a layer written with call() and no backward; its gradients check out."""
    class TransformerBlock(keras.layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim):
            super().__init__()
            self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([keras.layers.Dense(ff_dim, activation="relu"), keras.layers.Dense(embed_dim)])
            self.layernorm1 = keras.layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = keras.layers.LayerNormalization(epsilon=1e-6)

        def call(self, inputs):
            out1 = self.layernorm1(inputs + self.att(inputs, inputs))
            return self.layernorm2(out1 + self.ffn(out1))

    block = TransformerBlock(4, 2, 8).set_dtype(np.float64)
    errors = check_module(block, RNG.standard_normal((2, 5, 4)), training=True)
    errors = {k: v for k, v in errors.items() if not k.endswith("key_bias")}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("causal", [False, True])
def test_a_transformer_classifier_exports_to_onnx(tmp_path, causal) -> None:
    """Embedding, attention, Dense on sequences (MatMul), LayerNormalization, pooling: the same in onnxruntime."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    tokens = nn.Input((6,))
    x = nn.Embedding(20, 8)(tokens)
    x = nn.LayerNormalization()(nn.Add()([x, nn.MultiHeadAttention(2, 4, use_causal_mask=causal)(x, x)]))
    x = nn.Dense(8, activation="relu")(x)
    model = nn.Model(tokens, nn.Dense(1, activation="sigmoid")(nn.GlobalAvgPool1D()(x)), seed=0)
    data = RNG.integers(0, 20, (4, 6)).astype(np.float32)
    session = ort.InferenceSession(str(model.export(tmp_path / "t.onnx")))
    got = session.run(None, {session.get_inputs()[0].name: data})[0]
    np.testing.assert_allclose(got, model.predict(data), rtol=1e-5, atol=1e-6)


def test_bad_calls() -> None:
    mha = nn.MultiHeadAttention(2, 3)
    with pytest.raises(ShapeError, match=r"sequences of shape \(batch, steps, features\)"):
        mha(Q[:, 0], V[:, 0])
    mha(Q.astype(np.float32), V.astype(np.float32))
    with pytest.raises(ShapeError, match=r"attention_mask has shape \(2, 4, 4\)"):  # (test_attention_mask_scores)
        mha(Q, V, attention_mask=np.ones((2, 4, 4)))
    with pytest.raises(InvalidValueError, match="one layer keeps one setting"):
        mha(Q, V, use_causal_mask=True)
    with pytest.raises(InvalidValueError, match="attention_axes is not supported"):
        nn.MultiHeadAttention(2, 3, attention_axes=(1,))
