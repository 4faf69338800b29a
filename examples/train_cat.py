#!/usr/bin/env python
"""Train the cat / non-cat classifier (deeplearning.ai's 209 training and 50 test photos, 64x64 RGB).

* default (``--model dense``): five augmented dense networks averaged by ``nn.Ensemble``, 160 epochs on
  the training images with the cats repeated to balance the classes: test accuracy 0.80 (seed 0).
  Saves ``cat_model.npz`` for ``predict_image.py``.
* ``--reference`` (= ``--model reference``): the course's 12288-20-7-5-1 network; prints its "Cost after
  iteration i" lines and its published figures to every digit (cost 0.771749 at iteration 0, 0.092878
  at 2400, train 0.9856, test 0.80). ``--layers 12288,7,1`` is the course's 2-layer model.
* ``--model cnn``: a 5-fold ensemble of small augmented CNNs: test accuracy 0.86.

The recipes live in ``nnscratch.recipes`` (docs/cat-classifier.md tells how they were chosen).

    python examples/train_cat.py                           # writes cat_model.npz
    python examples/train_cat.py --reference               # the course's numbers
    python examples/train_cat.py --model cnn --save cnn_model.npz --plot curves.png
    python examples/predict_image.py my_cat.jpg --model cat_model.npz

Data: found in ``--data-dir``, else ``$NNSCRATCH_DATA``, the checkout's ``datasets/`` or
``~/.cache/nnscratch`` (``nnscratch fetch cat``). ``--no-verify`` skips the SHA-256 comparison (for
your own or synthetic files of the same layout). Exit status: 0 on success; 2 with one line on
stderr for a user error; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys

from nnscratch.core.errors import InvalidValueError
from nnscratch.data.errors import MissingFileError
from nnscratch.io.atomic import write_json
from nnscratch.recipes.cat import MODELS, train_cat
from nnscratch.recipes.cat_reference import (
    REFERENCE_ITERATIONS,
    REFERENCE_SEED,
    parse_layers,
)
from nnscratch.training import checkpoint
from nnscratch.utils.extras import MissingExtraError
from nnscratch.utils.plotting import plot_history, pyplot

try:
    from _cli import Parser, run
except ImportError:  # imported as examples.train_cat
    from examples._cli import Parser, run

DEFAULT_SAVE = "cat_model.npz"


def make_parser() -> argparse.ArgumentParser:
    p = Parser(prog="train_cat.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=MODELS, default="dense", help="dense (default), cnn, or reference")
    p.add_argument("--reference", action="store_true", help="the course's network and its figures (--model reference)")
    p.add_argument("--layers", metavar="DIMS", help="with --reference: layer sizes, default 12288,20,7,5,1")
    p.add_argument("--epochs", "--iterations", dest="epochs", type=int, metavar="N",
                   help=f"epochs per member (iterations with --reference, default {REFERENCE_ITERATIONS})")
    p.add_argument("--seed", type=int, help=f"seed (default 0; with --reference {REFERENCE_SEED}, the course's)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with train_catvnoncat.h5 and test_catvnoncat.h5")
    p.add_argument("--no-verify", action="store_true", help="do not compare the files' SHA-256 with the originals")
    p.add_argument("--save", metavar="PATH", help=f"save the model here (dense model: {DEFAULT_SAVE} by default)")
    p.add_argument("--no-save", action="store_true", help="do not save the model")
    p.add_argument("--plot", metavar="PATH", help="write the learning curves as a PNG (needs matplotlib)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    checkpoint.add_arguments(p)
    return p


def main(args: argparse.Namespace) -> None:
    if args.reference and args.model not in ("dense", "reference"):
        raise InvalidValueError(f"--reference is the reference model: it cannot be combined with --model {args.model}")
    model = "reference" if args.reference else args.model
    if args.save and args.no_save:
        raise InvalidValueError("--save and --no-save contradict each other")
    layers = parse_layers(args.layers) if args.layers else None
    plot = args.plot
    if plot:
        try:
            pyplot()
        except MissingExtraError as exc:
            print(f"train_cat.py: --plot: {exc}; training without the plot", file=sys.stderr)
            plot = None
    try:
        result = train_cat(model, data_dir=args.data_dir, verify=not args.no_verify, seed=args.seed,
                           epochs=args.epochs, layers=layers, checkpoint_dir=args.checkpoint_dir, resume=args.resume,
                           log=lambda line: print(line, flush=True), verbose=1 if model == "cnn" else 0)
    except MissingFileError as exc:
        raise MissingFileError(f"{exc}, or pass --data-dir DIR") from None
    summary = result.summary
    save = args.save or (DEFAULT_SAVE if model == "dense" and not args.no_save else None)
    if save:
        summary["saved"] = str(result.save(save))
        print(f"model saved to {summary['saved']} (try: python examples/predict_image.py PHOTO --model "
              f"{summary['saved']})")
    if plot:
        xlabel = "iteration" if model == "reference" else "epoch"
        summary["plot"] = str(plot_history(result.histories, plot, title=f"cat classifier, {model}", xlabel=xlabel))
        print(f"learning curves written to {summary['plot']}")
    if args.json:
        write_json(args.json, summary)
        print(f"results written to {args.json}")


if __name__ == "__main__":
    run(main, make_parser())
