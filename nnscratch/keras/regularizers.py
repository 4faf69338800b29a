"""``keras.regularizers``: weight penalties for ``kernel_regularizer=``/``bias_regularizer=``."""

from __future__ import annotations

from ..core.regularizers import L1, L1L2, L2, Regularizer, get

l1, l2 = L1, L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> Regularizer:
    """Keras's ``l1_l2``: both penalties, 0.01 each by default (``L1L2`` defaults to 0)."""
    return L1L2(l1, l2)

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]
