"""Model files: one ``.npz`` archive holding a JSON architecture and the weights. Never pickle.

Layout: ``__config__`` is the UTF-8 JSON (as a uint8 array) ``{"format", "version", "model",
"input_shape", "loss"}``; every tensor of ``state_dict()`` is stored under its dotted name. Extra arrays
(a training checkpoint's optimizer state, random generator state...) have a ``"/"`` in their name and
extra JSON goes into the same record (``nnscratch/checkpoint.py``). Files are read with
``allow_pickle=False``, so a file carrying a pickle payload is refused without running anything; any
file that is not a readable model file of this version raises ``ModelFileError`` and nothing else.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError, ModelFileError, NNScratchError, NotBuiltError
from .atomic import atomic_write
from ..core.layer import to_config

try:
    from numpy.lib.npyio import NpzFile
except ImportError:  # pragma: no cover - older layouts
    NpzFile = np.lib.npyio.NpzFile

FORMAT = "nnscratch-model"
VERSION = 1
CONFIG_KEY = "__config__"


def _as_path(path: Any, what: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InvalidTypeError(f"{what} must be a file path (str or os.PathLike), got {path!r}")
    return Path(path)


def model_path(path: str | os.PathLike) -> Path:
    """``path`` with a ``.npz`` suffix added when it has none."""
    path = _as_path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


RESERVED = ("format", "version", "model", "input_shape", "loss")


def save_model(model: Any, path: str | os.PathLike, extra: dict[str, np.ndarray] | None = None,
               extra_config: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (architecture + weights, plus optional extra arrays and config) atomically.

    ``extra`` keys must contain a ``"/"`` (weights never do), so they can never be taken for weights;
    ``extra_config`` is merged into the JSON record and must not use the keys of ``RESERVED``.
    """
    if not model.built:
        raise NotBuiltError("the model has no weights yet: fit it or call model.build(input_shape) before saving")
    bad = [k for k in (extra or {}) if not isinstance(k, str) or "/" not in k or k == CONFIG_KEY]
    if bad:
        raise InvalidValueError(f"extra array names must contain '/' (e.g. 'optimizer/0.m'), got {bad[0]!r}")
    clash = [k for k in (extra_config or {}) if k in RESERVED]
    if clash:
        raise InvalidValueError(f"extra_config must not set {clash[0]!r}: it is part of the model record")
    config = {
        "format": FORMAT,
        "version": VERSION,
        "model": to_config(model),
        "input_shape": [list(s) for s in model.input_shape] if isinstance(model.input_shape, list) else list(model.input_shape),
        "loss": model.loss.get_config() if model.loss is not None else None,
        **(extra_config or {}),
    }
    arrays = dict(model.state_dict())
    for key, value in (extra or {}).items():
        arrays[key] = np.asarray(value)
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    path = model_path(path)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_model_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(config, arrays)`` from a model file, validated; raises ``ModelFileError`` saying what is wrong."""
    path = _as_path(path)
    if not path.exists() and model_path(path).exists():
        path = model_path(path)
    if path.is_dir():
        raise ModelFileError(f"'{path}' is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"no model file at '{path}'")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, NpzFile):
            raise ModelFileError(f"'{path}' is a bare .npy array, not an nnscratch model file")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ModelFileError(f"'{path}' contains pickled data; refused (model files never execute code on load)") from None
        raise ModelFileError(f"'{path}' is not a readable model file: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileError(f"'{path}' is not an nnscratch model file, or is corrupt or truncated "
                             f"({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # any other failure to parse the archive: corrupt (zlib.error, struct.error...)
        raise ModelFileError(f"'{path}' is corrupt: not a readable nnscratch model file ({type(exc).__name__}: {exc})") from None
    raw = arrays.pop(CONFIG_KEY, None)
    if raw is None or raw.dtype != np.uint8:
        raise ModelFileError(f"'{path}' has no architecture record ('{CONFIG_KEY}'): not an nnscratch model file")
    try:
        config = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"'{path}' has a corrupt architecture record: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is not an nnscratch model file (format {config.get('format') if isinstance(config, dict) else None!r})")
    if config.get("version") != VERSION:
        raise ModelFileError(f"'{path}' has model format version {config.get('version')!r}; this nnscratch reads version {VERSION}")
    if not isinstance(config.get("input_shape"), list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in config["input_shape"]):
        raise ModelFileError(f"'{path}' has a bad input_shape {config.get('input_shape')!r}")
    if not isinstance(config.get("model"), dict):
        raise ModelFileError(f"'{path}' has no model architecture in its record")
    return config, arrays


def weights_of(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The weight tensors of a model file's arrays (extra arrays have a "/" in their name)."""
    return {k: v for k, v in arrays.items() if "/" not in k}
