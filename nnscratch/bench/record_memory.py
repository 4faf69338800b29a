"""``python -m nnscratch.bench.record_memory RESULTS.json [BASELINE.json]``: record a run's peak RSS figures
in the memory baseline that later runs are held to (see ``memory_baseline``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import InvalidValueError
from .memory_baseline import BASELINE_FILE, record


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nnscratch.bench.record_memory RESULTS.json [BASELINE.json]``: record the run's peaks."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 2):
        print("usage: python -m nnscratch.bench.record_memory RESULTS.json [BASELINE.json]", file=sys.stderr)
        return 2
    try:
        results = json.loads(Path(args[0]).read_text())
        target = Path(args[1]) if len(args) > 1 else BASELINE_FILE
        table = record(results, target)
    except (OSError, ValueError, InvalidValueError) as exc:
        print(f"record_memory: error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(table)} peak RSS figures recorded in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
