"""Weights as safetensors files: ``save_weights_safetensors(model, path)`` / ``load_weights_safetensors``.

The format (huggingface/safetensors) is simple enough to read and write here, so no extra package is
needed: an 8-byte little-endian header length ``N``, ``N`` bytes of JSON mapping each tensor name to
``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (offsets into the data that
follow; an optional ``"__metadata__"`` of strings), then the raw little-endian data. It holds arrays
only, so loading runs no code. Reading is bounded: the header's length, every tensor's offsets and
byte count are checked against the file's size before anything else is read, and tensors may not
overlap. Names are ``model.state_dict()``'s (``layers.0.weight``); the arrays are nnscratch's own
layouts (a Dense weight ``(in, out)``, a Conv2D weight ``(KH, KW, C, OC)``).
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..core.errors import InvalidTypeError, ModelFileError
from .atomic import atomic_write

MAX_HEADER_BYTES = 100 * 2**20  # the reference implementation's limit
_DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "BF16": np.dtype("<u2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "BOOL": np.dtype("?"),
}
_CODES: dict[np.dtype, str] = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}


def save_weights_safetensors(model: Any, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> Path:
    """Write every weight of ``model`` (trainable or not, by ``state_dict`` name) to ``path``, atomically."""
    state = model.state_dict()
    if not state:
        raise ModelFileError(f"{type(model).__name__} has no weights yet: build it (or call it on data) before saving")
    return write_safetensors(path, state, {"format": "nnscratch", **(metadata or {})})


def load_weights_safetensors(model: Any, path: str | os.PathLike) -> None:
    """Load weights written by ``save_weights_safetensors`` (or any safetensors file with the same names and
    shapes) into ``model``; all or nothing: on a missing, extra or misshapen tensor nothing is changed."""
    arrays = read_safetensors(path)
    own = {name: p for name, p in model.named_parameters(include_frozen=True)}
    for name, value in arrays.items():
        if value.dtype.kind != "f":
            raise ModelFileError(f"'{path}': tensor '{name}' holds {value.dtype} numbers; weights are floating-point")
        if name in own and value.shape != own[name].shape:
            raise ModelFileError(f"'{path}': tensor '{name}' has shape {value.shape}, the model expects "
                                 f"{own[name].shape}")
    model.load_state_dict(arrays)


def write_safetensors(path: str | os.PathLike, arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None
                      ) -> Path:
    """Write ``arrays`` (float16/32/64, by name) as a safetensors file at ``path``, atomically."""
    header: dict[str, Any] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise InvalidTypeError("safetensors metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    blobs, offset = [], 0
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        code = _CODES.get(a.dtype)
        if code is None or name == "__metadata__":
            raise InvalidTypeError(f"cannot write tensor {name!r} of dtype {a.dtype} (float16/32/64 arrays only)")
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a)
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data start 8-byte aligned

    def write(f: IO[bytes]) -> None:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for a in blobs:
            f.write(a.reshape(-1).view(np.uint8).data)

    return atomic_write(path, write)


def read_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The tensors of the safetensors file at ``path`` (float types as float16/32/64; bfloat16 as float32)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            entries, start = _read_header(f, size, path)
            out = {}
            for name, (dtype, shape, (begin, end)) in entries.items():
                f.seek(start + begin)
                data = f.read(end - begin)
                if len(data) != end - begin:
                    raise ModelFileError(f"'{path}' is truncated: tensor '{name}' ends past the end of the file")
                out[name] = _decode(data, dtype, shape)
            return out
    except OSError as exc:
        raise ModelFileError(f"cannot read safetensors file '{path}': {exc.strerror or exc}") from None


Entry = tuple[str, tuple[int, ...], tuple[int, int]]  # dtype code, shape, (begin, end) in the data


def _read_header(f: IO[bytes], size: int, path: Any) -> tuple[dict[str, Entry], int]:
    """The checked entries ``name -> (dtype code, shape, (begin, end))`` and where the data start."""
    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"'{path}' is not a valid safetensors file: {why}")

    if size < 8:
        raise bad(f"it has {size} bytes, fewer than the 8 of the header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > min(size - 8, MAX_HEADER_BYTES):
        raise bad(f"the header claims {n} bytes; the file has {size - 8} after the length "
                  f"(and headers are limited to {MAX_HEADER_BYTES})")
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"the header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    available = size - 8 - n
    entries = {}
    spans = []
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"entry {name!r} must have exactly dtype, shape and data_offsets")
        dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
        if dtype not in _DTYPES:
            raise bad(f"tensor {name!r} has unknown dtype {dtype!r} (known: {', '.join(_DTYPES)})")
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            raise bad(f"tensor {name!r} has shape {shape!r}; expected a list of non-negative integers")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= available):
            raise bad(f"tensor {name!r} has data_offsets {offsets!r}; expected [begin, end] within the "
                      f"{available} bytes of data")
        count = 1
        for d in shape:
            count *= d
        if offsets[1] - offsets[0] != count * _DTYPES[dtype].itemsize:
            raise bad(f"tensor {name!r} of {dtype} {tuple(shape)} needs {count * _DTYPES[dtype].itemsize} bytes, "
                      f"its offsets span {offsets[1] - offsets[0]}")
        entries[name] = (dtype, tuple(shape), (offsets[0], offsets[1]))
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise bad(f"tensors {first!r} and {second!r} overlap")
    return entries, 8 + n


def _decode(data: bytes, code: str, shape: tuple[int, ...]) -> np.ndarray:
    raw = np.frombuffer(data, _DTYPES[code]).reshape(shape)
    if code == "BF16":  # the upper half of a float32
        return (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.astype(raw.dtype.newbyteorder("="))
