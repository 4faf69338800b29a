"""Numerically stable elementwise functions shared by activations and losses (no overflow at |x| = 1e4)."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), same shape and float dtype as ``x``, accurate to a few ulps over the whole range.

    With ``e = exp(-|x|)`` (never overflows): ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)`` for
    ``x < 0``, so a tiny probability keeps its relative precision (``sigmoid(-700)`` is ``9.86e-305`` in
    float64, not 0) and only underflows where the value itself is below the dtype's smallest number
    (x < -745 in float64, x < -103.9 in float32). The ``0.5 * tanh(x / 2) + 0.5`` form loses all relative
    precision for x < -20 and gives exactly 0 below -38.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    y = np.where(x >= 0, x.dtype.type(1), e)
    e += 1
    y /= e
    return y


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = -log(1 + exp(-x)) = -logaddexp(0, -x): finite and accurate for every finite x
    (about ``x`` for x << 0, ``-exp(-x)`` for x >> 0)."""
    return -np.logaddexp(0, -x)


def log_softmax(x: np.ndarray, axis: int | tuple[int, ...] = -1) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, with the max subtracted first."""
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)  # the ufuncs' reduce: no Python-level wrapper
    shifted -= np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


def softmax(x: np.ndarray, axis: int | tuple[int, ...] = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``axis``, with the max subtracted first (rows sum to 1, no overflow)."""
    e = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e
