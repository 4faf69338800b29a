"""``nnscratch bench [ARGS...]``: the benchmark suite (``nnscratch.bench``), its arguments passed through."""

from __future__ import annotations

import argparse
import importlib

from .common import PROG, USER_ERROR, error_line

NAME = "bench"
HELP = "run the benchmark suite (arguments go to it: nnscratch bench --help)"


def run_bench(argv: list[str]) -> int:
    """``nnscratch.bench.main(argv)``, imported only now; a clean error when this installation lacks it."""
    try:
        bench = importlib.import_module("nnscratch.bench")
    except ModuleNotFoundError as exc:
        if exc.name not in ("nnscratch.bench", "nnscratch"):
            raise
        error_line(f"{PROG} {NAME}", "the benchmark suite (nnscratch.bench) is not part of this nnscratch installation")
        return USER_ERROR
    try:
        return int(bench.main(argv) or 0)
    except SystemExit as exc:  # the suite's own argparse: --help, or a usage error
        return exc.code if isinstance(exc.code, int) else USER_ERROR


def add(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    # listed for the overview only: ``main`` hands "bench ..." to ``run_bench`` before argparse sees it
    commands.add_parser(NAME, help=HELP, add_help=False)
