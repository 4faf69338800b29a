"""``Worker``: one data-parallel worker process (a Ray actor) and its share of each training step.

The actor is created with the replica spec (JSON), the dataset (a pair of object-store references, read
into arrays shared read-only with the other workers on the same machine) and its rank. Each ``step``
receives the current weights (one flat vector) and the sample indices of its share of the global batch;
it returns the gradient of its share, already scaled by its fraction of the batch, so that the driver's
sum of the workers' gradients is the gradient of the whole batch.

A step depends on its arguments alone (weights, indices, random key), so a step that failed with its
worker can be redone by a restarted worker and gives the same numbers.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .flat import FlatParameters
from .replica import build_replica


class Worker:
    """A replica of the model and the training data, computing gradients of index ranges of the data."""

    def __init__(self, spec: dict[str, Any], data: list[Any], rank: int) -> None:
        """``data``: ``[inputs, targets]``, each a list of arrays or an object-store reference to one."""
        if not isinstance(data[0], list):
            import ray

            data = ray.get(list(data))
        inputs, targets = data
        self.model = build_replica(spec)
        self.trainer = self.model.trainer
        self.flat = FlatParameters(self.model)
        self.inputs, self.targets, self.rank = inputs, targets, rank

    def ready(self) -> int:
        """The worker's process id (the call returns once the actor is up)."""
        return os.getpid()

    def step(self, weights: np.ndarray, index: np.ndarray, scale: float, key: list[int] | None,
             want_outputs: bool) -> dict[str, Any]:
        """Gradients of the samples ``index`` ``(share,)`` of the training arrays at ``weights``.

        ``scale`` (the share's fraction of the global batch) multiplies the gradients; ``key`` seeds the
        replica's random generator (dropout, augmentation) for this step. Returns ``grads`` (flat), the share's
        mean ``loss``, ``output_losses``, the ``state`` arrays (running statistics) after the step,
        ``outputs`` (for the driver's metrics, when ``want_outputs``), ``pid`` and ``seconds`` of compute."""
        began = time.perf_counter()
        self.flat.load_weights(weights)
        xs = [np.take(x, index, axis=0) for x in self.inputs]
        ys = [np.take(y, index, axis=0) for y in self.targets]
        if key is not None:
            self.model.set_rng(np.random.default_rng(key), seeded=True)  # a redone step draws the same
        self.model.zero_grad()
        value, outs = self.trainer.forward_backward(xs, ys, scale)
        return {"grads": self.flat.pack_grads(), "loss": float(value),
                "output_losses": [float(v) for v in self.trainer.output_losses],
                "state": self.flat.pack_state(), "outputs": [np.array(o) for o in outs] if want_outputs else None,
                "pid": os.getpid(), "seconds": time.perf_counter() - began}
