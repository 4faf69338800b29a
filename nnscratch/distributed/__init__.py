"""Data-parallel training on Ray: worker processes on this machine or on a cluster.

    from nnscratch.distributed import fit_distributed
    history = fit_distributed(model, x, y, workers=2, epochs=5, batch_size=128,
                              validation_data=(x_val, y_val), checkpoint_dir="ckpt")

Each worker (a Ray actor) holds a replica of the model, rebuilt from its JSON architecture, and computes
the gradients of its share of every global batch; the driver (this process) adds them up, steps the
optimizer once and sends the new weights with the next step. With the same global batch, training on N
workers gives the weights of ``model.fit``, to float rounding. See ``docs/distributed.md``.

Needs the optional extra ``pip install "nnscratch[distributed]"`` (Ray); without it importing this
module raises ``DistributedUnavailableError`` (an ``ImportError``) saying so.
"""

from .errors import INSTALL_HINT, DistributedUnavailableError, WorkerFailedError

try:
    import ray  # noqa: F401
except ImportError:
    raise DistributedUnavailableError(INSTALL_HINT) from None

from .fit import fit_distributed
from .ray_trainer import RayTrainer

__all__ = ["DistributedUnavailableError", "RayTrainer", "WorkerFailedError", "fit_distributed"]
