"""``ProgressBar``: the training display. On a terminal it redraws one line per batch (epoch, batch,
loss, metrics, ETA); elsewhere (a log file, CI) it prints one line per epoch and nothing per batch."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from .callbacks import Callback


def _format_logs(logs: dict[str, float]) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if k != "lr" or v)


def _format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


class ProgressBar(Callback):
    """Show training progress on ``stream`` (stderr by default); ``interactive`` defaults to ``stream.isatty()``;
    ``per_epoch=True`` prints one line per epoch only (Keras's ``verbose=2``)."""

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None, width: int = 24,
                 refresh_seconds: float = 0.1, per_epoch: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.interactive = False if per_epoch else (self.stream.isatty() if interactive is None else interactive)
        self.width, self.refresh = width, refresh_seconds

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        assert logs is not None  # fit passes epochs and steps
        self.epochs, self.steps = logs["epochs"], logs["steps"]

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch, self.start, self.last_draw = epoch, time.perf_counter(), 0.0

    def on_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        if not self.interactive:
            return
        now = time.perf_counter()
        done, steps = batch + 1, self.steps
        if now - self.last_draw < self.refresh and (steps is None or done < steps):
            return
        self.last_draw = now
        trainer = getattr(self.model, "trainer", None)
        logs = {**(logs or {}), **(trainer.metric_results() if trainer is not None else {})}
        if steps is None:  # a generator of unknown length: no bar, no ETA
            line = f"Epoch {self.epoch + 1}/{self.epochs} {done} - {_format_logs(logs)}"
        else:
            filled = self.width * done // steps
            bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") + "." * (self.width - filled)
            eta = (now - self.start) / done * (steps - done)
            line = (f"Epoch {self.epoch + 1}/{self.epochs} {done}/{steps} [{bar}] - {_format_logs(logs)} "
                    f"- ETA {_format_seconds(eta)}")
        self.stream.write("\r" + line + "\033[K")
        self.stream.flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        elapsed = time.perf_counter() - self.start
        line = f"Epoch {epoch + 1}/{self.epochs} - {_format_seconds(elapsed)} - {_format_logs(logs or {})}"
        self.stream.write(("\r" + line + "\033[K\n") if self.interactive else line + "\n")
        self.stream.flush()
