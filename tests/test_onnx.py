"""ONNX export: the exported graph, run in onnxruntime, gives ``model.predict``'s outputs (float32, 1e-5)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.io.extras import MissingDependencyError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from nnscratch.interop import onnx_converters  # noqa: E402
from nnscratch.interop.onnx_converters import register_onnx_converter  # noqa: E402

TOL = 1e-5
BATCHES = (1, 7)


def run_onnx(path, xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})


def max_diff(model, tmp_path, xs, name="m.onnx"):
    """Export ``model``, run it on the arrays ``xs`` (one per input); the max |onnx - predict| over outputs."""
    path = model.export(tmp_path / name, format="onnx")
    onnx.checker.check_model(onnx.load(str(path)))
    got = run_onnx(path, xs)
    want = model.predict(xs if len(xs) > 1 else xs[0])
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == np.float32
    return max(float(np.max(np.abs(g - w))) for g, w in zip(got, want))


def images(n, shape=(12, 12, 3), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def assert_parity(model, tmp_path, shapes, seed=0):
    rng = np.random.default_rng(seed)
    for n in BATCHES:
        xs = [rng.standard_normal((n, *s)).astype(np.float32) for s in shapes]
        assert max_diff(model, tmp_path, xs, f"m{n}.onnx") <= TOL


def test_mlp_with_every_activation(tmp_path):
    nn.set_random_seed(0)
    model = nn.Sequential([
        nn.Input(shape=(20,)), nn.Dense(32, activation="relu"), nn.Dense(16, activation="tanh"), nn.LeakyReLU(0.2),
        nn.Dense(16, activation="sigmoid"), nn.ELU(0.7), nn.Dropout(0.5), nn.Identity(), nn.Dense(12),
        nn.Dense(10, activation="softmax"),
    ])
    assert_parity(model, tmp_path, [(20,)])


def test_gelu_tanh_form(tmp_path):
    nn.set_random_seed(1)
    model = nn.Sequential([nn.Input(shape=(9,)), nn.Dense(8), nn.GELU()])
    x = np.linspace(-6, 6, 7 * 9, dtype=np.float32).reshape(7, 9)
    assert max_diff(model, tmp_path, [x]) <= TOL


def test_mnist_cnn(tmp_path):
    nn.set_random_seed(2)
    model = nn.Sequential([
        nn.Input(shape=(28, 28, 1)), nn.Conv2D(8, 3, activation="relu"), nn.MaxPool2D(2),
        nn.Conv2D(16, 3, activation="relu"), nn.MaxPool2D(2), nn.Flatten(), nn.Dense(10, activation="softmax"),
    ])
    for n in BATCHES:
        assert max_diff(model, tmp_path, [images(n, (28, 28, 1), n)]) <= TOL
    kinds = [node.op_type for node in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert kinds.count("Transpose") == 2  # in once, back once before Flatten: the convs stay channels-first


def residual_net(seed=3):
    nn.set_random_seed(seed)
    x = nn.Input(shape=(12, 12, 3))
    h = nn.ReLU()(nn.BatchNorm()(nn.Conv2D(8, 3, padding="same")(x)))
    r = nn.BatchNorm()(nn.Conv2D(8, 3, padding="same")(nn.ReLU()(nn.BatchNorm()(nn.Conv2D(8, 3, padding="same")(h)))))
    h = nn.ReLU()(nn.Add()([h, r]))
    h = nn.Conv2D(16, 3, strides=2, padding="same", activation="relu")(h)
    y = nn.Dense(4, activation="softmax")(nn.GlobalAvgPool2D()(h))
    return nn.Model(inputs=x, outputs=y)


def train_briefly(model, x, classes):
    y = np.eye(classes, dtype=np.float32)[np.arange(len(x)) % classes]
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)


def test_residual_network_after_training(tmp_path):
    model = residual_net()
    train_briefly(model, images(32, seed=4), 4)
    bn = [layer for layer in model.layers if isinstance(layer, nn.BatchNorm)]
    assert len(bn) == 3 and all(np.abs(b.running_mean.data).max() > 1e-3 for b in bn)
    for n in BATCHES:
        assert max_diff(model, tmp_path, [images(n, seed=n)]) <= TOL


def test_batchnorm_inference_mode(tmp_path):
    nn.set_random_seed(5)
    model = nn.Sequential([nn.Input(shape=(10,)), nn.Dense(16), nn.BatchNorm(momentum=0.5), nn.ReLU(),
                           nn.Dense(3), nn.BatchNorm(eps=1e-3)])
    rng = np.random.default_rng(5)
    x = (3 * rng.standard_normal((64, 10)) + 2).astype(np.float32)
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, rng.standard_normal((64, 3)).astype(np.float32), epochs=3, batch_size=16, verbose=0)
    bn = model.layers[1]
    assert np.abs(bn.running_mean.data).max() > 0.1 and np.abs(bn.running_var.data - 1).max() > 0.1
    for n in BATCHES:
        assert max_diff(model, tmp_path, [x[:n]]) <= TOL


def test_batchnorm_on_a_sequence_uses_the_last_axis(tmp_path):
    nn.set_random_seed(6)
    model = nn.Sequential([nn.Input(shape=(24,)), nn.Reshape((6, 4)), nn.BatchNorm(), nn.Flatten()])
    x = np.random.default_rng(6).standard_normal((32, 24)).astype(np.float32)
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, x, epochs=1, batch_size=8, verbose=0)
    assert_parity(model, tmp_path, [(24,)])


def test_two_inputs_concatenate(tmp_path):
    nn.set_random_seed(7)
    a, b = nn.Input(shape=(6,), name="a"), nn.Input(shape=(4,), name="b")
    h = nn.Concatenate()([nn.Dense(5, activation="relu")(a), b])
    model = nn.Model(inputs=[a, b], outputs=nn.Dense(2)(h))
    assert_parity(model, tmp_path, [(6,), (4,)])
    session = ort.InferenceSession(str(tmp_path / "m7.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["a", "b"]


@pytest.mark.parametrize("conv, pool", [
    (dict(kernel_size=3, strides=2, padding="same"), nn.MaxPool2D(3, strides=2, padding="same")),
    (dict(kernel_size=(2, 4), padding="same"), nn.AvgPool2D(3, strides=2, padding="same")),
    (dict(kernel_size=3, dilation=2, padding="same"), nn.AvgPool2D(2, padding=1)),
    (dict(kernel_size=3, padding=(1, 2), use_bias=False), nn.MaxPool2D(2, strides=1)),
])
def test_convolution_and_pooling_geometry(tmp_path, conv, pool):
    """Strides, TensorFlow's asymmetric "same" padding, dilation, explicit pads; average pools that do not
    count padded cells; then a Reshape that must see the channels-last order."""
    nn.set_random_seed(8)
    x = nn.Input(shape=(11, 10, 3))
    h = pool(nn.Conv2D(5, activation="elu", **conv)(x))
    model = nn.Model(inputs=x, outputs=nn.Reshape((-1, 5))(h))
    for n in BATCHES:
        assert max_diff(model, tmp_path, [images(n, (11, 10, 3), n)]) <= TOL


def test_image_layers_in_either_layout(tmp_path):
    """Normalization, Rescaling (by channel and by one number), softmax over channels, concatenation on the channel and height axes, merges of
    channels-first and channels-last tensors, augmentation layers as identities."""
    nn.set_random_seed(9)
    data = images(16, (8, 8, 3))
    x = nn.Input(shape=(8, 8, 3))
    h = nn.Normalization().adapt(data)(nn.RandomShift(2)(nn.RandomFlip()(x)))
    h = nn.Rescaling([0.5, 1.0, 2.0], offset=[0.0, -1.0, 1.0])(h)
    c1 = nn.Rescaling([1.0, 2.0, 3.0, 4.0])(nn.Conv2D(4, 3, padding="same", activation="softmax")(h))
    c2 = nn.Rescaling(2.0, offset=-1.0)(nn.Conv2D(4, 3, padding="same", activation="sigmoid")(h))
    joined = nn.Concatenate()([c1, c2])
    tall = nn.Concatenate(axis=1)([c1, nn.Reshape((8, 8, 4))(nn.Flatten()(c2))])
    merged = [m([c1, c2]) for m in (nn.Subtract(), nn.Multiply(), nn.Average(), nn.Maximum(), nn.Minimum())]
    three = nn.Add()([c1, c2, merged[0]])
    model = nn.Model(inputs=x, outputs=[joined, tall, *merged, three, nn.Normalization(mean=[1, 2], std=[2, 4])(
        nn.Dense(2)(nn.Flatten()(c1)))])
    for n in BATCHES:
        assert max_diff(model, tmp_path, [images(n, (8, 8, 3), n)]) <= TOL


@pytest.mark.parametrize("conv", [
    dict(kernel_size=3), dict(kernel_size=3, padding="same", strides=2), dict(kernel_size=2, padding="causal",
                                                                                dilation_rate=3),
    dict(kernel_size=4, padding="same", dilation_rate=2, use_bias=False),
])
@pytest.mark.parametrize("pool", [dict(cls=nn.MaxPool1D, pool_size=2), dict(cls=nn.AvgPool1D, pool_size=3, strides=2,
                                                                          padding="same"),
                                  dict(cls=nn.MaxPool1D, pool_size=3, padding=1)])
def test_sequence_layers(tmp_path, conv, pool):
    """Conv1D (valid, "same", causal, strides, dilation), 1-D pools (padded steps never win a max nor count
    in a mean), LayerNormalization over the last axis, global pools with and without keepdims."""
    nn.set_random_seed(14)
    x = nn.Input(shape=(13, 3))
    pool = dict(pool)
    h = nn.LayerNormalization()(pool.pop("cls")(**pool)(nn.Conv1D(4, activation="tanh", **conv)(x)))
    outs = [nn.GlobalAvgPool1D()(h), nn.GlobalMaxPool1D()(h), nn.GlobalMaxPool1D(keepdims=True)(h), h]
    assert_parity(nn.Model(inputs=x, outputs=outs), tmp_path, [(13, 3)])


def test_embedding_and_layer_norm_axes(tmp_path):
    """Token indices (whole floats) through an Embedding; LayerNormalization over several axes, with and
    without its scale and offset."""
    nn.set_random_seed(15)
    tokens = nn.Input(shape=(6,))
    e = nn.Embedding(20, 4)(tokens)
    outs = [nn.LayerNormalization(axis=[1, 2])(e), nn.LayerNormalization(axis=1, center=False, scale=False)(e),
            nn.Dense(1)(nn.GlobalAvgPool1D()(e))]
    model = nn.Model(inputs=tokens, outputs=outs)
    for n in BATCHES:
        index = np.random.default_rng(n).integers(0, 20, (n, 6)).astype(np.float32)
        assert max_diff(model, tmp_path, [index], f"e{n}.onnx") <= TOL


@pytest.mark.parametrize("transpose", [
    dict(kernel_size=3), dict(kernel_size=3, strides=2, padding="same"), dict(kernel_size=2, strides=3),
    dict(kernel_size=3, strides=2, output_padding=1), dict(kernel_size=(3, 2), strides=2, padding=(1, 0)),
    dict(kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
])
def test_transposed_convolution_and_image_shape_layers(tmp_path, transpose):
    """Conv2DTranspose in every padding mode (its cropping as ONNX pads, output_padding past the scatter);
    UpSampling2D, ZeroPadding2D, Cropping2D and GlobalMaxPool2D in both layouts (after a convolution the
    tensor is channels-first, after a Reshape channels-last)."""
    nn.set_random_seed(16)
    x = nn.Input(shape=(5, 6, 2))
    t = nn.Conv2DTranspose(3, activation="relu", **transpose)(x)
    native = nn.Reshape(t.sample_shape)(nn.Flatten()(t))
    outs = []
    for h in (t, native):
        h = nn.Cropping2D(((1, 0), (0, 1)))(nn.ZeroPadding2D(((0, 2), (1, 1)))(nn.UpSampling2D((2, 1))(h)))
        outs += [h, nn.GlobalMaxPool2D()(h), nn.GlobalMaxPool2D(keepdims=True)(h)]
    assert_parity(nn.Model(inputs=x, outputs=outs), tmp_path, [(5, 6, 2)])


def test_shared_layers_share_initializers_and_nested_models_are_inlined(tmp_path):
    nn.set_random_seed(10)
    inner = nn.Sequential([nn.Input(shape=(6,)), nn.Dense(6, activation="tanh"), nn.Dense(6)])
    shared = nn.Dense(6, activation="relu")
    x = nn.Input(shape=(6,))
    y = nn.Add()([shared(x), shared(inner(x)), inner(shared(x))])
    model = nn.Model(inputs=x, outputs=y)
    assert_parity(model, tmp_path, [(6,)])
    proto = onnx.load(str(tmp_path / "m7.onnx"))
    assert len(proto.graph.initializer) == len(model.weights) == 6
    assert [n.op_type for n in proto.graph.node].count("Gemm") == 7


def test_dynamic_batch_dimension(tmp_path):
    nn.set_random_seed(11)
    model = nn.Sequential([nn.Input(shape=(4,)), nn.Dense(3)])
    proto = onnx.load(str(model.export(tmp_path / "m.onnx")))
    for info in (*proto.graph.input, *proto.graph.output):
        dims = info.type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch" and not dims[0].HasField("dim_value")
    assert [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim[1:]] == [3]


class Doubler(nn.Layer):
    """A user's layer: 2 x."""

    def forward_call(self, ctx, x):
        return 2 * x

    def backward_call(self, ctx, grad_out):
        return 2 * grad_out


