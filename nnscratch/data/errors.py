"""Dataset error types (all derive from ``nnscratch.errors.DatasetError``) and the message helpers."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import DatasetError


class MissingFileError(DatasetError, FileNotFoundError):
    """A dataset file is in none of the folders searched."""


class ChecksumError(DatasetError):
    """A file's size or SHA-256 differs from the known original (corrupt, truncated or another file)."""


class DownloadError(DatasetError):
    """A file could not be downloaded from any mirror (network error, HTTP error, connection dropped)."""


def fix_hint(name: str) -> str:
    """How to get the original ``name``: the sentence every dataset error ends with."""
    return (f"get the original with `python -m nnscratch.datasets fetch {name}` "
            f"or set NNSCRATCH_DATA to a folder holding it")


def bad_file(path: Path, problem: str, cls: type[DatasetError] = DatasetError) -> DatasetError:
    """An error ``"<path>: <problem>; <how to get the original>"`` for the dataset file at ``path``."""
    return cls(f"{path}: {problem}; {fix_hint(path.name)}")
