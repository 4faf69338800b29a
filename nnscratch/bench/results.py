"""The results file: its schema name, JSON-safe conversion, atomic writing."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..io.atomic import write_json

SCHEMA = "nnscratch-benchmarks/1"


def jsonable(obj: Any) -> Any:
    """``obj`` with NumPy scalars/arrays and tuples turned into plain JSON types (NaN/inf -> None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return jsonable(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def write_results(path: str | os.PathLike, results: dict[str, Any]) -> Path:
    """Write the results JSON atomically (nnscratch.io.write_json)."""
    return write_json(path, jsonable(results))
