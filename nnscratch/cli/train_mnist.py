"""``nnscratch train-mnist``: train the MNIST MLP (>= 98%) or CNN (>= 99%) and test it."""

from __future__ import annotations

import argparse
import sys

from ..recipes.mnist import DEFAULTS, MODEL_DEFAULTS, MODELS, train_mnist
from ..training import checkpoint
from ..utils.plotting import pyplot
from .common import add_workers_argument, fit_on_workers, say

NAME = "train-mnist"


def run(args: argparse.Namespace) -> int:
    if args.plot:
        pyplot()  # without matplotlib: the error now, not after training
    result = train_mnist(args.model, data_dir=args.data_dir, verify=not args.no_verify, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed, val=args.val, limit=args.limit,
                         checkpoint_dir=args.checkpoint_dir, resume=args.resume, log=say,
                         progress=None if args.quiet else sys.stdout, fit=fit_on_workers(args.workers, args.seed))
    result.summary["workers"] = args.workers
    result.write(args.out, args.plot, args.json, log=say)
    return 0


def add(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    mlp, cnn = MODEL_DEFAULTS["mlp"], MODEL_DEFAULTS["cnn"]
    p = commands.add_parser(NAME, help="train an MLP or a small CNN on MNIST",
                            description="Train on the first 55,000 MNIST training images (the last 5,000 validate; "
                                        "resnet: all 60,000) "
                                        "and test on the 10,000 test images. mlp: 784-256-128-10 (>= 98%); cnn: two "
                                        "convolution blocks (>= 99%).", parents=parents)
    p.add_argument("--model", choices=MODELS, default=DEFAULTS["model"], help="(default: %(default)s)")
    p.add_argument("--out", metavar="PATH", help="save the trained model here (.npz)")
    p.add_argument("--epochs", type=int, help=f"(default: mlp {mlp['epochs']}, cnn {cnn['epochs']})")
    p.add_argument("--batch-size", type=int, help=f"(default: mlp {mlp['batch_size']}, cnn {cnn['batch_size']})")
    p.add_argument("--lr", type=float, help=f"initial Adam learning rate (default: mlp {mlp['lr']:g}, cnn "
                                            f"{cnn['lr']:g})")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="(default: %(default)s)")
    p.add_argument("--val", type=int, default=None, metavar="N",
                   help="validation images, the last N of the training file (default: 5000; resnet: 0)")
    p.add_argument("--limit", type=int, metavar="N", help="train on the first N training images only")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the four MNIST .gz files")
    p.add_argument("--no-verify", action="store_true", help="do not compare the files' SHA-256 with the originals")
    p.add_argument("--plot", metavar="PATH", help="learning curves PNG, and PATH_confusion.png (the [plot] extra)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    checkpoint.add_arguments(p)
    add_workers_argument(p)
    p.set_defaults(handler=run)
