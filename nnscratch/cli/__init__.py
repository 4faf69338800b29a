"""The ``nnscratch`` command line (also ``python -m nnscratch``).

    nnscratch fetch cat                         # the data (or set NNSCRATCH_DATA to a folder holding it)
    nnscratch train-cat                         # trains, tests and saves cat_model.npz
    nnscratch export-images --count 4           # test-set photos as PNG files in cat_photos/
    nnscratch predict cat_photos/*.png my_cat.jpg --model cat_model.npz
    nnscratch export cat_model.npz                # cat_model.onnx, for onnxruntime
    nnscratch train-mnist --model cnn
    nnscratch bench --quick

Exit status: 0 on success, 2 with one line on stderr for a user error (bad argument, missing or corrupt
data, unreadable file), 130 when interrupted; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .common import PROG, Parser, guarded

__all__ = ["main", "make_parser"]


def make_parser() -> argparse.ArgumentParser:
    """The parser of ``nnscratch``: one subcommand each for fetch, verify, export-images, predict, export,
    summary, train-cat, train-mnist, bench."""
    from . import bench, data, export, export_images, predict, train_cat, train_mnist  # ``cli.common`` stays light
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser = Parser(prog=PROG, description="nnscratch: get the data, train, test and use neural networks in NumPy.",
                    epilog="examples:\n" + __doc__.split("\n\n")[1] + "\n\nSee 'nnscratch COMMAND --help'.",
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for add in (data.add_fetch, data.add_verify, export_images.add, predict.add, export.add, train_cat.add,
                train_mnist.add, bench.add):
        add(commands, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nnscratch`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from . import bench

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [bench.NAME]:
        return bench.run_bench(argv[1:])
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, its line already printed)
        return exc.code if isinstance(exc.code, int) else 2
    return guarded(f"{PROG} {args.command}", args.debug, lambda: int(args.handler(args)))
