"""Write a dataset file atomically: into a temporary file next to it, renamed only once its checksum matches."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterable

from ..errors import DatasetError
from ._checksum import digest_problem, size_problem
from ._errors import ChecksumError
from ._files import known_file


def write_verified(chunks: Iterable[bytes], target: Path, source: str) -> Path:
    """Write ``chunks`` to ``target`` (named after a known file) only if they are the original file.

    The data goes to a hidden ``.<name>.*.part`` file in ``target``'s folder, hashed on the way, and is
    renamed to ``target`` (``os.replace``) after the size and SHA-256 match. On any failure, including
    an error raised by ``chunks`` or KeyboardInterrupt, the temporary file is deleted and ``target``
    is left as it was. ``source`` (a URL or path) is named in the errors.
    """
    known = known_file(target.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise DatasetError(f"cannot write into {target.parent}: {exc.strerror or exc}") from exc
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > known.size:
                    raise ChecksumError(f"{source}: more than the expected {known.size} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        problem = size_problem(known.name, size) or digest_problem(known.name, digest.hexdigest())
        if problem:
            raise ChecksumError(f"{source}: {problem}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, DatasetError):
            raise DatasetError(f"{source} -> {target}: {exc.strerror or exc}") from exc
        raise
    return target
