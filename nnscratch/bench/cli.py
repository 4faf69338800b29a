"""The command line of the benchmark suite: ``python -m nnscratch.bench [--quick] [--only NAME] ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..io.atomic import atomic_write
from .plot import plot_results
from .report import render_goals_markdown, render_report
from .results import write_results
from .selection import UsageError
from .suite import run_suite
from .worker import worker_main
from .workloads import WORKLOADS

PROG = "python -m nnscratch.bench"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line (``--help`` lists every option); a bad one exits 2 with one line."""
    p = _Parser(prog=PROG, description="nnscratch benchmark suite: nnscratch vs plain NumPy (and PyTorch, "
                "scikit-learn when installed)")
    p.add_argument("--quick", action="store_true", help="smoke run: fewer reps, smaller workloads (< 2 minutes)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only these workloads (repeatable or comma-separated)")
    p.add_argument("--reps", type=int, help="timed repetitions per measurement (default: per workload, 2-5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs per implementation (default: 1)")
    p.add_argument("--threads", metavar="LIST", help="BLAS thread counts, e.g. 1,8 (default: 1 and all cores)")
    p.add_argument("--json", metavar="PATH", help="write every figure and the machine description as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the goals table as markdown (for the README)")
    p.add_argument("--plot", metavar="PATH", help="bar chart PNG (needs matplotlib)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST files (default: load_mnist's search path)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch baselines")
    p.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn baseline")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds allowed per worker process (default: 1800, --quick 120)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        p.error(f"--reps must be >= 1, got {args.reps}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite (or ``--list``, or one ``--worker``); returns the exit status: 0 ok, 1 a worker failed, 2 usage."""
    args = parse_args(argv)
    try:
        if args.worker:
            return worker_main(args)
        if args.list:
            for name, w in WORKLOADS.items():
                print(f"{name:18} {w.title}" + ("" if w.in_quick else "  (not in --quick)"))
            return 0
        results, failures = run_suite(args)
        print(render_report(results))
        if args.json:
            write_results(args.json, results)
            print(f"\nresults written to {args.json}")
        if args.markdown:
            text = render_goals_markdown(results).encode()
            atomic_write(args.markdown, lambda f: f.write(text))
            print(f"goals written to {args.markdown}")
        if args.plot:
            path = plot_results(results, args.plot)
            print(f"plot written to {path}" if path else
                  "--plot needs matplotlib: pip install nnscratch[plot] (or: pip install matplotlib)")
        return 1 if failures else 0
    except (UsageError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
