"""The dataset files nnscratch knows: name, size in bytes, SHA-256, and the dataset they belong to."""

from __future__ import annotations

from typing import NamedTuple

from ..core.errors import DatasetError

ENV_MIRROR = "NNSCRATCH_MIRROR"  # base URLs to download from, separated by spaces


class KnownFile(NamedTuple):
    """One original dataset file: its name, exact size and SHA-256 (hex)."""

    name: str
    size: int
    sha256: str
    dataset: str  # "cat" or "mnist": the group used by the CLI and to pick download mirrors


KNOWN_FILES: dict[str, KnownFile] = {f.name: f for f in (
    KnownFile("train_catvnoncat.h5", 2572022,
              "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242", "cat"),
    KnownFile("test_catvnoncat.h5", 616958,
              "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951", "cat"),
    KnownFile("train-images-idx3-ubyte.gz", 9912422,
              "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "mnist"),
    KnownFile("train-labels-idx1-ubyte.gz", 28881,
              "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "mnist"),
    KnownFile("t10k-images-idx3-ubyte.gz", 1648877,
              "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "mnist"),
    KnownFile("t10k-labels-idx1-ubyte.gz", 4542,
              "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "mnist"),
)}


def known_file(name: str) -> KnownFile:
    """The table entry for ``name``; ``DatasetError`` listing the known names if there is none."""
    try:
        return KNOWN_FILES[name]
    except KeyError:
        raise DatasetError(f"unknown dataset file {name!r}; known files: {', '.join(KNOWN_FILES)}") from None


def expand_names(names: list[str] | tuple[str, ...]) -> list[str]:
    """File names for ``names``, where a name may also be a dataset (``cat``, ``mnist``); none means all files."""
    if not names:
        return list(KNOWN_FILES)
    out: list[str] = []
    for name in names:
        group = [f.name for f in KNOWN_FILES.values() if f.dataset == name]
        for file_name in group or [known_file(name).name]:
            if file_name not in out:
                out.append(file_name)
    return out
