"""ONNX export of the 3-D layers (``Conv3D``, ``MaxPool3D``, ``AvgPool3D``, ``GlobalMaxPool3D``,
``GlobalAvgPool3D``): onnxruntime gives ``model.predict``'s outputs, float32 to 1e-5 and float64 to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
import nnscratch.interop.onnx_volume_converters  # noqa: F401  (registers the converters)

BATCHES = (1, 3)
TOL = {"float32": 1e-5, "float64": 1e-10}
DTYPES = ("float32", "float64")


def run_onnx(ort, path, xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})


def assert_parity(model, tmp_path, shapes, dtype, seed=0):
    """Export ``model``, run it in onnxruntime for batches of 1 and 3: each output as ``predict``'s (shape, dtype,
    values to ``TOL[dtype]``). Returns the last exported graph."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(seed)
    for n in BATCHES:
        xs = [rng.standard_normal((n, *s)).astype(dtype) for s in shapes]
        path = model.export(tmp_path / f"m{n}.onnx")
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
        got = run_onnx(ort, path, xs)
        want = model.predict(xs if len(xs) > 1 else xs[0])
        want = want if isinstance(want, list) else [want]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == np.dtype(dtype) and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=TOL[dtype], atol=TOL[dtype])
    return proto


def conv_pool_stack(dtype, seed=0):
    """Every window layer in a chain, with asymmetric "same" pads, overlapping windows, dilation, strides 2,
    no bias, and D, H, W, C all different (a swapped axis or weight layout cannot pass)."""
    nn.set_random_seed(seed)
    return nn.Sequential([
        nn.Input(shape=(9, 10, 11, 2), dtype=dtype),
        nn.Conv3D(4, 3, dilation_rate=2, padding="same", activation="relu"),  # (9, 10, 11, 4)
        nn.MaxPool3D(3, strides=2, padding="same"),  # (5, 5, 6, 4): pads (1, 1), (0, 1), (1, 1)
        nn.Conv3D(6, (2, 3, 2), strides=2, padding="same", use_bias=False),  # (3, 3, 3, 6): pads at the end
        nn.AvgPool3D(2, strides=1, padding="same"),  # (3, 3, 3, 6): the last cells average fewer inputs
        nn.Conv3D(5, (2, 1, 2), strides=(1, 1, 2), padding="valid", activation="relu"),  # (2, 3, 1, 5)
        nn.GlobalMaxPool3D(),
        nn.Dense(3),
    ])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_and_pool_chain(tmp_path, dtype):
    model = conv_pool_stack(dtype)
    bias = model.layers[0].bias
    bias.data[...] = np.linspace(-0.3, 0.3, bias.data.size)  # (a bias left out of the export would show)
    proto = assert_parity(model, tmp_path, [(9, 10, 11, 2)], dtype)
    kinds = [node.op_type for node in proto.graph.node]
    if dtype == "float32":
        assert kinds.count("Conv") == 3 and "MaxPool" in kinds and "AveragePool" in kinds
        # Into NCDHW before the first conv and before the pool after its relu; each window layer's output back
        # to channels-last once; the layers that follow a pool read its NCDHW output without another Transpose.
        assert kinds.count("Transpose") == 2 + 5
    else:  # onnxruntime has no double Conv or AveragePool: rewritten
        assert not {"Conv", "AveragePool"} & set(kinds)


