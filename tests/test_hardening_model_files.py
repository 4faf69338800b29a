"""Hostile model files, built here (tiny): each is refused with one ModelFileError naming the file and the problem.

A "bomb" is a header promising more than the file holds; nothing here is big. After each refusal the
folder holds only the file itself (nothing written).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ModelFileError
from nnscratch.data.classify import load_classifier, save_classifier
from nnscratch.io import model_file

WEIGHTS = {"layers.0.weight": np.zeros((2, 1), np.float32), "layers.0.bias": np.zeros(1, np.float32)}


def record(**changes) -> dict:
    config = {"format": "nnscratch-model", "version": 1, "input_shape": [2], "loss": None,
              "model": {"class": "Sequential", "config": {"layers": [{"class": "Dense", "config": {"units": 1}}]}}}
    config.update(changes)
    return config


def as_bytes(config: dict | bytes) -> np.ndarray:
    data = config if isinstance(config, bytes) else json.dumps(config).encode()
    return np.frombuffer(data, np.uint8)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def model_members(config: dict | bytes | None = None, **weights: np.ndarray) -> dict[str, bytes]:
    members = {"__config__.npy": npy(as_bytes(config if config is not None else record()))}
    members.update({f"{k}.npy": npy(v) for k, v in {**WEIGHTS, **weights}.items()})
    return members


def refused(path: Path, match: str | None) -> ModelFileError:
    """Load ``path``; it must raise ModelFileError matching ``match``, naming the file, and write nothing."""
    before = sorted(path.parent.iterdir())
    with pytest.raises(ModelFileError, match=match) as info:
        nn.load_model(path)
    assert str(path) in str(info.value)
    assert sorted(path.parent.iterdir()) == before
    return info.value


# ----------------------------------------------------------------------------- other formats, named
def safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + bytes(8)


OTHER_FORMATS = {
    "keras-h5": (b"\x89HDF\r\n\x1a\n" + bytes(500), "is an HDF5 file"),
    "safetensors": (safetensors(), "is a safetensors file"),
    "pytorch-zip": (zip_of({"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3\n"}), "is a PyTorch file"),
    "pytorch-legacy-pickle": (b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.", "is a pickle"),
    "keras-v3": (zip_of({"config.json": b"{}", "metadata.json": b"{}", "model.weights.h5": b""}), "is a Keras .keras"),
    "plain-zip": (zip_of({"readme.txt": b"hello"}), "is a zip archive of other files \\('readme.txt'\\)"),
    "empty-zip": (zip_of({}), "is an empty zip archive"),
    "empty": (b"", "is an empty file"),
    "bare-npy": (npy(np.zeros(3)), "is a bare .npy array"),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(20), "is a gzip-compressed file"),
}


@pytest.mark.parametrize("case", list(OTHER_FORMATS))
def test_a_file_of_another_format_is_named_for_what_it_is(tmp_path, case):
    content, match = OTHER_FORMATS[case]
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    error = refused(path, match)
    assert "not an nnscratch model file" in str(error) and "contains pickled data" not in str(error)


# ----------------------------------------------------------------------------- sizes, before inflating
def test_a_member_declaring_more_than_the_ceiling_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(**{"layers.0.weight": np.zeros((2, 1), np.float32)},
                                          **{"junk/big": np.zeros(100_000, np.uint8)}), zipfile.ZIP_DEFLATED))
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 1000)
    refused(path, r"archive member 'junk/big.npy' declares 100128 bytes, more than the limit of 1000 bytes per tensor")


def test_the_total_declared_size_has_a_ceiling(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(extra=np.zeros(300, np.float32))))
    monkeypatch.setattr(model_file, "MAX_TOTAL_BYTES", 1000)
    refused(path, r"declares \d+ bytes of arrays in all, more than the limit of 1000 bytes")


def npy_header(text: str) -> bytes:
    """A version 1.0 .npy header holding the dict ``text``, padded like numpy pads it."""
    padded = text + " " * (118 - len(text) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(padded)) + padded.encode()


def test_an_npy_header_promising_more_than_the_member_holds_is_a_bomb_refused(tmp_path):
    bomb = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }") + bytes(16)
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(**{"layers.0.weight": np.zeros((2, 1), np.float32)}) | {"layers.0.bias.npy": bomb}))
    refused(path, r"array 'layers.0.bias' of shape \(1000000000000,\) \(float32\) would take 4000000000000 bytes, more "
                  "than the limit")


def test_a_header_disagreeing_with_the_declared_size_is_refused(tmp_path):
    short = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }") + bytes(8)
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members() | {"layers.0.bias.npy": short}))
    refused(path, r"array 'layers.0.bias' has shape \(1000,\) \(float32\) = 4000 bytes, but the archive declares 8 bytes")


def test_an_unused_member_is_never_inflated(tmp_path):
    """A model file with an extra member whose data are garbage: loads, because the member is not read."""
    good = zip_of(model_members() | {"unused/blob.npy": npy(np.arange(4000, dtype=np.int64))}, zipfile.ZIP_DEFLATED)
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("unused/blob.npy")
    data = bytearray(good)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start: start + info.compress_size] = np.random.default_rng(0).bytes(info.compress_size)
    path = tmp_path / "m.npz"
    path.write_bytes(bytes(data))
    assert nn.load_model(path).predict(np.ones((1, 2))).shape == (1, 1)


def test_a_member_named_twice_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in model_members().items():
            z.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("layers.0.bias.npy", npy(np.ones(1, np.float32)))
    path = tmp_path / "m.npz"
    path.write_bytes(buffer.getvalue())
    refused(path, "holds the archive member 'layers.0.bias.npy' twice")


def test_a_huge_input_shape_is_refused_before_anything_is_built(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(record(input_shape=[10**6, 10**6]))))
    refused(path, r"input_shape \[1000000, 1000000\] of 1000000000000 values per sample, more than the limit")


def test_a_huge_input_shape_of_one_input_of_several_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(record(input_shape=[[2], [10**6, 10**6]]))))
    refused(path, r"input_shape \[1000000, 1000000\] of 1000000000000 values per sample, more than the limit")


# ----------------------------------------------------------------------------- the JSON record
def test_a_record_nested_200000_deep_is_refused_without_recursion(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(b"[" * 200_000 + b"]" * 200_000)))
    refused(path, "architecture record nested 200000 levels deep, more than the limit of 100")


def test_a_5000_digit_integer_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    text = json.dumps(record()).replace('"units": 1', '"units": ' + "9" * 5000).encode()
    path.write_bytes(zip_of(model_members(text)))
    refused(path, "corrupt architecture record: it holds an integer of 5000 digits")


def test_a_record_over_the_size_ceiling_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(record(note="x" * 5000))))
    monkeypatch.setattr(model_file, "MAX_RECORD_BYTES", 1000)
    refused(path, r"array '__config__' of shape \(\d+,\) \(uint8\) would take \d+ bytes, more than the limit of 1000 "
                  r"bytes \(nnscratch.io.model_file.MAX_RECORD_BYTES\)")


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(record(note="[{" * 500 + '\\"'))))
    assert nn.load_model(path).predict(np.ones((1, 2))).shape == (1, 1)


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_weights_are_refused(tmp_path, bad):
    weight = np.zeros((2, 1), np.float32)
    weight[1, 0] = bad
    path = tmp_path / "m.npz"
    path.write_bytes(zip_of(model_members(**{"layers.0.weight": weight})))
    refused(path, "weight tensor 'layers.0.weight' holds 1 NaN or infinite value: the file is damaged")


def test_memory_error_while_reading_becomes_a_model_file_error(tmp_path, monkeypatch):
    path = nn.Sequential([nn.Dense(1)]).build((2,)).save(tmp_path / "m.npz")

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(model_file.NpzArchive, "read", no_memory)
    refused(path, "not enough memory to read it")


def test_memory_error_while_building_becomes_a_model_file_error(tmp_path, monkeypatch):
    path = nn.Sequential([nn.Dense(1)]).build((2,)).save(tmp_path / "m.npz")

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(nn.Sequential, "build", no_memory)
    refused(path, "not enough memory to build the model")


def test_a_lowered_tensor_ceiling_refuses_a_real_model_and_the_default_loads_it(tmp_path, monkeypatch):
    model = nn.Sequential([nn.Dense(64), nn.Dense(1)], seed=0).build((32,))
    path = model.save(tmp_path / "m.npz")
    x = np.ones((3, 32), np.float32)
    np.testing.assert_array_equal(nn.load_model(path).predict(x), model.predict(x))
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 4096)
    refused(path, r"'layers.0.weight.* more than the limit of 4096 bytes")


def test_a_checkpoint_still_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)).astype(np.float32), rng.integers(0, 2, 32)
    model = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile("binary_crossentropy", "adam")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[nn.Checkpoint(tmp_path)])
    state = nn.checkpoint.read_checkpoint(tmp_path)
    assert state.epoch == 2 and any(k.startswith("optimizer/") for k in state.arrays)


# ----------------------------------------------------------------------------- classifier preprocessing
@pytest.mark.parametrize("prep, match", [
    ({"scale": 1e-300}, r"preprocessing scale 1e-300 out of range"),
    ({"scale": 1e300}, r"preprocessing scale 1e\+300 out of range"),
    ({"size": [50000, 50000]}, r"preprocessing size \[50000, 50000\] of 2500000000 pixels, more than the limit"),
])
def test_a_classifier_with_absurd_preprocessing_is_refused(tmp_path, prep, match):
    model = nn.Sequential([nn.Dense(1, activation="sigmoid")], seed=0).build((64 * 64 * 3,))
    path = save_classifier(model, tmp_path / "clf.npz", preprocessing=prep)
    with pytest.raises(ModelFileError, match=match) as info:
        load_classifier(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("cls", ["Model", "Activation"])
def test_a_record_naming_an_abstract_class_is_a_clean_error(tmp_path, cls):
    path = tmp_path / "m.npz"
    layers = [{"class": cls, "config": {}}]
    path.write_bytes(zip_of(model_members(record(model={"class": "Sequential", "config": {"layers": layers}}))))
    error = refused(path, None)  # the wording is the core's (abstract classes are not buildable); no traceback
    assert cls in str(error) or "abstract" in str(error)
