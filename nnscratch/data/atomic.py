"""Write a dataset file atomically: through ``nnscratch.io.atomic_write``, renamed only once its checksum matches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from ..core.errors import DatasetError
from ..io.atomic import atomic_write
from .checksum import digest_problem, size_problem
from .errors import ChecksumError
from .files import known_file


def write_verified(chunks: Iterable[bytes], target: Path, source: str) -> Path:
    """Write ``chunks`` to ``target`` (named after a known file) only if they are the original file.

    The data go to a hidden temporary file in ``target``'s folder, hashed on the way; the size and SHA-256
    are checked before the rename, so on any failure (a wrong checksum, an error raised by ``chunks``,
    KeyboardInterrupt) the temporary file is deleted and ``target`` is left as it was. ``source`` (a URL or
    path) is named in the errors.
    """
    known = known_file(target.name)

    def write(out: IO[bytes]) -> None:
        digest, size = hashlib.sha256(), 0
        for chunk in chunks:
            size += len(chunk)
            if size > known.size:
                raise ChecksumError(f"{source}: more than the expected {known.size} bytes")
            digest.update(chunk)
            out.write(chunk)
        problem = size_problem(known.name, size) or digest_problem(known.name, digest.hexdigest())
        if problem:
            raise ChecksumError(f"{source}: {problem}")

    try:
        return atomic_write(target, write)
    except DatasetError:
        raise
    except OSError as exc:
        raise DatasetError(f"{source} -> {target}: {exc.strerror or exc}") from exc
