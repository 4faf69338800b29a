"""Model files: one ``.npz`` archive holding a JSON architecture and the weights. Never pickle.

Layout: ``__config__`` is the UTF-8 JSON (as a uint8 array) ``{"format", "version", "model",
"input_shape", "loss"}``; every tensor of ``state_dict()`` is stored under its dotted name. Extra arrays
(a training checkpoint's optimizer state, random generator state...) have a ``"/"`` in their name and
extra JSON goes into the same record (``nnscratch/training/checkpoint.py``).

Reading never unpickles and never inflates more than the file can justify (``npz_reader``): members are
checked by name and declared size against ``MAX_TENSOR_BYTES`` / ``MAX_TOTAL_BYTES`` before anything is
inflated, only the expected ones are read, the JSON record is bounded (``MAX_RECORD_BYTES``,
``MAX_RECORD_DEPTH``), weights must be finite, and a file of another format is named for what it is
(``file_kind``). Any file that is not a readable model file of this version raises ``ModelFileError``
and nothing else, ``MemoryError`` included.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError, ModelFileError, NotBuiltError
from ..core.registry import to_config
from ..core.shapes import known_size
from .atomic import atomic_write
from .file_kind import describe_file
from .json_record import parse_record
from .npz_reader import Limits, NpzArchive

FORMAT = "nnscratch-model"
VERSION = 2  # 2: graph models (several inputs); version 1 files (chains) read the same way
READABLE = (1, 2)
CONFIG_KEY = "__config__"

# Ceilings checked before anything is allocated (read when a file is read: set them to load bigger models,
# or lower them, e.g. in tests). A file over one of them is refused with a ModelFileError naming it.
MAX_TENSOR_BYTES = 1 << 30  # one array (weights, optimizer state); also bounds one input sample (8 bytes a value)
MAX_TOTAL_BYTES = 4 << 30  # all arrays of a file together, as declared in its zip directory
MAX_MEMBERS = 100_000  # arrays in one file
MAX_RECORD_BYTES = 16 << 20  # the JSON record
MAX_RECORD_DEPTH = 100  # nesting of the JSON record (objects and lists)


def _as_path(path: Any, what: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InvalidTypeError(f"{what} must be a file path (str or os.PathLike), got {path!r}")
    return Path(path)


def model_path(path: str | os.PathLike) -> Path:
    """``path`` as given when its name has a suffix (``m.keras``, ``m.npz``), else with ``.npz`` added. The
    file is an ``.npz`` archive whatever its name."""
    path = _as_path(path)
    return path if path.suffix else path.with_name(path.name + ".npz")


RESERVED = ("format", "version", "model", "input_shape", "loss")


def input_shape_record(shape: Any) -> list[Any]:
    """A built model's ``input_shape`` (a tuple, or a list of tuples for several inputs) as JSON lists."""
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


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
        "input_shape": input_shape_record(model.input_shape),
        "loss": model.trainer.loss_config() if model.loss is not None else None,
        **(extra_config or {}),
    }
    arrays = dict(model.state_dict())
    for key, value in (extra or {}).items():
        arrays[key] = np.asarray(value)
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    path = model_path(path)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def _limits() -> Limits:
    return Limits(tensor_bytes=int(MAX_TENSOR_BYTES), total_bytes=int(MAX_TOTAL_BYTES), members=int(MAX_MEMBERS))


def _not_a_model_file(path: Path, exc: BaseException | None = None) -> ModelFileError:
    """The error for a file that is no readable archive: named for what it is when its first bytes say so."""
    kind = describe_file(path)
    if kind is not None:
        return ModelFileError(f"'{path}' is {kind}, not an nnscratch model file")
    detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
    return ModelFileError(f"'{path}' is not an nnscratch model file, or is corrupt or truncated{detail}")


def read_model_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(config, arrays)`` from a model file, validated; raises ``ModelFileError`` saying what is wrong.

    Only the expected archive members are inflated (the record, the weights, and a checkpoint's "/"
    arrays when the record is a checkpoint's), each within ``MAX_TENSOR_BYTES``; weights must be finite.
    """
    path = _as_path(path)
    if not path.exists() and model_path(path).exists():
        path = model_path(path)
    if path.is_dir():
        raise ModelFileError(f"'{path}' is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"no model file at '{path}'")
    try:
        return _read(path)
    except ModelFileError:
        raise
    except MemoryError:
        raise ModelFileError(f"'{path}': not enough memory to read it (its arrays are within the limits, "
                             "but the machine has less free memory)") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
            NotImplementedError) as exc:
        raise _not_a_model_file(path, exc) from None
    except Exception as exc:  # any other failure to parse the archive: corrupt (zlib.error, struct.error...)
        raise ModelFileError(f"'{path}' is corrupt: not a readable nnscratch model file "
                             f"({type(exc).__name__}: {exc})") from None


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if describe_file(path) is not None:
        raise _not_a_model_file(path)
    with NpzArchive(path, _limits()) as archive:
        if CONFIG_KEY not in archive.members:
            raise ModelFileError(f"'{path}' has no architecture record ('{CONFIG_KEY}'): not an nnscratch model file")
        raw = archive.read(CONFIG_KEY, int(MAX_RECORD_BYTES), "nnscratch.io.model_file.MAX_RECORD_BYTES")
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ModelFileError(f"'{path}' has no architecture record ('{CONFIG_KEY}' is not UTF-8 bytes): not an "
                                 "nnscratch model file")
        config = parse_record(raw.tobytes(), path, int(MAX_RECORD_BYTES), int(MAX_RECORD_DEPTH))
        _check_record(config, path)
        wanted = [k for k in archive.members if k != CONFIG_KEY and ("/" not in k or "checkpoint" in config)]
        arrays = {key: archive.read(key) for key in wanted}
    for key, value in weights_of(arrays).items():
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
            raise ModelFileError(f"'{path}': weight tensor '{key}' holds {bad} NaN or infinite value"
                                 f"{'s' if bad != 1 else ''}: the file is damaged (or was saved from a diverged run)")
    return config, arrays


def _check_record(config: Any, path: Path) -> None:
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"'{path}' is not an nnscratch model file (format "
                             f"{config.get('format') if isinstance(config, dict) else None!r})")
    if config.get("version") not in READABLE:
        raise ModelFileError(f"'{path}' has model format version {config.get('version')!r}; this nnscratch reads "
                             f"versions {', '.join(map(str, READABLE))}")
    shape = config.get("input_shape")
    shapes: list[Any] = (shape if isinstance(shape, list) and shape and all(isinstance(s, list) for s in shape)
                         else [shape])
    if not all(isinstance(s, list) and all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0)
                                           for d in s) for s in shapes):
        raise ModelFileError(f"'{path}' has a bad input_shape {config.get('input_shape')!r}")
    big = [s for s in shapes if known_size(s) * 8 > MAX_TENSOR_BYTES]  # (a None axis: any size, counted as 1)
    if big:  # (the first too big input's shape: the whole input_shape of a model with one input)
        raise ModelFileError(f"'{path}' has an input_shape {big[0]} of {known_size(big[0])} values per sample, more "
                             f"than the limit of {int(MAX_TENSOR_BYTES) // 8} "
                             "(nnscratch.io.model_file.MAX_TENSOR_BYTES)")
    if not isinstance(config.get("model"), dict):
        raise ModelFileError(f"'{path}' has no model architecture in its record")


def weights_of(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The weight tensors of a model file's arrays (extra arrays have a "/" in their name)."""
    return {k: v for k, v in arrays.items() if "/" not in k}
