"""``nnscratch predict PHOTO... --model FILE``: classify photos with a saved image classifier.

Prints ``PATH: LABEL (p=P)`` per photo, ``P`` the probability of the printed label. A photo that is not
a readable image gets one error line on stderr, the others are still classified, and the exit status
is 2 at the end; a bad model file is one error line and status 2.
"""

from __future__ import annotations

import argparse
import sys

from ..io.atomic import write_json
from .common import PROG, USER_ERROR, error_line

NAME = "predict"


def run(args: argparse.Namespace) -> int:
    from ..data.classify import classify_paths, load_classifier  # the model code and Pillow: loaded when used

    clf = load_classifier(args.model)
    results = classify_paths(args.photos, clf, center_crop=args.center_crop)
    failed = 0
    for r in results:
        if "error" in r:
            failed += 1
            error_line(f"{PROG} {NAME}", r["error"])
        else:
            print(f"{r['path']}: {r['label']} (p={r['probability']:.2f})", flush=True)
    if args.json:
        write_json(args.json, {"model": str(args.model), "classes": clf.classes, "results": results})
    sys.stdout.flush()
    return USER_ERROR if failed else 0


def add(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(NAME, help="classify photos with a saved model (e.g. the cat classifier)",
                            description=__doc__.split("\n\n")[0].split(": ", 1)[1], parents=parents)
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="image files (JPEG, PNG, GIF, BMP, WebP, TIFF)")
    p.add_argument("--model", default="cat_model.npz", metavar="FILE",
                   help="model file written by 'nnscratch train-cat' (default: %(default)s)")
    p.add_argument("--center-crop", action="store_true", help="crop the largest centered square instead of squeezing")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.set_defaults(handler=run)
