"""Model files: one ``.npz`` archive holding a JSON architecture and the weights. Never pickle.

Layout: ``__config__`` is the UTF-8 JSON (as a uint8 array) ``{"format", "version", "model",
"input_shape", "loss"}``; every tensor of ``state_dict()`` is stored under its dotted name. Files are read
with ``allow_pickle=False``, so a file carrying a pickle payload is refused without running anything.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import losses
from .errors import ModelFileError, NotBuiltError
from .io import atomic_write
from .module import from_config, to_config

FORMAT = "nnscratch-model"
VERSION = 1
CONFIG_KEY = "__config__"


def model_path(path: str | os.PathLike) -> Path:
    """``path`` with a ``.npz`` suffix added when it has none."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_model(model: Any, path: str | os.PathLike, extra: dict[str, np.ndarray] | None = None,
               extra_config: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (architecture + weights, plus optional extra arrays and config) atomically."""
    if not model.built:
        raise NotBuiltError("the model has no weights yet: fit it or call model.build(input_shape) before saving")
    config = {
        "format": FORMAT,
        "version": VERSION,
        "model": to_config(model),
        "input_shape": list(model.input_shape),
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
    path = Path(path)
    if not path.exists() and model_path(path).exists():
        path = model_path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at '{path}'")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ModelFileError(f"'{path}' is a bare .npy array, not an nnscratch model file")
            arrays = {key: archive[key] for key in archive.files}
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ModelFileError(f"'{path}' contains pickled data; refused (model files never execute code on load)") from None
        raise ModelFileError(f"'{path}' is not a readable model file: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileError(f"'{path}' is not an nnscratch model file or is truncated ({type(exc).__name__}: {exc})") from None
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
    if not isinstance(config.get("input_shape"), list) or not all(isinstance(d, int) and d > 0 for d in config["input_shape"]):
        raise ModelFileError(f"'{path}' has a bad input_shape {config.get('input_shape')!r}")
    return config, arrays


def load_model(path: str | os.PathLike) -> Any:
    """Rebuild the model saved at ``path`` (architecture, weights and loss) and return it."""
    config, arrays = read_model_file(path)
    model = from_config(config["model"])
    model.build(tuple(config["input_shape"]))
    model.load_state_dict({k: v for k, v in arrays.items() if "/" not in k})
    if config.get("loss"):
        model.loss = losses.get(config["loss"])
    return model
