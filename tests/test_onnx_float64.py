"""ONNX export of float64 models: the graph is double throughout and onnxruntime runs it, giving
``model.predict``'s outputs to 1e-10 (the ops it runs in float32 only are rewritten: ``onnx_double``)."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import layers as L

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = 1e-10
F64 = "float64"


def run_onnx(path, xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})


def assert_double_parity(model, tmp_path, xs, name="m.onnx"):
    """Export ``model``, check every tensor of the graph is double, run it; outputs as ``predict``'s."""
    path = model.export(tmp_path / name)
    proto = onnx.load(str(path))
    float32 = onnx.TensorProto.FLOAT
    assert all(t.data_type != float32 for t in proto.graph.initializer)
    assert all(i.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE for i in (*proto.graph.input,
                                                                                 *proto.graph.output))
    got = run_onnx(path, xs)
    want = model.predict(xs if len(xs) > 1 else xs[0])
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == np.float64 and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=TOL, atol=TOL)
    return proto


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def train_briefly(model, x, y):
    model.compile(loss="mse", optimizer="adam")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)


def test_dense_and_every_activation(tmp_path):
    nn.set_random_seed(0)
    acts = [nn.LeakyReLU(0.3), nn.ELU(0.7), nn.GELU(), nn.PReLU(), L.SELU(), L.CELU(0.6), L.Softplus(), L.Softsign(),
            L.HardSigmoid(), L.HardSwish(), L.Mish(), L.LogSigmoid(), L.Swish(), L.SoftShrink(0.3),
            L.HardShrink(0.3), nn.ReLU(max_value=2.5, negative_slope=0.1, threshold=0.2), L.Exponential(),
            L.Squareplus(), L.TanhShrink(), L.HardTanh(), L.SparsePlus(), L.LogSoftmax(), nn.Softmax()]
    x = nn.Input(shape=(6,), dtype=F64)
    h = nn.Dense(12, activation="relu")(x)
    h = nn.Dense(12, activation="tanh")(h)
    outs = [nn.Dense(3, activation="sigmoid")(h), nn.Dense(4, activation="softmax")(h)]
    outs += [act(nn.Dense(5)(h)) for act in acts[:-2]] + [act(h) for act in acts[-2:]]
    model = nn.Model(inputs=x, outputs=outs)
    xs = [3 * normal(7, 6)]
    proto = assert_double_parity(model, tmp_path, xs)
    kinds = {n.op_type for n in proto.graph.node}
    assert not kinds & {"Elu", "Selu", "Celu", "Softplus", "Softsign", "HardSigmoid", "HardSwish", "LeakyRelu"}


def test_cnn_with_batchnorm_and_pooling(tmp_path):
    nn.set_random_seed(1)
    x = nn.Input(shape=(11, 10, 3), dtype=F64)
    h = nn.Conv2D(6, 3, strides=2, padding="same", activation="elu")(x)
    h = nn.ReLU()(nn.BatchNorm()(h))
    h = nn.AvgPool2D(3, strides=2, padding="same")(nn.Conv2D(5, (2, 3), dilation=2, padding="same")(h))
    c = nn.Conv2D(4, 3, padding=(1, 2), use_bias=False)(x)
    pooled = [nn.GlobalAvgPool2D()(h), nn.GlobalMaxPool2D()(h), nn.Flatten()(nn.MaxPool2D(2)(c)),
              nn.Flatten()(nn.AvgPool2D(2, padding=1)(c))]
    y = nn.Dense(3, activation="softmax")(nn.Concatenate()(pooled))
    model = nn.Model(inputs=x, outputs=[y, nn.GlobalMaxPool2D(keepdims=True)(h)])
    data = normal(16, 11, 10, 3)
    model.compile(loss=["categorical_crossentropy", "mse"], optimizer="adam")
    model.fit(data, [np.eye(3)[np.arange(16) % 3], np.zeros((16, 1, 1, 5))], epochs=2, batch_size=8, verbose=0)
    bn = [layer for layer in model.layers if isinstance(layer, nn.BatchNorm)][0]
    assert np.abs(bn.running_mean.data).max() > 1e-3
    for n in (1, 5):
        proto = assert_double_parity(model, tmp_path, [data[:n]], f"m{n}.onnx")
    assert not {n.op_type for n in proto.graph.node} & {"Conv", "AveragePool", "GlobalAveragePool",
                                                         "BatchNormalization"}


