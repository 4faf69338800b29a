#!/usr/bin/env python
"""Train the cat / non-cat classifier (deeplearning.ai's 209 training and 50 test photos, 64x64 RGB).

Modes:

* default: ``RECIPE``, the dense recipe chosen by cross-validation on the 209 training images (see
  ``--select``): five networks of [RandomFlip, RandomShift(20), Normalization, AvgPool2D(2), Flatten,
  Dense 128-32 ReLU, Dense 1 sigmoid], each trained for 160 epochs on all training images with the cats
  repeated to balance the classes, averaged by ``nn.Ensemble``; then tested once on the 50 test images. Saves
  ``cat_model.npz`` (class names and preprocessing included) for ``predict_image.py``.
* ``--reference``: the course's L-layer network 12288-20-7-5-1 ([Linear-ReLU] x 3, Linear-sigmoid),
  binary cross-entropy, weights ``randn(out, in) / sqrt(in)`` from ``np.random.seed(1)``, zero biases,
  float64, full-batch gradient descent with learning rate 0.0075 for 2500 iterations. It prints the
  course's "Cost after iteration i" lines, digit for digit. ``--layers 12288,7,1`` gives the course's
  2-layer model (weights ``randn(out, in) * 0.01``); any ``12288,...,1`` list works.
* ``--model cnn``: the 5-fold ensemble of small convolutional networks of ``examples/cat_cnn.py``.
* ``--select``: the cross-validation that chose ``RECIPE``: every candidate of ``CANDIDATES`` is trained
  on 4/5 of the training images and scores the other 1/5 (stratified 5-fold, two fold assignments), at
  a few epoch counts; ranked by out-of-fold balanced accuracy (the mean of cat and non-cat recall). The
  test images are not used. ``--candidates`` runs some of them.

Results (seed 0, docs/cat-classifier.md has the selection in full): default, test accuracy 0.80 in 48 s
of training (validation balanced accuracy 0.760); ``--reference`` 0.80, the published figure;
``--model cnn`` 0.86 (validation 0.93).

    python examples/train_cat.py                           # default recipe, writes cat_model.npz
    python examples/train_cat.py --reference               # the course's numbers
    python examples/train_cat.py --reference --layers 12288,7,1
    python examples/train_cat.py --model cnn --save cnn_model.npz
    python examples/train_cat.py --select                  # the validation comparison (hours; see --candidates)
    python examples/predict_image.py my_cat.jpg --model cat_model.npz

Data: ``load_cat`` finds the files in ``--data-dir``, else ``$NNSCRATCH_DATA``, the checkout's
``datasets/`` or ``~/.cache/nnscratch`` (get them with ``python -m nnscratch.datasets fetch cat``).
``--no-verify`` skips the SHA-256 comparison with the original files (the content is still checked):
for your own or synthetic files of the same layout (the tests use it).

Exit status: 0 on success; 2 with one line on stderr for a user error (bad argument, missing or
corrupt data, unwritable output); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

import nnscratch as nn
from nnscratch.training import checkpoint
from nnscratch.datasets import MissingFileError, load_cat
from nnscratch.core.errors import InvalidValueError
from nnscratch.io.atomic import atomic_write, write_json
from nnscratch.data.classify import DEFAULT_PREPROCESSING, input_shape_for, preprocess_images, save_classifier

try:
    from _cli import run
    from cat_cnn import describe, train_cnn
    from cat_validation import balanced_indices, scores, stratified_folds
except ImportError:  # imported as examples.train_cat
    from examples._cli import run
    from examples.cat_cnn import describe, train_cnn
    from examples.cat_validation import balanced_indices, scores, stratified_folds

INPUTS = input_shape_for(DEFAULT_PREPROCESSING)[0]  # 12288 = 64 * 64 * 3
DEFAULT_SAVE = "cat_model.npz"

# ----------------------------------------------------------------------------- the course's networks
REFERENCE_LAYERS = (INPUTS, 20, 7, 5, 1)
REFERENCE_LR = 0.0075
REFERENCE_ITERATIONS = 2500
REFERENCE_SEED = 1


def parse_layers(text: str) -> list[int]:
    """``"12288,20,7,5,1"`` -> ``[12288, 20, 7, 5, 1]``: input size first, one sigmoid output last."""
    try:
        dims = [int(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        raise InvalidValueError(f"--layers must be comma-separated integers like 12288,20,7,5,1, got {text!r}") from None
    if len(dims) < 2 or dims[0] != INPUTS or dims[-1] != 1 or min(dims) < 1:
        raise InvalidValueError(f"--layers must start with {INPUTS} (64*64*3 inputs), end with 1 (the sigmoid output) "
                                f"and have positive sizes, got {text!r}")
    return dims


def reference_model(layer_dims: Sequence[int], seed: int = REFERENCE_SEED) -> nn.Sequential:
    """The course's network for ``layer_dims``: Linear-ReLU layers, then Linear-sigmoid, float64.

    Weights as the course draws them from ``np.random.seed(seed)``: ``randn(out, in) * 0.01`` for the
    2-layer model (``len(layer_dims) == 3``), ``randn(out, in) / sqrt(in)`` otherwise; biases zero. A
    ``RandomState(seed)`` passed as the model seed yields the same stream as the global generator, and
    the layers draw their weights in order when the model is built.
    """
    init = nn.initializers.ScaledNormal(0.01) if len(layer_dims) == 3 else nn.initializers.lecun_normal
    layers = [nn.Dense(units, activation="relu", kernel_initializer=init) for units in layer_dims[1:-1]]
    layers.append(nn.Dense(1, activation="sigmoid", kernel_initializer=init))
    return nn.Sequential(layers, seed=np.random.RandomState(seed), dtype="float64")


# ----------------------------------------------------------------------------- the default recipe
BASE: dict[str, Any] = {
    "name": "s4-center",
    "hidden": [20, 7, 5],        # ReLU layers, then one sigmoid output
    "flip": True,                # RandomFlip: a left-right mirror with probability 1/2 (training only)
    "max_shift": 4,              # RandomShift: up to this many pixels each way, reflected border (training only)
    "normalize": "center",       # Normalization: "center" (minus the mean per channel), "standardize" (and / std), "raw"
    "pool": 1,                   # AvgPool2D of this size before flattening (1: none)
    "balance": True,             # cats repeated until there are as many as non-cats (cat_validation.balanced_indices)
    "dropout": 0.0,
    "init": "lecun_normal",
    "optimizer": "adam",
    "lr": 1e-3,
    "weight_decay": 0.0,
    "batch_size": 32,
    "epochs": [20, 40, 80, 160],  # scored at each of these epoch counts by --select
    "members": 1,                # networks averaged by nn.Ensemble (seeds 100 * seed + k)
    "dtype": "float32",
}

# Candidates compared by --select (differences from BASE in the name; "x5": an ensemble of 5 networks).
CANDIDATES: list[dict[str, Any]] = [
    BASE,
    {**BASE, "name": "s4-raw", "normalize": "raw"},
    {**BASE, "name": "s4-center-unbalanced", "balance": False},
    {**BASE, "name": "s2-center", "max_shift": 2},
    {**BASE, "name": "s8-center", "max_shift": 8},
    {**BASE, "name": "s4-center-64-drop0.5", "hidden": [64], "dropout": 0.5},
    {**BASE, "name": "s4-center-wd1e-3", "weight_decay": 1e-3},
    {**BASE, "name": "s4-center-x5", "members": 5, "epochs": [20, 40, 80]},
    {**BASE, "name": "s8-center-x5", "max_shift": 8, "members": 5, "epochs": [20, 40, 80]},
    {**BASE, "name": "s4-pool2-center-x5", "pool": 2, "members": 5, "epochs": [20, 40, 80]},
    {**BASE, "name": "s8-pool2-center-x5", "max_shift": 8, "pool": 2, "members": 5, "epochs": [20, 40, 80]},
    # round 3 (see docs/cat-classifier.md): around round 2's winner, s8-pool2-center-x5
    {**BASE, "name": "s12-pool2-center-x5", "max_shift": 12, "pool": 2, "members": 5, "epochs": [40, 80, 160, 240, 320]},
    {**BASE, "name": "s8-pool4-center-x5", "max_shift": 8, "pool": 4, "members": 5, "epochs": [40, 80, 160]},
    {**BASE, "name": "s8-pool2-standardize-x5", "max_shift": 8, "pool": 2, "normalize": "standardize", "members": 5,
     "epochs": [40, 80, 160]},
    {**BASE, "name": "s8-pool2-center-64-drop0.5-x5", "max_shift": 8, "pool": 2, "hidden": [64], "dropout": 0.5,
     "members": 5, "epochs": [40, 80, 160]},
    # round 4: round 3's winner sat at the edge of the grid (the largest shift, the most epochs): extend it
    # (s12-pool2-center-x5 above is also scored at 240 and 320 epochs)
    {**BASE, "name": "s16-pool2-center-x5", "max_shift": 16, "pool": 2, "members": 5, "epochs": [160, 240, 320]},
    {**BASE, "name": "s20-pool2-center-x5", "max_shift": 20, "pool": 2, "members": 5, "epochs": [160, 240, 320]},
    {**BASE, "name": "s16-pool4-center-x5", "max_shift": 16, "pool": 4, "members": 5, "epochs": [160, 240, 320]},
    # round 5: round 4's winner fits only ~88% of its (shifted) training images: more units
    {**BASE, "name": "s20-pool2-center-128-32-x5", "max_shift": 20, "pool": 2, "hidden": [128, 32], "members": 5,
     "epochs": [80, 160, 240]},
    {**BASE, "name": "s20-pool2-center-256-x5", "max_shift": 20, "pool": 2, "hidden": [256], "members": 5,
     "epochs": [80, 160, 240]},
]

# The default recipe: the best (candidate, epochs) of --select by out-of-fold balanced accuracy.
RECIPE: dict[str, Any] = {**next(c for c in CANDIDATES if c["name"] == "s20-pool2-center-128-32-x5"), "epochs": 160}


def scale(images: np.ndarray, dtype: Any = "float32") -> np.ndarray:
    """uint8 images ``(N, 64, 64, 3)`` -> ``dtype`` in [0, 1], still images (the dense default's input)."""
    return preprocess_images(images, {**DEFAULT_PREPROCESSING, "flatten": False}, dtype)


def build_model(recipe: dict[str, Any], seed: int, x: np.ndarray) -> nn.Sequential:
    """The dense network of ``recipe`` for images ``x`` ``(N, 64, 64, 3)`` in [0, 1], compiled.

    Augmentation layers first (identity at inference), then ``Normalization`` with the statistics of
    ``x``, optional average pooling, ``Flatten`` and the Dense layers. Its input is a scaled image, so a
    saved model needs nothing but ``x / 255`` from a photo.
    """
    layers: list[nn.Module] = []
    if recipe["flip"]:
        layers.append(nn.RandomFlip("horizontal"))
    if recipe["max_shift"]:
        layers.append(nn.RandomShift(recipe["max_shift"], fill_mode="reflect"))
    if recipe["normalize"] != "raw":
        layers.append(nn.Normalization(scale=recipe["normalize"] == "standardize").adapt(x))
    if recipe["pool"] > 1:
        layers.append(nn.AvgPool2D(recipe["pool"]))
    layers.append(nn.Flatten())
    for units in recipe["hidden"]:
        layers.append(nn.Dense(units, activation="relu", kernel_initializer=recipe["init"]))
        if recipe["dropout"]:
            layers.append(nn.Dropout(recipe["dropout"]))
    layers.append(nn.Dense(1, activation="sigmoid", kernel_initializer=recipe["init"]))
    model = nn.Sequential(layers, seed=seed, dtype=recipe["dtype"])
    lr, wd = recipe["lr"], recipe["weight_decay"]
    optimizer = {"sgd": nn.SGD, "adam": nn.Adam, "adamw": nn.AdamW}[recipe["optimizer"]](lr=lr, weight_decay=wd)
    return model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])


