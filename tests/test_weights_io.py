"""Weights in and out: safetensors files, and Keras HDF5 weights files (Keras 3 and Keras 2 layouts)."""

from __future__ import annotations

import json
import struct

import h5py
import numpy as np
import pytest

import nnscratch as nn
from nnscratch.interop.keras_weights import load_keras_weights
from nnscratch.io.safetensors_io import load_weights_safetensors, read_safetensors, save_weights_safetensors


def small_cnn(seed, eps=1e-5):
    nn.set_random_seed(seed)
    return nn.Sequential([
        nn.Input(shape=(8, 8, 2)), nn.Conv2D(4, 3, activation="relu"), nn.BatchNorm(eps=eps), nn.ReLU(),
        nn.MaxPool2D(2), nn.Flatten(), nn.Dense(8, activation="relu"), nn.Dense(3),
    ])


def trained_cnn(seed=0):
    model = small_cnn(seed)
    rng = np.random.default_rng(seed)
    x = rng.random((16, 8, 8, 2), dtype=np.float32)
    model.compile(loss="mse", optimizer="adam")
    model.fit(x, rng.random((16, 3), dtype=np.float32), epochs=1, batch_size=8, verbose=0)
    return model


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------- safetensors
def test_safetensors_round_trip(tmp_path):
    source, target = trained_cnn(0), small_cnn(1)
    assert np.abs(source.layers[1].running_mean.data).max() > 0  # the running statistics travel too
    path = save_weights_safetensors(source, tmp_path / "w.safetensors")
    load_weights_safetensors(target, path)
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value)
    x = np.random.default_rng(2).random((5, 8, 8, 2), dtype=np.float32)
    np.testing.assert_array_equal(target.predict(x), source.predict(x))
    assert set(read_safetensors(path)) == set(source.state_dict())


def test_safetensors_interoperates_with_the_reference_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = trained_cnn(0)
    save_weights_safetensors(model, tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    assert theirs.keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(theirs[name], value)
    other = small_cnn(3)
    st.save_file(other.state_dict(), str(tmp_path / "theirs.safetensors"))
    load_weights_safetensors(model, tmp_path / "theirs.safetensors")
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


def raw_file(path, header, data=b"", length=None):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)
    return path