@pytest.mark.parametrize("transpose", [
    dict(kernel_size=3), dict(kernel_size=3, strides=2, padding="same"), dict(kernel_size=2, strides=3),
    dict(kernel_size=3, strides=2, output_padding=1), dict(kernel_size=(3, 2), strides=2, padding=(1, 0)),
    dict(kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
])
def test_image_layers(tmp_path, transpose):
    """Conv2DTranspose in every padding mode, depthwise and separable convolutions, the shape layers."""
    nn.set_random_seed(2)
    x = nn.Input(shape=(5, 6, 2), dtype=F64)
    t = nn.Conv2DTranspose(3, activation="relu", **transpose)(x)
    h = nn.Cropping2D(((1, 0), (0, 1)))(nn.ZeroPadding2D(((0, 2), (1, 1)))(nn.UpSampling2D((2, 1))(t)))
    d = nn.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="tanh")(h)
    s = nn.SeparableConv2D(4, 2, strides=2, depth_multiplier=2)(h)
    outs = [h, d, s, nn.GroupNormalization(groups=2)(d), nn.UnitNormalization()(s)]
    assert_double_parity(nn.Model(inputs=x, outputs=outs), tmp_path, [normal(3, 5, 6, 2)])


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before", "simple_rnn"])
def test_recurrent_layers(tmp_path, kind):
    """Sequences and last states, either direction, initial states, Bidirectional's merges."""
    nn.set_random_seed(3)

    def make(**kw):
        return {"lstm": lambda: nn.LSTM(4, **kw), "gru": lambda: nn.GRU(4, **kw),
                "gru_reset_before": lambda: nn.GRU(4, reset_after=False, **kw),
                "simple_rnn": lambda: nn.SimpleRNN(4, activation="relu", **kw)}[kind]()

    x = nn.Input(shape=(6, 3), dtype=F64)
    seq = make(return_sequences=True)(x)
    back = make(go_backwards=True, return_sequences=True)(seq)
    states = make(return_state=True)(back)
    last = make()(seq, initial_state=states[1:])
    both = nn.Bidirectional(make(return_sequences=True), merge_mode="concat")(x)
    summed = nn.Bidirectional(make(), merge_mode="ave")(both)
    model = nn.Model(inputs=x, outputs=[seq, back, *states, last, summed])
    train_briefly(model, normal(16, 6, 3), [np.zeros((16, *t.sample_shape)) for t in model.outputs])
    for n in (1, 4):
        proto = assert_double_parity(model, tmp_path, [normal(n, 6, 3, seed=n)], f"m{n}.onnx")
    assert not {n.op_type for n in proto.graph.node} & {"LSTM", "GRU", "RNN"}


def test_sequence_layers(tmp_path):
    """Embedding, Conv1D (causal, strides, dilation), 1-D pools, the Conv1D variants, global pools in either
    layout, LayerNormalization, MultiHeadAttention (causal), Attention, AdditiveAttention, TimeDistributed."""
    nn.set_random_seed(4)
    tokens = nn.Input(shape=(9,), dtype=F64)
    e = nn.Embedding(20, 6)(tokens)
    c = nn.Conv1D(6, 2, padding="causal", dilation_rate=2, activation="relu")(e)
    c = nn.AvgPool1D(3, strides=2, padding="same")(nn.Conv1D(6, 3, strides=1, padding="same")(c))
    c = nn.MaxPool1D(2, padding=1)(c)
    v = nn.SeparableConv1D(4, 3, depth_multiplier=2, padding="same")(nn.DepthwiseConv1D(2, padding="same")(e))
    t = nn.Conv1DTranspose(3, 3, strides=2, padding="same")(v)
    u = nn.Cropping1D((1, 2))(nn.ZeroPadding1D(1)(nn.UpSampling1D(2)(v)))
    a = nn.LayerNormalization()(nn.MultiHeadAttention(2, 3, use_causal_mask=True)(e, e))
    outs = [c, t, u, a, nn.Attention(use_scale=True)([e, e]), nn.AdditiveAttention()([e, e]),
            nn.TimeDistributed(nn.Dense(2))(e), nn.GlobalAvgPool1D()(v), nn.GlobalMaxPool1D(keepdims=True)(v),
            nn.GlobalAvgPool1D(data_format="channels_first", keepdims=True)(v),
            nn.GlobalMaxPool1D(data_format="channels_first")(v)]
    model = nn.Model(inputs=tokens, outputs=outs)
    for n in (1, 4):
        index = np.random.default_rng(n).integers(0, 20, (n, 9)).astype(np.float64)
        assert_double_parity(model, tmp_path, [index], f"m{n}.onnx")


