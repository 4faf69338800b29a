"""Plain-text formatting of the benchmark figures: durations, GFLOP/s, percentages, aligned tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..core.errors import InvalidValueError


def fmt_seconds(seconds: float | None) -> str:
    """A duration with a readable unit: ``812 us``, ``12.3 ms``, ``1.23 s``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def fmt_gflops(value: float | None) -> str:
    """GFLOP/s with 2 or 1 decimals (``<0.01`` for tiny values, ``-`` when unknown)."""
    if value is None or not math.isfinite(value):
        return "-"
    return "<0.01" if value < 0.01 else (f"{value:.2f}" if value < 10 else f"{value:.1f}")


def fmt_percent(fraction: float | None) -> str:
    """A fraction as a whole percentage (``<1%`` for tiny values, ``-`` when unknown)."""
    if fraction is None or not math.isfinite(fraction):
        return "-"
    return "<1%" if fraction < 0.01 else f"{100 * fraction:.0f}%"


def fmt_num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    """A number with ``digits`` decimals and ``suffix`` (``-`` when unknown)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}{suffix}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A plain-text table: ``align`` has one letter per column, ``l`` or ``r`` (default: first left, rest right)."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in row] for row in rows]
    ncols = len(headers)
    for row in cells:
        if len(row) != ncols:
            raise InvalidValueError(f"row has {len(row)} cells, expected {ncols}: {row}")
    align = align or ("l" + "r" * (ncols - 1))
    widths = [max(len(row[i]) for row in cells) for i in range(ncols)]

    def line(row: list[str]) -> str:
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        return " | ".join(parts).rstrip()

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])
