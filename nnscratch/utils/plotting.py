"""Learning curves and confusion matrices as figures (matplotlib, the ``[plot]`` extra, imported lazily).

    plot_history(history, "curves.png")            # loss and each metric per epoch, training and validation
    plot_history([h1, h2, h3], "members.png")       # one line per history (the members of an ensemble)
    plot_confusion(confusion_matrix(y, p, 10), "cm.png")

Without a ``path`` they return the matplotlib ``Figure``; with one they write a PNG atomically and
return the path. Without matplotlib they raise ``MissingExtraError`` naming the ``[plot]`` extra.
The confusion matrix itself (``nnscratch.utils.confusion``) needs no matplotlib.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..io.atomic import atomic_write
from ..training.history import History
from .confusion import confusion_matrix, format_confusion
from .extras import require

__all__ = ["confusion_matrix", "format_confusion", "plot_confusion", "plot_history", "pyplot"]

HistoryLike = History | Mapping[str, Sequence[float]]


def pyplot() -> Any:
    """``matplotlib.pyplot`` (the file-only Agg backend unless one was chosen), or ``MissingExtraError``."""
    matplotlib = require("matplotlib", "plot", "plotting")
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig: Any, path: str | os.PathLike | None) -> Any:
    if path is None:
        return fig
    plt = pyplot()
    target = atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
    plt.close(fig)
    return target


def _as_dict(history: HistoryLike) -> dict[str, list]:
    if hasattr(history, "to_dict"):  # a History
        return dict(history.to_dict())
    return {k: list(v) for k, v in history.items()}


def plot_history(history: HistoryLike | Sequence[HistoryLike], path: str | os.PathLike | None = None,
                 title: str | None = None, xlabel: str = "epoch") -> Any:
    """One panel per quantity (loss, then each metric), training and ``val_`` curves per epoch.

    ``history`` is a ``History`` (``fit``'s return), its ``to_dict()``, or a list of them (drawn as
    "member 1", "member 2", ...). Returns the ``Figure``, or ``path`` once the PNG is written there.
    """
    items: list[Any] = list(history) if isinstance(history, Sequence) and not isinstance(history, str) else [history]
    runs = [_as_dict(h) for h in items]
    if not runs or not runs[0].get("loss"):
        raise InvalidValueError("plot_history needs a history with a 'loss' curve (the History that fit returns)")
    keys = [k for k in runs[0] if k not in ("epoch",) and not k.startswith("val_") and k != "lr"
            and k != "time_s" and isinstance(runs[0][k], list)]
    keys.sort(key=lambda k: k != "loss")
    plt = pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for i, run in enumerate(runs):
            epochs = [e + 1 for e in run.get("epoch", range(len(run[key])))]
            label = f"member {i + 1}" if len(runs) > 1 else "training"
            ax.plot(epochs, run[key], label=label)
            if len(runs) == 1 and f"val_{key}" in run:
                ax.plot(epochs, run[f"val_{key}"], label="validation")
        ax.set_xlabel(xlabel)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        if len(runs) > 1 or any(f"val_{key}" in run for run in runs):
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path)


def plot_confusion(cm: np.ndarray, path: str | os.PathLike | None = None, names: Sequence[str] | None = None,
                   title: str = "confusion matrix") -> Any:
    """The confusion matrix ``(C, C)`` as a heat map with counts (rows: true class, columns: predicted)."""
    cm = np.asarray(cm)
    labels = [str(i) for i in range(len(cm))] if names is None else list(names)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.imshow(np.log1p(cm), cmap="Blues")
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if i == j else "black")
    ax.set_xticks(range(len(cm)), labels)
    ax.set_yticks(range(len(cm)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return _finish(fig, path)
