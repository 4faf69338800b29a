"""What a benchmark worker knows: thread count, repetitions, the data (real or synthetic), the baselines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import DatasetError
from ..datasets import load_mnist
from . import baseline_sklearn, baseline_torch


@dataclass
class Context:
    """What a worker knows: its thread count, the repetition settings, where the data are, the notes."""

    threads: int = 1
    reps: int | None = None          # None: each workload's default
    warmup: int = 1
    quick: bool = False
    data_dir: str | None = None
    use_torch: bool = True
    use_sklearn: bool = True
    notes: list[str] = field(default_factory=list)
    data_source: str | None = None
    real_data: bool | None = None
    _mnist: Any = None

    def reps_for(self, default: int, quick: int = 2) -> int:
        """Timed repetitions: ``--reps`` when given, else ``quick`` under ``--quick``, else ``default``."""
        if self.reps is not None:
            return self.reps
        return quick if self.quick else default

    def note(self, text: str) -> None:
        """Add a note for the report (once)."""
        if text not in self.notes:
            self.notes.append(text)

    def mnist(self) -> Any:
        """``(x_train, y_train, x_test, y_test)``: real MNIST, else synthetic uint8 data of the same shapes."""
        if self._mnist is None:
            try:
                self._mnist = tuple(load_mnist(self.data_dir))
                self.real_data, self.data_source = True, "real MNIST"
            except DatasetError as exc:
                reason = " ".join(str(exc).split())
                reason = reason if len(reason) <= 240 else reason[:237] + "..."
                rng = np.random.default_rng(0)
                self._mnist = (rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000),
                               rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000))
                self.real_data = False
                self.data_source = "SYNTHETIC random images of MNIST's shape (timing only)"
                self.note(f"MNIST not available ({reason}); MNIST timings use synthetic data of the same shape, "
                          "accuracies are not reported")
        return self._mnist

    def torch(self) -> Any | None:
        """The torch baseline module with its threads set, or None (not installed / disabled)."""
        if not self.use_torch:
            return None
        if not baseline_torch.available():
            self.note("PyTorch not installed: torch baselines skipped (pip install torch)")
            return None
        baseline_torch.set_threads(self.threads)
        return baseline_torch

    def sklearn(self) -> Any | None:
        """The scikit-learn baseline module, or None (not installed / disabled)."""
        if not self.use_sklearn:
            return None
        if not baseline_sklearn.available():
            self.note("scikit-learn not installed: sklearn baseline skipped (pip install scikit-learn)")
            return None
        return baseline_sklearn
