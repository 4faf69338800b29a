"""``nnscratch export-images``: write dataset images as PNG files, to look at them or classify them."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..core.errors import InvalidValueError

NAME = "export-images"
HELP = "write images of the cat test (or train) set as PNG files"
DESCRIPTION = ("Write the first COUNT images of the cat dataset's test (or train) split as PNG files, named by index "
               "and label (e.g. test_003_cat.png): photos to try 'nnscratch predict' on.")


def export_images(split: str, count: int, out: str, data_dir: str | None, verify: bool) -> int:
    from PIL import Image

    from ..data.cat import load_cat

    if count < 1:
        raise InvalidValueError(f"--count must be at least 1, got {count}")
    data = load_cat(data_dir, verify=verify)
    images, labels = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(min(count, len(images))):
        name = data.classes[int(labels[i])]
        path = folder / f"{split}_{i:03d}_{name}.png"
        Image.fromarray(np.ascontiguousarray(images[i])).save(path)
        print(path)
    return 0


def add(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(NAME, help=HELP, description=DESCRIPTION, parents=parents)
    p.add_argument("--split", choices=("test", "train"), default="test")
    p.add_argument("--count", type=int, default=4, help="how many images (default 4)")
    p.add_argument("--out", default="cat_photos", help="folder to write them to (default cat_photos)")
    p.add_argument("--data-dir", default=None, help="folder with the cat HDF5 files")
    p.add_argument("--no-verify", action="store_true", help="do not compare the files' SHA-256 with the originals")
    p.set_defaults(handler=lambda args: export_images(args.split, args.count, args.out, args.data_dir,
                                                      not args.no_verify))