def test_half_precision_and_bfloat16_are_widened(tmp_path):
    values = np.array([1.5, -2.25, 3e-3], np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()  # truncated to bfloat16
    f16 = values.astype("<f2").tobytes()
    path = raw_file(tmp_path / "w.safetensors", {
        "a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 6]},
        "b": {"dtype": "BF16", "shape": [3], "data_offsets": [6, 12]},
    }, f16 + bf16)
    arrays = read_safetensors(path)
    np.testing.assert_array_equal(arrays["a"], values.astype(np.float16))
    assert arrays["b"].dtype == np.float32
    np.testing.assert_allclose(arrays["b"], values, rtol=2**-7)
    assert arrays["b"][0] == 1.5 and arrays["b"][1] == -2.25


F32_3 = {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}


@pytest.mark.parametrize("header, data, length, message", [
    ({"a": F32_3}, b"\0" * 12, 10**12, "header claims"),
    ({"a": F32_3}, b"\0" * 12, 2**64 - 1, "header claims"),
    ({"a": {**F32_3, "data_offsets": [0, 16]}}, b"\0" * 12, None, "data_offsets"),
    ({"a": {**F32_3, "data_offsets": [4, 0]}}, b"\0" * 12, None, "data_offsets"),
    ({"a": {**F32_3, "shape": [4]}}, b"\0" * 12, None, "needs 16 bytes"),
    ({"a": {**F32_3, "shape": [-1, -3]}}, b"\0" * 12, None, "non-negative"),
    ({"a": {**F32_3, "dtype": "F128"}}, b"\0" * 12, None, "unknown dtype"),
    ({"a": F32_3, "b": {**F32_3, "data_offsets": [8, 20]}}, b"\0" * 20, None, "overlap"),
    ({"a": {"dtype": "F32", "shape": [3]}}, b"", None, "exactly dtype, shape and data_offsets"),
    ([1, 2], b"", None, "not a JSON object"),
])
def test_malformed_safetensors_files_are_refused(tmp_path, header, data, length, message):
    path = raw_file(tmp_path / "bad.safetensors", header, data, length)
    with pytest.raises(nn.ModelFileError, match=message):
        read_safetensors(path)


def test_short_or_non_json_files_are_refused(tmp_path):
    (tmp_path / "short").write_bytes(b"\1\0")
    with pytest.raises(nn.ModelFileError, match="fewer than the 8"):
        read_safetensors(tmp_path / "short")
    (tmp_path / "text").write_bytes(struct.pack("<Q", 4) + b"{oops")
    with pytest.raises(nn.ModelFileError, match="not JSON"):
        read_safetensors(tmp_path / "text")
    with pytest.raises(nn.ModelFileError, match="cannot read"):
        read_safetensors(tmp_path / "missing.safetensors")


def test_safetensors_for_another_architecture_change_nothing(tmp_path):
    model = trained_cnn(0)
    before = snapshot(model)
    state = model.state_dict()
    wrong = dict(state, **{"layers.6.weight": np.zeros((9, 3), np.float32)})
    from nnscratch.io.safetensors_io import write_safetensors
    for arrays, message in [(wrong, r"shape \(9, 3\)"), ({k: v for k, v in state.items() if "6.bias" not in k}, "missing"),
                            (dict(state, extra=np.zeros(2, np.float32)), "'extra'")]:
        write_safetensors(tmp_path / "w.safetensors", arrays)
        with pytest.raises(nn.ModelFileError, match=message):
            load_weights_safetensors(model, tmp_path / "w.safetensors")
        for name, value in before.items():
            np.testing.assert_array_equal(model.state_dict()[name], value)


def test_saving_an_unbuilt_model_writes_nothing(tmp_path):
    with pytest.raises(nn.ModelFileError, match="no weights yet"):
        save_weights_safetensors(nn.Sequential([nn.Dense(2)]), tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- Keras files, written as Keras writes them
def keras_arrays(seed=0, bias=True):
    """What a Keras twin of ``small_cnn`` holds, per layer in Keras's variable order."""
    rng = np.random.default_rng(seed)
    arrays = {
        "conv2d": [rng.standard_normal((3, 3, 2, 4)), rng.standard_normal(4)],
        "batch_normalization": [rng.random(4) + 0.5, rng.standard_normal(4), rng.standard_normal(4), rng.random(4) + 0.5],
        "dense": [rng.standard_normal((36, 8)), rng.standard_normal(8)],
        "dense_1": [rng.standard_normal((8, 3)), rng.standard_normal(3)],
    }
    return {k: [a.astype(np.float32) for a in v] for k, v in arrays.items()}


def write_keras3(path, layers, extra_layers=("re_lu", "max_pooling2d", "flatten")):
    """``model.save_weights("x.weights.h5")`` of Keras 3: ``vars`` per object, a layer's variables numbered."""
    with h5py.File(path, "w") as f:
        f.create_group("vars")
        for name in extra_layers:
            f.create_group(f"layers/{name}/vars")
        for name, arrays in layers.items():
            group = f.create_group(f"layers/{name}/vars")
            for i, a in enumerate(arrays):
                group[str(i)] = a
        f.create_group("optimizer/vars")["0"] = np.array(7, np.int64)
    return path


KERAS2_VARS = {"conv2d": ["kernel", "bias"], "dense": ["kernel", "bias"], "dense_1": ["kernel", "bias"],
               "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"]}


def write_keras2(path, layers, full_model=True):
    """Keras 2's HDF5: ``layer_names`` in order, each group's ``weight_names``, data at ``<layer>/<weight>``."""
    order = ["conv2d", "batch_normalization", "re_lu", "max_pooling2d", "flatten", "dense", "dense_1"]
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if full_model else f
        if full_model:
            f.attrs["model_config"] = json.dumps({"class_name": "Sequential"}).encode()
        root.attrs["layer_names"] = [n.encode() for n in order]
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.15.0"
        for name in order:
            group = root.create_group(name)
            names = [f"{name}/{v}:0" for v in KERAS2_VARS.get(name, [])] if name in layers else []
            group.attrs["weight_names"] = [n.encode() for n in names] if names else np.array([], "S1")
            for weight_name, a in zip(names, layers.get(name, [])):
                group[weight_name] = a
    return path


def assert_loaded(model, arrays):
    conv, bn, dense, dense_1 = model.layers[0], model.layers[1], model.layers[5], model.layers[6]
    ours = {"conv2d": [conv.weight, conv.bias], "batch_normalization": [bn.gamma, bn.beta, bn.running_mean, bn.running_var],
            "dense": [dense.weight, dense.bias], "dense_1": [dense_1.weight, dense_1.bias]}
    for name, params in ours.items():
        for p, a in zip(params, arrays[name]):
            np.testing.assert_array_equal(p.data, a)


def test_keras3_weights_file(tmp_path):
    arrays = keras_arrays()
    model = small_cnn(0, eps=1e-3)
    load_keras_weights(model, write_keras3(tmp_path / "w.weights.h5", arrays))
    assert_loaded(model, arrays)


@pytest.mark.parametrize("full_model", [True, False])
def test_keras2_h5_files(tmp_path, full_model):
    arrays = keras_arrays(1)
    model = small_cnn(0)
    load_keras_weights(model, write_keras2(tmp_path / "m.h5", arrays, full_model))
    assert_loaded(model, arrays)


def test_keras_layouts_compute_what_keras_computes(tmp_path):
    """A Dense kernel is (in, out) in both: the loaded MLP computes relu(x @ k0 + b0) @ k1 + b1."""
    rng = np.random.default_rng(4)
    k0, b0, k1 = (rng.standard_normal(s).astype(np.float32) for s in [(5, 4), (4,), (4, 2)])
    nn.set_random_seed(4)
    model = nn.Sequential([nn.Input(shape=(5,)), nn.Dense(4, activation="relu"), nn.Dense(2, use_bias=False)])
    load_keras_weights(model, write_keras3(tmp_path / "w.weights.h5", {"dense": [k0, b0], "dense_1": [k1]}, ()))
    x = rng.standard_normal((6, 5)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), np.maximum(x @ k0 + b0, 0) @ k1, rtol=1e-5, atol=1e-6)


