"""SHA-256 and size checks of dataset files against the known originals (``_files.KNOWN_FILES``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import ChecksumError, bad_file
from .files import known_file
from .paths import find_file

CHUNK = 1 << 20  # bytes read (and hashed) at a time


def size_problem(name: str, size: int) -> str | None:
    """Why ``size`` bytes cannot be the original ``name``, or None if it is the right size."""
    expected = known_file(name).size
    if size == expected:
        return None
    hint = " (truncated?)" if size < expected else ""
    return f"size {size} bytes, expected {expected} bytes{hint}"


def digest_problem(name: str, sha256: str) -> str | None:
    """Why a file with hex digest ``sha256`` is not the original ``name``, or None if the digests match."""
    expected = known_file(name).sha256
    return None if sha256 == expected else f"SHA-256 {sha256}, expected {expected}"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``, read in chunks of ``CHUNK`` bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike[str], name: str | None = None) -> Path:
    """Check the file at ``path`` is the original ``name`` (default: its file name); return the path.

    Raises ``ChecksumError`` (wrong size or SHA-256) or ``DatasetError`` (unknown name, unreadable).
    """
    path = Path(path)
    name = name or path.name
    try:
        problem = size_problem(name, path.stat().st_size) or digest_problem(name, sha256_file(path))
    except OSError as exc:
        raise bad_file(path, f"cannot be read ({exc.strerror or exc})") from exc
    if problem:
        raise bad_file(path, problem, ChecksumError)
    return path


def read_file(name: str, root: str | os.PathLike[str] | None, verify: bool) -> tuple[Path, bytes]:
    """Find ``name`` and return its path and content, checked against its SHA-256 when ``verify``.

    The bytes that were checked are the bytes returned, so the file cannot change in between.
    """
    path = find_file(name, root)
    try:
        if verify and (problem := size_problem(name, path.stat().st_size)):
            raise bad_file(path, problem, ChecksumError)
        data = path.read_bytes()
    except ChecksumError:
        raise
    except OSError as exc:
        raise bad_file(path, f"cannot be read ({exc.strerror or exc})") from exc
    if verify and (problem := digest_problem(name, hashlib.sha256(data).hexdigest())):
        raise bad_file(path, problem, ChecksumError)
    return path, data
