"""Model selection on a small data set: stratified folds, cross-validation, seed ensembles.

    fold = stratified_folds(labels, k=5, seed=0)                       # (N,) fold of every sample
    cv = cross_validate(build, x, y, folds=5, seed=0, epochs=40, batch_size=32)
    cv.scores                       # {"accuracy", "balanced_accuracy", "auc"} of the out-of-fold predictions
    model = cv.ensemble()           # nn.Ensemble of the fold members (the mean of their probabilities)
    model, histories = seed_ensemble(build, x, y, seeds=[0, 1, 2], epochs=40, batch_size=32)

``build(seed)`` returns a compiled model; member ``k`` of a run with seed ``s`` gets ``member_seed(s, k)``
(``100 * s + k``), so a run is reproducible and its members differ. In ``cross_validate`` each sample
is held out from exactly one member, and that member's prediction for it (its *out-of-fold*
prediction) scores the recipe on all N samples, not on one small validation split.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError, ShapeError
from ..models.ensemble import Ensemble
from ..models.model import Model
from ..training import checkpoint
from ..training.callbacks import Callback
from ..training.history import History
from .scores import class_scores

Build = Callable[[int], Model]
CallbackFactory = Callable[[int], Sequence[Callback]]


def member_seed(seed: int, k: int) -> int:
    """The seed of member ``k`` of a run with ``seed``: ``100 * seed + k``."""
    return 100 * seed + k


def class_labels(y: np.ndarray) -> np.ndarray:
    """Integer class of every sample: ``y`` ``(N,)`` or ``(N, 1)`` as is, one-hot ``(N, C)`` by arg-max."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise ShapeError(f"labels must have shape (N,), (N, 1) or one-hot (N, classes), got {y.shape}")
    flat = y.reshape(-1)
    return flat.astype(np.int64) if flat.dtype.kind == "f" and np.all(flat == np.round(flat)) else flat


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold (0..k-1) of every sample ``(N,)``: each class is shuffled and dealt round-robin into the folds,
    so every fold has about the class proportions of the whole set."""
    if k < 2:
        raise InvalidValueError(f"stratified folds need k >= 2, got {k}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels).reshape(-1)
    folds = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        folds[idx] = np.arange(len(idx)) % k
    return folds


def balanced_indices(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices ``(C * n,)`` that repeat the samples of the smaller classes until each class has as many as
    the largest (``n``): each sample ``n // count`` times and a random ``n % count`` of them once more.
    A classifier trained on them does not lean towards the commoner class of the training set."""
    labels = np.asarray(labels).reshape(-1)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    n = max(len(g) for g in groups)
    parts = [np.concatenate([np.tile(g, n // len(g)), rng.choice(g, n % len(g), replace=False)]) for g in groups]
    return np.concatenate(parts)


@dataclass
class CrossValidation:
    """The result of ``cross_validate``: one trained member per fold and their out-of-fold predictions."""

    members: list[Model]
    histories: list[History]
    fold: np.ndarray          # (N,) the fold of every sample (member k never trained on fold k)
    out_of_fold: np.ndarray   # (N, outputs) predict_proba of every sample by the member that held it out
    labels: np.ndarray        # (N,) integer classes

    @property
    def scores(self) -> dict[str, float]:
        """``accuracy``, ``balanced_accuracy`` (and ``auc`` for one sigmoid output) over all N samples."""
        return class_scores(self.labels, self.out_of_fold)

    def fold_scores(self) -> list[dict[str, float]]:
        """The same scores per fold: member k on the samples it held out."""
        return [class_scores(self.labels[self.fold == k], self.out_of_fold[self.fold == k])
                for k in range(len(self.members))]

    def ensemble(self) -> Ensemble:
        """The members averaged by ``nn.Ensemble``: a classifier trained on every sample."""
        return Ensemble(self.members)


def cross_validate(build: Build, x: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0,
                   labels: np.ndarray | None = None, callbacks: CallbackFactory | None = None,
                   **fit_kwargs: Any) -> CrossValidation:
    """Stratified ``folds``-fold cross-validation of the recipe ``build`` on inputs ``x`` ``(N, ...)``, targets ``y``.

    Member k (``build(member_seed(seed, k))``) is fitted on every fold but k with ``fit_kwargs``
    (``epochs``, ``batch_size``, ...), ``validation_data`` = fold k and the callbacks ``callbacks(k)``
    (an ``EarlyStopping`` among them watches fold k), then predicts fold k. ``labels`` ``(N,)`` (default:
    the classes of ``y``) decide the folds; each class needs at least ``folds`` samples.
    """
    labels = class_labels(y) if labels is None else np.asarray(labels).reshape(-1)
    if len(x) != len(y) or len(labels) != len(x):
        raise ShapeError(f"x has {len(x)} samples, y {len(y)} and labels {len(labels)}: expected the same number")
    counts = np.unique(labels, return_counts=True)[1]
    if folds < 2 or counts.min() < folds:
        raise InvalidValueError(f"{folds} folds need at least {folds} samples of each class and folds >= 2, "
                                f"got class counts {counts.tolist()}")
    fold = stratified_folds(labels, folds, seed)
    members, histories, parts = [], [], []
    for k in range(folds):
        train, val = fold != k, fold == k
        model = build(member_seed(seed, k))
        extra = list(callbacks(k)) if callbacks else []
        history = model.fit(x[train], y[train], validation_data=(x[val], y[val]), callbacks=extra, **fit_kwargs)
        if getattr(history, "interrupted", False):  # Ctrl-C: fit said where it stopped
            raise KeyboardInterrupt
        parts.append(np.asarray(model.predict_proba(x[val])).reshape(int(val.sum()), -1))
        members.append(model)
        histories.append(history)
    out_of_fold = np.empty((len(labels), parts[0].shape[1]), dtype=np.float64)
    for k, part in enumerate(parts):
        out_of_fold[fold == k] = part
    return CrossValidation(members, histories, fold, out_of_fold, labels)


def seed_ensemble(build: Build, x: np.ndarray, y: np.ndarray, *, seeds: Sequence[int],
                  callbacks: CallbackFactory | None = None, checkpoint_dir: str | os.PathLike | None = None,
                  resume: bool = False, **fit_kwargs: Any) -> tuple[Ensemble, list[History]]:
    """Fit ``build(seed)`` on all of ``x``, ``y`` for each seed; return ``(nn.Ensemble(members), histories)``.

    Member k gets the callbacks ``callbacks(k)``; with ``checkpoint_dir`` it saves resumable checkpoints
    in ``checkpoint_dir/member-k``, and ``resume`` continues each member that has one (member 0 must:
    a mistyped folder is an error, not a fresh start). A Ctrl-C stops after the current batch and
    raises ``KeyboardInterrupt``.
    """
    if not len(seeds):
        raise InvalidValueError("seed_ensemble needs at least one seed")
    members, histories = [], []
    for k, member in enumerate(seeds):
        model = build(member)
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / f"member-{k}"
        resume_k = resume and (k == 0 or (folder is not None and checkpoint.latest_checkpoint(folder) is not None))
        history = checkpoint.fit_with_checkpoints(model, x, y, checkpoint_dir=folder, resume=resume_k,
                                                  callbacks=list(callbacks(k)) if callbacks else [], **fit_kwargs)
        if getattr(history, "interrupted", False):  # fit already said where it stopped and what the checkpoint holds
            raise KeyboardInterrupt
        members.append(model)
        histories.append(history)
    return Ensemble(members), histories