@pytest.mark.parametrize("dtype", DTYPES)
def test_average_pool_does_not_count_padding(tmp_path, dtype):
    """Constant inputs: every window mean is the constant only when padded cells are left out of the count."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = nn.Sequential([nn.Input(shape=(4, 5, 3, 2), dtype=dtype), nn.AvgPool3D(3, strides=2, padding="same"),
                           nn.MaxPool3D(2, strides=1, padding="same")])
    x = np.full((2, 4, 5, 3, 2), 1.5, dtype)
    path = model.export(tmp_path / "pool.onnx")
    onnx.checker.check_model(onnx.load(str(path)))
    (got,) = run_onnx(ort, path, [x])
    np.testing.assert_allclose(got, np.full((2, 2, 3, 2, 2), 1.5), rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(got, model.predict(x), rtol=TOL[dtype], atol=TOL[dtype])
    assert_parity(model, tmp_path, [(4, 5, 3, 2)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_global_pools_keepdims_and_channels_first(tmp_path, dtype):
    """The global pools with and without ``keepdims`` in both data formats, as model outputs (5-D ones too)
    and feeding ``Flatten``, ``Add`` and ``Dense``; two convolution branches merged channels-last."""
    nn.set_random_seed(3)
    x = nn.Input(shape=(6, 7, 8, 3), dtype=dtype)
    a = nn.Conv3D(4, (3, 2, 3), strides=(1, 2, 1), padding="valid", activation="relu")(x)  # (4, 3, 6, 4)
    b = nn.Conv3D(4, 3, strides=2, padding="same", dilation_rate=1)(x)  # (3, 4, 4, 4)
    b = nn.Conv3D(4, (1, 2, 1), strides=(1, 1, 1), padding="same", dilation_rate=(1, 2, 1), use_bias=False)(b)
    avg_keep = nn.GlobalAvgPool3D(keepdims=True)(a)  # (1, 1, 1, 4)
    max_keep = nn.GlobalMaxPool3D(keepdims=True)(b)  # (1, 1, 1, 4)
    merged = nn.Add()([avg_keep, max_keep])
    first_avg = nn.GlobalAvgPool3D(data_format="channels_first")(x)  # x read as (C=6, D=7, H=8, W=3): (6,)
    first_max = nn.GlobalMaxPool3D(keepdims=True, data_format="channels_first")(x)  # (6, 1, 1, 1)
    flat = nn.Flatten()(merged)
    out = nn.Dense(2)(nn.Concatenate()([flat, nn.GlobalAvgPool3D()(b), first_avg]))
    model = nn.Model(inputs=x, outputs=[out, merged, first_max, nn.GlobalMaxPool3D()(a)])
    assert [o.shape[1:] for o in model.predict(np.zeros((1, 6, 7, 8, 3), dtype))] == \
        [(2,), (1, 1, 1, 4), (6, 1, 1, 1), (4,)]
    assert_parity(model, tmp_path, [(6, 7, 8, 3)], dtype, seed=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_trained_model_and_shared_conv(tmp_path, dtype):
    """After a little training (weights off their initial values); one ``Conv3D`` called on two inputs is one
    initializer."""
    nn.set_random_seed(4)
    x1, x2 = nn.Input(shape=(5, 6, 4, 2), dtype=dtype), nn.Input(shape=(5, 6, 4, 2), dtype=dtype)
    shared = nn.Conv3D(3, 2, padding="same", activation="relu", name="shared")
    h = nn.Concatenate()([nn.GlobalAvgPool3D()(nn.MaxPool3D(2, padding="same")(shared(x1))),
                          nn.GlobalMaxPool3D()(nn.AvgPool3D((2, 3, 2), strides=1)(shared(x2)))])
    model = nn.Model(inputs=[x1, x2], outputs=nn.Dense(2)(h))
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((16, 5, 6, 4, 2)).astype(dtype) for _ in range(2)]
    model.compile(loss="mse", optimizer="adam")
    model.fit(xs, rng.standard_normal((16, 2)).astype(dtype), epochs=2, batch_size=8, verbose=0)
    proto = assert_parity(model, tmp_path, [(5, 6, 4, 2), (5, 6, 4, 2)], dtype, seed=2)
    if dtype == "float32":
        assert sum(t.name.startswith("shared.weight") for t in proto.graph.initializer) == 1


def test_a_five_dimensional_channels_first_value_is_refused():
    """The converters hold 5-D tensors channels-last; one marked channels-first is an error, not a wrong graph."""
    from nnscratch.core.errors import ShapeError
    from nnscratch.interop.onnx_converters import Value
    from nnscratch.interop.onnx_volume_converters import volume_value

    layer = nn.MaxPool3D(2, name="pool")
    assert volume_value(Value("x", (4, 4, 4, 2)), layer).name == "x"
    with pytest.raises(ShapeError, match="pool"):
        volume_value(Value("x", (4, 4, 4, 2), True), layer)
    with pytest.raises(ShapeError, match="channels-last volume"):
        volume_value(Value("x", (4, 4, 2)), layer)
