"""The errors of ``nnscratch.distributed`` (importable without Ray)."""

from __future__ import annotations

from ..core.errors import NNScratchError

INSTALL_HINT = 'nnscratch.distributed needs Ray, which is not installed: pip install "nnscratch[distributed]"'


class DistributedUnavailableError(NNScratchError, ImportError):
    """Ray is not installed (the optional extra ``nnscratch[distributed]``)."""


class WorkerFailedError(NNScratchError, RuntimeError):
    """Worker processes kept failing (more often than ``max_failures``) or never started; the driver's model
    keeps the weights of its last completed step, and the last checkpoint can be resumed."""