def test_two_inputs_merges_nested_model_and_shared_layer(tmp_path):
    nn.set_random_seed(5)
    a, b = nn.Input(shape=(6,), dtype=F64, name="a"), nn.Input(shape=(6,), dtype=F64, name="b")
    inner = nn.Sequential([nn.Input(shape=(6,), dtype=F64), nn.Dense(6, activation="tanh"), nn.Dense(6)])
    shared = nn.Dense(6, activation="relu")
    ha, hb = shared(a), inner(shared(b))
    merged = [m([ha, hb]) for m in (nn.Add(), nn.Subtract(), nn.Multiply(), nn.Average(), nn.Maximum(),
                                     nn.Minimum(), nn.Concatenate(), nn.Dot(axes=1, normalize=True))]
    model = nn.Model(inputs=[a, b], outputs=[*merged, nn.Normalization(mean=[1.0] * 6, std=[2.0] * 6)(ha),
                                             nn.Rescaling(0.3, offset=0.1)(nn.RepeatVector(2)(hb))])
    assert_double_parity(model, tmp_path, [normal(5, 6), normal(5, 6, seed=1)])


def test_channels_first_global_pooling_exports_in_either_dtype(tmp_path):
    for dtype, tol in ((F64, TOL), ("float32", 1e-5)):
        nn.set_random_seed(6)
        x = nn.Input(shape=(3, 4, 5), dtype=dtype)
        flat = nn.Reshape((3, 20))(x)
        outs = [nn.GlobalMaxPool2D(data_format="channels_first")(x),
                nn.GlobalMaxPool2D(data_format="channels_first", keepdims=True)(x),
                nn.GlobalAvgPool1D(data_format="channels_first")(flat),
                nn.GlobalMaxPool1D(data_format="channels_first", keepdims=True)(flat),
                nn.GlobalMaxPool2D(data_format="channels_first")(nn.Conv2D(4, 2, padding="same")(x))]
        model = nn.Model(inputs=x, outputs=outs)
        data = normal(4, 3, 4, 5).astype(dtype)
        got = run_onnx(model.export(tmp_path / f"{dtype}.onnx"), [data])
        for g, w in zip(got, model.predict(data)):
            assert g.dtype == np.dtype(dtype) and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def test_float32_graphs_are_not_rewritten(tmp_path):
    """The float64 rewrite never touches a float32 model: its ONNX ops are the converters' own."""
    nn.set_random_seed(7)
    x = nn.Input(shape=(6, 6, 2))
    h = nn.GlobalAvgPool2D()(nn.AvgPool2D(2)(nn.ELU()(nn.Conv2D(3, 3)(x))))
    s = nn.LSTM(2)(nn.Reshape((6, 12))(x))
    proto = onnx.load(str(nn.Model(inputs=x, outputs=[h, s]).export(tmp_path / "m.onnx")))
    kinds = {n.op_type for n in proto.graph.node}
    assert {"Conv", "Elu", "AveragePool", "GlobalAveragePool", "LSTM"} <= kinds
    assert not {"Einsum", "Slice"} & kinds


def test_what_cannot_be_rewritten_is_refused_naming_the_layer(tmp_path):
    nn.set_random_seed(8)
    model = nn.Sequential([nn.Input(shape=(8, 8, 3), dtype=F64), nn.Resizing(4, 5, name="shrink")])
    target = tmp_path / "m.onnx"
    with pytest.raises(nn.InvalidValueError, match=r"layer 'shrink' \(Resizing\) of a float64 model.*Resize.*"
                                                   r"float32 copy"):
        model.export(target)
    assert not target.exists()
    float32 = nn.Sequential([nn.Input(shape=(8, 8, 3)), nn.Resizing(4, 5)])
    float32.set_weights(model.get_weights())
    data = normal(2, 8, 8, 3).astype(np.float32)
    np.testing.assert_allclose(run_onnx(float32.export(target), [data])[0], float32.predict(data), atol=1e-5)