def train_members(images: np.ndarray, labels: np.ndarray, recipe: dict[str, Any], seed: int, epochs: int,
                  callbacks: Callable[[int], list[nn.Callback]] = lambda k: [],
                  checkpoint_dir: str | None = None, resume: bool = False) -> tuple[nn.Ensemble, list[nn.History]]:
    """Train ``recipe["members"]`` networks on uint8 images ``(N, 64, 64, 3)`` and 0/1 labels; average them.

    With ``recipe["balance"]`` the cats are repeated until they are as many as the non-cats. Member k
    has seed ``100 * seed + k`` and the callbacks ``callbacks(k)``; with ``checkpoint_dir`` it saves
    resumable checkpoints in ``checkpoint_dir/member-k`` (``resume``: members with a checkpoint continue
    from it, the others start). A Ctrl-C stops after the current batch and raises ``KeyboardInterrupt``.
    """
    rng = np.random.default_rng(seed)
    idx = balanced_indices(labels, rng) if recipe["balance"] else np.arange(len(labels))
    x, y = scale(images[idx], recipe["dtype"]), np.asarray(labels)[idx].reshape(-1, 1).astype(recipe["dtype"])
    members, histories = [], []
    for k in range(recipe["members"]):
        model = build_model(recipe, 100 * seed + k, x)
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / f"member-{k}"
        # member 0 must have a checkpoint to resume from (a mistyped folder is an error); later ones may not
        # have started when the run was stopped
        resume_k = resume and (k == 0 or checkpoint.latest_checkpoint(folder) is not None)
        history = checkpoint.fit_with_checkpoints(
            model, x, y, checkpoint_dir=folder, resume=resume_k,
            epochs=epochs, batch_size=recipe["batch_size"], verbose=0, callbacks=callbacks(k))
        if history.interrupted:  # fit already said where it stopped and what the checkpoint holds
            raise KeyboardInterrupt
        members.append(model)
        histories.append(history)
    return nn.Ensemble(members), histories


