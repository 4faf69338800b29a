"""``Attention`` and ``AdditiveAttention``: float64 gradient checks in every mode, a direct NumPy formula, Keras's own
expected numbers, PyTorch autograd as an oracle, variable lengths, model files, ONNX, and clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError
from nnscratch.layers.dot_attention import AdditiveAttention, Attention
from nnscratch.utils.gradcheck import check_module, check_training

RNG = np.random.default_rng(0)
Q, V, K = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 3))
V2 = RNG.standard_normal((2, 5, 2))  # a value of other features than the query and key (dot scores only)


def built(layer: Attention, xs: list[np.ndarray]) -> Attention:
    """``layer`` in float64, built for ``xs``, its weights moved off their initial values."""
    layer.set_dtype(np.float64).build([x.shape[1:] for x in xs])
    layer.set_weights([0.8 + 0.5 * RNG.random(w.shape) for w in layer.get_weights()])
    return layer


CASES: dict[str, tuple[Any, list[np.ndarray]]] = {
    "dot": (lambda: Attention(), [Q, V]),
    "dot-scale": (lambda: Attention(use_scale=True), [Q, V]),
    "dot-key-value": (lambda: Attention(use_scale=True), [Q, V2, K]),
    "concat": (lambda: Attention(score_mode="concat"), [Q, V]),
    "concat-scale-key": (lambda: Attention(use_scale=True, score_mode="concat"), [Q, V, K]),
    "causal-self": (lambda: Attention(use_scale=True, use_causal_mask=True), [Q, Q]),
    "causal-longer-query": (lambda: Attention(score_mode="concat", use_causal_mask=True), [V, Q]),
    "dropout": (lambda: Attention(use_scale=True, dropout=0.4, seed=1), [Q, V]),
    "scores-out": (lambda: Attention(use_scale=True, return_attention_scores=True), [Q, V]),
    "additive": (lambda: AdditiveAttention(), [Q, V]),
    "additive-no-scale": (lambda: AdditiveAttention(use_scale=False), [Q, V]),
    "additive-key-causal": (lambda: AdditiveAttention(use_causal_mask=True), [Q, V, K]),
    "additive-dropout-scores": (lambda: AdditiveAttention(dropout=0.3, seed=2, return_attention_scores=True),
                                [Q, V, K]),
}


@pytest.mark.parametrize("name", CASES)
def test_gradients(name: str) -> None:
    make, xs = CASES[name]
    layer = built(make(), xs)
    errors = check_module(layer, xs, training=True)
    assert max(errors.values()) < 1e-7, errors
    assert len(errors) == len(xs) + len(layer.weights)
    if layer.dropout:  # the check ran with masks that dropped some weights
        dropped, kept = (np.asarray(o if isinstance(o, np.ndarray) else o[0])
                         for o in (layer.forward(xs, training=True), layer.forward(xs)))
        assert not np.allclose(dropped, kept)


def reference(layer: Attention, q: np.ndarray, v: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
    """The formula, written apart from the layer (float64, inference)."""
    k = v if k is None else k
    a = q[:, :, None, :] + k[:, None, :, :]
    w = {p.name: p.data for p in layer.weights}
    if isinstance(layer, AdditiveAttention):
        s = np.einsum("nqvd,d->nqv", np.tanh(a), w.get("scale", np.ones(q.shape[-1])))
    elif layer.score_mode == "dot":
        s = np.einsum("nqd,nvd->nqv", q, k) * w.get("scale", 1.0)
    else:
        s = w["concat_score_weight"] * np.tanh(w.get("scale", 1.0) * a).sum(axis=-1)
    if layer.use_causal_mask:
        s = np.where(np.tril(np.ones(s.shape[1:], bool)), s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return np.einsum("nqv,nvd->nqd", p / p.sum(axis=-1, keepdims=True), v)


@pytest.mark.parametrize("name", [n for n in CASES if "dropout" not in n and "scores" not in n])
def test_the_formula(name: str) -> None:
    make, xs = CASES[name]
    layer = built(make(), xs)
    np.testing.assert_allclose(layer.forward(xs), reference(layer, *xs), rtol=1e-12, atol=1e-14)


def test_keras_expected_numbers() -> None:
    """keras/src/layers/attention/attention_test.py and additive_attention_test.py, test_attention_correctness."""
    query, key = np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.array([[[0.0, 1.0], [1.0, 0.0]]])
    value = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    out, scores = Attention()([query, value, key], return_attention_scores=True)
    np.testing.assert_allclose(out, [[[2.462, 3.462], [1.538, 2.538]]], atol=1e-3)
    np.testing.assert_allclose(scores, [[[0.269, 0.731], [0.731, 0.269]]], atol=1e-3)
    for layer in (Attention(score_mode="concat"), AdditiveAttention(use_scale=False)):
        out, scores = layer([query, value, key], return_attention_scores=True)
        np.testing.assert_allclose(out, [[[1.727, 2.727], [2.272, 3.272]]], atol=1e-3)
        np.testing.assert_allclose(scores, [[[0.636, 0.363], [0.363, 0.636]]], atol=1e-3)


@pytest.mark.parametrize("name", ["dot-scale", "dot-key-value", "concat-scale-key", "causal-self",
                                  "causal-longer-query", "additive", "additive-key-causal"])
def test_against_pytorch_autograd(name: str) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    make, xs = CASES[name]
    layer = built(make(), xs)
    out = layer.forward(xs)
    g = RNG.standard_normal(out.shape)
    for w in layer.weights:
        w.zero_grad()
    dxs = layer.backward(g)
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    w = {p.name: torch.tensor(p.data, requires_grad=True) for p in layer.weights}
    q, v = ts[0], ts[1]
    k = ts[2] if len(ts) == 3 else v
    if isinstance(layer, AdditiveAttention):
        s = (w["scale"] * torch.tanh(q[:, :, None] + k[:, None])).sum(-1)
    elif layer.score_mode == "dot":
        s = q @ k.transpose(1, 2) * w.get("scale", 1.0)
    else:
        s = w["concat_score_weight"] * torch.tanh(w.get("scale", 1.0) * (q[:, :, None] + k[:, None])).sum(-1)
    if layer.use_causal_mask:
        s = s.masked_fill(torch.ones(s.shape[1:], dtype=torch.bool).triu(1), float("-inf"))
    theirs = torch.softmax(s, dim=-1) @ v
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, t in zip(dxs, ts):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p in layer.weights:
        np.testing.assert_allclose(p.grad, w[p.name].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_keras_weights_and_config() -> None:
    att = Attention(use_scale=True, score_mode="concat", dropout=0.25)
    att([Q.astype(np.float32), V.astype(np.float32)])
    assert [(w.name, w.shape) for w in att.weights] == [("scale", ()), ("concat_score_weight", ())]
    assert att.get_config() == {"use_scale": True, "score_mode": "concat", "dropout": 0.25,
                                "use_causal_mask": False, "return_attention_scores": False}
    add = AdditiveAttention()
    add([Q.astype(np.float32), V.astype(np.float32)])
    assert [(w.name, w.shape) for w in add.weights] == [("scale", (3,))]
    assert np.abs(add.scale.data).max() <= np.sqrt(6 / 6)  # glorot_uniform of (3,): fans 3 and 3
    add.set_weights([np.array([1.0, 2.0, 3.0])])  # as from a Keras layer's get_weights()
    assert add.get_config() == {"use_scale": True, "dropout": 0.0, "use_causal_mask": False,
                                "return_attention_scores": False}
    assert AdditiveAttention(**add.get_config()).get_config() == add.get_config()
    assert Attention().weights == [] and Attention().per_sample and not Attention(dropout=0.1).per_sample


def _model(make: Any, length: int | None, other: int | None, causal: bool = False) -> nn.Model:
    q, v = nn.Input(shape=(length, 4), dtype="float64"), nn.Input(shape=(other, 4), dtype="float64")
    return nn.Model([q, v], make()([q, v], use_causal_mask=causal), seed=0)


@pytest.mark.parametrize("make, causal", [(lambda: Attention(use_scale=True, score_mode="concat"), False),
                                          (lambda: AdditiveAttention(), True)])
def test_variable_lengths(make: Any, causal: bool) -> None:
    model = _model(make, None, None, causal)
    assert model.outputs[0].shape == (None, None, 4)
    rng = np.random.default_rng(1)
    for tq, tv in ((3, 5), (6, 2)):
        xs = [rng.standard_normal((2, tq, 4)), rng.standard_normal((2, tv, 4))]
        assert max(check_module(model, xs).values()) < 1e-7
        fixed = _model(make, tq, tv, causal)
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(model.predict(xs), fixed.predict(xs), rtol=0, atol=1e-12)


def test_model_files_keep_everything(tmp_path) -> None:
    q, v, k = nn.Input((4, 3)), nn.Input((5, 2)), nn.Input((5, 3))
    out, weights = Attention(use_scale=True, dropout=0.2, seed=3)([q, v, k], return_attention_scores=True)
    h = AdditiveAttention()([q, q], use_causal_mask=True)
    h = Attention(score_mode="concat")([h, q])
    model = nn.Model([q, v, k], [out, weights, h], seed=0)
    model.set_weights([np.array(0.7), 0.5 + RNG.random(3), np.array(1.3)])
    xs = [RNG.standard_normal((2, *s)).astype(np.float32) for s in ((4, 3), (5, 2), (5, 3))]
    model.save(tmp_path / "att.npz")
    loaded = nn.load_model(tmp_path / "att.npz")
    for a, b in zip(model.predict(xs), loaded.predict(xs)):
        np.testing.assert_array_equal(a, b)
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    assert [layer.seed for layer in loaded.layers[3:]] == [3, None, None]  # after the three InputLayers
    assert [w.shape for w in loaded.weights] == [(), (3,), ()]


def test_trains_and_options_hold_per_call_on_arrays() -> None:
    x = nn.Input((5, 3), dtype="float64")
    model = nn.Model(x, nn.GlobalAvgPool1D()(Attention(use_scale=True)([x, x], use_causal_mask=True)), seed=0)
    model.compile(loss="mse", optimizer="sgd")
    data, target = RNG.standard_normal((4, 5, 3)), RNG.standard_normal((4, 3))
    assert max(check_training(model, data, target).values()) < 1e-7  # input gradient not needed: weights only
    att = Attention()
    q32, v32 = Q.astype(np.float32), V.astype(np.float32)
    assert len(att([q32, v32], return_attention_scores=True)) == 2
    s = nn.Input((4, 3))
    assert isinstance(att([s, nn.Input((5, 3))]), nn.SymbolicTensor)  # Keras: the eager option does not stick
    with pytest.raises(InvalidValueError, match="one layer keeps one setting"):
        att([s, s], use_causal_mask=True)


def test_a_model_reading_only_the_attention_weights() -> None:
    q, v = nn.Input((4, 3), dtype="float64"), nn.Input((5, 3), dtype="float64")
    _, weights = AdditiveAttention(return_attention_scores=True)([q, v])
    model = nn.Model([q, v], weights, seed=0)
    assert model.outputs[0].shape == (None, 4, 5)
    assert max(check_module(model, [Q, V]).values()) < 1e-7  # the output's gradient is None, the weights' not


def test_inside_a_layer_written_with_call() -> None:
    class SelfAttend(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.att = AdditiveAttention()

        def call(self, x: Any) -> Any:
            return self.att([x, x], use_causal_mask=True) + x

    layer = SelfAttend().set_dtype(np.float64)
    assert max(check_module(layer, Q).values()) < 1e-7


ONNX_CASES = {
    "dot-scale-causal": (lambda: Attention(use_scale=True, use_causal_mask=True), [(4, 3), (4, 3)]),
    "dot-key-value": (lambda: Attention(), [(4, 3), (5, 2), (5, 3)]),
    "concat-scale": (lambda: Attention(use_scale=True, score_mode="concat"), [(4, 3), (5, 3)]),
    "additive-key-causal": (lambda: AdditiveAttention(use_causal_mask=True), [(6, 3), (4, 2), (4, 3)]),
    "additive-no-scale-scores": (lambda: AdditiveAttention(use_scale=False, return_attention_scores=True),
                                 [(4, 3), (5, 3)]),
}


@pytest.mark.parametrize("name", ONNX_CASES)
def test_onnx_export_matches_predict(tmp_path, name: str) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    pytest.importorskip("onnx")
    from nnscratch.interop import onnx_dot_attention_converters  # noqa: F401  (registers the converters)

    make, shapes = ONNX_CASES[name]
    inputs = [nn.Input(s) for s in shapes]
    layer = make()
    model = nn.Model(inputs, layer(inputs), seed=0)
    model.set_weights([0.5 + w for w in model.get_weights()])
    session = ort.InferenceSession(str(model.export(tmp_path / "a.onnx")), providers=["CPUExecutionProvider"])
    xs = [RNG.standard_normal((3, *s)).astype(np.float32) for s in shapes]
    got = session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})
    want = model.predict(xs)
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_bad_inputs_get_one_clear_error() -> None:
    att = Attention()
    q32, v32 = Q.astype(np.float32), V.astype(np.float32)
    with pytest.raises(InvalidTypeError, match="must be called on a list of inputs"):
        att(q32)
    with pytest.raises(InvalidValueError, match="length 2 or 3"):
        att([q32])
    with pytest.raises(InvalidValueError, match="length 2 or 3"):
        att([q32, v32, v32, v32])
    with pytest.raises(InvalidValueError, match=r"mask= \(Keras masks\) is not supported"):
        att([q32, v32], mask=[np.ones((2, 4), bool), np.ones((2, 5), bool)])
    with pytest.raises(ShapeError, match="query has 3 features, key 2"):
        Attention()([q32, V2.astype(np.float32)])
    with pytest.raises(ShapeError, match="key has 6 steps, value 5"):
        Attention()([q32, v32, np.zeros((2, 6, 3), np.float32)])
    with pytest.raises(ShapeError, match="query has 3 features, key 4"):
        AdditiveAttention()([nn.Input((4, 3)), nn.Input((5, 4))])
    with pytest.raises(ShapeError, match="key has 6 steps, value 5"):
        AdditiveAttention()([nn.Input((None, 3)), nn.Input((5, 3)), nn.Input((6, 3))])
    with pytest.raises(ShapeError, match=r"sequences of shape \(batch, steps, features\)"):
        Attention()([q32[:, 0], v32[:, 0]])
    att([q32, v32])
    with pytest.raises(ShapeError, match="was built for inputs"):
        att([q32, v32, v32])
    with pytest.raises(InvalidValueError, match="invalid value for argument score_mode"):
        Attention(score_mode="general")
    with pytest.raises(InvalidValueError, match=r"dropout must be a number in \[0, 1\)"):
        AdditiveAttention(dropout=1.0)
