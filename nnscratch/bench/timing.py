"""Timing helpers: statistics of repetition times, interleaved timing of competitors, one result row."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError


def summarize(times: list[float]) -> dict[str, Any]:
    """Median and spread of repetition times (seconds): min, max, quartiles, IQR, mean, the raw times."""
    if not times:
        raise InvalidValueError("summarize needs at least one time")
    arr = np.asarray(times, dtype=float)
    q1, median, q3 = (float(v) for v in np.percentile(arr, [25, 50, 75]))
    return {
        "median_s": median, "min_s": float(arr.min()), "max_s": float(arr.max()), "q1_s": q1, "q3_s": q3,
        "iqr_s": q3 - q1, "mean_s": float(arr.mean()), "reps": len(times), "times_s": [float(t) for t in times],
    }


def interleaved(candidates: dict[str, Callable[[], Any]], reps: int, warmup: int = 1,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, dict[str, Any]]:
    """Time every candidate ``reps`` times, interleaved, after ``warmup`` untimed calls of each.

    Repetition ``r`` runs the candidates in their order rotated by ``r`` (A B C, B C A, C A B, ...).
    Returns ``{name: {"times": [...], "result": value returned by the last call}}``.
    """
    names = list(candidates)
    out: dict[str, dict[str, Any]] = {name: {"times": [], "result": None} for name in names}
    for _ in range(warmup):
        for name in names:
            out[name]["result"] = candidates[name]()
    for r in range(reps):
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:
            gc.collect()
            t0 = clock()
            result = candidates[name]()
            out[name]["times"].append(clock() - t0)
            out[name]["result"] = result
    return out


def make_row(workload: str, config: str, impl: str, times: list[float], *, threads: int, dtype: str,
             steps: int, flops: int | None = None, samples: int | None = None, **extra: Any) -> dict[str, Any]:
    """One result row: statistics of ``times`` plus per-step time and achieved GFLOP/s (at the median)."""
    stats = summarize(times)
    row = {"workload": workload, "config": config, "impl": impl, "threads": threads, "dtype": dtype,
           "steps": steps, "samples": samples, "flops": flops, **stats,
           "per_step_us": stats["median_s"] / steps * 1e6 if steps else None,
           "gflops": flops / stats["median_s"] / 1e9 if flops and stats["median_s"] > 0 else None}
    row.update(extra)
    return row
