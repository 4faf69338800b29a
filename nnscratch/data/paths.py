"""Where dataset files are looked for.

Order: the explicit ``root`` argument (alone), else ``$NNSCRATCH_DATA``, the checkout's top-level
``datasets/`` folder (when running from a source checkout), and the user cache folder
(``$XDG_CACHE_HOME/nnscratch`` or ``~/.cache/nnscratch``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import MissingFileError, fix_hint

ENV_DATA = "NNSCRATCH_DATA"

# nnscratch/datasets/_paths.py -> the folder holding the ``nnscratch`` package
_REPO_ROOT = Path(__file__).resolve().parents[2]


def _checkout_dir() -> Path | None:
    """The repository's ``datasets/`` folder when running from a checkout (it has ``pyproject.toml``)."""
    if (_REPO_ROOT / "pyproject.toml").is_file() and (_REPO_ROOT / "datasets").is_dir():
        return _REPO_ROOT / "datasets"
    return None


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nnscratch`` (if that variable is an absolute path), else ``~/.cache/nnscratch``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "nnscratch"


def search_dirs(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders searched for dataset files, in order (only ``root`` when it is given)."""
    if root is not None:
        return [Path(root).expanduser()]
    dirs = []
    env = os.environ.get(ENV_DATA)
    if env:
        dirs.append(Path(env).expanduser())
    checkout = _checkout_dir()
    if checkout is not None:
        dirs.append(checkout)
    dirs.append(cache_dir())
    return dirs


def data_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """The first folder of ``search_dirs(root)``: where ``fetch`` puts files by default."""
    return search_dirs(root)[0]


def find_file(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Path of ``name`` in the first searched folder that has it; ``MissingFileError`` listing them if none."""
    dirs = search_dirs(root)
    for folder in dirs:
        path = folder / name
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in dirs)
    raise MissingFileError(f"dataset file {name} not found (searched: {searched}); {fix_hint(name)}")
