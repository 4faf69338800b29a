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

``MultiHeadAttention``'s own ``attention_mask`` argument (``attention_mask_array``) joins that AND as Keras's does
(``attention_mask & auto_mask``): booleans or 0/1 numbers ``(N, Tq, Tv)``, or a shape that broadcasts to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.functional import softmax

SOFTMAX_MASKED = -1e9  # what keras.layers.Softmax puts in place of a masked score (float32, float64)


def call_masks(ctx: Call, xs: Sequence[np.ndarray], cls: str, extra: int = 0) -> list[np.ndarray | None] | None:
    """The masks of this call's inputs (``ctx.mask``), checked against the inputs ``xs``: one ``(N, T_i)``
    boolean array or None per input; None when no input has a mask. ``extra``: inputs after ``xs`` whose Keras
    masks are ignored (``MultiHeadAttention``'s attention mask)."""
    masks = ctx.mask
    if masks is None:
        return None
    total = len(xs) + extra
    if not isinstance(masks, (list, tuple)) or len(masks) != total:
        got = f"a list of {len(masks)}" if isinstance(masks, (list, tuple)) else f"a {type(masks).__name__}"
        raise InvalidValueError(f"{cls} takes one mask (or None) per input [query, value(, key)]: {total} for "
                                f"its {total} inputs, got {got}")
    masks = masks[:len(xs)]
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


def attention_mask_shape_error(shown: str, shape: tuple[int | None, ...], want: tuple[int | None, ...]) -> str | None:
    """Why an attention mask of ``shape`` (batch axis first; None: a size not known yet), shown as ``shown``, does
    not broadcast to ``want`` = ``(N, Tq, Tv)``; None when it does (each axis that size or 1)."""
    if len(shape) == 3 and all(d is None or w is None or d in (1, w) for d, w in zip(shape, want)):
        return None
    n = "batch" if want[0] is None else want[0]
    return (f"MultiHeadAttention attention_mask has shape {shown}; the query ({want[1]} steps) and the value "
            f"({want[2]} steps) need (N, Tq, Tv) = ({n}, {want[1]}, {want[2]}), or a shape that broadcasts to it "
            f"(each axis that size or 1)")


def attention_mask_array(mask: Any, n: int, tq: int, tv: int) -> np.ndarray:
    """``MultiHeadAttention``'s ``attention_mask`` (booleans or 0/1 numbers; ``(N, Tq, Tv)`` or a shape that
    broadcasts to it, ``(Tq, Tv)`` for every sample) as booleans ``(N|1, Tq|1, Tv|1)``: True where query step i
    may attend to key step j. A boolean array comes back as it is (never written to)."""
    what = "MultiHeadAttention attention_mask"
    if not isinstance(mask, np.ndarray) or mask.dtype.kind not in "biuf":
        raise InvalidTypeError(f"{what} must be an array of booleans or 0/1 numbers (True/1: may attend), got "
                               f"{getattr(mask, 'dtype', type(mask).__name__)}")
    m = mask[None] if mask.ndim == 2 else mask
    problem = attention_mask_shape_error(str(mask.shape), m.shape, (n, tq, tv))
    if problem is not None:
        raise ShapeError(problem)
    if m.dtype == np.bool_:
        return m
    bad = (m != 0) & (m != 1)
    if bad.any():
        raise InvalidValueError(f"{what} must hold booleans or 0/1 numbers (True/1: may attend, 0: may not), got "
                                f"{m[bad].flat[0]} (an additive float mask of 0 and -inf, as PyTorch's, is not "
                                f"Keras's: pass attention_mask=(bias == 0))")
    return m != 0


def attention_allowed(masks: Sequence[np.ndarray | None] | None, tq: int, tv: int, causal: bool,
                      attention_mask: np.ndarray | None = None) -> np.ndarray:
    """Keras's ``MultiHeadAttention._compute_attention_mask``: True where query step i may attend to key step j,
    broadcastable to ``(N, Tq, Tv)``: the input masks ``[query, value(, key)]`` (or None), the causal mask and
    the ``attention_mask`` (from ``attention_mask_array``) ANDed; at least one of them must be given."""
    parts = []
    if masks is not None:
        parts += [] if masks[0] is None else [masks[0][:, :, None]]
        parts += [m[:, None, :] for m in masks[1:] if m is not None]  # value's, then key's
    if causal:
        parts.append(np.tril(np.ones((1, tq, tv), bool)))
    if attention_mask is not None:
        parts.append(attention_mask)
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


def explicit_masks(query_mask: Any, value_mask: Any, key_mask: Any, attention_mask: Any) -> Any:
    """Keras 3's ``mha(..., query_mask=, value_mask=, key_mask=, attention_mask=)`` as one attention mask
    (Keras's ``_compute_attention_mask``): ``query_mask[:, :, None] & value_mask[:, None, :] & key_mask[:, None, :]
    & attention_mask``, broadcastable to ``(N, Tq, Tv)``, from whichever are given (arrays, traced Tensors or symbolic
    tensors: ``nnscratch.ops``); ``attention_mask`` itself when none of the three is."""
    from .. import ops

    parts = [] if query_mask is None else [ops.expand_dims(ops.not_equal(query_mask, 0), 2)]
    parts += [ops.expand_dims(ops.not_equal(m, 0), 1) for m in (value_mask, key_mask) if m is not None]
    if not parts:
        return attention_mask
    if attention_mask is not None:
        parts.append(ops.not_equal(attention_mask, 0))
    combined = parts[0]
    for part in parts[1:]:
        combined = ops.logical_and(combined, part)
    return combined
