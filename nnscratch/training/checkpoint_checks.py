"""Checks a checkpoint must pass before a run resumes from it, and the fallback to a kept copy.

A checkpoint is never written with NaN or inf weights or optimizer state, and its epoch count, history
and optimizer step count always agree; a file that breaks one of these is damaged (or edited), and
resuming from it would fail later with a misleading message ("training diverged ... try a smaller
learning rate"). ``check_finite`` and ``check_consistent`` refuse it up front, naming the file and what
is wrong. ``read_with_fallback`` uses the newest intact ``epoch-NNNN.npz`` copy when ``last.npz`` is
damaged or missing, and says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..core.errors import ModelFileError

T = TypeVar("T")


def check_finite(state: Any) -> None:
    """Every floating-point array of ``state.optimizer_state`` must be finite (weights: ``read_model_file``)."""
    for key, value in state.optimizer_state.items():
        value = np.asarray(value)
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            bad = int(value.size - np.count_nonzero(np.isfinite(value)))
            raise ModelFileError(f"'{state.path}': optimizer state '{key}' holds {bad} NaN or infinite value"
                                 f"{'s' if bad != 1 else ''}: the checkpoint is damaged (none is written so); resume "
                                 "from an intact kept copy or start anew")


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _span(epochs: list[int]) -> str:
    """Completed epochs, 1-based as in messages: ``"1-2"``, or a list when they are not consecutive."""
    shown = [e + 1 for e in epochs]
    return f"{shown[0]}-{shown[-1]}" if shown == list(range(shown[0], shown[-1] + 1)) else str(shown[:10])


def check_consistent(state: Any) -> None:
    """``state.epoch``, ``state.history`` and the optimizer's step count must tell the same story.

    The history's epochs are consecutive and end at ``epoch - 1`` (none when ``epoch`` is 0), and the
    optimizer took at least one step per batch of each epoch in the history (it may have taken more in an
    earlier ``fit``).
    """
    path, epochs = state.path, list(state.history.epoch)
    if epochs:
        if epochs != list(range(epochs[0], epochs[0] + len(epochs))) or epochs[-1] + 1 != state.epoch:
            raise ModelFileError(f"'{path}' claims {state.epoch} completed epochs but its history holds epochs "
                                 f"{_span(epochs)}: the checkpoint is damaged or was edited")
    elif state.epoch:
        raise ModelFileError(f"'{path}' claims {state.epoch} completed epochs but its history holds none: the "
                             "checkpoint is damaged or was edited")
    samples, batch = state.fit.get("samples"), state.fit.get("batch_size")
    steps = -(-samples // batch) if _count(samples) and _count(batch) else 0
    iterations = int(state.optimizer_state["iterations"])
    if iterations < len(epochs) * steps:
        raise ModelFileError(f"'{path}' records {len(epochs)} epoch{'s' if len(epochs) != 1 else ''} of {steps} "
                             f"steps but only {iterations} optimizer steps: the checkpoint is damaged or was edited")


def kept_copies(directory: str | os.PathLike) -> list[Path]:
    """The numbered copies ``epoch-NNNN.npz`` in ``directory``, newest (highest epoch) first."""
    found = [p for p in Path(directory).glob("epoch-*.npz") if p.name[6:-4].isdigit() and p.is_file()]
    return sorted(found, key=lambda p: int(p.name[6:-4]), reverse=True)


def read_with_fallback(folder: Path, last: str, read_last: Callable[[], T], read_copy: Callable[[Path], T]) -> T:
    """``read_last()``; if it raises ``ModelFileError`` and ``folder`` keeps copies, the newest that reads.

    A warning names the damaged (or missing) ``last`` file, why, and the copy used instead. When no copy
    is intact, the error about ``last`` is raised, saying the copies were tried.
    """
    copies = kept_copies(folder)
    try:
        return read_last()
    except ModelFileError as exc:
        if not copies:
            raise
        problem = exc
    for copy in copies:
        try:
            state = read_copy(copy)
        except ModelFileError:
            continue
        warnings.warn(f"'{folder / last}' cannot be used ({problem}); resuming from '{copy}', the newest intact "
                      "kept copy", stacklevel=3)
        return state
    raise ModelFileError(f"{problem}; none of the kept copies in '{folder}' is intact either "
                         f"({', '.join(p.name for p in copies[:5])}{', ...' if len(copies) > 5 else ''})")
