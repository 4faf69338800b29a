"""The recorded peak RSS of each benchmark row, which later runs must not exceed (``memory_baseline.json``).

Record (or update) it from a suite run's JSON::

    python -m nnscratch.bench --json bench.json          # the full suite; --quick records the quick rows
    python -m nnscratch.bench.record_memory bench.json   # merges every row's peak RSS into the baseline

A baseline belongs to a machine class: peak RSS depends on the BLAS, the allocator and the data.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..core.errors import InvalidValueError
from ..io.atomic import write_json
from .impls import OURS

BASELINE_FILE = Path(__file__).with_name("memory_baseline.json")
SCHEMA = "nnscratch-memory-baseline/1"


def baseline_key(row: dict[str, Any], quick: bool) -> str:
    """The key of a result row in the baseline: run kind, workload, configuration and thread count."""
    return f"{'quick' if quick else 'full'} | {row['workload']} | {row['config']} | {int(row['threads'])} threads"


def load_baseline(path: str | os.PathLike = BASELINE_FILE) -> dict[str, float]:
    """Recorded peak RSS in MB by ``baseline_key``; empty when nothing was recorded."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InvalidValueError(f"cannot read the memory baseline '{path}': {exc}; expected the JSON written by "
                                "python -m nnscratch.bench.record_memory") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("peak_rss_mb"), dict):
        raise InvalidValueError(f"'{path}' is not a memory baseline (schema {SCHEMA!r} with a peak_rss_mb table)")
    return {str(k): float(v) for k, v in data["peak_rss_mb"].items()}


def peaks_of(results: dict[str, Any]) -> dict[str, float]:
    """Peak RSS in MB of every nnscratch row of a suite run that measured its memory, by ``baseline_key``."""
    quick = bool(results.get("settings", {}).get("quick"))
    return {baseline_key(r, quick): r["memory"]["peak_rss_bytes"] / 2**20 for r in results.get("rows", [])
            if r.get("impl") == OURS and (r.get("memory") or {}).get("peak_rss_bytes")}


def record(results: dict[str, Any], path: str | os.PathLike = BASELINE_FILE) -> dict[str, float]:
    """Merge the run's peaks into the baseline at ``path`` (written atomically); returns the new table."""
    table = {**load_baseline(path), **peaks_of(results)}
    machine = results.get("machine", {})
    write_json(path, {"schema": SCHEMA, "recorded": time.strftime("%Y-%m-%d"), "peak_rss_mb": table,
                      "machine": f"{machine.get('cpu_model')}, {machine.get('cores_available')} cores"})
    return table
