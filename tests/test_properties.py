"""Property tests (hypothesis).

1. Random layer stacks (Dense of random widths and activations, Dropout, Flatten, Reshape) on random input
   shapes keep the shape contract (forward ``(batch, ...) -> (batch, ...)``, backward returns the input's
   shape) and their analytic gradients match finite differences (float64).
2. Random byte corruption (bit flips, truncation, inserted or overwritten bytes) of a tiny valid MNIST IDX
   gzip file, a tiny valid cat HDF5 file, a model file and a training checkpoint never yields anything but
   the documented error (``DatasetError`` / ``ModelFileError``) or a successful, well-formed load.
"""

from __future__ import annotations

import gzip
import io
import struct
import tempfile
from pathlib import Path

import h5py
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnscratch as nn
from nnscratch.core.errors import ModelFileError
from nnscratch.datasets import DatasetError, load_cat, load_mnist
from nnscratch.training.checkpoint import read_checkpoint
from nnscratch.utils.gradcheck import check_module

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "elu", "gelu", "leaky_relu", "softmax"]


# ----------------------------------------------------------------------------- layer stacks
@st.composite
def stacks(draw):
    """``(layers, input shape per sample, expected output shape per sample)``."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    input_shape, layers = shape, []
    for _ in range(draw(st.integers(1, 4))):
        size = int(np.prod(shape))
        options = ["dropout", "flatten"]
        if len(shape) == 1:
            options += ["dense", "dense"]
        factors = [p for p in range(2, size) if size % p == 0]
        if factors:
            options.append("reshape")
        kind = draw(st.sampled_from(options))
        if kind == "dense":
            units = draw(st.integers(1, 5))
            activation = draw(st.sampled_from(ACTIVATIONS))
            # ReLU and LeakyReLU have a kink at 0, where finite differences disagree with any derivative: a
            # dead unit or a dropped input would put a bias-free unit exactly there, so kinked units get a bias
            use_bias = activation in ("relu", "leaky_relu") or draw(st.booleans())
            layers.append(nn.Dense(units, activation=activation, use_bias=use_bias,
                                   bias_initializer=nn.initializers.Normal(0.0, 0.5)))
            shape = (units,)
        elif kind == "dropout":
            layers.append(nn.Dropout(draw(st.sampled_from([0.0, 0.25, 0.5]))))
        elif kind == "flatten":
            layers.append(nn.Flatten())
            shape = (size,)
        else:
            p = draw(st.sampled_from(factors))
            target = (p, -1) if draw(st.booleans()) else (p, size // p)
            layers.append(nn.Reshape(target))
            shape = (p, size // p)
    return layers, input_shape, shape


@SETTINGS
@given(stack=stacks(), batch=st.integers(1, 3), training=st.booleans(), seed=st.integers(0, 2**16))
def test_random_stacks_keep_the_shape_contract_and_pass_gradient_checks(stack, batch, training, seed):
    layers, input_shape, output_shape = stack
    model = nn.Sequential(layers, seed=seed, dtype="float64")
    x = np.random.default_rng(seed).standard_normal((batch, *input_shape))
    out = model.forward(x, training)
    assert out.shape == (batch, *output_shape) and out.dtype == np.float64
    for name, p in model.named_parameters():
        assert p.grad.shape == p.data.shape, name
    dx = model.backward(np.ones_like(out))
    assert dx.shape == x.shape
    errors = check_module(model, x, training=training, seed=seed)
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-5, f"{worst}: relative error {errors[worst]:.2e} for {model!r}"
    assert np.array_equal(model.predict(x), model.forward(x)) or not any(isinstance(m, nn.Dropout) for m in layers)


# ----------------------------------------------------------------------------- byte corruption
@st.composite
def corruptions(draw, size, head=512):
    """A function ``bytes -> bytes`` that damages data of ``size`` bytes (biased towards the header)."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "overwrite"]))
    where = st.integers(0, size - 1) if draw(st.booleans()) else st.integers(0, min(size, head) - 1)
    if kind == "flip":
        spots = draw(st.lists(st.tuples(where, st.integers(0, 7)), min_size=1, max_size=4))

        def damage(data):
            data = bytearray(data)
            for i, bit in spots:
                data[i] ^= 1 << bit
            return bytes(data)
    elif kind == "truncate":
        keep = draw(st.integers(0, size - 1))

        def damage(data):
            return data[:keep]
    elif kind == "insert":
        i, extra = draw(where), draw(st.binary(min_size=1, max_size=16))

        def damage(data):
            return data[:i] + extra + data[i:]
    else:
        i, extra = draw(where), draw(st.binary(min_size=1, max_size=16))

        def damage(data):
            return data[:i] + extra + data[i + len(extra):]
    damage.kind = kind  # type: ignore[attr-defined]
    return damage


