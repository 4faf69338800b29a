"""``nnscratch export`` and ``nnscratch summary``: a saved model as an ONNX file, or its table of layers."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME, SUMMARY = "export", "summary"


def export(model_path: str, out: str | None, fmt: str) -> int:
    """Write the model saved at ``model_path`` as ``out`` (default: the same name with the format's suffix)."""
    from ..models.loading import load_model

    model = load_model(model_path)
    target = Path(out) if out else Path(model_path).with_suffix(f".{fmt}")
    written = model.export(target, format=fmt)
    shape = ", ".join(map(str, model.input_shape)) if not isinstance(model.input_shape, list) else model.input_shape
    print(f"{written}: {type(model).__name__} '{model.name}', inputs (batch, {shape}), {model.count_params():,} "
          f"weights; the file computes predict (inference mode), without the preprocessing of the data")
    return 0


def summary(model_path: str) -> int:
    """Print the table of layers, output shapes and weight counts of the model saved at ``model_path``."""
    from ..models.loading import load_model

    load_model(model_path).summary()
    return 0


def add(commands: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(NAME, help="write a saved model as an ONNX file (the [onnx] extra)", parents=parents,
                            description="Write a model saved by nnscratch (model.save, train-cat, train-mnist) as an "
                                        "ONNX file that computes its predictions, for onnxruntime or other tools. "
                                        "Inputs keep nnscratch's layout (images channels-last) with a dynamic batch "
                                        "size; the data's preprocessing (e.g. scaling photos to [0, 1]) is not in it.")
    p.add_argument("model", metavar="MODEL", help="model file (e.g. cat_model.npz)")
    p.add_argument("--out", metavar="PATH", help="where to write it (default: MODEL with the suffix .onnx)")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="(default: %(default)s)")
    p.set_defaults(handler=lambda args: export(args.model, args.out, args.format))
    s = commands.add_parser(SUMMARY, help="print a saved model's layers, output shapes and weight counts",
                            parents=parents, description="Print the table of layers of a model saved by nnscratch.")
    s.add_argument("model", metavar="MODEL", help="model file (e.g. cat_model.npz)")
    s.set_defaults(handler=lambda args: summary(args.model))
