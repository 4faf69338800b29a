"""Shared command-line plumbing for the example scripts: user errors become one line and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from nnscratch.cli.common import Parser
from nnscratch.core.errors import NNScratchError

__all__ = ["Parser", "run"]  # Parser: usage errors as one line and exit status 2, as the nnscratch command's


def run(main: Callable[[argparse.Namespace], None], parser: argparse.ArgumentParser) -> None:
    """Parse arguments and call ``main``; known errors print ``error: ...`` on stderr and exit 2."""
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    args = parser.parse_args()
    try:
        main(args)
    except (NNScratchError, OSError) as exc:
        if args.debug:
            raise
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        sys.exit(130)