MNIST_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def _mnist_files() -> dict[str, bytes]:
    files = {}
    for split, labels in ((("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), [0, 3, 9]),
                          (("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"), [7, 1])):
        n = len(labels)
        pixels = np.random.default_rng(n).integers(0, 256, n * 784, dtype=np.uint8).tobytes()
        files[split[0]] = gzip.compress(struct.pack(">4I", 2051, n, 28, 28) + pixels, mtime=0)
        files[split[1]] = gzip.compress(struct.pack(">2I", 2049, n) + bytes(labels), mtime=0)
    return files


MNIST = _mnist_files()


@SETTINGS
@given(target=st.sampled_from(MNIST_NAMES), inner=st.booleans(), data=st.data())
def test_corrupt_mnist_files_raise_only_dataset_errors(target, inner, data):
    raw = gzip.decompress(MNIST[target]) if inner else MNIST[target]
    damage = data.draw(corruptions(len(raw), head=64))
    damaged = damage(raw)
    with tempfile.TemporaryDirectory() as folder:
        for name, content in MNIST.items():
            Path(folder, name).write_bytes(content)
        Path(folder, target).write_bytes(gzip.compress(damaged, mtime=0) if inner else damaged)
        try:
            x_train, y_train, x_test, y_test = load_mnist(folder, verify=False)
        except DatasetError as exc:
            assert target in str(exc)
            return
    assert x_train.shape[1:] == x_test.shape[1:] == (28, 28) and len(x_train) == len(y_train)
    assert y_train.dtype == np.int64 and y_train.max(initial=0) <= 9 and y_test.max(initial=0) <= 9


def _cat_files() -> dict[str, bytes]:
    files = {}
    for split, n in (("train", 2), ("test", 1)):
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            f.create_dataset(f"{split}_set_x", data=np.random.default_rng(n).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8))
            f.create_dataset(f"{split}_set_y", data=np.arange(n) % 2)
            f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"]))
        files[f"{split}_catvnoncat.h5"] = buffer.getvalue()
    return files


CAT = _cat_files()


@SETTINGS
@given(data=st.data())
def _corrupt_cat_property(data):
    raw = CAT["train_catvnoncat.h5"]
    damaged = data.draw(corruptions(len(raw), head=4096))(raw)
    with tempfile.TemporaryDirectory() as folder:
        for name, content in CAT.items():
            Path(folder, name).write_bytes(content)
        Path(folder, "train_catvnoncat.h5").write_bytes(damaged)
        try:
            loaded = load_cat(folder, verify=False)
        except DatasetError as exc:
            assert "train_catvnoncat.h5" in str(exc)
            return
    assert loaded.x_train.shape[1:] == (64, 64, 3) and loaded.x_train.dtype == np.uint8
    assert set(np.unique(loaded.y_train)) <= {0, 1} and len(loaded.classes) == 2


def test_corrupt_cat_files_raise_only_dataset_errors():
    _corrupt_cat_property()


def _model_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((24, 3)), rng.integers(0, 2, 24)
    model = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dropout(0.1), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile("binary_crossentropy", "adam")
    with tempfile.TemporaryDirectory() as folder:
        model.fit(x, y, epochs=1, batch_size=8, callbacks=[nn.Checkpoint(folder)], verbose=0)
        model.save(Path(folder, "model.npz"))
        return {"model": Path(folder, "model.npz").read_bytes(), "checkpoint": Path(folder, "last.npz").read_bytes()}


MODEL_FILES = _model_files()


@SETTINGS
@given(kind=st.sampled_from(["model", "checkpoint"]), data=st.data())
def test_corrupt_model_files_raise_only_model_file_errors(kind, data):
    raw = MODEL_FILES[kind]
    damaged = data.draw(corruptions(len(raw), head=len(raw)))(raw)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "file.npz")
        path.write_bytes(damaged)
        try:
            model = nn.load_model(path)
            if kind == "checkpoint":
                read_checkpoint(path)
        except ModelFileError as exc:
            assert "file.npz" in str(exc)
            return
    assert model.predict(np.zeros((2, 3))).shape == (2, 1)
