#!/usr/bin/env python
"""Train a dense network (``--model cnn``: a small CNN; ``--model resnet``: a residual network) on all of
MNIST; report its test accuracy.

``--model mlp`` (default, >= 98.0%): 784-256-128-10 ReLU, softmax cross-entropy, Adam lr 1e-3
cosine-decayed per step to 1% of it, batch 128, 10 epochs. ``--model cnn`` (>= 99.0%): two
convolution blocks (the second with BatchNorm), Dense(128), Dense(10); Adam lr 3e-3, batch 64, 4
epochs. ``--model resnet`` (>= 99.4%): a functional-API network with BatchNorm and ``Add`` skip
connections; Adam lr 6e-3, batch 128, 4 epochs. ``--epochs``, ``--batch-size`` and ``--lr`` override the
per-model defaults. The recipes are ``nnscratch.recipes.mnist``.

The first 55,000 training images train, the last 5,000 validate (``--val 0``: none; ``--model resnet``
trains on all 60,000); the 10,000 test images give the test accuracy, the confusion matrix and the
per-class accuracy.

    python examples/train_mnist.py                                # files found as load_mnist() finds them
    python examples/train_mnist.py --data-dir /path/to/mnist --json result.json --plot curves.png
    python examples/train_mnist.py --model cnn --json cnn.json
    python examples/train_mnist.py --model resnet --json resnet.json
    python examples/train_mnist.py --workers 2 --json ray.json    # on 2 Ray worker processes ([distributed])

Exit status: 0 on success; 2 with one line on stderr for a user error (bad argument, missing or
corrupt data, unwritable output); ``--debug`` shows the traceback instead. ``--no-verify`` skips the
SHA-256 comparison with the original files (the IDX headers are still checked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import nnscratch as nn
from nnscratch.cli.common import add_workers_argument, fit_on_workers
from nnscratch.recipes.mnist import (
    ARCHITECTURES,
    DEFAULTS,
    MODEL_DEFAULTS,
    MODELS,
    Recipe,
    build_recipe,
    train_mnist,
)
from nnscratch.training import checkpoint
from nnscratch.utils.plotting import pyplot

try:
    from _cli import Parser
except ImportError:  # imported as examples.train_mnist
    from examples._cli import Parser

__all__ = ["Recipe", "build_recipe", "main", "run"]  # build_recipe: the benchmarks' "time to 98%" recipe


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = Parser(prog="train_mnist.py", description="Train an MLP (or a small CNN) on MNIST with nnscratch.")
    mlp, cnn = MODEL_DEFAULTS["mlp"], MODEL_DEFAULTS["cnn"]
    p.add_argument("--model", choices=MODELS, default=DEFAULTS["model"],
                   help=f"mlp: {ARCHITECTURES['mlp']} (default); cnn: {ARCHITECTURES['cnn']}")
    p.add_argument("--epochs", type=int, help=f"epochs (default: mlp {mlp['epochs']}, cnn {cnn['epochs']})")
    p.add_argument("--batch-size", type=int, help=f"batch size (default: mlp {mlp['batch_size']}, cnn "
                                                  f"{cnn['batch_size']})")
    p.add_argument("--lr", type=float, help=f"initial Adam learning rate, cosine-decayed to 1%% of it "
                                            f"(default: mlp {mlp['lr']:g}, cnn {cnn['lr']:g})")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="seed (default: %(default)s)")
    p.add_argument("--val", type=int, default=None, metavar="N",
                   help="hold out the last N training images for validation "
                        "(default: 5000; resnet: 0, all images train; 0: none)")
    p.add_argument("--dtype", choices=["float32", "float64"], default=DEFAULTS["dtype"], help="(default: %(default)s)")
    p.add_argument("--limit", type=int, metavar="N", help="train on the first N training images only (smoke tests)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the four MNIST .gz files")
    p.add_argument("--no-verify", action="store_true", help="do not compare the files' SHA-256 with the originals")
    p.add_argument("--save", metavar="PATH", help="save the trained model (.npz)")
    p.add_argument("--plot", metavar="PATH", help="learning curves PNG (the confusion matrix goes to "
                                                  "PATH_confusion.png)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON (atomically)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    checkpoint.add_arguments(p)
    add_workers_argument(p)
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate as ``args`` says; returns the results written by ``--json``."""
    if args.plot:
        pyplot()  # without matplotlib: the error, before any training
    result = train_mnist(args.model, data_dir=args.data_dir, verify=not args.no_verify, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed, val=args.val, limit=args.limit,
                         dtype=args.dtype, checkpoint_dir=args.checkpoint_dir, resume=args.resume, log=print,
                         progress=None if args.quiet else sys.stdout, fit=fit_on_workers(args.workers, args.seed))
    result.summary["nnscratch"] = nn.__version__
    result.summary["workers"] = args.workers
    return result.write(args.save, args.plot, args.json)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("train_mnist.py: interrupted", file=sys.stderr)
        return 130
    except (nn.NNScratchError, OSError) as exc:
        if args.debug:
            raise
        print(f"train_mnist.py: error: {' '.join(str(exc).split()) or type(exc).__name__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
