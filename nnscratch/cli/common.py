"""What every ``nnscratch`` subcommand shares: one-line usage errors, and user errors as one line + exit 2."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import Any

from ..core.errors import InvalidValueError, NNScratchError

PROG = "nnscratch"
USER_ERROR = 2
INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def say(line: str) -> None:
    """Print a progress line at once (training runs for minutes)."""
    print(line, flush=True)


def error_line(prog: str, message: object) -> None:
    """``PROG: error: MESSAGE`` on stderr, on one line."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)


def guarded(prog: str, debug: bool, action: Callable[[], int]) -> int:
    """Run ``action``; an nnscratch or OS error becomes one line and status 2, Ctrl-C status 130 (``debug``: raise)."""
    try:
        return action()
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except (NNScratchError, OSError) as exc:
        if debug:
            raise
        error_line(prog, str(exc) or type(exc).__name__)
        return USER_ERROR


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    """``--workers N``: train on N Ray worker processes (the ``distributed`` extra) instead of this process."""
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="data-parallel training on N Ray worker processes (needs the [distributed] extra; "
                             "default: train in this process)")


def fit_on_workers(workers: int, seed: int) -> Callable[..., Any] | None:
    """The training call for ``--workers``: None (plain ``fit``) for 0, else ``fit_distributed`` on that many
    Ray workers; one clear error when Ray is not installed or ``workers`` is negative."""
    if workers == 0:
        return None
    if workers < 0:
        raise InvalidValueError(f"--workers must be 0 (this process) or a positive number of workers, got {workers}")
    from ..distributed import fit_distributed  # Ray loads only when asked for

    return functools.partial(fit_distributed, workers=workers, seed=seed)
