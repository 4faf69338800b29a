"""MNIST handwritten digits from the four canonical IDX gzip files.

IDX format: a big-endian header ``magic, dim_0, ..., dim_{k-1}`` (uint32 each; magic 2051 = 0x0803 for
``(N, 28, 28)`` images, 2049 = 0x0801 for ``(N,)`` labels: ``0x08`` = uint8 data, low byte = number of
dims), then exactly ``prod(dims)`` bytes of row-major uint8 data.
"""

from __future__ import annotations

import math
import os
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..core.errors import DatasetError
from .checksum import read_file
from .errors import bad_file

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_KINDS = {IMAGE_MAGIC: "an IDX image file", LABEL_MAGIC: "an IDX label file"}


class MnistData(NamedTuple):
    """MNIST; unpacks as ``x_train, y_train, x_test, y_test = load_mnist()``."""

    x_train: np.ndarray  # (60000, 28, 28) uint8, 0 = background
    y_train: np.ndarray  # (60000,) int64 digits 0-9
    x_test: np.ndarray   # (10000, 28, 28) uint8
    y_test: np.ndarray   # (10000,) int64 digits 0-9


def load_mnist(root: str | os.PathLike[str] | None = None, verify: bool = True) -> MnistData:
    """Load the four MNIST files (see ``find_file`` for where they are looked for).

    ``verify`` checks each file's SHA-256 against the original first. Whatever ``verify``, every header
    field is checked (magic, 28x28 images, data length equal to the header's, as many labels as images)
    and labels must be 0-9. Labels are returned as int64 (the files store uint8).
    Raises ``DatasetError`` (or a subclass) naming the file, the problem and how to get the original.
    """
    return MnistData(*_read_split("train", root, verify), *_read_split("test", root, verify))


def _read_split(split: str, root: str | os.PathLike[str] | None, verify: bool) -> tuple[np.ndarray, np.ndarray]:
    images_name, labels_name = FILES[split]
    images_path, x = _read_idx(images_name, IMAGE_MAGIC, root, verify)
    labels_path, y = _read_idx(labels_name, LABEL_MAGIC, root, verify)
    if x.shape[1:] != (28, 28):
        raise bad_file(images_path, f"images are {x.shape[1]}x{x.shape[2]}, expected 28x28")
    if len(y) != len(x):
        raise bad_file(labels_path, f"{len(y)} labels but {images_name} has {len(x)} images")
    if y.size and y.max() > 9:
        raise bad_file(labels_path, f"labels {np.unique(y[y > 9])[:5].tolist()} out of range 0-9")
    return x, y.astype(np.int64)


def _read_idx(name: str, magic: int, root: str | os.PathLike[str] | None, verify: bool) -> tuple[Path, np.ndarray]:
    path, raw = read_file(name, root, verify)
    return path, read_idx_gz(raw, magic, path)


MAX_DEFLATE_RATIO = 1032  # deflate cannot expand more: a header promising more than this is refused unread


def read_idx_gz(raw: bytes, magic: int, path: Path) -> np.ndarray:
    """The uint8 array of the gzip-compressed IDX file ``raw``; decompression is bounded by its header.

    The header is decompressed first; then at most the ``prod(dims)`` bytes it promises (and never more
    than ``raw`` can hold at deflate's highest ratio) plus one are decompressed, so a file whose header or
    data promises more than it holds (a "gzip bomb") is refused without allocating what it promises.
    Data after the end of the gzip stream is refused too. ``path`` names the file in errors.
    """
    if raw[:2] != b"\x1f\x8b":
        found = "an empty file" if not raw else f"{len(raw)} bytes starting with {raw[:8]!r}"
        raise bad_file(path, f"not a gzip file (found {found})")
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = _inflate(stream, raw, 4 + 4 * (magic & 0xFF))
        try:
            dims, _ = _parse_header(head, magic, path)
        except DatasetError:
            _drain(stream)  # a broken gzip stream is the first thing to report
            _check_end(stream, path)
            raise
        expected = math.prod(dims)
        bound = min(expected, MAX_DEFLATE_RATIO * len(raw) + 1024)
        body = _inflate(stream, stream.unconsumed_tail, bound + 1)
        inflated = len(body) + (_drain(stream) if len(body) > expected else 0)
        if len(body) == expected and not stream.eof:
            _inflate(stream, stream.unconsumed_tail, 1)  # reach the gzip trailer: checks its CRC and length
    except zlib.error as exc:
        raise bad_file(path, f"corrupt or truncated gzip data ({exc})") from exc
    except MemoryError:
        raise bad_file(path, "not enough memory to decompress it") from None
    _check_end(stream, path)
    if inflated != expected:
        raise bad_file(path, f"IDX header says shape {dims} = {expected} data bytes, found {inflated}")
    try:
        return np.frombuffer(body, np.uint8).reshape(dims).copy()
    except MemoryError:
        raise bad_file(path, "not enough memory to hold its data") from None


def _check_end(stream: Any, path: Path) -> None:
    if not stream.eof:
        raise bad_file(path, "corrupt or truncated gzip data (the compressed stream ends early)")
    if stream.unused_data:
        raise bad_file(path, f"corrupt or truncated gzip data ({len(stream.unused_data)} bytes after the end of the "
                             "compressed stream)")


def _drain(stream: Any) -> int:
    """Decompress the rest of ``stream`` 1 MB at a time, keeping nothing; the number of bytes it held."""
    count = 0
    while not stream.eof and (chunk := stream.decompress(stream.unconsumed_tail, 1 << 20)):
        count += len(chunk)
    return count


def _inflate(stream: Any, data: bytes, size: int) -> bytes:
    """Up to ``size`` decompressed bytes of ``data`` (the rest stays in ``stream.unconsumed_tail``)."""
    out = stream.decompress(data, size)
    while len(out) < size and not stream.eof and (more := stream.decompress(stream.unconsumed_tail, size - len(out))):
        out += more  # (zlib may hold a few bytes of output back once all input is consumed)
    return out


def _parse_header(data: bytes, magic: int, path: Path) -> tuple[tuple[int, ...], int]:
    """``(dims, header length)`` of the IDX header at the start of ``data``, which must start with ``magic``."""
    if len(data) < 4:
        raise bad_file(path, f"only {len(data)} bytes after decompression, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        what = _KINDS.get(found, "not an IDX uint8 file")
        raise bad_file(path, f"IDX magic number {found} ({what}), expected {magic} ({_KINDS[magic]})")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise bad_file(path, f"IDX header cut short: {len(data)} bytes, expected {header}")
    return tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4)), header


def parse_idx(data: bytes, magic: int, path: Path) -> np.ndarray:
    """The uint8 array of decompressed IDX ``data`` whose header must start with ``magic``; ``path`` names errors.

    Images ``(N, rows, cols)`` for magic 2051, labels ``(N,)`` for 2049; the array is a writable copy.
    """
    dims, header = _parse_header(data, magic, path)
    expected = math.prod(dims)
    if len(data) - header != expected:
        raise bad_file(path, f"IDX header says shape {dims} = {expected} data bytes, "
                             f"found {len(data) - header}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()
