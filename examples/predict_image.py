#!/usr/bin/env python
"""Classify photos with a saved cat classifier (``examples/train_cat.py`` writes ``cat_model.npz``).

    python examples/predict_image.py my_cat.jpg --model cat_model.npz
    my_cat.jpg: cat (p=0.93)

For each file it prints ``PATH: LABEL (p=P)`` where ``P`` is the model's probability of the printed label
(so always >= 0.5 for a two-class model). Any common format is read (JPEG, PNG, GIF, BMP, WebP, TIFF); the
EXIF orientation is applied, palette, grayscale and transparent images become RGB (transparency on
white), and the image is resized to the model's input size (64x64, the whole image, not keeping the
aspect ratio unless ``--center-crop``) and scaled exactly as in training
(``nnscratch.data.classify.classify_paths``). The command line's ``nnscratch predict`` does the same.

Errors: a missing model file, a file that is not a model, or a model for other inputs (not 64x64 RGB)
ends the run with one line on stderr and exit status 2. A path that is not a readable image gets one
``error:`` line on stderr; the other paths are still classified, and the exit status is 2 at the end.
``--json PATH`` writes ``{"model", "classes", "results": [{"path", "label", "probability",
"probabilities"} or {"path", "error"}]}``.
"""

from __future__ import annotations

import argparse
import sys

from nnscratch.data.classify import classify_paths, load_classifier
from nnscratch.io.atomic import write_json

try:
    from _cli import Parser, run
except ImportError:  # imported as examples.predict_image
    from examples._cli import Parser, run

PROG = "predict_image.py"


def main(args: argparse.Namespace) -> None:
    clf = load_classifier(args.model)
    results = classify_paths(args.paths, clf, args.center_crop)
    failed = 0
    for r in results:
        if "error" in r:
            failed += 1
            print(f"{PROG}: error: {r['error']}", file=sys.stderr)
        else:
            print(f"{r['path']}: {r['label']} (p={r['probability']:.2f})", flush=True)
    if args.json:
        write_json(args.json, {"model": str(args.model), "classes": clf.classes, "results": results})
    if failed:
        sys.exit(2)


def make_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files to classify")
    p.add_argument("--model", default="cat_model.npz", help="model file written by train_cat.py (default: %(default)s)")
    p.add_argument("--center-crop", action="store_true",
                   help="crop the largest centered square first instead of squeezing the whole image")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return p


if __name__ == "__main__":
    run(main, make_parser())
