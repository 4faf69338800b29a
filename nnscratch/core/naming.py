"""Default layer names: ``dense``, ``dense_1``, ``dense_2``... (Keras's naming)."""

from __future__ import annotations

import re

_name_counts: dict[str, int] = {}


def unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``... (Keras's naming of layers)."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def snake_case(name: str) -> str:
    """Keras's rule: ``Conv2D`` -> ``conv2d``, ``BatchNormalization`` -> ``batch_normalization``,
    ``ReLU`` -> ``re_lu``."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()
