"""What keeps a model consistent when training goes wrong: divergence, Ctrl-C.

- ``Snapshots``: two rotating copies of the weights and optimizer state, taken at the start of each epoch.
- ``diverged``: put back the last finite weights and raise ``TrainingDivergedError``.
- ``InterruptHandler``: the first Ctrl-C stops ``fit`` after the current batch; a second one raises.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
from typing import Any

import numpy as np

from ..core.errors import TrainingDivergedError


def weights_finite(model: Any, with_optimizer: bool = False) -> bool:
    """Every weight (and, with ``with_optimizer``, every optimizer state array) is finite."""
    arrays = [p.data for _, p in model.named_parameters(include_frozen=True)]
    optimizer = model.optimizer
    if with_optimizer and optimizer is not None:
        arrays += [a for state in optimizer.state for a in state.values()]
    return all(a.dtype.kind != "f" or np.isfinite(a).all() for a in arrays)


class Snapshots:
    """Two rotating copies of the weights (all parameters, frozen ones too) and the optimizer state,
    taken at the start of each epoch: what ``fit`` restores when training diverges or is hard-interrupted.

    One copy per epoch into preallocated buffers (no allocation after the first two epochs); the older
    copy is kept for divergence in an epoch's first batch, whose epoch-start weights are the broken ones.
    """

    def __init__(self, model: Any) -> None:
        self.optimizer = model.optimizer
        self.arrays = [p.data for _, p in model.named_parameters(include_frozen=True)]
        self.arrays += [a for state in self.optimizer.state for a in state.values()]
        self.copies: list[list[np.ndarray] | None] = [None, None]
        self.pairs: list[list[tuple[np.ndarray, np.ndarray]]] = [[], []]
        self.meta: list[tuple[int, int] | None] = [None, None]  # (epoch, optimizer iterations)
        self.latest = 1

    def take(self, epoch: int) -> None:
        i = self.latest ^ 1
        copies = self.copies[i]
        if copies is None:
            copies = self.copies[i] = [a.copy() for a in self.arrays]
            self.pairs[i] = list(zip(copies, self.arrays))
        else:
            for dst, src in self.pairs[i]:
                dst[...] = src
        self.meta[i] = (epoch, self.optimizer.iterations)
        self.latest = i

    def _restore(self, i: int) -> int:
        copies, meta = self.copies[i], self.meta[i]
        assert copies is not None and meta is not None  # only a snapshot that was taken is restored
        for src, dst in zip(copies, self.arrays):
            dst[...] = src
        epoch, self.optimizer.iterations = meta
        return epoch

    def restore_latest(self) -> int | None:
        return self._restore(self.latest) if self.copies[self.latest] is not None else None

    def restore_finite(self) -> int | None:
        """Restore the newest copy whose arrays are all finite; its epoch, or None if there is none."""
        for i in (self.latest, self.latest ^ 1):
            buf = self.copies[i]
            if buf is not None and all(a.dtype.kind != "f" or np.isfinite(a).all() for a in buf):
                return self._restore(i)
        return None


def diverged(model: Any, snapshots: Snapshots | None, value: float, epoch: int, step: int | None,
             steps: int | None, what: str | None = None) -> None:
    """Put back the last finite weights (and optimizer state) and raise ``TrainingDivergedError``."""
    if weights_finite(model, with_optimizer=True):
        restored, kept = "current", "the model keeps its weights from before this batch (all finite)"
    elif snapshots is not None and (snap_epoch := snapshots.restore_finite()) is not None:
        restored = f"epoch {snap_epoch + 1}"
        kept = f"the weights had become NaN or inf, so the model was reset to its weights at the start of {restored}"
    else:
        restored, kept = None, "no finite weights were left to restore"
    where = f"at epoch {epoch + 1}, batch {step + 1}{_of(steps)}" if step is not None else f"in epoch {epoch + 1}"
    lr = model.optimizer.lr if model.optimizer is not None else math.nan
    cause = what or f"the loss became {value}"
    lr_text = f"{lr:g}" if isinstance(lr, (int, float)) else "a schedule"
    raise TrainingDivergedError(
        f"training diverged: {cause} {where}; {kept}; try a smaller learning rate (now {lr_text}) "
        f"or check the scale of the inputs", epoch=epoch, batch=step, loss=value, history=model.history,
        restored_from=restored)


def _of(steps: int | None) -> str:
    return "" if steps is None else f" of {steps}"


def report_interrupt(stopped_at: tuple[int, int | None], steps: int | None, epochs: int, cbs: list[Any]) -> None:
    """The one line printed on stderr when Ctrl-C stopped ``fit``."""
    epoch, batch = stopped_at
    if batch is None:
        line = (f"training interrupted after epoch {epoch + 1} of {epochs}: the model keeps its weights at the "
                f"end of that epoch")
    else:
        line = (f"training interrupted at epoch {epoch + 1}, batch {batch}{_of(steps)}: the model keeps the weights "
                f"of its last completed step (epoch {epoch + 1} is not in the history)")
    hints = [h for h in (cb.interrupt_hint() for cb in cbs) if h]
    if hints:
        line += "; " + "; ".join(hints)
    if any(getattr(cb, "interactive", False) for cb in cbs):
        line = "\n" + line  # end the progress bar's line first
    print(line, file=sys.stderr, flush=True)


class InterruptHandler:
    """During ``fit``: the first Ctrl-C (SIGINT) asks the loop to stop after the current batch; a second one
    raises ``KeyboardInterrupt``. Installed only in the main thread and only over Python's default handler."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.previous: Any = None

    def __enter__(self) -> InterruptHandler:
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self.previous = signal.signal(signal.SIGINT, self._handle)
            except (ValueError, OSError):  # no signals here (embedded interpreter)
                self.previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        trainer = self.model.trainer
        if trainer.interrupted:
            raise KeyboardInterrupt
        trainer.interrupted = True
        self.model.stop_training = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