def test_unsupported_layer_is_refused_by_name(tmp_path):
    model = nn.Sequential([nn.Input(shape=(3,)), nn.Dense(2), Doubler(name="twice")])
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    with pytest.raises(nn.NNScratchError, match=r"'twice' \(Doubler\).*register_onnx_converter"):
        model.export(target)
    assert target.read_bytes() == b"old"  # nothing half-written


def test_users_register_a_converter(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_converters, "CONVERTERS", dict(onnx_converters.CONVERTERS))

    def convert(ex, layer, inputs):
        v = inputs[0]
        return v.renamed(ex.node("Mul", [v.name, ex.scalar(2.0, "two")], hint=layer.name))

    register_onnx_converter(Doubler, convert)
    nn.set_random_seed(12)
    model = nn.Sequential([nn.Input(shape=(3,)), nn.Dense(2), Doubler()])
    assert_parity(model, tmp_path, [(3,)])


def test_errors(tmp_path, monkeypatch):
    model = nn.Sequential([nn.Input(shape=(3,)), nn.Dense(2)])
    with pytest.raises(nn.InvalidValueError, match="unknown export format 'tflite'"):
        model.export(tmp_path / "m.tflite", format="tflite")
    with pytest.raises(nn.NotBuiltError, match="no graph yet"):
        nn.Sequential([nn.Dense(2)]).export(tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r'nnscratch\[onnx\]'):
        model.export(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
