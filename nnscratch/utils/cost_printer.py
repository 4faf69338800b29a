"""``CostPrinter``: the deeplearning.ai course's "Cost after iteration i: 0.771749" lines, as a callback.

    model.fit(x, y, epochs=2500, batch_size=None, callbacks=[CostPrinter(every=100)])
    # Cost after iteration 0: 0.771749
    # Cost after iteration 100: 0.672053   ... and the last iteration, 2499

With ``batch_size=None`` an epoch is one full-batch gradient step, the course's "iteration"; the cost
printed is the epoch's training loss (the cost before that step's update).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..training.callbacks import Callback

COURSE_FORMAT = "Cost after iteration {i}: {loss:f}"


class CostPrinter(Callback):
    """Log ``fmt`` after epochs 0, ``every``, ``2 * every``, ... and after the last epoch of the run.

    ``fmt`` is a ``str.format`` template over ``i`` (0-based epoch), ``n`` (1-based), ``epochs`` (of the
    run) and the epoch's logs (``loss``, metrics, ``val_*``). ``log`` receives each line (default:
    ``print``, flushed). ``printed`` holds ``(i, loss)`` of every line logged.
    """

    def __init__(self, every: int = 100, fmt: str = COURSE_FORMAT, log: Callable[[str], None] | None = None) -> None:
        self.every, self.fmt = max(1, int(every)), fmt
        self.log = log if log is not None else (lambda line: print(line, flush=True))
        self.epochs: int | None = None
        self.printed: list[tuple[int, float]] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epochs = (logs or {}).get("epochs")

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = {} if logs is None else logs
        if epoch % self.every == 0 or (self.epochs is not None and epoch == self.epochs - 1):
            self.log(self.fmt.format(i=epoch, n=epoch + 1, epochs=self.epochs, **logs))
            self.printed.append((epoch, float(logs["loss"])))
