"""The convolutional cat / non-cat classifier (``train_cat.py --model cnn``): recipe, model and training.

The 64x64 RGB photos stay images (NHWC, pixels / 255, float32, no flattening). The network starts with
two augmentation layers that act only in training (``RandomFlip``: left-right mirror with probability
1/2; ``RandomShift``: up to 4 pixels each way, reflected border), then small convolution blocks and a
sigmoid output. ``train_cnn`` holds out a stratified, seeded validation split of the training images and
trains with Adam and ``EarlyStopping(restore_best_weights=True)``, so the model returned is the one of
the best validation epoch.

Recipe selection (validation only: the test images were not used to choose anything). Each candidate
was trained with seed 0 on the same stratified split of the 209 training images (168 trained on, 41
held out: 14 cats, 27 non-cats), Adam, batch 32, early stopping on ``val_loss`` with the best weights
restored; differences from ``BASE`` (lr 1e-3, at most 60 epochs, patience 10, flip + shift 4, no
BatchNorm) in the name. The table gives validation accuracy and loss at the restored (best) epoch,
that epoch / the epochs run, and the training time on a shared 2-core machine with one BLAS thread
(the times marked * ran next to another training run, so they are inflated up to 2x):

    ==============================================  ========  ========  =========  =======
    candidate                                       val acc   val loss  best/run   seconds
    ==============================================  ========  ========  =========  =======
    c16-c32-c64-gap                                 0.854     0.211     59/60         49
    c16-c32-c64-flatten-drop0.5                     0.854     0.291     19/30         32
    c16-c32-c64-bn-gap  (BatchNorm before ReLU)     0.927     0.264     19/30         80*
    c16-c32-c64-gap-noaug (no flip, no shift)       0.878     0.257     38/49         98*
    c16-c32-c64-gap-100ep (100 epochs, patience 15) 0.878     0.208     61/77        174*
    c16-c32-c64-gap-lr3e-3                          0.878     0.237     41/52         61*
    ==============================================  ========  ========  =========  =======

The chosen recipe (``RECIPE``) is the candidate with the best validation accuracy, ``c16-c32-c64-bn-gap``
(38/41 validation images right). With 41 validation images one image is 2.4 points, so the ranking of
the others is within noise. Its test accuracy was measured once, after the choice:

    test accuracy 0.80 (40/50), validation 0.927 (38/41), accuracy on all 209 training images 0.914;
    best epoch 19 of 30, 27 s of training (seed 0, this machine, alone).

That is below the 0.84 aimed for; it is reported as measured, and the recipe was not changed after
seeing it (choosing again on the test images would make the 0.80 meaningless).
"""

from __future__ import annotations

import time
from typing import Any, Iterable

import numpy as np

import nnscratch as nn
from nnscratch.errors import InvalidValueError, ShapeError

IMAGE_SHAPE = (64, 64, 3)

# The starting point of the candidates (see the table above).
BASE: dict[str, Any] = {
    "name": "c16-c32-c64-gap",
    "conv": [16, 32, 64],        # filters of the 3x3 "same" ReLU convolutions, each followed by 2x2 max pooling
    "batchnorm": False,          # BatchNorm after each convolution (before ReLU)
    "head": "gap",               # "gap" (global average pooling) or "flatten"
    "dropout": 0.0,              # before the output layer
    "flip": True,
    "max_shift": 4,
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 32,
    "epochs": 60,                # at most; early stopping usually ends sooner
    "patience": 10,
    "monitor": "val_loss",
    "dtype": "float32",
}

# The candidates compared on validation (differences from BASE).
CANDIDATES: list[dict[str, Any]] = [
    {**BASE, "name": "c16-c32-c64-gap"},
    {**BASE, "name": "c16-c32-c64-flatten-drop0.5", "head": "flatten", "dropout": 0.5},
    {**BASE, "name": "c16-c32-c64-bn-gap", "batchnorm": True},
    {**BASE, "name": "c16-c32-c64-gap-noaug", "flip": False, "max_shift": 0},
    {**BASE, "name": "c16-c32-c64-gap-100ep", "epochs": 100, "patience": 15},
    {**BASE, "name": "c16-c32-c64-gap-lr3e-3", "lr": 3e-3},
]

# The chosen recipe: the best validation accuracy of the table; ``train_cnn`` uses it unless given another.
RECIPE: dict[str, Any] = next(c for c in CANDIDATES if c["name"] == "c16-c32-c64-bn-gap")


def scale(images: np.ndarray, dtype: Any = "float32") -> np.ndarray:
    """uint8 images ``(N, 64, 64, 3)`` -> ``dtype`` in [0, 1], still NHWC."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ShapeError(f"images must have shape (samples, height, width, channels), got {images.shape}")
    return images.astype(dtype) / np.asarray(255, dtype=dtype)


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_idx, val_idx)``, sorted and disjoint: each class contributes ``round(count * val_fraction)``
    (at least one) of its samples, chosen at random with ``seed``, to validation."""
    labels = np.asarray(labels).reshape(-1)
    if not 0.0 < val_fraction < 1.0:
        raise InvalidValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
    rng = np.random.default_rng(seed)
    val: list[np.ndarray] = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        k = min(max(1, int(round(len(idx) * val_fraction))), len(idx) - 1)
        if k < 1:
            raise InvalidValueError(f"class {label} has {len(idx)} sample(s): too few to hold some out for validation")
        val.append(rng.choice(idx, size=k, replace=False))
    val_idx = np.sort(np.concatenate(val))
    train_idx = np.setdiff1d(np.arange(len(labels)), val_idx)
    return train_idx, val_idx


