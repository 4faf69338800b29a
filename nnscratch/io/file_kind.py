"""What a file that is not an nnscratch model file is, from its first bytes: named in the error it gets.

``describe_file(path)`` recognises an empty file, HDF5 (Keras ``.h5``), safetensors, a pickle, a bare
``.npy`` array, gzip, and zip archives: a PyTorch file (``data.pkl`` / ``archive/`` members), a Keras v3
``.keras`` archive, a plain zip. Nothing is decompressed or unpickled: only the first bytes and, for a
zip, the member names in its central directory are looked at.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def describe_file(path: Path) -> str | None:
    """A phrase naming what the file at ``path`` is (``"an HDF5 file (e.g. a Keras .h5 model)"``), or None.

    None means it looks like a zip archive of ``.npy`` arrays (what a model file is) or nothing known.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    if size == 0:
        return "an empty file"
    if head.startswith(HDF5_SIGNATURE):
        return "an HDF5 file (e.g. a Keras .h5 model)"
    if head.startswith(NPY_MAGIC):
        return "a bare .npy array"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a pickle (e.g. written by torch.save or pickle.dump; never loaded: unpickling could run code)"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file"
    if _is_safetensors(head, size):
        return "a safetensors file"
    if head[:4] in ZIP_MAGICS:
        return _describe_zip(path)
    return None


def _is_safetensors(head: bytes, size: int) -> bool:
    """safetensors: a little-endian uint64 header length N, then N bytes of JSON starting with ``{``."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= size - 8 and head[8:9] == b"{"


def _describe_zip(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if any(n == "data.pkl" or n.endswith("/data.pkl") or n.startswith("archive/") for n in names):
        return "a PyTorch file (a zip of pickled data; never loaded: unpickling could run code)"
    if "config.json" in names and any(n.endswith(".weights.h5") or n == "model.weights.h5" for n in names):
        return "a Keras .keras archive"
    if not names:
        return "an empty zip archive"
    if not all(n.endswith(".npy") for n in names):
        shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
        return f"a zip archive of other files ({shown}), not of .npy arrays"
    return None
