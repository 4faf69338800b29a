"""A bounded reader of ``.npz`` archives: every member checked by name and declared size before it is inflated.

``np.load`` inflates a member whole before anything about it is checked. Here the zip central directory
is read first (``zipfile``); each member must be named ``<key>.npy``, appear once, and declare an
uncompressed size within ``Limits``. A member is then read only when asked for, through its ``.npy``
header (``numpy.lib.format``, never ``allow_pickle``): the header's ``shape * itemsize`` must equal the
size the zip declared and stay under the ceiling, and exactly that many bytes are inflated into a buffer
allocated once. A member that inflates to more or fewer bytes than it declared, or fails its CRC, is
corrupt. Every problem is a ``ModelFileError`` naming the file and the member.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from ..core.errors import ModelFileError

HEADER_BYTES = 10_240  # room for a .npy header beside the data (numpy writes 128 bytes, reads at most 10,000)


@dataclass(frozen=True)
class Limits:
    """Ceilings (bytes, counts) applied before anything is allocated."""

    tensor_bytes: int  # one member's data
    total_bytes: int  # all members together, as declared in the central directory
    members: int  # number of members


class NpzArchive:
    """An open ``.npz`` archive whose members were checked by name and declared size; use as a context manager."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits
        self._zip = zipfile.ZipFile(path)
        try:
            self.members = self._check_directory()
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def _check_directory(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > self.limits.members:
            raise ModelFileError(f"'{self.path}' holds {len(infos)} archive members, more than the limit of "
                                 f"{self.limits.members}")
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or len(name) > 1000:
                raise ModelFileError(f"'{self.path}' holds an archive member {name[:100]!r} that is not a .npy array: "
                                     "not an nnscratch model file")
            key = name[:-4]
            if key in members:
                raise ModelFileError(f"'{self.path}' holds the archive member {name!r} twice: corrupt or tampered with")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(f"'{self.path}': archive member {name!r} uses zip compression method "
                                     f"{info.compress_type}; model files are stored or deflated")
            if info.flag_bits & 0x1:
                raise ModelFileError(f"'{self.path}': archive member {name!r} is encrypted")
            if info.file_size > self.limits.tensor_bytes + HEADER_BYTES:
                raise ModelFileError(f"'{self.path}': archive member {name!r} declares {info.file_size} bytes, more "
                                     f"than the limit of {self.limits.tensor_bytes} bytes per tensor "
                                     "(nnscratch.io.model_file.MAX_TENSOR_BYTES)")
            total += info.file_size
            members[key] = info
        if total > self.limits.total_bytes:
            raise ModelFileError(f"'{self.path}' declares {total} bytes of arrays in all, more than the limit of "
                                 f"{self.limits.total_bytes} bytes (nnscratch.io.model_file.MAX_TOTAL_BYTES)")
        return members

    def read(self, key: str, max_bytes: int | None = None,
             limit_name: str = "nnscratch.io.model_file.MAX_TENSOR_BYTES") -> np.ndarray:
        """The array stored under ``key``, read within the limits (``max_bytes``, called ``limit_name`` in
        errors, lowers the per-tensor one)."""
        info = self.members[key]
        limit = self.limits.tensor_bytes if max_bytes is None else min(max_bytes, self.limits.tensor_bytes)
        with self._zip.open(info) as f:
            dtype, shape, fortran = _read_header(f, self.path, key)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > limit:
                raise ModelFileError(f"'{self.path}': array '{key}' of shape {shape} ({dtype}) would take {nbytes} "
                                     f"bytes, more than the limit of {limit} bytes ({limit_name})")
            declared = info.file_size - f.tell()
            if nbytes != declared:
                raise ModelFileError(f"'{self.path}': array '{key}' has shape {shape} ({dtype}) = {nbytes} bytes, but "
                                     f"the archive declares {declared} bytes of data: corrupt or tampered with")
            buffer = bytearray(nbytes)
            view = memoryview(buffer)
            got = 0
            while got < nbytes:
                n = f.readinto(view[got:])  # type: ignore[attr-defined]  # (a zipfile.ZipExtFile)
                if not n:
                    break
                got += n
            if got != nbytes or f.read(1):
                raise ModelFileError(f"'{self.path}': array '{key}' holds {got} bytes of data, its header promises "
                                     f"{nbytes}: corrupt or truncated")
        array = np.frombuffer(buffer, dtype=dtype)
        return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)


def _read_header(f: IO[bytes], path: Path, key: str) -> tuple[np.dtype, tuple[int, ...], bool]:
    """``(dtype, shape, fortran_order)`` from a ``.npy`` header; object dtypes (pickles) are refused."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        elif version == (3, 0) and hasattr(np.lib.format, "_read_array_header"):  # UTF-8 field names
            shape, fortran, dtype = np.lib.format._read_array_header(f, version)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, TypeError, SyntaxError) as exc:
        raise ModelFileError(f"'{path}': array '{key}' has no valid .npy header ({exc})") from None
    if dtype.hasobject:
        raise ModelFileError(f"'{path}' holds pickled data (object array '{key}'); refused: model files never "
                             "execute code on load")
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape) or len(shape) > 32:
        raise ModelFileError(f"'{path}': array '{key}' has an invalid shape {shape!r}")
    return dtype, shape, bool(fortran)
