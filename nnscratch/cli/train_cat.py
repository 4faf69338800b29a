"""``nnscratch train-cat``: train the cat / non-cat classifier, test it, save it for ``nnscratch predict``."""

from __future__ import annotations

import argparse

from ..data.errors import MissingFileError
from ..io.atomic import write_json
from ..recipes.cat import DEFAULT_MODEL, MODELS, train_cat
from ..recipes.cat_reference import parse_layers
from ..training import checkpoint
from ..utils.plotting import plot_history, pyplot
from .common import say

NAME = "train-cat"


def run(args: argparse.Namespace) -> int:
    if args.plot:
        pyplot()  # without matplotlib: the error now, not after training
    layers = parse_layers(args.layers) if args.layers else None
    try:
        result = train_cat(args.model, data_dir=args.data_dir, verify=not args.no_verify, seed=args.seed,
                           epochs=args.epochs, layers=layers, checkpoint_dir=args.checkpoint_dir, resume=args.resume,
                           log=say, verbose=1 if args.model == "cnn" else 0)
    except MissingFileError as exc:
        raise MissingFileError(f"{exc} (nnscratch fetch cat), or pass --data-dir DIR") from None
    summary = result.summary
    if args.out:
        summary["saved"] = str(result.save(args.out))
        say(f"model saved to {summary['saved']} (try: nnscratch predict PHOTO --model {summary['saved']})")
    if args.plot:
        xlabel = "iteration" if args.model == "reference" else "epoch"
        summary["plot"] = str(plot_history(result.histories, args.plot, title=f"cat classifier, {args.model}",
                                           xlabel=xlabel))
        say(f"learning curves written to {summary['plot']}")
    if args.json:
        write_json(args.json, summary)
        say(f"results written to {args.json}")
    return 0


def add(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(NAME, help="train the cat classifier (dense: test 0.80; cnn: 0.86; reference: the "
                                       "course's)",
                            description="Train a cat / non-cat classifier on the 209 training photos, test it on the "
                                        "50 test photos and save it. dense (default): five augmented dense networks "
                                        "averaged; cnn: a 5-fold ensemble of small CNNs; reference: the "
                                        "deeplearning.ai course's 12288-20-7-5-1 network and its printed costs.",
                            parents=parents)
    p.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL, help="(default: %(default)s)")
    p.add_argument("--out", default="cat_model.npz", metavar="PATH",
                   help="save the model here (default: %(default)s; '' to not save)")
    p.add_argument("--seed", type=int, help="seed (default 0; the reference model: 1, the course's)")
    p.add_argument("--epochs", "--iterations", dest="epochs", type=int, metavar="N",
                   help="epochs per member (the reference model: iterations) instead of the recipe's")
    p.add_argument("--layers", metavar="DIMS", help="the reference model's sizes, default 12288,20,7,5,1")
    p.add_argument("--data-dir", metavar="DIR", help="folder with train_catvnoncat.h5 and test_catvnoncat.h5")
    p.add_argument("--no-verify", action="store_true", help="do not compare the files' SHA-256 with the originals")
    p.add_argument("--plot", metavar="PATH", help="write the learning curves as a PNG (the [plot] extra)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    checkpoint.add_arguments(p)
    p.set_defaults(handler=run)
