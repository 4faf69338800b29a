"""Training: the trainer, the loop, callbacks, checkpoints, losses, metrics, optimizers and schedules."""

from . import elementwise_losses, huber  # noqa: F401  (register their losses by name)
