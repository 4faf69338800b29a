"""Train a cat / non-cat classifier on deeplearning.ai's 209 training photos and test it on the 50 others.

    from nnscratch.recipes.cat import train_cat
    result = train_cat(model="dense", seed=0, log=print)   # finds the files as load_cat() does
    result.summary["test_accuracy"]                         # 0.80 (dense), 0.86 (cnn), 0.80 (reference)
    result.save("cat_model.npz")                            # for nnscratch predict / classify_images

Models: ``"dense"`` (the default: ``cat_dense``, five augmented dense networks averaged), ``"cnn"``
(``cat_cnn``, a 5-fold ensemble of small CNNs) and ``"reference"`` (``cat_reference``, the course's
12288-20-7-5-1 network, printing its "Cost after iteration i" lines to every digit).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..data.cat import CatData, load_cat
from ..data.classify import DEFAULT_PREPROCESSING, preprocess_images, save_classifier
from ..models.model import Model
from ..training.history import History
from ..utils.cost_printer import CostPrinter
from . import cat_cnn, cat_dense, cat_reference

MODELS = ("dense", "cnn", "reference")
DEFAULT_MODEL = "dense"
Log = Callable[[str], None]


@dataclass
class CatResult:
    """A trained cat classifier, its training histories (one per member) and a JSON-able summary."""

    model: Model
    histories: list[History]
    preprocessing: dict[str, Any]
    classes: list[str]
    summary: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | os.PathLike) -> Path:
        """Save the model with its class names and preprocessing (``load_classifier`` reads it back)."""
        return save_classifier(self.model, path, self.classes, self.preprocessing)


def _check(model: str, seed: int | None, epochs: int | None, layers: Sequence[int] | None,
           checkpoint_dir: Any) -> None:
    if model not in MODELS:
        raise InvalidValueError(f"unknown cat model {model!r}; expected one of {', '.join(MODELS)}")
    if model == "cnn" and checkpoint_dir is not None:
        raise InvalidValueError("the cnn model stops early on its validation folds: --checkpoint-dir applies to the "
                                "dense and reference models")
    if layers is not None and model != "reference":
        raise InvalidValueError("--layers needs the reference model (the other models have fixed layers)")
    if epochs is not None and epochs < 1:
        raise InvalidValueError(f"--epochs/--iterations must be >= 1, got {epochs}")
    if seed is not None and seed < 0:
        raise InvalidValueError(f"--seed must be >= 0, got {seed}")


def train_cat(model: str = DEFAULT_MODEL, *, data: CatData | None = None, data_dir: str | os.PathLike | None = None,
              verify: bool = True, seed: int | None = None, epochs: int | None = None,
              layers: Sequence[int] | None = None, checkpoint_dir: str | os.PathLike | None = None,
              resume: bool = False, log: Log | None = None, verbose: int = 0) -> CatResult:
    """Train ``model`` (``"dense"``, ``"cnn"`` or ``"reference"``), then score it on the training and test images.

    ``data`` (``load_cat()``'s result) is loaded from ``data_dir`` (``verify``: compare SHA-256) when not
    given. ``seed`` defaults to 0 (1, the course's, for ``reference``); ``epochs`` to the recipe's (the
    iterations of ``reference``); ``layers`` (``reference`` only) to 12288-20-7-5-1. ``checkpoint_dir`` /
    ``resume``: resumable checkpoints (dense: one folder per member). ``log`` receives the progress lines
    (the course's cost lines for ``reference``); ``verbose`` is ``fit``'s, for the CNN members.
    """
    _check(model, seed, epochs, layers, checkpoint_dir)
    if data is None:
        data = load_cat(data_dir, verify=verify)
    say: Log = log or (lambda line: None)
    if model == "reference":
        return _reference(data, seed, epochs, layers, checkpoint_dir, resume, say)
    if model == "cnn":
        return _cnn(data, seed, epochs, say, verbose)
    return _dense(data, seed, epochs, checkpoint_dir, resume, say)


def _reference(data: CatData, seed: int | None, epochs: int | None, layers: Sequence[int] | None,
               checkpoint_dir: Any, resume: bool, say: Log) -> CatResult:
    dims = list(cat_reference.REFERENCE_LAYERS if layers is None else layers)
    seed = cat_reference.REFERENCE_SEED if seed is None else seed
    iterations = cat_reference.REFERENCE_ITERATIONS if epochs is None else epochs
    say(f"reference: {'-'.join(map(str, dims))} network, full-batch gradient descent, lr {cat_reference.REFERENCE_LR}, "
        f"{iterations} iterations, seed {seed}, float64")
    start = time.perf_counter()
    net, history, costs = cat_reference.train_reference(data.x_train, data.y_train, layers=dims, seed=seed,
                                                        iterations=iterations, log=say, checkpoint_dir=checkpoint_dir,
                                                        resume=resume)
    settings = {"mode": "reference", "seed": seed, "dtype": "float64", "layers": dims, "lr": cat_reference.REFERENCE_LR,
                "optimizer": "sgd", "batch_size": None, "train_samples": len(data.y_train),
                "costs": {str(i): c for i, c in costs.items()}}
    return _finish(data, net, [history], time.perf_counter() - start, DEFAULT_PREPROCESSING, settings, say)


def _dense(data: CatData, seed: int | None, epochs: int | None, checkpoint_dir: Any, resume: bool,
           say: Log) -> CatResult:
    recipe = cat_dense.DENSE_RECIPE
    seed = 0 if seed is None else seed
    epochs = recipe["epochs"] if epochs is None else epochs
    members = recipe["members"]
    say(f"dense: {cat_dense.describe_dense(recipe, epochs)}, seed {seed}")
    printers = [CostPrinter(max(1, epochs // 4), f"member {k + 1}/{members} "
                            "epoch {n:>4}/{epochs}: cost {loss:.6f}, train accuracy {accuracy:.4f}", log=say)
                for k in range(members)]
    start = time.perf_counter()
    net, histories = cat_dense.train_dense(data.x_train, data.y_train, recipe=recipe, seed=seed, epochs=epochs,
                                           callbacks=lambda k: [printers[k]], checkpoint_dir=checkpoint_dir,
                                           resume=resume)
    settings = {"mode": "dense", "seed": seed, **{k: v for k, v in recipe.items() if k != "epochs"},
                "epochs": epochs, "train_samples": cat_dense.train_size(data.y_train, recipe)}
    return _finish(data, net, histories, time.perf_counter() - start, cat_dense.PREPROCESSING, settings, say)


def _cnn(data: CatData, seed: int | None, epochs: int | None, say: Log, verbose: int) -> CatResult:
    seed = 0 if seed is None else seed
    say(f"cnn: {cat_cnn.describe_cnn()}, seed {seed}")
    net, histories, info = cat_cnn.train_cnn(data.x_train, data.y_train, seed=seed, epochs=epochs, verbose=verbose)
    say(f"validation (out-of-fold, all {len(data.y_train)} training images): accuracy {info['val_accuracy']:.4f}, "
        f"balanced {info['val_balanced_accuracy']:.4f}, AUC {info['val_auc']:.4f}; members' best epochs "
        f"{info['best_epochs']}")
    settings = {"mode": "cnn", "seed": seed, "train_samples": len(data.y_train),
                **{k: info[k] for k in ("val_accuracy", "val_balanced_accuracy", "val_auc", "member_val_accuracy",
                                        "best_epochs", "architecture")}}
    result = _finish(data, net, histories, info["train_seconds"], cat_dense.PREPROCESSING, settings, say)
    result.summary["final_cost"] = info["final_cost"]  # the members' training loss at their restored (best) epochs
    return result


def _finish(data: CatData, model: Model, histories: list[History], train_seconds: float,
            preprocessing: dict[str, Any], settings: dict[str, Any], say: Log) -> CatResult:
    """Score ``model`` on the training and test images and log the accuracies."""
    x_train = preprocess_images(data.x_train, preprocessing, model.dtype)
    x_test = preprocess_images(data.x_test, preprocessing, model.dtype)
    train_accuracy = float(np.mean(model.predict_classes(x_train) == data.y_train))
    test_accuracy = float(np.mean(model.predict_classes(x_test) == data.y_test))
    say(f"train accuracy: {train_accuracy:.4f} ({len(x_train)} images)")
    say(f"test accuracy: {test_accuracy:.4f} ({len(x_test)} images)")
    say(f"trained in {train_seconds:.1f} s")
    summary: dict[str, Any] = {
        "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
        "initial_cost": float(np.mean([h["loss"][0] for h in histories])),
        "final_cost": float(np.mean([h["loss"][-1] for h in histories])),
        "train_seconds": train_seconds, "iterations": sum(len(h["loss"]) for h in histories),
        **settings, "classes": list(data.classes), "test_samples": len(x_test),
    }
    return CatResult(model, histories, dict(preprocessing), list(data.classes), summary)
