"""The convolutional cat classifier: a 5-fold ensemble of small augmented CNNs (test accuracy 0.86, seed 0).

Images stay NHWC (pixels / 255, float32). Each member is [RandomFlip, RandomShift(4, reflect),
3 x (Conv2D 3x3 same, no bias - BatchNorm - ReLU - MaxPool2D 2) with 16, 32, 64 filters,
GlobalAvgPool2D, Dense 1 sigmoid], Adam lr 1e-3, batch 32, at most 60 epochs. ``train_cnn`` deals
the training images into 5 stratified folds; member k trains on the other four with
``EarlyStopping(val_loss, patience 10, restore_best_weights=True)`` on fold k, and ``nn.Ensemble``
averages the five. Every image is held out from one member, whose predictions (out-of-fold) score the
recipe on all 209 training images (balanced accuracy 0.93). docs/cat-classifier.md records how the
recipe was chosen.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core.errors import ShapeError
from ..core.layer import Module
from ..layers import (
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    RandomFlip,
    RandomShift,
    ReLU,
)
from ..models.ensemble import Ensemble
from ..models.sequential import Sequential
from ..training.callbacks import Callback, EarlyStopping
from ..training.history import History
from ..training.optimizers import Adam, AdamW
from ..utils.model_selection import cross_validate
from .cat_dense import scale

IMAGE_SHAPE = (64, 64, 3)
FOLDS = 5  # members of the ensemble, one per fold

CNN_RECIPE: dict[str, Any] = {
    "name": "c16-c32-c64-bn-gap",
    "conv": [16, 32, 64],        # filters of the 3x3 "same" convolutions, each followed by 2x2 max pooling
    "batchnorm": True,           # BatchNorm after each convolution (before ReLU)
    "head": "gap",               # "gap" (global average pooling) or "flatten"
    "dropout": 0.0,              # before the output layer
    "flip": True,
    "max_shift": 4,
    "optimizer": "adam",         # "adam" or "adamw"
    "lr": 1e-3,
    "batch_size": 32,
    "epochs": 60,                # at most; early stopping usually ends sooner
    "patience": 10,
    "monitor": "val_loss",
    "dtype": "float32",
}


def build_cnn(seed: int = 0, recipe: dict[str, Any] | None = None) -> Sequential:
    """The network of ``recipe`` (default ``CNN_RECIPE``) for ``(N, 64, 64, 3)`` images, compiled with
    binary cross-entropy and accuracy."""
    r = CNN_RECIPE if recipe is None else recipe
    layers: list[Module] = []
    if r.get("flip"):
        layers.append(RandomFlip("horizontal"))
    if r.get("max_shift"):
        layers.append(RandomShift(r["max_shift"], fill_mode="reflect"))
    for filters in r["conv"]:
        if r.get("batchnorm"):
            layers += [Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal"),
                       BatchNorm(momentum=0.9, epsilon=1e-5), ReLU()]
        else:
            layers.append(Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer="he_normal"))
        layers.append(MaxPool2D(2))
    layers.append(GlobalAvgPool2D() if r["head"] == "gap" else Flatten())
    if r.get("dropout"):
        layers.append(Dropout(r["dropout"]))
    layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers, seed=seed, dtype=r["dtype"])
    optimizer = {"adam": Adam, "adamw": AdamW}[r["optimizer"]](lr=r["lr"])
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


def describe_cnn(recipe: dict[str, Any] | None = None, folds: int = FOLDS) -> str:
    """One line: the architecture and training settings of ``recipe``, as a ``folds``-fold ensemble."""
    r = CNN_RECIPE if recipe is None else recipe
    aug = [a for a, on in (("flip", r.get("flip")), (f"shift {r.get('max_shift')}", r.get("max_shift"))) if on]
    blocks = "-".join(f"conv{f}{'-bn' if r.get('batchnorm') else ''}-pool" for f in r["conv"])
    head = ("gap" if r["head"] == "gap" else "flatten") + (f"-dropout{r['dropout']:g}" if r.get("dropout") else "")
    return (f"{r['name']}: [{', '.join(aug) or 'no augmentation'}] {blocks}-{head}-dense1(sigmoid), "
            f"{r['optimizer']} lr {r['lr']:g}, batch {r['batch_size']}, up to {r['epochs']} epochs, "
            f"early stopping on {r['monitor']} (patience {r['patience']}); {folds}-fold ensemble")


def train_cnn(x_train: np.ndarray, y_train: np.ndarray, *, seed: int = 0, folds: int = FOLDS,
              epochs: int | None = None, patience: int | None = None, recipe: dict[str, Any] | None = None,
              verbose: int = 0, callbacks: Iterable[Callback] = ()) -> tuple[Ensemble, list[History], dict[str, Any]]:
    """Train the ``folds``-fold ensemble of ``recipe`` (default ``CNN_RECIPE``) on uint8 images ``(N, 64, 64, 3)``.

    Member k (seed ``100 * seed + k``) trains on every fold but k for at most ``epochs`` epochs, stops
    after ``patience`` epochs without improvement of ``recipe["monitor"]`` on fold k and keeps the weights
    of its best epoch. ``callbacks`` go to every member's ``fit``. Returns ``(ensemble, histories, info)``:

    * ``val_accuracy``, ``val_balanced_accuracy``, ``val_auc``: of the out-of-fold predictions, all N images;
    * ``member_val_accuracy``, ``best_epochs`` (1-based), ``epochs`` (run): per member;
    * ``iterations`` (epochs of all members), ``initial_cost`` (mean first-epoch loss), ``final_cost``
      (mean training loss at the best epochs), ``train_seconds``, ``fold``, ``seed``, ``recipe``, ``architecture``.
    """
    r = dict(CNN_RECIPE if recipe is None else recipe)
    if epochs is not None:
        r["epochs"] = epochs
    if patience is not None:
        r["patience"] = patience
    y = np.asarray(y_train).reshape(-1)
    if len(y) != len(x_train):
        raise ShapeError(f"y_train has {len(y)} labels for {len(x_train)} images")
    if np.ndim(x_train) != 4 or np.shape(x_train)[1:] != IMAGE_SHAPE:
        raise ShapeError(f"x_train must have shape (samples, 64, 64, 3), got {np.shape(x_train)}")
    x = scale(x_train, r["dtype"])
    stoppers = [EarlyStopping(monitor=r["monitor"], patience=r["patience"], restore_best_weights=True)
                for _ in range(folds)]
    start = time.perf_counter()
    cv = cross_validate(lambda s: build_cnn(s, r), x, y.reshape(-1, 1).astype(r["dtype"]), folds=folds, seed=seed,
                        labels=y, callbacks=lambda k: [stoppers[k], *callbacks], epochs=r["epochs"],
                        batch_size=r["batch_size"], verbose=verbose)
    train_seconds = time.perf_counter() - start
    histories = cv.histories
    best = [list(h.epoch).index(s.best_epoch) + 1 for h, s in zip(histories, stoppers)]
    val = cv.scores
    info: dict[str, Any] = {
        "val_accuracy": val["accuracy"], "val_balanced_accuracy": val["balanced_accuracy"], "val_auc": val["auc"],
        "member_val_accuracy": [s["accuracy"] for s in cv.fold_scores()],
        "best_epochs": best, "epochs": [len(h["loss"]) for h in histories],
        "iterations": sum(len(h["loss"]) for h in histories),
        "initial_cost": float(np.mean([h["loss"][0] for h in histories])),
        "final_cost": float(np.mean([h["loss"][b - 1] for h, b in zip(histories, best)])),
        "train_seconds": train_seconds, "fold": cv.fold.tolist(), "seed": seed, "recipe": r,
        "architecture": describe_cnn(r, folds),
    }
    return cv.ensemble(), histories, info
