"""How a checkpoint stores what is not a weight: nested JSON with arrays split out, random generator states."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import ModelFileError
from .callbacks import Callback

if TYPE_CHECKING:
    from ..models.model import Model

VERSION = 1
LAST = "last.npz"
NUMBERED = "epoch-{epoch:04d}.npz"


# ----------------------------------------------------------------------------- JSON + arrays
def split_arrays(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """``obj`` with every ndarray moved into ``arrays`` (under ``prefix/...``) and replaced by a reference."""
    if isinstance(obj, np.ndarray):
        key = f"{prefix}/{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, dict):
        return {str(k): split_arrays(v, prefix, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [split_arrays(v, prefix, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def join_arrays(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of ``_split_arrays``."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            key = obj["__array__"]
            if key not in arrays:
                raise ModelFileError(f"the checkpoint refers to array {key!r}, which is not in the file")
            return np.array(arrays[key])
        return {k: join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [join_arrays(v, arrays) for v in obj]
    return obj


# ----------------------------------------------------------------------------- random generators
def generators(model: Model) -> list[np.random.Generator | np.random.RandomState]:
    """The distinct random generators of the model and its layers, in module order (usually just one)."""
    seen: list[Any] = []
    for m in model.modules():
        if not any(m.rng is g for g in seen):
            seen.append(m.rng)
    return seen


def rng_state(rng: np.random.Generator | np.random.RandomState) -> dict[str, Any]:
    if isinstance(rng, np.random.Generator):
        return {"kind": "Generator", "state": rng.bit_generator.state}
    return {"kind": "RandomState", "state": rng.get_state(legacy=False)}


def set_rng_state(rng: Any, saved: Any, where: Any) -> None:
    kind = "Generator" if isinstance(rng, np.random.Generator) else "RandomState"
    if not isinstance(saved, dict) or saved.get("kind") != kind:
        found = saved.get("kind") if isinstance(saved, dict) else saved
        raise ModelFileError(f"'{where}': the checkpoint holds a {found} random state, the model uses a numpy {kind}")
    try:
        if kind == "Generator":
            rng.bit_generator.state = saved["state"]
        else:
            rng.set_state(saved["state"])
    except (ValueError, TypeError, KeyError) as exc:
        generator = type(rng.bit_generator).__name__ if kind == "Generator" else "MT19937"
        raise ModelFileError(f"'{where}': the checkpoint's random state does not fit the model's generator "
                             f"({generator}): {exc}") from None


def callback_key(i: int, cb: Callback) -> str:
    return f"{i}.{type(cb).__name__}"