def nested_model(seed):
    nn.set_random_seed(seed)
    inner = nn.Sequential([nn.Input(shape=(4,)), nn.Dense(3), nn.BatchNorm(), nn.Dense(3)])
    x = nn.Input(shape=(4,))
    return nn.Model(inputs=x, outputs=nn.Dense(2)(inner(x)))


def test_nested_models_in_both_layouts(tmp_path):
    rng = np.random.default_rng(5)
    d, bn, d1, d2 = ([rng.standard_normal(s).astype(np.float32) for s in shapes] for shapes in
                     [[(4, 3), (3,)], [(3,)] * 4, [(3, 3), (3,)], [(3, 2), (2,)]])
    with h5py.File(tmp_path / "k3.weights.h5", "w") as f:
        for path, arrays in [("layers/sequential/layers/dense", d), ("layers/sequential/layers/batch_normalization", bn),
                             ("layers/sequential/layers/dense_1", d1), ("layers/dense", d2)]:
            for i, a in enumerate(arrays):
                f[f"{path}/vars/{i}"] = a
    with h5py.File(tmp_path / "k2.h5", "w") as f:  # a nested model lists trainable weights first
        f.attrs["layer_names"] = [b"input_1", b"sequential", b"dense_2"]
        f.create_group("input_1").attrs["weight_names"] = np.array([], "S1")
        inner = [("dense/kernel:0", d[0]), ("dense/bias:0", d[1]), ("batch_normalization/gamma:0", bn[0]),
                 ("batch_normalization/beta:0", bn[1]), ("dense_1/kernel:0", d1[0]), ("dense_1/bias:0", d1[1]),
                 ("batch_normalization/moving_mean:0", bn[2]), ("batch_normalization/moving_variance:0", bn[3])]
        for group, weights in [("sequential", inner), ("dense_2", [("dense_2/kernel:0", d2[0]), ("dense_2/bias:0", d2[1])])]:
            g = f.create_group(group)
            g.attrs["weight_names"] = [n.encode() for n, _ in weights]
            for n, a in weights:
                g[n] = a
    for name in ("k3.weights.h5", "k2.h5"):
        model = nested_model(6)
        load_keras_weights(model, tmp_path / name)
        got = [p.data for p in model.weights]  # inner dense, bn (gamma, beta, mean, var), dense_1; outer dense
        want = [*d, *bn, *d1, *d2]
        assert len(got) == len(want) == 10
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(model.layers[-1].weight.data, d2[0])


