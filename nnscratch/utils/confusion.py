"""Confusion matrix of a classifier, per-class accuracy and a text table (no plotting library needed).

    cm = confusion_matrix(y_true, y_pred, classes=10)     # (10, 10) int64: cm[i, j] = class i predicted as j
    print(format_confusion(cm, names=["0", "1", ...]))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.errors import InvalidValueError, ShapeError


def _n_classes(classes: int | Sequence[str]) -> int:
    return classes if isinstance(classes, int) else len(classes)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int | Sequence[str]) -> np.ndarray:
    """``cm[i, j]``: samples of class ``i`` predicted as ``j``; ``(C, C)`` int64 for ``classes`` (a count or names).

    ``y_true`` and ``y_pred`` are integer classes ``(N,)`` in ``0..C-1``.
    """
    n = _n_classes(classes)
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(y_true) != len(y_pred):
        raise ShapeError(f"{len(y_true)} true labels but {len(y_pred)} predictions: expected one per sample")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        integral = y.dtype.kind in "iub" or bool(np.all(y == np.round(y)))
        if len(y) and (not integral or y.min() < 0 or y.max() >= n):
            raise InvalidValueError(f"{name} must hold integer classes 0..{n - 1}, got values from {y.min()} to "
                                    f"{y.max()}")
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true.astype(np.intp), y_pred.astype(np.intp)), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> list[float | None]:
    """Recall of each class (correct / samples of that class); None for a class absent from the data."""
    totals = cm.sum(axis=1)
    return [float(cm[i, i] / totals[i]) if totals[i] else None for i in range(len(cm))]


def format_confusion(cm: np.ndarray, names: Sequence[str] | None = None) -> str:
    """The matrix as a text table (rows: true class, columns: predicted) with each class's accuracy."""
    labels = [str(i) for i in range(len(cm))] if names is None else [str(n) for n in names]
    if len(labels) != len(cm):
        raise InvalidValueError(f"{len(labels)} class names for a {len(cm)}x{len(cm)} confusion matrix")
    width = max(5, len(str(int(cm.max(initial=0)))) + 1, *(len(s) + 1 for s in labels))
    first = max(9, *(len(s) for s in labels))
    corner = "true\\pred"
    lines = [f"{corner:>{first}} " + "".join(f"{s:>{width}}" for s in labels) + "   accuracy"]
    for label, row, acc in zip(labels, cm, per_class_accuracy(cm)):
        acc_text = f"{100 * acc:8.2f}%" if acc is not None else "       -"
        lines.append(f"{label:>{first}} " + "".join(f"{int(v):>{width}}" for v in row) + "  " + acc_text)
    return "\n".join(lines)
