"""Linear algebra: ``matmul`` (batched, NumPy's ``@``), ``dot``, ``tensordot``, ``outer``, ``einsum``.

The backward rules are products of the same kind: for ``c = a @ b``, ``da = g @ b.T`` and ``db = a.T @ g``,
each computed only when that input wants a gradient (the input of a first layer does not).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from . import elementwise as ew
from . import shapes
from .tape import Tensor, node, unbroadcast, value


def _matmul_rule(a: np.ndarray, b: np.ndarray) -> Any:
    def rule(g: np.ndarray, n: tuple) -> tuple:
        if a.ndim == 2 and b.ndim == 2:
            return (np.dot(g, b.T) if n[0] else None, np.dot(a.T, g) if n[1] else None)
        if a.ndim == 1 and b.ndim == 1:  # inner product: a scalar
            return (g * b if n[0] else None, g * a if n[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = np.expand_dims(g, -2) if a.ndim == 1 else g
        g2 = np.expand_dims(g2, -1) if b.ndim == 1 else g2
        ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape) if n[0] else None
        gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape) if n[1] else None
        return ga, gb

    return rule


def matmul(x1: Any, x2: Any) -> Any:
    """Matrix product with NumPy's ``@`` rules: ``(..., n, k) @ (..., k, m) -> (..., n, m)``, batch axes
    broadcast, a 1-D operand is a vector."""
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        return np.matmul(x1, x2)
    a, b = np.asarray(value(x1)), np.asarray(value(x2))
    out = np.dot(a, b) if a.ndim == 2 and b.ndim == 2 else np.matmul(a, b)
    return node(out, (x1, x2), _matmul_rule(a, b))


def _axes_pair(axes: Any, nda: int, ndb: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        return list(range(nda - int(axes), nda)), list(range(int(axes)))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [int(i) % nda for i in ax_a], [int(i) % ndb for i in ax_b]


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Any:
    """Sum of products over ``axes`` (an int N: the last N of ``x1`` with the first N of ``x2``; or a pair of
    axis lists); the result has ``x1``'s free axes, then ``x2``'s."""
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        return np.tensordot(x1, x2, axes=axes)
    a, b = np.asarray(value(x1)), np.asarray(value(x2))
    ax_a, ax_b = _axes_pair(axes, a.ndim, b.ndim)
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    nfa = len(free_a)

    def rule(g: np.ndarray, n: tuple) -> tuple:
        ga = gb = None
        if n[0]:  # g's free-b axes against b's free axes; what is left is b's contracted axes, in b's order
            r = np.tensordot(g, b, axes=(list(range(nfa, g.ndim)), free_b))
            order = free_a + [ax_a[ax_b.index(j)] for j in sorted(ax_b)]
            ga = np.transpose(r, np.argsort(order))
        if n[1]:
            r = np.tensordot(a, g, axes=(free_a, list(range(nfa))))
            order = [ax_b[ax_a.index(i)] for i in sorted(ax_a)] + free_b
            gb = np.transpose(r, np.argsort(order))
        return ga, gb

    return node(np.tensordot(a, b, axes=(ax_a, ax_b)), (x1, x2), rule)


def dot(x1: Any, x2: Any) -> Any:
    """``np.dot``: a scalar operand multiplies; 1-D/2-D operands as ``matmul``; N-D sums over the last axis of
    ``x1`` and the second-to-last of ``x2``."""
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        return np.dot(x1, x2)
    nda, ndb = np.ndim(value(x1)), np.ndim(value(x2))
    if nda == 0 or ndb == 0:
        return ew.multiply(x1, x2)
    if ndb == 1 or (nda <= 2 and ndb <= 2):
        return matmul(x1, x2)
    return tensordot(x1, x2, axes=([nda - 1], [ndb - 2]))


def outer(x1: Any, x2: Any) -> Any:
    """Outer product of the flattened inputs: ``(n,), (m,) -> (n, m)``."""
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        return np.outer(x1, x2)
    return ew.multiply(shapes.reshape(x1, (-1, 1)), shapes.reshape(x2, (1, -1)))


def _explicit(subscripts: str, ndims: Sequence[int]) -> tuple[list[str], str]:
    """Input and output subscripts with ``...`` spelled out as letters and the implicit output made explicit."""
    s = subscripts.replace(" ", "")
    ins, arrow, out_part = s.partition("->")
    out: str | None = out_part if arrow else None
    subs = ins.split(",")
    if len(subs) != len(ndims):
        raise InvalidValueError(f"einsum subscripts {subscripts!r} name {len(subs)} operands, got {len(ndims)}")
    free = [c for c in string.ascii_letters if c not in s]
    n_ell = max([nd - len(sub.replace("...", "")) for sub, nd in zip(subs, ndims) if "..." in sub], default=0)
    ell = "".join(free[:n_ell])
    subs = [sub.replace("...", ell[n_ell - (nd - len(sub) + 3):]) for sub, nd in zip(subs, ndims)]
    if out is None:
        letters = "".join(subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return subs, out


def einsum(subscripts: str, *operands: Any) -> Any:
    """``np.einsum``: contractions written with index letters, e.g. ``"bij,bjk->bik"``, ``"...d,d->..."``.

    Differentiable for any contraction in which no operand repeats an index (no traces or diagonals).
    """
    if not any(isinstance(o, Tensor) for o in operands):
        return np.einsum(subscripts, *operands)
    data = [np.asarray(value(o)) for o in operands]
    subs, out_sub = _explicit(subscripts, [d.ndim for d in data])
    for o, sub in zip(operands, subs):
        if isinstance(o, Tensor) and o.requires_grad and len(set(sub)) != len(sub):
            raise InvalidValueError(f"einsum {subscripts!r}: the gradient of an operand that repeats an index "
                                    f"({sub!r}, a trace or diagonal) is not supported; use distinct letters")
    out = np.einsum(f"{','.join(subs)}->{out_sub}", *data)

    def rule(g: np.ndarray, n: tuple) -> tuple:
        grads: list[Any] = []
        for i, (sub, d) in enumerate(zip(subs, data)):
            if not n[i]:
                grads.append(None)
                continue
            others = [out_sub] + subs[:i] + subs[i + 1:]
            present = set("".join(others))
            target = "".join(c for c in sub if c in present)  # letters only this operand has are summed out
            r = np.einsum(f"{','.join(others)}->{target}", g, *data[:i], *data[i + 1:])
            if target != sub:
                r = np.reshape(r, [r.shape[target.index(c)] if c in target else 1 for c in sub])
                r = np.broadcast_to(r, np.broadcast_shapes(r.shape, d.shape))
            grads.append(r)
        return tuple(grads)

    return node(out, tuple(operands), rule)
