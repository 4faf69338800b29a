"""``pad_sequences``: lists of token ids of different lengths as one ``(samples, maxlen)`` array (Keras's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError


def pad_sequences(sequences: Sequence[Any], maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: float = 0.0) -> np.ndarray:
    """``(len(sequences), maxlen)`` (or ``(len(sequences), maxlen, *item_shape)`` for sequences of vectors):
    each sequence cut to its last (``truncating="pre"``) or first (``"post"``) ``maxlen`` items and padded with
    ``value`` before it (``padding="pre"``) or after it (``"post"``); ``maxlen`` defaults to the longest length.
    Keras's ``keras.utils.pad_sequences``, in one vectorized gather."""
    for name, option in (("padding", padding), ("truncating", truncating)):
        if option not in ("pre", "post"):
            raise InvalidValueError(f"pad_sequences {name} must be 'pre' or 'post', got {option!r}")
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise InvalidValueError(f"pad_sequences takes a list of sequences, got {type(sequences).__name__}")
    rows = []
    for i, s in enumerate(sequences):
        if isinstance(s, (str, bytes)) or not hasattr(s, "__len__"):
            raise InvalidValueError(f"pad_sequences takes a list of sequences (lists of integers); item {i} is "
                                    f"{type(s).__name__} {s!r:.40}")
        rows.append(np.asarray(s, dtype=dtype))
    item_shapes = {r.shape[1:] for r in rows if len(r)}
    if len(item_shapes) > 1:
        raise InvalidValueError(f"pad_sequences: the sequences' items must all have one shape, got "
                                f"{sorted(item_shapes)}")
    item_shape = item_shapes.pop() if item_shapes else ()
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    if maxlen is None:
        maxlen = int(lengths.max()) if len(lengths) else 0
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise InvalidValueError(f"pad_sequences maxlen must be a whole number >= 0 (or None), got {maxlen!r}")
    out = np.full((len(rows), int(maxlen), *item_shape), value, dtype=dtype)
    kept = np.minimum(lengths, maxlen)
    if not kept.sum():
        return out
    flat = np.concatenate([r.reshape(-1, *item_shape) for r in rows])
    starts = np.cumsum(lengths) - lengths + (lengths - kept if truncating == "pre" else 0)
    within = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
    row = np.repeat(np.arange(len(rows)), kept)
    column = within + (np.repeat(maxlen - kept, kept) if padding == "pre" else 0)
    out[row, column] = flat[np.repeat(starts, kept) + within]
    return out
