"""The ``peak`` workload: the machine's float32/float64 matmul peak at the worker's thread count."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..machine import measure_peak


def peak(ctx: Context) -> list[dict[str, Any]]:
    """The machine's matmul peak at this thread count (best of several square products)."""
    n, reps = (1024, 3) if ctx.quick else (2048, 5)
    rows = []
    for dtype in ("float32", "float64"):
        p = measure_peak(dtype, n=n, reps=reps)
        rows.append({"workload": "peak", "config": f"{n}x{n} matmul", "impl": "numpy matmul", "threads": ctx.threads,
                     "dtype": dtype, **p})
    return rows