def build_cnn(seed: int = 0, recipe: dict[str, Any] | None = None) -> nn.Sequential:
    """The network of ``recipe`` (default ``RECIPE``), compiled with binary cross-entropy and accuracy."""
    r = RECIPE if recipe is None else recipe
    layers: list[nn.Module] = []
    if r.get("flip"):
        layers.append(nn.RandomFlip("horizontal"))
    if r.get("max_shift"):
        layers.append(nn.RandomShift(r["max_shift"], fill_mode="reflect"))
    for filters in r["conv"]:
        if r.get("batchnorm"):
            layers += [nn.Conv2D(filters, 3, padding="same", use_bias=False), nn.BatchNorm(), nn.ReLU()]
        else:
            layers.append(nn.Conv2D(filters, 3, padding="same", activation="relu"))
        layers.append(nn.MaxPool2D(2))
    layers.append(nn.GlobalAvgPool2D() if r["head"] == "gap" else nn.Flatten())
    if r.get("dropout"):
        layers.append(nn.Dropout(r["dropout"]))
    layers.append(nn.Dense(1, activation="sigmoid"))
    model = nn.Sequential(layers, seed=seed, dtype=r["dtype"])
    optimizer = {"adam": nn.Adam, "adamw": nn.AdamW}[r["optimizer"]](lr=r["lr"])
    return model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])


def describe(recipe: dict[str, Any] | None = None) -> str:
    """One line: the architecture and training settings of ``recipe``."""
    r = RECIPE if recipe is None else recipe
    aug = [a for a, on in (("flip", r.get("flip")), (f"shift {r.get('max_shift')}", r.get("max_shift"))) if on]
    blocks = "-".join(f"conv{f}{'-bn' if r.get('batchnorm') else ''}-pool" for f in r["conv"])
    head = ("gap" if r["head"] == "gap" else "flatten") + (f"-dropout{r['dropout']:g}" if r.get("dropout") else "")
    return (f"{r['name']}: [{', '.join(aug) or 'no augmentation'}] {blocks}-{head}-dense1(sigmoid), "
            f"{r['optimizer']} lr {r['lr']:g}, batch {r['batch_size']}, up to {r['epochs']} epochs, "
            f"early stopping on {r['monitor']} (patience {r['patience']})")


def train_cnn(x_train: np.ndarray, y_train: np.ndarray, *, seed: int = 0, val_fraction: float = 0.2,
              epochs: int | None = None, patience: int | None = None, recipe: dict[str, Any] | None = None,
              verbose: int = 0, callbacks: Iterable[nn.Callback] = ()) -> tuple[nn.Sequential, nn.History, dict[str, Any]]:
    """Train the CNN of ``recipe`` (default ``RECIPE``) on uint8 images ``(N, 64, 64, 3)`` and 0/1 labels.

    A stratified ``val_fraction`` of the images (seeded by ``seed``) is held out; training runs for at most
    ``epochs`` epochs and stops after ``patience`` epochs without improvement of ``recipe["monitor"]``;
    the weights of the best validation epoch are restored. Returns ``(model, history, info)``; ``info``:

    * ``val_accuracy``, ``val_loss``: on the held-out images, with the restored weights;
    * ``train_accuracy``: on the images trained on (inference mode, no augmentation), restored weights;
    * ``best_epoch`` (1-based), ``epochs`` (epochs run), ``iterations`` (the same, as train_cat.py counts);
    * ``initial_cost`` (first epoch's training loss), ``final_cost`` (training loss of the best epoch, the
      weights returned), ``last_cost`` (training loss of the last epoch run);
    * ``train_seconds``; ``train_idx`` / ``val_idx`` (indices into ``x_train``), ``train_samples``,
      ``val_samples``; ``seed``; ``recipe`` (the settings used, JSON-able).
    """
    r = dict(RECIPE if recipe is None else recipe)
    if epochs is not None:
        r["epochs"] = epochs
    if patience is not None:
        r["patience"] = patience
    y = np.asarray(y_train).reshape(-1)
    if len(y) != len(x_train):
        raise ShapeError(f"y_train has {len(y)} labels for {len(x_train)} images")
    train_idx, val_idx = stratified_split(y, val_fraction, seed)
    x = scale(x_train, r["dtype"])
    if x.shape[1:] != IMAGE_SHAPE:
        raise ShapeError(f"x_train must have shape (samples, 64, 64, 3), got {x.shape}")
    xt, yt = x[train_idx], y[train_idx].reshape(-1, 1).astype(r["dtype"])
    xv, yv = x[val_idx], y[val_idx].reshape(-1, 1).astype(r["dtype"])

    model = build_cnn(seed, r)
    stopper = nn.EarlyStopping(monitor=r["monitor"], patience=r["patience"], restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(xt, yt, epochs=r["epochs"], batch_size=r["batch_size"], validation_data=(xv, yv),
                        callbacks=[stopper, *callbacks], verbose=verbose)
    train_seconds = time.perf_counter() - start

    losses = list(history["loss"])
    best = max(stopper.best_epoch, 0)
    best_pos = list(history.epoch).index(best) if best in list(history.epoch) else len(losses) - 1
    val = model.evaluate(xv, yv)
    info: dict[str, Any] = {
        "val_accuracy": float(val["accuracy"]), "val_loss": float(val["loss"]),
        "train_accuracy": float(model.evaluate(xt, yt)["accuracy"]),
        "best_epoch": best_pos + 1, "epochs": len(losses), "iterations": len(losses),
        "initial_cost": losses[0] if losses else None,
        "final_cost": losses[best_pos] if losses else None,
        "last_cost": losses[-1] if losses else None,
        "train_seconds": train_seconds,
        "train_idx": train_idx.tolist(), "val_idx": val_idx.tolist(),
        "train_samples": len(train_idx), "val_samples": len(val_idx),
        "seed": seed, "recipe": r, "architecture": describe(r),
    }
    return model, history, info
