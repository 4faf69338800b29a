"""The default cat classifier: an ensemble of five augmented dense networks (test accuracy 0.80, seed 0).

Each member is [RandomFlip, RandomShift(20, reflect), Normalization (minus the per-channel mean),
AvgPool2D(2), Flatten, Dense 128 ReLU, Dense 32 ReLU, Dense 1 sigmoid], trained with Adam (lr 1e-3,
batch 32) for 160 epochs on all 209 training images with the cats repeated until they are as many as
the non-cats; ``nn.Ensemble`` averages the five. The recipe was chosen by cross-validation on the
training images only (docs/cat-classifier.md records the candidates and their scores).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core.layer import Module
from ..data.classify import DEFAULT_PREPROCESSING, preprocess_images
from ..layers import (
    AvgPool2D,
    Dense,
    Dropout,
    Flatten,
    Normalization,
    RandomFlip,
    RandomShift,
)
from ..models.ensemble import Ensemble
from ..models.sequential import Sequential
from ..training.callbacks import Callback
from ..training.history import History
from ..training.optimizers import SGD, Adam, AdamW
from ..utils.model_selection import balanced_indices, member_seed, seed_ensemble

PREPROCESSING: dict[str, Any] = {**DEFAULT_PREPROCESSING, "flatten": False}  # photo -> (64, 64, 3) in [0, 1]

DENSE_RECIPE: dict[str, Any] = {
    "name": "s20-pool2-center-128-32-x5",
    "hidden": [128, 32],         # ReLU layers, then one sigmoid output
    "flip": True,                # RandomFlip: a left-right mirror with probability 1/2 (training only)
    "max_shift": 20,             # RandomShift: up to this many pixels each way, reflected border (training only)
    "normalize": "center",       # "center" (minus the mean per channel), "standardize" (and / std), "raw"
    "pool": 2,                   # AvgPool2D of this size before flattening (1: none)
    "balance": True,             # cats repeated until there are as many as non-cats
    "dropout": 0.0,
    "init": "lecun_normal",
    "optimizer": "adam",         # "sgd", "adam" or "adamw"
    "lr": 1e-3,
    "weight_decay": 0.0,
    "batch_size": 32,
    "epochs": 160,
    "members": 5,                # networks averaged by nn.Ensemble (seeds 100 * seed + k)
    "dtype": "float32",
}


def scale(images: np.ndarray, dtype: Any = "float32") -> np.ndarray:
    """uint8 images ``(N, 64, 64, 3)`` -> ``dtype`` in [0, 1], still images (the saved model's input)."""
    return preprocess_images(images, PREPROCESSING, dtype)


def build_dense(recipe: dict[str, Any], seed: int, x: np.ndarray) -> Sequential:
    """The dense network of ``recipe`` for images ``x`` ``(N, 64, 64, 3)`` in [0, 1], compiled.

    Augmentation layers first (identity at inference), then ``Normalization`` with the statistics of
    ``x``, optional average pooling, ``Flatten`` and the Dense layers.
    """
    layers: list[Module] = []
    if recipe["flip"]:
        layers.append(RandomFlip("horizontal"))
    if recipe["max_shift"]:
        layers.append(RandomShift(recipe["max_shift"], fill_mode="reflect"))
    if recipe["normalize"] != "raw":
        layers.append(Normalization(scale=recipe["normalize"] == "standardize").adapt(x))
    if recipe["pool"] > 1:
        layers.append(AvgPool2D(recipe["pool"]))
    layers.append(Flatten())
    for units in recipe["hidden"]:
        layers.append(Dense(units, activation="relu", kernel_initializer=recipe["init"]))
        if recipe["dropout"]:
            layers.append(Dropout(recipe["dropout"]))
    layers.append(Dense(1, activation="sigmoid", kernel_initializer=recipe["init"]))
    model = Sequential(layers, seed=seed, dtype=recipe["dtype"])
    optimizer = {"sgd": SGD, "adam": Adam, "adamw": AdamW}[recipe["optimizer"]]
    model.compile(loss="binary_crossentropy", optimizer=optimizer(lr=recipe["lr"], weight_decay=recipe["weight_decay"]),
                  metrics=["accuracy"])
    return model


def train_dense(images: np.ndarray, labels: np.ndarray, *, recipe: dict[str, Any] = DENSE_RECIPE, seed: int = 0,
                epochs: int | None = None, callbacks: Callable[[int], Sequence[Callback]] | None = None,
                checkpoint_dir: str | os.PathLike | None = None,
                resume: bool = False) -> tuple[Ensemble, list[History]]:
    """Train ``recipe["members"]`` networks on uint8 images ``(N, 64, 64, 3)`` and 0/1 labels ``(N,)``; average them.

    With ``recipe["balance"]`` the cats are repeated until they are as many as the non-cats (drawn with
    ``default_rng(seed)``). Member k has seed ``100 * seed + k`` and callbacks ``callbacks(k)``;
    ``checkpoint_dir``/``resume`` as in ``seed_ensemble``.
    """
    rng = np.random.default_rng(seed)
    idx = balanced_indices(labels, rng) if recipe["balance"] else np.arange(len(labels))
    x = scale(images[idx], recipe["dtype"])
    y = np.asarray(labels)[idx].reshape(-1, 1).astype(recipe["dtype"])
    return seed_ensemble(lambda s: build_dense(recipe, s, x), x, y,
                         seeds=[member_seed(seed, k) for k in range(recipe["members"])], callbacks=callbacks,
                         checkpoint_dir=checkpoint_dir, resume=resume,
                         epochs=recipe["epochs"] if epochs is None else epochs, batch_size=recipe["batch_size"],
                         verbose=0)


def train_size(labels: np.ndarray, recipe: dict[str, Any] = DENSE_RECIPE) -> int:
    """How many (repeated) images ``train_dense`` trains on."""
    counts = np.bincount(np.asarray(labels).reshape(-1))
    return int(counts.max() * len(counts)) if recipe["balance"] else int(counts.sum())


def describe_dense(recipe: dict[str, Any] = DENSE_RECIPE, epochs: int | None = None) -> str:
    """One line: the dense recipe's layers and training."""
    epochs = recipe["epochs"] if epochs is None else epochs
    aug = [a for a, on in (("flip", recipe["flip"]), (f"shift {recipe['max_shift']}", recipe["max_shift"])) if on]
    pool = f"avgpool{recipe['pool']}-" if recipe["pool"] > 1 else ""
    return (f"{recipe['name']}: {recipe['members']} x [{', '.join(aug) or 'no augmentation'}] "
            f"{recipe['normalize']}-{pool}flatten-{'-'.join(map(str, recipe['hidden']))}-1 (ReLU, sigmoid), "
            f"{recipe['optimizer']} lr {recipe['lr']:g}, batch {recipe['batch_size']}, {epochs} epochs"
            f"{', classes balanced' if recipe['balance'] else ''}, {recipe['dtype']}")
