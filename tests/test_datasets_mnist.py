"""MNIST IDX loader on tiny gzip files written by the tests, and on the real files when available."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from nnscratch.datasets import (
    KNOWN_FILES,
    ChecksumError,
    DatasetError,
    KnownFile,
    MissingFileError,
    MnistData,
    load_mnist,
)

NAMES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}
RANDOM = np.random.default_rng(0).bytes(5000)


def idx_bytes(magic: int, dims: tuple[int, ...], data: bytes) -> bytes:
    return struct.pack(f">{1 + len(dims)}I", magic, *dims) + data


def write_gz(path: Path, raw: bytes) -> None:
    path.write_bytes(gzip.compress(raw, mtime=0))


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """Train: 5 images, labels 0-4; test: 3 images, labels 7-9; image i of a split is filled with i."""
    for split, labels in (("train", [0, 1, 2, 3, 4]), ("test", [7, 8, 9])):
        n = len(labels)
        images = np.repeat(np.arange(n, dtype=np.uint8), 28 * 28).tobytes()
        write_gz(tmp_path / NAMES[split, "images"], idx_bytes(2051, (n, 28, 28), images))
        write_gz(tmp_path / NAMES[split, "labels"], idx_bytes(2049, (n,), bytes(labels)))
    return tmp_path


def test_loads_tiny_files(mnist_dir: Path) -> None:
    data = load_mnist(mnist_dir, verify=False)
    assert isinstance(data, MnistData)
    x_train, y_train, x_test, y_test = data
    assert x_train.shape == (5, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (3, 28, 28)
    assert y_train.dtype == np.int64 and y_train.tolist() == [0, 1, 2, 3, 4]
    assert y_test.tolist() == [7, 8, 9]
    assert (x_train[3] == 3).all() and (x_test[2] == 2).all()
    x_train[0, 0, 0] = 255  # the arrays are writable copies


def test_row_major_pixel_order(mnist_dir: Path) -> None:
    pixels = np.arange(28 * 28, dtype=np.uint16).astype(np.uint8)
    write_gz(mnist_dir / NAMES["test", "images"], idx_bytes(2051, (3, 28, 28), np.tile(pixels, 3).tobytes()))
    x_test = load_mnist(mnist_dir, verify=False).x_test
    assert x_test[1, 2, 5] == pixels[2 * 28 + 5]


def test_verify_rejects_tiny_files(mnist_dir: Path) -> None:
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: size .* expected 9912422 bytes"):
        load_mnist(mnist_dir)


def test_verify_accepts_known_checksums(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES.values():
        content = (mnist_dir / name).read_bytes()
        monkeypatch.setitem(KNOWN_FILES, name,
                            KnownFile(name, len(content), hashlib.sha256(content).hexdigest(), "mnist"))
    assert load_mnist(mnist_dir).y_test.tolist() == [7, 8, 9]
    path = mnist_dir / NAMES["train", "labels"]
    write_gz(path, idx_bytes(2049, (5,), bytes([0, 1, 2, 3, 5])))  # same size, other content
    with pytest.raises(ChecksumError, match="SHA-256"):
        load_mnist(mnist_dir)


def test_missing_file(mnist_dir: Path) -> None:
    (mnist_dir / NAMES["test", "labels"]).unlink()
    with pytest.raises(MissingFileError, match=f"t10k-labels-idx1-ubyte.gz not found.*{mnist_dir}.*fetch"):
        load_mnist(mnist_dir, verify=False)


@pytest.mark.parametrize("content, match", [
    (b"", "not a gzip file \\(found an empty file\\)"),
    (b"\x00\x00\x08\x03" + bytes(100), "not a gzip file"),
    (bytes(range(200)), "not a gzip file"),
    (gzip.compress(RANDOM)[:2500], "corrupt or truncated gzip data"),
    (gzip.compress(RANDOM)[:-4], "corrupt or truncated gzip data"),
    (gzip.compress(b""), "only 0 bytes after decompression"),
], ids=["empty", "raw-idx", "random", "truncated", "truncated-trailer", "empty-gzip"])
def test_not_a_good_gzip_file(mnist_dir: Path, content: bytes, match: str) -> None:
    (mnist_dir / NAMES["train", "images"]).write_bytes(content)
    with pytest.raises(DatasetError, match=f"train-images-idx3-ubyte.gz: {match}.*fetch"):
        load_mnist(mnist_dir, verify=False)


@pytest.mark.parametrize("kind, raw, match", [
    ("images", idx_bytes(2049, (5,), bytes(5)), r"magic number 2049 \(an IDX label file\), expected 2051"),
    ("labels", idx_bytes(2051, (5, 28, 28), bytes(5 * 784)), r"magic number 2051 \(an IDX image file\), expected 2049"),
    ("images", idx_bytes(0x0D03, (5, 28, 28), bytes(5 * 784 * 4)), r"magic number 3331 \(not an IDX uint8 file\)"),
    ("images", struct.pack(">II", 2051, 5), "IDX header cut short: 8 bytes, expected 16"),
    ("images", idx_bytes(2051, (5, 28, 28), bytes(4 * 784)),
     r"header says shape \(5, 28, 28\) = 3920 data bytes, found 3136"),
    ("images", idx_bytes(2051, (5, 28, 28), bytes(5 * 784 + 1)), "3920 data bytes, found 3921"),
    ("labels", idx_bytes(2049, (5,), bytes(4)), r"shape \(5,\) = 5 data bytes, found 4"),
    ("images", idx_bytes(2051, (5, 27, 28), bytes(5 * 27 * 28)), "images are 27x28, expected 28x28"),
    ("labels", idx_bytes(2049, (4,), bytes(4)), "4 labels but train-images-idx3-ubyte.gz has 5 images"),
    ("labels", idx_bytes(2049, (5,), bytes([0, 1, 10, 3, 255])), r"labels \[10, 255\] out of range 0-9"),
], ids=["images-magic", "labels-magic", "other-type", "short-header", "data-short", "data-long",
        "labels-short", "not-28x28", "count-mismatch", "label-10"])
def test_bad_idx_content(mnist_dir: Path, kind: str, raw: bytes, match: str) -> None:
    name = NAMES["train", kind]
    write_gz(mnist_dir / name, raw)
    with pytest.raises(DatasetError, match=match) as info:
        load_mnist(mnist_dir, verify=False)
    assert name in str(info.value) and "python -m nnscratch.datasets fetch" in str(info.value)


def _real_data_dir() -> Path:
    folder = os.environ.get("NNSCRATCH_DATA")
    if not folder:
        pytest.skip("real MNIST data not available: set NNSCRATCH_DATA to the folder holding the MNIST .gz files")
    for name in NAMES.values():
        if not (Path(folder) / name).is_file():
            pytest.skip(f"real MNIST data not available: no {name} in NNSCRATCH_DATA={folder}")
    return Path(folder)


def test_real_mnist_data() -> None:
    x_train, y_train, x_test, y_test = load_mnist(_real_data_dir())
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_train.shape == (60000,) and y_test.shape == (10000,) and y_train.dtype == np.int64
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test, minlength=10).sum() == 10000 and y_test.max() == 9
