"""Keras masks in the attention layers (``MultiHeadAttention``, ``Attention``, ``AdditiveAttention``).

A graph puts the masks of a layer's inputs on its call record: ``ctx.mask`` is None, or one entry per input
``[query, value(, key)]``, each None or a boolean array ``(N, T)`` (True: a real step, False: padding). The
layers follow Keras 3 (``keras/src/layers/attention/``):

- ``MultiHeadAttention`` (``_compute_attention_mask``): query step i may attend to key step j when
  ``query_mask[i] & value_mask[j] & key_mask[j]`` (and ``j <= i`` with the causal mask). Its masked softmax
  (``keras.layers.Softmax`` with a mask) puts -1e9 in place of the other scores and sets their weights to 0
  afterwards, so a query step allowed no key at all gets all-zero weights (``masked_softmax``).
- ``Attention`` / ``AdditiveAttention`` (``_apply_scores``, ``call``): 1e9 is taken off the scores of keys the
  value mask (or the causal mask) hides, with no zeroing after the softmax; the output rows of masked query
  steps are set to 0.
- Both give their output the query's mask (``query_mask``, for ``compute_mask``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.functional import softmax

SOFTMAX_MASKED = -1e9  # what keras.layers.Softmax puts in place of a masked score (float32, float64)


def call_masks(ctx: Call, xs: Sequence[np.ndarray], cls: str) -> list[np.ndarray | None] | None:
    """The masks of this call's inputs (``ctx.mask``), checked against the inputs ``xs``: one ``(N, T_i)``
    boolean array or None per input; None when no input has a mask."""
    masks = ctx.mask
    if masks is None:
        return None
    if not isinstance(masks, (list, tuple)) or len(masks) != len(xs):
        got = f"a list of {len(masks)}" if isinstance(masks, (list, tuple)) else f"a {type(masks).__name__}"
        raise InvalidValueError(f"{cls} takes one mask (or None) per input [query, value(, key)]: {len(xs)} for "
                                f"its {len(xs)} inputs, got {got}")
    if all(m is None for m in masks):
        return None
    for i, (x, m) in enumerate(zip(xs, masks)):
        if m is None:
            continue
        if not isinstance(m, np.ndarray) or m.dtype != np.bool_:
            raise InvalidTypeError(f"{cls} input {i}'s mask must be a boolean array (N, T), got "
                                   f"{getattr(m, 'dtype', type(m).__name__)}")
        if m.shape != x.shape[:2]:
            raise ShapeError(f"{cls} input {i}'s mask has shape {m.shape}; its input {x.shape} needs "
                             f"{x.shape[:2]} (samples, steps)")
    return list(masks)


def query_mask(mask: Any, cls: str) -> np.ndarray | None:
    """What Keras's attention layers give their output as its mask: the query's (``mask[0]``), or None."""
    if mask is None:
        return None
    if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
        raise InvalidValueError(f"{cls} takes a list of masks [query_mask, value_mask(, key_mask)], got "
                                f"{type(mask).__name__}")
    return None if mask[0] is None else np.asarray(mask[0])


def attention_allowed(masks: Sequence[np.ndarray | None], tq: int, tv: int, causal: bool) -> np.ndarray:
    """Keras's ``MultiHeadAttention._compute_attention_mask``: True where query step i may attend to key step j,
    broadcastable to ``(N, Tq, Tv)`` (at least one of the masks or ``causal`` must be given)."""
    parts = [] if masks[0] is None else [masks[0][:, :, None]]
    parts += [m[:, None, :] for m in masks[1:] if m is not None]  # value's, then key's
    if causal:
        parts.append(np.tril(np.ones((tq, tv), bool)))
    allowed = parts[0]
    for part in parts[1:]:
        allowed = allowed & part
    return allowed


def masked_softmax(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Keras's ``Softmax()(scores, mask=allowed)`` over the last axis: -1e9 in place of the hidden scores, the
    softmax, then 0 for their weights (a row with no key allowed is all zeros). ``scores`` is overwritten.

    Backward is softmax's Jacobian with these weights: exact, since a hidden weight is 0 (exp(-1e9 - max)
    underflows; the zeroing makes it so) and a row with none allowed is constant."""
    hidden = ~allowed
    np.copyto(scores, scores.dtype.type(SOFTMAX_MASKED), where=hidden)
    p = softmax(scores)
    np.copyto(p, p.dtype.type(0), where=hidden)
    return p
