"""Training: the trainer, the loop, callbacks, checkpoints, losses, metrics, optimizers and schedules."""

from . import huber  # noqa: F401  (registers the "huber" loss by name)
