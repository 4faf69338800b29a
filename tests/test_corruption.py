"""A corpus of broken files, written by the tests: each must give its own specific error and nothing else.

Complements tests/test_serialization.py (garbage, truncated, pickle, version), tests/test_datasets_*.py
(IDX headers, gzip, HDF5 keys and content) and tests/test_image.py (text, empty, truncated JPEG): here
are the cases those do not cover. The random-corruption properties are in tests/test_properties.py.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

import nnscratch as nn
from nnscratch.core.errors import ImageError, ModelFileError
from nnscratch.data.image import load_image
from nnscratch.datasets import DatasetError, load_cat, load_mnist


# ----------------------------------------------------------------------------- model files
def record(**changes):
    config = {"format": "nnscratch-model", "version": 1, "input_shape": [2], "loss": None,
              "model": {"class": "Sequential", "config": {"layers": [{"class": "Dense", "config": {"units": 1}}]}}}
    config.update(changes)
    return np.frombuffer(json.dumps(config).encode(), np.uint8)


def sequential(*layers):
    return {"class": "Sequential", "config": {"layers": list(layers)}}


WEIGHTS = {"layers.0.weight": np.zeros((2, 1), np.float32), "layers.0.bias": np.zeros(1, np.float32)}


def corrupt_compressed(f):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, __config__=record(), **WEIGHTS)
    data = bytearray(buffer.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("__config__.npy")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF  # inside the deflated __config__ member
    f.write(bytes(data))


MODEL_FILES = {
    "npy": (lambda f: np.save(f, np.zeros(3)), "is a bare .npy array, not an nnscratch model file"),
    "no-record": (lambda f: np.savez(f, w=np.zeros(3)), r"has no architecture record \('__config__'\)"),
    "record-not-bytes": (lambda f: np.savez(f, __config__=np.zeros(3)), "has no architecture record"),
    "record-not-json": (lambda f: np.savez(f, __config__=np.frombuffer(b"{not json", np.uint8)), "corrupt architecture record"),
    "record-not-utf8": (lambda f: np.savez(f, __config__=np.frombuffer(b"\xff\xfe", np.uint8)), "corrupt architecture record.*utf-8"),
    "record-a-list": (lambda f: np.savez(f, __config__=np.frombuffer(b"[1, 2]", np.uint8)), "is not an nnscratch model file"),
    "other-format": (lambda f: np.savez(f, __config__=record(format="keras")), "not an nnscratch model file \\(format 'keras'\\)"),
    "bad-input-shape": (lambda f: np.savez(f, __config__=record(input_shape=[0])), r"bad input_shape \[0\]"),
    "no-architecture": (lambda f: np.savez(f, __config__=record(model=None)), "no model architecture"),
    "unknown-layer": (lambda f: np.savez(f, __config__=record(model=sequential({"class": "Transformer", "config": {}}))),
                      "unknown layer class 'Transformer'"),
    "bad-layer-argument": (lambda f: np.savez(f, __config__=record(model=sequential({"class": "Dense", "config": {"units": "abc"}}))),
                           "bad configuration for layer Dense: Dense units must be an integer"),
    "unknown-layer-argument": (lambda f: np.savez(f, __config__=record(model=sequential({"class": "Dense", "config": {"units": 2, "colour": 1}}))),
                               "unexpected keyword argument 'colour'"),
    "a-layer-not-a-model": (lambda f: np.savez(f, __config__=record(model={"class": "Dense", "config": {"units": 2}})),
                            "holds a Dense layer, not a model"),
    "unknown-loss": (lambda f: np.savez(f, __config__=record(loss={"name": "hingle"}), **WEIGHTS), "invalid loss record: unknown loss 'hingle'"),
    "weights-as-strings": (lambda f: np.savez(f, __config__=record(), **{**WEIGHTS, "layers.0.weight": np.array([["a", "b"]])}),
                           "tensor 'layers.0.weight' has dtype <U1"),
    "weights-of-another-shape": (lambda f: np.savez(f, __config__=record(), **{**WEIGHTS, "layers.0.weight": np.zeros((3, 1))}),
                                 r"'layers.0.weight' has shape \(3, 1\) in the file, the model expects \(2, 1\)"),
    "extra-weight": (lambda f: np.savez(f, __config__=record(), **WEIGHTS, **{"layers.1.weight": np.zeros(2)}),
                     "'layers.1.weight' the model does not have"),
    "architecture-cannot-take-input": (lambda f: np.savez(f, __config__=record(input_shape=[])),
                                       r"cannot take inputs of shape \(\).*one number per sample"),
    "compressed-and-corrupt": (corrupt_compressed, "Bad CRC-32|corrupt|truncated"),
}


@pytest.mark.parametrize("case", list(MODEL_FILES))
def test_broken_model_files(tmp_path, case):
    make, match = MODEL_FILES[case]
    path = tmp_path / f"{case}.npz"
    with open(path, "wb") as f:
        make(f)
    with pytest.raises(ModelFileError, match=match) as info:
        nn.load_model(path)
    assert str(path) in str(info.value)


def test_a_folder_is_not_a_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder, not a model file"):
        nn.load_model(tmp_path)


def test_a_valid_model_file_still_loads(tmp_path):
    path = tmp_path / "ok.npz"
    np.savez(path, __config__=record(), **WEIGHTS)
    assert nn.load_model(path).predict(np.ones((3, 2))).shape == (3, 1)


# ----------------------------------------------------------------------------- MNIST IDX files
MNIST = {("train", "images"): "train-images-idx3-ubyte.gz", ("train", "labels"): "train-labels-idx1-ubyte.gz",
         ("test", "images"): "t10k-images-idx3-ubyte.gz", ("test", "labels"): "t10k-labels-idx1-ubyte.gz"}


@pytest.fixture
def mnist_dir(tmp_path):
    for split, labels in (("train", [0, 1, 2]), ("test", [7, 8])):
        n = len(labels)
        (tmp_path / MNIST[split, "images"]).write_bytes(gzip.compress(struct.pack(">4I", 2051, n, 28, 28) + bytes(784 * n)))
        (tmp_path / MNIST[split, "labels"]).write_bytes(gzip.compress(struct.pack(">2I", 2049, n) + bytes(labels)))
    return tmp_path


@pytest.mark.parametrize("file, content, match", [
    (("train", "images"), b"\x1f\x8b" + np.random.default_rng(0).bytes(300), "corrupt or truncated gzip data"),
    (("train", "images"), gzip.compress(struct.pack(">4I", 2051, 3, 28, 28) + bytes(784 * 3)) + b"garbage!",
     "corrupt or truncated gzip data"),
    (("train", "images"), gzip.compress(struct.pack(">4I", 2051, 2**31, 28, 28) + bytes(784)),
     r"header says shape \(2147483648, 28, 28\) = 1683627180032 data bytes, found 784"),
    (("test", "labels"), gzip.compress(struct.pack(">2I", 2049, 2) + bytes([7, 12])), r"labels \[12\] out of range 0-9"),
    (("test", "images"), gzip.compress(struct.pack(">4I", 2051, 3, 28, 28) + bytes(784 * 3)),
     "2 labels but t10k-images-idx3-ubyte.gz has 3 images"),
    (("train", "labels"), gzip.compress(gzip.compress(struct.pack(">2I", 2049, 3) + bytes([0, 1, 2]))),
     r"IDX magic number 529205248 \(not an IDX uint8 file\), expected 2049"),
], ids=["gzip-magic-then-noise", "trailing-garbage", "huge-dimensions", "test-label-12", "test-count-mismatch",
        "gzip-inside-gzip"])
def test_broken_mnist_files(mnist_dir, file, content, match):
    (mnist_dir / MNIST[file]).write_bytes(content)
    with pytest.raises(DatasetError, match=match) as info:
        load_mnist(mnist_dir, verify=False)
    assert MNIST[file] in str(info.value) and "fetch" in str(info.value)


# ----------------------------------------------------------------------------- cat HDF5 files
def write_cat(folder: Path, split: str, **datasets):
    content = {f"{split}_set_x": np.zeros((2, 64, 64, 3), np.uint8), f"{split}_set_y": np.array([0, 1]),
               "list_classes": np.array([b"non-cat", b"cat"]), **datasets}
    with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
        for key, value in content.items():
            if isinstance(value, str) and value == "group":
                f.create_group(key)
            else:
                f.create_dataset(key, data=value)
    return folder / f"{split}_catvnoncat.h5"


@pytest.fixture
def cat_dir(tmp_path):
    write_cat(tmp_path, "train")
    write_cat(tmp_path, "test")
    return tmp_path


@pytest.mark.parametrize("datasets, match", [
    ({"train_set_y": "group"}, "no dataset 'train_set_y'"),
    ({"list_classes": np.array([0, 1])}, r"list_classes has shape \(2,\) and dtype int64, expected 2 names"),
    ({"train_set_x": np.uint8(3)}, r"train_set_x has shape \(\), expected \(N, 64, 64, 3\)"),
    ({"train_set_y": np.array([b"a", b"b"])}, "train_set_y has dtype |S1, expected integer labels"),
], ids=["group-instead-of-dataset", "numeric-class-names", "scalar-images", "string-labels"])
def test_broken_cat_content(cat_dir, datasets, match):
    write_cat(cat_dir, "train", **datasets)
    with pytest.raises(DatasetError, match=match):
        load_cat(cat_dir, verify=False)


@pytest.mark.parametrize("cut", [8, 100, 1000], ids=["signature-only", "superblock", "object-headers"])
def test_cat_file_cut_short(cat_dir, cut):
    path = cat_dir / "train_catvnoncat.h5"
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(DatasetError, match="train_catvnoncat.h5: not a readable HDF5 file"):
        load_cat(cat_dir, verify=False)


def test_hdf5_signature_followed_by_zeros(cat_dir):
    (cat_dir / "train_catvnoncat.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    with pytest.raises(DatasetError, match="not a readable HDF5 file"):
        load_cat(cat_dir, verify=False)


def test_hdf5_with_a_huge_address(cat_dir):
    path = cat_dir / "train_catvnoncat.h5"
    data = bytearray(path.read_bytes())
    assert data[:8] == b"\x89HDF\r\n\x1a\n" and data[8] == 0  # superblock version 0: addresses at 24, 32, 40, 48
    data[48:56] = struct.pack("<Q", 0xFFFFFFFF7FFFFFFF)  # driver-information block address: past any file
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="train_catvnoncat.h5"):
        load_cat(cat_dir, verify=False)


# ----------------------------------------------------------------------------- images
def _png(width=32, height=32) -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG = _png()
IDAT = PNG.find(b"IDAT")


@pytest.mark.parametrize("content, match", [
    (PNG[: len(PNG) // 2], "cannot be decoded, truncated or corrupt"),
    (PNG[: IDAT + 10] + bytes(20) + PNG[IDAT + 30:], "cannot be decoded, truncated or corrupt"),
    (b"\x89PNG\r\n\x1a\n", "not an image Pillow can read"),
    (b"GIF89a" + struct.pack("<HH", 10, 10) + bytes(3), "not an image Pillow can read"),
    (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) + _chunk(b"IEND", b""),
     "cannot be decoded.*decompression bomb"),
    (b"BM" + struct.pack("<IHHI", 1000, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 1 << 30, 1 << 30, 1, 24, 0, 0, 0, 0, 0, 0),
     "cannot be decoded"),
], ids=["truncated-png", "garbled-png-data", "png-signature-only", "gif-header-only", "png-declaring-10-gigapixels",
        "bmp-declaring-huge-size"])
def test_broken_images(tmp_path, content, match):
    path = tmp_path / "photo.img"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=match) as info:
        load_image(path)
    assert str(path) in str(info.value)


def test_an_image_with_the_wrong_extension_still_loads(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), (0, 200, 0)).save(buffer, "JPEG")
    path = tmp_path / "actually-a-jpeg.png"
    path.write_bytes(buffer.getvalue())
    assert load_image(path).shape == (64, 64, 3)
