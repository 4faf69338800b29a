"""Atomic file writes: a reader sees the old file or the new one, never a half-written one.

Every file nnscratch writes (models, checkpoints, JSON results) goes through ``atomic_write``: the data
go to a hidden temporary file in the same folder, which is flushed, fsynced and renamed over the
target (``os.replace``, atomic on POSIX and Windows), and the folder is fsynced so the rename survives a
power cut. A process killed mid-write leaves at most a stale ``.<name>.*.tmp`` file, never a broken
target; ``remove_stale_temporaries`` clears those.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, then rename it over ``path``.

    The new file gets the permissions of the file it replaces, or the usual ones (0666 minus umask).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_UMASK
        try:
            os.chmod(tmp, mode)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(folder)
    return path


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename (or a new link, or a deletion) in ``folder`` durable (best effort: not every platform
    can open a folder). Call it after every ``os.replace`` / ``os.link`` done outside ``atomic_write``."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(path: str | os.PathLike, *, pattern: bool = False) -> list[Path]:
    """Delete the temporary files an interrupted ``atomic_write(path, ...)`` left behind; returns them.

    ``pattern=True``: ``path``'s name is a glob pattern (``epoch-*.npz``) covering several targets.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    removed: list[Path] = []
    prefix = _temp_prefix(path) if pattern else glob.escape(_temp_prefix(path))
    try:
        candidates = list(folder.glob(prefix + "*.tmp"))
    except OSError:
        return removed
    for stale in candidates:
        try:
            stale.unlink()
            removed.append(stale)
        except OSError:
            pass
    if removed:
        fsync_folder(folder)
    return removed


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    data = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
    return atomic_write(path, lambda f: f.write(data))
