"""``keras.backend``: the few functions Keras programs call on it; nnscratch's backend is NumPy."""

from __future__ import annotations

from ..core import naming as _naming
from ._names import module_getattr


def clear_session() -> None:
    """Start layer names from scratch again (``dense``, ``dense_1``... as in a new session)."""
    _naming._name_counts.clear()


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    """The fuzz factor Keras adds in divisions and logarithms (1e-7)."""
    return 1e-7


def image_data_format() -> str:
    return "channels_last"


def backend() -> str:
    return "numpy"


__getattr__ = module_getattr("keras.backend", globals(), {})