def test_keras_file_for_another_architecture_changes_nothing(tmp_path):
    model = small_cnn(0)
    before = snapshot(model)
    arrays = keras_arrays()
    arrays["dense"][0] = np.zeros((35, 8), np.float32)
    with pytest.raises(nn.ModelFileError, match=r"layers/dense/vars/0 \(kernel\)' has shape \(35, 8\), the model expects \(36, 8\)"):
        load_keras_weights(model, write_keras3(tmp_path / "a.weights.h5", arrays))
    arrays = keras_arrays()
    del arrays["dense_1"]
    with pytest.raises(nn.ModelFileError, match="no 'layers/dense_1'"):
        load_keras_weights(model, write_keras3(tmp_path / "b.weights.h5", arrays))
    arrays = keras_arrays()
    arrays["batch_normalization"] = arrays["batch_normalization"][:2]  # Keras's center/scale-only variant
    with pytest.raises(nn.ModelFileError, match="holds 2 arrays"):
        load_keras_weights(model, write_keras3(tmp_path / "c.weights.h5", arrays))
    with pytest.raises(nn.ModelFileError, match="weights for 3 layers"):
        load_keras_weights(model, write_keras2(tmp_path / "d.h5", {k: v for k, v in keras_arrays().items() if k != "dense_1"}))
    arrays = keras_arrays()
    arrays["conv2d"][0] = arrays["conv2d"][0].astype(np.int32)
    with pytest.raises(nn.ModelFileError, match="int32 values"):
        load_keras_weights(model, write_keras2(tmp_path / "e.h5", arrays))
    for name, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


class Scale(nn.Layer):
    """A user's layer with a weight of its own."""

    def build(self, input_shape):
        super().build(input_shape)
        self.scale = nn.Parameter(np.ones(input_shape, np.float32))

    def forward_call(self, ctx, x):
        self._ensure_built(x)
        return x * self.scale.data

    def backward_call(self, ctx, grad_out):
        return grad_out * self.scale.data


def test_refusals(tmp_path):
    model = nn.Sequential([nn.Input(shape=(3,)), Scale(name="gain"), nn.Dense(2)])
    with pytest.raises(nn.ModelFileError, match=r"'gain' \(Scale\)"):
        load_keras_weights(model, write_keras3(tmp_path / "w.weights.h5", {"dense": [np.zeros((3, 2))]}, ()))
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(nn.ModelFileError, match="not a Keras weights file"):
        load_keras_weights(small_cnn(0), tmp_path / "other.h5")
    (tmp_path / "junk.h5").write_bytes(b"\x80\x04not hdf5 at all")
    with pytest.raises(nn.ModelFileError, match="cannot be read as an HDF5 file"):
        load_keras_weights(small_cnn(0), tmp_path / "junk.h5")
    with pytest.raises(nn.NotBuiltError):
        load_keras_weights(nn.Sequential([nn.Dense(2)]), tmp_path / "other.h5")
