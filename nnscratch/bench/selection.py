"""What to run: workload names from ``--only``, thread counts from ``--threads``; bad input is a ``UsageError``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ..core.errors import InvalidValueError


class UsageError(InvalidValueError):
    """A bad command line: reported as one line, exit status 2."""


def parse_only(values: Sequence[str] | None, known: Sequence[str]) -> list[str]:
    """Workload names from repeatable / comma-separated ``--only`` values, in suite order; all when empty."""
    if not values:
        return list(known)
    wanted: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise UsageError(f"unknown workload {name!r}{hint} (known: {', '.join(known)})")
            wanted.append(name)
    if not wanted:
        raise UsageError("--only needs at least one workload name")
    return [name for name in known if name in wanted]


def parse_threads(value: str | None, cores: int, quick: bool = False) -> list[int]:
    """``"1,8"`` -> [1, 8]; default [1, cores] (just [1] on a single core, and with ``quick``)."""
    if value is None:
        return [1] if quick else sorted({1, cores})
    out = []
    for part in value.split(","):
        part = part.strip()
        if part in ("all", "max"):
            out.append(cores)
            continue
        try:
            t = int(part)
        except ValueError:
            raise UsageError(f"--threads expects integers like 1,{cores} (or 'all'), got {value!r}") from None
        if t < 1:
            raise UsageError(f"--threads values must be >= 1, got {t}")
        out.append(t)
    return sorted(set(out))
