"""Training: the trainer, the loop, callbacks, checkpoints, losses, metrics, optimizers and schedules."""

from . import adaptive_optimizers, elementwise_losses, huber, row_losses  # noqa: F401  (register their names)
