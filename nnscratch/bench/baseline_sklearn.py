"""SCIKIT-LEARN BASELINE (optional): ``MLPClassifier`` on the epoch workload's network and data.

784-256-128-10 ReLU with softmax cross-entropy, the same batch size, SGD with (non-Nesterov) momentum
0.9 or Adam, no L2 penalty (``alpha=0``), one epoch (``max_iter=1``). scikit-learn keeps float32 input
in float32. Its time includes its own input validation and label encoding, which are small next to an
epoch. Only imported when scikit-learn is installed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError


def available() -> bool:
    """True when scikit-learn's neural network module imports."""
    try:
        import sklearn.neural_network  # noqa: F401
    except Exception:
        return False
    return True


def train(x: np.ndarray, y: np.ndarray, hidden: tuple[int, ...] = (256, 128), *, epochs: int = 1,
          batch_size: int = 128, optimizer: str = "momentum", lr: float = 0.01, momentum: float = 0.9,
          seed: int = 0) -> Any:
    """Fit a fresh ``MLPClassifier`` for ``epochs`` epochs; returns it."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    if optimizer not in ("momentum", "sgd", "adam"):
        raise InvalidValueError(f"unknown optimizer {optimizer!r}")
    kwargs: dict[str, Any] = dict(
        hidden_layer_sizes=hidden, activation="relu", alpha=0.0, batch_size=batch_size, learning_rate_init=lr,
        max_iter=epochs, shuffle=True, random_state=seed, tol=0.0, n_iter_no_change=10**9, early_stopping=False,
    )
    if optimizer == "adam":
        kwargs.update(solver="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    else:
        kwargs.update(solver="sgd", momentum=momentum if optimizer == "momentum" else 0.0,
                      nesterovs_momentum=False, learning_rate="constant")
    clf = MLPClassifier(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    return clf