# ----------------------------------------------------------------------------- selection
class ValidationProbabilities(nn.Callback):
    """Cat probabilities of validation images ``x`` at the end of the given epochs (1-based): ``self.at[epoch]``."""

    def __init__(self, x: np.ndarray, epochs: Sequence[int]) -> None:
        self.x, self.epochs = x, set(epochs)
        self.at: dict[int, np.ndarray] = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch + 1 in self.epochs:
            self.at[epoch + 1] = self.model.predict_proba(self.x).reshape(-1)


def cross_validate(images: np.ndarray, labels: np.ndarray, candidates: Sequence[dict[str, Any]], folds: int = 5,
                   repeats: int = 2, seed: int = 0, log: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Out-of-fold scores of every (candidate, epoch count), averaged over ``repeats`` fold assignments.

    For each assignment, fold k's images are scored by the candidate's members trained on the other
    folds (the mean of their probabilities); the scores are those of all images together.
    """
    log = log or (lambda line: print(line, flush=True))
    labels = np.asarray(labels).reshape(-1)
    rows = []
    for cand in candidates:
        epochs = sorted(cand["epochs"]) if isinstance(cand["epochs"], list) else [cand["epochs"]]
        per_epoch: dict[int, list[dict[str, float]]] = {e: [] for e in epochs}
        start = time.perf_counter()
        for rep in range(repeats):
            assign = stratified_folds(labels, folds, seed + rep)
            oof = {e: np.zeros(len(labels)) for e in epochs}
            for k in range(folds):
                train, val = assign != k, assign == k
                x_val = scale(images[val], cand["dtype"])
                probes = [ValidationProbabilities(x_val, epochs) for _ in range(cand["members"])]
                train_members(images[train], labels[train], cand, seed=1000 * (seed + rep) + k, epochs=epochs[-1],
                              callbacks=lambda m: [probes[m]])
                for e in epochs:
                    oof[e][val] = np.mean([p.at[e] for p in probes], axis=0)
            for e in epochs:
                per_epoch[e].append(scores(labels, oof[e]))
        seconds = (time.perf_counter() - start) / (repeats * folds)
        for e in epochs:
            row = {"candidate": cand["name"], "epochs": e, "members": cand["members"],
                   **{f"val_{k}": float(np.mean([s[k] for s in per_epoch[e]])) for k in ("accuracy", "balanced_accuracy", "auc")},
                   "seconds_per_fold": seconds}
            rows.append(row)
            log(f"{row['candidate']:<24} {e:>6} {row['val_accuracy']:>8.3f} {row['val_balanced_accuracy']:>8.3f} "
                f"{row['val_auc']:>7.3f} {seconds:>8.1f}")
    return rows


def select(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    print(f"cross-validation on the {len(data.y_train)} training images ({args.folds} stratified folds x "
          f"{args.repeats} repeats); the test images are not used")
    print(f"{'candidate':<24} {'epochs':>6} {'accuracy':>8} {'balanced':>8} {'AUC':>7} {'s/fold':>8}")
    seed = 0 if args.seed is None else args.seed
    names = [c["name"] for c in CANDIDATES]
    wanted = names if args.candidates is None else [n.strip() for n in args.candidates.split(",")]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise InvalidValueError(f"--candidates: unknown candidate {unknown[0]!r}; the candidates are {', '.join(names)}")
    chosen = [c for c in CANDIDATES if c["name"] in wanted]
    rows = cross_validate(data.x_train, data.y_train, chosen, args.folds, args.repeats, seed)
    best = max(rows, key=lambda r: (round(r["val_balanced_accuracy"], 6), r["val_auc"]))
    print(f"best by balanced accuracy: {best['candidate']} for {best['epochs']} epochs (balanced "
          f"{best['val_balanced_accuracy']:.3f}, AUC {best['val_auc']:.3f}); the default recipe is "
          f"{RECIPE['name']} for {RECIPE['epochs']} epochs")
    return {"mode": "select", "folds": args.folds, "repeats": args.repeats, "seed": seed, "rows": rows,
            "best": best, "recipe": RECIPE}


# ----------------------------------------------------------------------------- training and reporting
class CostPrinter(nn.Callback):
    """Print ``fmt`` every ``every`` epochs and at the last epoch (the course prints every 100 iterations)."""

    def __init__(self, every: int, fmt: str, epochs: int) -> None:
        self.every, self.fmt, self.epochs = every, fmt, epochs
        self.printed: list[tuple[int, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0 or epoch == self.epochs - 1:
            print(self.fmt.format(i=epoch, n=epoch + 1, epochs=self.epochs, **logs), flush=True)
            self.printed.append((epoch, logs["loss"]))


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(histories: Sequence[nn.History], path: Path, title: str, xlabel: str) -> Path:
    """Cost and training accuracy per iteration/epoch as a PNG, one line per trained network."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for i, history in enumerate(histories):
        label = f"member {i + 1}" if len(histories) > 1 else None
        axes[0].plot(list(history.epoch), history["loss"], label=label)
        axes[1].plot(list(history.epoch), history["accuracy"], label=label)
    axes[0].set_ylabel("cost (binary cross-entropy)")
    axes[1].set_ylabel("training accuracy")
    if len(histories) > 1:
        axes[0].legend(fontsize="small")
    for ax in axes:
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    plt.close(fig)
    return path


def train(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    """Train in the mode the arguments ask for, print the curve and accuracies; return the results."""
    if args.model == "cnn":
        return train_convolutional(args, data)
    return train_reference(args, data) if args.reference else train_default(args, data)


def train_reference(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    """``--reference``: the course's network, printing its "Cost after iteration i" lines."""
    dims = parse_layers(args.layers) if args.layers else list(REFERENCE_LAYERS)
    seed = REFERENCE_SEED if args.seed is None else args.seed
    iterations = REFERENCE_ITERATIONS if args.epochs is None else args.epochs
    model = reference_model(dims, seed).compile(loss="binary_crossentropy", optimizer=nn.SGD(lr=REFERENCE_LR),
                                                metrics=["accuracy"])
    print(f"reference: {'-'.join(map(str, dims))} network, full-batch gradient descent, lr {REFERENCE_LR}, "
          f"{iterations} iterations, seed {seed}, float64")
    printer = CostPrinter(100, "Cost after iteration {i}: {loss:f}", iterations)
    start = time.perf_counter()
    x = preprocess_images(data.x_train, DEFAULT_PREPROCESSING, "float64")
    history = checkpoint.fit_with_checkpoints(model, x, data.y_train, checkpoint_dir=args.checkpoint_dir,
                                              resume=args.resume, epochs=iterations, batch_size=None, verbose=0,
                                              callbacks=[printer])
    if history.interrupted:  # Ctrl-C: fit already said where it stopped and what the checkpoint holds
        raise KeyboardInterrupt
    settings = {"mode": "reference", "seed": seed, "dtype": "float64", "layers": dims, "lr": REFERENCE_LR,
                "optimizer": "sgd", "batch_size": None, "train_samples": len(x),
                "costs": {str(i): c for i, c in printer.printed}}
    return finish(args, data, model, [history], time.perf_counter() - start, DEFAULT_PREPROCESSING, settings)


def train_default(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    """The default: ``RECIPE``'s ensemble of dense networks, trained on all training images."""
    recipe = RECIPE
    seed = 0 if args.seed is None else args.seed
    epochs = recipe["epochs"] if args.epochs is None else args.epochs
    members = recipe["members"]
    print(f"default: {describe_recipe(recipe, epochs)}, seed {seed}")
    printers = [CostPrinter(max(1, epochs // 4), f"member {k + 1}/{members} "
                            "epoch {n:>4}/{epochs}: cost {loss:.6f}, train accuracy {accuracy:.4f}", epochs)
                for k in range(members)]
    start = time.perf_counter()
    model, histories = train_members(data.x_train, data.y_train, recipe, seed, epochs, callbacks=lambda k: [printers[k]],
                                     checkpoint_dir=args.checkpoint_dir, resume=args.resume)
    settings = {"mode": "default", "seed": seed, **{k: v for k, v in recipe.items() if k != "epochs"},
                "epochs": epochs, "train_samples": _balanced_size(data.y_train, recipe)}
    return finish(args, data, model, histories, time.perf_counter() - start,
                  {**DEFAULT_PREPROCESSING, "flatten": False}, settings)


def describe_recipe(recipe: dict[str, Any], epochs: int) -> str:
    """One line: the dense recipe's layers and training."""
    aug = [a for a, on in (("flip", recipe["flip"]), (f"shift {recipe['max_shift']}", recipe["max_shift"])) if on]
    pool = f"avgpool{recipe['pool']}-" if recipe["pool"] > 1 else ""
    return (f"{recipe['name']}: {recipe['members']} x [{', '.join(aug) or 'no augmentation'}] "
            f"{recipe['normalize']}-{pool}flatten-{'-'.join(map(str, recipe['hidden']))}-1 (ReLU, sigmoid), "
            f"{recipe['optimizer']} lr {recipe['lr']:g}, batch {recipe['batch_size']}, {epochs} epochs"
            f"{', classes balanced' if recipe['balance'] else ''}, {recipe['dtype']}")


def _balanced_size(labels: np.ndarray, recipe: dict[str, Any]) -> int:
    counts = np.bincount(np.asarray(labels).reshape(-1))
    return int(counts.max() * len(counts)) if recipe["balance"] else int(counts.sum())


def finish(args: argparse.Namespace, data: Any, model: nn.Model, histories: Sequence[nn.History], train_seconds: float,
           preprocessing: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Score ``model`` on the training and test images, print, save (``--save``; the default mode always) and plot."""
    x_train = preprocess_images(data.x_train, preprocessing, model.dtype)
    x_test = preprocess_images(data.x_test, preprocessing, model.dtype)
    train_accuracy = float(np.mean(model.predict_classes(x_train) == data.y_train))
    test_accuracy = float(np.mean(model.predict_classes(x_test) == data.y_test))
    print(f"train accuracy: {train_accuracy:.4f} ({len(x_train)} images)")
    print(f"test accuracy: {test_accuracy:.4f} ({len(x_test)} images)")
    print(f"trained in {train_seconds:.1f} s")
    result: dict[str, Any] = {
        "train_accuracy": train_accuracy, "test_accuracy": test_accuracy,
        "initial_cost": float(np.mean([h["loss"][0] for h in histories])),
        "final_cost": float(np.mean([h["loss"][-1] for h in histories])),
        "train_seconds": train_seconds, "iterations": sum(len(h["loss"]) for h in histories),
        **settings, "classes": list(data.classes), "test_samples": len(x_test),
    }
    save = args.save or (DEFAULT_SAVE if settings["mode"] == "default" and not args.no_save else None)
    if save:
        result["saved"] = str(save_classifier(model, save, data.classes, preprocessing))
        print(f"model saved to {result['saved']} (try: python examples/predict_image.py PHOTO --model {result['saved']})")
    if args.plot and _pyplot() is not None:
        xlabel = "iteration" if settings["mode"] == "reference" else "epoch"
        result["plot"] = str(plot_curves(histories, Path(args.plot), f"cat classifier, {settings['mode']}", xlabel))
        print(f"learning curves written to {result['plot']}")
    return result


def train_convolutional(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    """``--model cnn``: the 5-fold ensemble of augmented CNNs of ``examples/cat_cnn.py``."""
    seed = 0 if args.seed is None else args.seed
    print(f"cnn: {describe()}, seed {seed}")
    model, histories, info = train_cnn(data.x_train, data.y_train, seed=seed, epochs=args.epochs, verbose=1)
    print(f"validation (out-of-fold, all {len(data.y_train)} training images): accuracy {info['val_accuracy']:.4f}, "
          f"balanced {info['val_balanced_accuracy']:.4f}, AUC {info['val_auc']:.4f}; members' best epochs "
          f"{info['best_epochs']}")
    settings = {"mode": "cnn", "seed": seed, "train_samples": len(data.y_train),
                **{k: info[k] for k in ("val_accuracy", "val_balanced_accuracy", "val_auc", "member_val_accuracy",
                                        "best_epochs", "architecture")}}
    result = finish(args, data, model, histories, info["train_seconds"], {**DEFAULT_PREPROCESSING, "flatten": False},
                    settings)
    result["final_cost"] = info["final_cost"]  # the members' training loss at their restored (best) epochs
    return result


# ----------------------------------------------------------------------------- command line
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, status 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="train_cat.py", description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--reference", action="store_true", help="the course's L-layer network and its published figures")
    mode.add_argument("--select", action="store_true", help="cross-validate the candidate recipes (no test images)")
    p.add_argument("--layers", metavar="DIMS", help="with --reference: layer sizes, default 12288,20,7,5,1 "
                                                    "(12288,7,1 is the course's 2-layer model)")
    p.add_argument("--epochs", "--iterations", dest="epochs", type=int, metavar="N",
                   help=f"epochs (= iterations with --reference; default {RECIPE['epochs']}, "
                        f"with --reference {REFERENCE_ITERATIONS})")
    p.add_argument("--seed", type=int, help=f"seed (default 0; with --reference {REFERENCE_SEED}, the course's)")
    p.add_argument("--folds", type=int, default=5, help="with --select: folds (default %(default)s)")
    p.add_argument("--repeats", type=int, default=2, help="with --select: repeats (default %(default)s)")
    p.add_argument("--candidates", metavar="NAMES", help="with --select: only these candidates (comma-separated)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with train_catvnoncat.h5 and test_catvnoncat.h5")
    p.add_argument("--no-verify", action="store_true",
                   help="do not compare the files' SHA-256 with the originals (for your own or synthetic files)")
    p.add_argument("--save", metavar="PATH", help=f"save the model here (default mode: {DEFAULT_SAVE})")
    p.add_argument("--no-save", action="store_true", help="do not save the model")
    p.add_argument("--plot", metavar="PATH", help="write the learning curves as a PNG (needs matplotlib)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--model", choices=["dense", "cnn"], default="dense",
                   help="dense (default) or cnn: the augmented convolutional model of examples/cat_cnn.py")
    checkpoint.add_arguments(p)
    return p


def check_args(args: argparse.Namespace) -> None:
    if args.model == "cnn" and (args.reference or args.select or args.layers or args.checkpoint_dir):
        raise InvalidValueError("--model cnn has its own recipe: --reference, --select, --layers and "
                                "--checkpoint-dir apply to the dense models")
    if args.layers and not args.reference:
        raise InvalidValueError("--layers needs --reference (the default recipe has fixed layers)")
    if args.epochs is not None and args.epochs < 1:
        raise InvalidValueError(f"--epochs/--iterations must be >= 1, got {args.epochs}")
    if args.candidates is not None and not args.select:
        raise InvalidValueError("--candidates needs --select")
    if args.select and (args.epochs is not None or args.save or args.plot):
        raise InvalidValueError("--select only compares candidates: --epochs, --save and --plot do not apply")
    if args.seed is not None and args.seed < 0:
        raise InvalidValueError(f"--seed must be >= 0, got {args.seed}")
    if args.folds < 2 or args.repeats < 1:
        raise InvalidValueError(f"--folds must be >= 2 and --repeats >= 1, got {args.folds} and {args.repeats}")
    if args.save and args.no_save:
        raise InvalidValueError("--save and --no-save contradict each other")
    if args.layers:
        parse_layers(args.layers)


def main(args: argparse.Namespace) -> None:
    check_args(args)
    if args.plot and _pyplot() is None:
        print('train_cat.py: --plot needs matplotlib: pip install matplotlib (or pip install "nnscratch[plot]"); '
              "training without the plot", file=sys.stderr)
    try:
        data = load_cat(args.data_dir, verify=not args.no_verify)
    except MissingFileError as exc:
        raise MissingFileError(f"{exc}, or pass --data-dir DIR") from None
    result = select(args, data) if args.select else train(args, data)
    if args.json:
        write_json(args.json, result)
        print(f"results written to {args.json}")


if __name__ == "__main__":
    run(main, make_parser())
