"""Hostile dataset files, built here (tiny): a header promising more than the file holds is refused without
allocating what it promises; a server trickling bytes is cut off by the download deadline."""

from __future__ import annotations

import gzip
import hashlib
import re
import struct
import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h5py
import numpy as np
import pytest

from nnscratch.datasets import (
    KNOWN_FILES,
    DatasetError,
    DownloadError,
    KnownFile,
    download,
    load_cat,
    load_mnist,
)

MNIST = {("train", "images"): "train-images-idx3-ubyte.gz", ("train", "labels"): "train-labels-idx1-ubyte.gz",
         ("test", "images"): "t10k-images-idx3-ubyte.gz", ("test", "labels"): "t10k-labels-idx1-ubyte.gz"}
MB = 1 << 20


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    for split, labels in (("train", [0, 1, 2]), ("test", [7, 8])):
        n = len(labels)
        (tmp_path / MNIST[split, "images"]).write_bytes(gzip.compress(struct.pack(">4I", 2051, n, 28, 28) + bytes(784 * n)))
        (tmp_path / MNIST[split, "labels"]).write_bytes(gzip.compress(struct.pack(">2I", 2049, n) + bytes(labels)))
    return tmp_path


def refused_within(action) -> tuple[str, int]:
    """``(message, peak bytes traced)`` of ``action()``, which must raise ``DatasetError``."""
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as info:
            action()
        return str(info.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def zeros_gzip(prefix: bytes, zeros: int) -> bytes:
    """gzip of ``prefix`` followed by ``zeros`` zero bytes, compressed a megabyte at a time (stays small)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [comp.compress(prefix)]
    block = bytes(MB)
    for _ in range(zeros // MB):
        out.append(comp.compress(block))
    return b"".join(out) + comp.flush()


def test_an_idx_header_promising_a_terabyte_allocates_nothing_of_it(mnist_dir):
    path = mnist_dir / MNIST["train", "images"]
    path.write_bytes(gzip.compress(struct.pack(">4I", 2051, 2**30, 28, 28) + bytes(784 * 3)))
    error, peak = refused_within(lambda: load_mnist(mnist_dir, verify=False))
    assert f"{path}: IDX header says shape (1073741824, 28, 28) = 841813590016 data bytes, found 2352" in error
    assert peak < 8 * MB


def test_a_gzip_bomb_behind_a_small_header_is_decompressed_only_as_far_as_the_header_promises(mnist_dir):
    path = mnist_dir / MNIST["train", "labels"]
    path.write_bytes(zeros_gzip(struct.pack(">2I", 2049, 3) + bytes(3), 64 * MB))
    assert path.stat().st_size < MB
    error, peak = refused_within(lambda: load_mnist(mnist_dir, verify=False))
    assert f"{path}: IDX header says shape (3,) = 3 data bytes, found {3 + 64 * MB}" in error
    assert peak < 8 * MB  # counted a megabyte at a time, never held


def test_data_after_the_gzip_stream_is_refused(mnist_dir):
    path = mnist_dir / MNIST["test", "labels"]
    path.write_bytes(gzip.compress(struct.pack(">2I", 2049, 2) + bytes([7, 8])) + b"\x00" * 10)
    with pytest.raises(DatasetError, match="corrupt or truncated gzip data \\(10 bytes after the end of the compressed"):
        load_mnist(mnist_dir, verify=False)


def test_a_valid_tiny_mnist_still_loads(mnist_dir):
    data = load_mnist(mnist_dir, verify=False)
    assert data.x_train.shape == (3, 28, 28) and data.y_test.tolist() == [7, 8]


# ----------------------------------------------------------------------------- HDF5
def cat_file(path: Path, split: str, x_shape: tuple[int, ...], x_dtype: str = "u1", n_labels: int | None = None) -> None:
    """A cat-layout HDF5 file whose image dataset declares ``x_shape`` (chunked and never written: tiny)."""
    with h5py.File(path, "w") as f:
        f.create_dataset(f"{split}_set_x", shape=x_shape, dtype=x_dtype, chunks=True, compression="gzip")
        f.create_dataset(f"{split}_set_y", data=np.zeros(n_labels if n_labels is not None else x_shape[0], np.int64))
        f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"]))


@pytest.fixture
def cat_dir(tmp_path: Path) -> Path:
    cat_file(tmp_path / "train_catvnoncat.h5", "train", (4, 64, 64, 3))
    cat_file(tmp_path / "test_catvnoncat.h5", "test", (2, 64, 64, 3))
    return tmp_path


@pytest.mark.parametrize("shape, dtype, match", [
    ((40000, 40000), "u1", r"train_set_x has shape \(40000, 40000\), expected \(N, 64, 64, 3\)"),
    ((4, 64, 64, 3), "f8", "train_set_x has dtype float64, expected uint8"),
    ((1_000_000, 64, 64, 3), "u1", "train_set_x declares 1000000 images, more than the limit of 100000"),
])
def test_hdf5_shapes_and_dtypes_are_checked_before_the_payload_is_read(cat_dir, shape, dtype, match):
    path = cat_dir / "train_catvnoncat.h5"
    cat_file(path, "train", shape, dtype, n_labels=4)
    assert path.stat().st_size < MB
    error, peak = refused_within(lambda: load_cat(cat_dir, verify=False))
    assert str(path) in error and re.search(match, error)
    assert peak < 8 * MB


def test_a_valid_tiny_cat_file_still_loads(cat_dir):
    assert load_cat(cat_dir, verify=False).x_train.shape == (4, 64, 64, 3)


# ----------------------------------------------------------------------------- the download deadline
CONTENT = b"0123456789" * 400
NAME = "tiny.bin"


class _Trickle(BaseHTTPRequestHandler):
    """Announces the whole file, then sends 10 bytes every 20 ms: each read is quick, the transfer endless."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(CONTENT)))
        self.end_headers()
        try:
            for i in range(0, len(CONTENT), 10):
                self.wfile.write(CONTENT[i: i + 10])
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickle(monkeypatch):
    monkeypatch.setitem(KNOWN_FILES, NAME, KnownFile(NAME, len(CONTENT), hashlib.sha256(CONTENT).hexdigest(), "cat"))
    monkeypatch.delenv("NNSCRATCH_DOWNLOAD_DEADLINE", raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_trickling_server_is_cut_off_by_the_deadline(trickle, tmp_path):
    with pytest.raises(DownloadError, match=r"not complete within the deadline of 0.3 s \(\d+ of 4000 bytes received"):
        download(NAME, tmp_path, mirrors=[trickle], timeout=5, deadline=0.3, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_the_deadline_comes_from_the_environment(trickle, tmp_path, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DOWNLOAD_DEADLINE", "0.25")
    with pytest.raises(DownloadError, match="deadline of 0.25 s"):
        download(NAME, tmp_path, mirrors=[trickle], timeout=5, progress=False)
    monkeypatch.setenv("NNSCRATCH_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(DatasetError, match="NNSCRATCH_DOWNLOAD_DEADLINE must be a positive number of seconds, got 'soon'"):
        download(NAME, tmp_path, mirrors=[trickle], progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True])
def test_a_bad_deadline_is_refused(tmp_path, bad):
    with pytest.raises(DatasetError, match="deadline must be a positive number of seconds"):
        download("train_catvnoncat.h5", tmp_path, mirrors=["http://127.0.0.1:9/"], deadline=bad)
