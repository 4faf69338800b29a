"""The traced ``Tensor`` and the reverse pass (backpropagation over the recorded graph).

A ``Tensor`` wraps a NumPy array (``data``). An op applied to a Tensor that ``requires_grad`` returns a
new Tensor that remembers its inputs and a *backward rule*: ``rule(g, needs) -> tuple of input grads``,
where ``g`` is dLoss/dout (shape of the output) and ``needs[i]`` says whether input ``i`` wants a
gradient (an expensive product for an input that wants none is skipped). The graph is the tape: each
output points to its inputs, nothing else is stored.

``backprop`` visits the nodes reachable from the targets in decreasing *generation* (a node's generation
is one more than its newest input's), so every node has received the gradients of all its consumers
before it passes them on; no recursion, so graphs of any depth work. Gradients of a value used twice are
summed; gradients whose shape was broadcast in the forward pass are summed back to the input's shape
(``unbroadcast``) and cast to the input's dtype, so a rule may simply return ``g * something``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import numpy as np

from ..core.errors import DTypeError, InvalidTypeError, InvalidValueError, ShapeError

Rule = Callable[[np.ndarray, tuple], tuple]


class _GradMode:
    """Whether ops record (module-wide switch flipped by ``no_grad`` / ``enable_grad``)."""

    enabled = True


def is_grad_enabled() -> bool:
    """True when ops on Tensors that require grad are recorded (the default)."""
    return _GradMode.enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside, ops on Tensors compute values only (outputs have ``requires_grad=False``)."""
    old, _GradMode.enabled = _GradMode.enabled, False
    try:
        yield
    finally:
        _GradMode.enabled = old


@contextmanager
def enable_grad() -> Iterator[None]:
    """Inside, ops record again (undoes an enclosing ``no_grad``)."""
    old, _GradMode.enabled = _GradMode.enabled, True
    try:
        yield
    finally:
        _GradMode.enabled = old


def as_array(value: Any, dtype: Any = None) -> np.ndarray:
    """``value`` as an ndarray; Python floats and lists of them become float32 (the default float)."""
    if isinstance(value, np.ndarray):
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    arr = np.asarray(value, dtype=dtype)
    if dtype is None and not isinstance(value, np.generic) and arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    if arr.dtype == object:
        raise DTypeError(f"cannot make a Tensor from {type(value).__name__}: expected numbers or a numeric array")
    return arr


class Tensor:
    """A NumPy array that records the ops applied to it, for reverse-mode differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is kept as an ndarray (not copied when it
    already is one; Python floats become float32). ``requires_grad=True`` makes it a leaf whose gradient
    ``backward()`` accumulates into ``.grad``. Operators (``+ - * / // % ** @``, comparisons, ``[...]``, ``.T``)
    and ``.shape``, ``.ndim``, ``.dtype``, ``.size`` work as on arrays, with NumPy broadcasting.
    """

    __slots__ = ("__weakref__", "_gen", "_inputs", "_needs", "_rule", "data", "grad", "requires_grad")
    __array_ufunc__ = None  # ``ndarray + Tensor`` defers to Tensor.__radd__ instead of converting

    # Operators and array-like methods are attached by ``operators.py`` (they call the ops modules).
    __add__: Callable[..., Tensor]
    __radd__: Callable[..., Tensor]
    __sub__: Callable[..., Tensor]
    __rsub__: Callable[..., Tensor]
    __mul__: Callable[..., Tensor]
    __rmul__: Callable[..., Tensor]
    __truediv__: Callable[..., Tensor]
    __rtruediv__: Callable[..., Tensor]
    __floordiv__: Callable[..., Tensor]
    __rfloordiv__: Callable[..., Tensor]
    __mod__: Callable[..., Tensor]
    __rmod__: Callable[..., Tensor]
    __pow__: Callable[..., Tensor]
    __rpow__: Callable[..., Tensor]
    __matmul__: Callable[..., Tensor]
    __rmatmul__: Callable[..., Tensor]
    __neg__: Callable[..., Tensor]
    __pos__: Callable[..., Tensor]
    __abs__: Callable[..., Tensor]
    __getitem__: Callable[..., Tensor]
    __lt__: Callable[..., Tensor]
    __le__: Callable[..., Tensor]
    __gt__: Callable[..., Tensor]
    __ge__: Callable[..., Tensor]
    __eq__: Callable[..., Tensor]  # type: ignore[assignment]
    __ne__: Callable[..., Tensor]  # type: ignore[assignment]
    __and__: Callable[..., Tensor]
    __or__: Callable[..., Tensor]
    __invert__: Callable[..., Tensor]
    data: np.ndarray
    T: Tensor
    reshape: Callable[..., Tensor]
    transpose: Callable[..., Tensor]
    astype: Callable[..., Tensor]
    sum: Callable[..., Tensor]
    mean: Callable[..., Tensor]
    max: Callable[..., Tensor]
    min: Callable[..., Tensor]

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise DTypeError(f"only floating-point Tensors can require gradients, got dtype {self.data.dtype}; "
                             f"cast first, e.g. Tensor(x.astype('float32'), requires_grad=True)")
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._inputs: tuple = ()
        self._needs: tuple = ()
        self._rule: Rule | None = None
        self._gen = 0

    __hash__ = object.__hash__  # identity, as ``==`` is element-wise

    # ---------------------------------------------------------------- array-like properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for Tensors made by the user (not the output of a recorded op)."""
        return self._rule is None

    def __len__(self) -> int:
        return len(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.requires_grad:
            raise InvalidTypeError("a Tensor that requires grad cannot be turned into a NumPy array silently "
                                   "(its gradient would be lost); use nnscratch.ops functions on it, or "
                                   "ops.convert_to_numpy(t) / t.numpy() to take its value")
        return self.data if dtype is None else self.data.astype(dtype)

    def numpy(self) -> np.ndarray:
        """The value as an ndarray (shares memory with the Tensor)."""
        return self.data

    def item(self) -> Any:
        return self.data.item()

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, threshold=20)}, dtype={self.data.dtype}{grad})"

    # ---------------------------------------------------------------- differentiation
    def detach(self) -> Tensor:
        """The same value, cut from the graph (no gradient flows through it)."""
        return Tensor(self.data)

    def backward(self, grad: Any = None) -> None:
        """Add d(self)/d(leaf) into ``leaf.grad`` for every leaf Tensor with ``requires_grad``.

        ``grad`` is the gradient of the final quantity with respect to ``self`` (same shape); by default
        ones, i.e. the gradient of ``sum(self)``. Leaf grads accumulate across calls, as in PyTorch.
        """
        if not self.requires_grad:
            raise InvalidValueError("backward() on a Tensor that does not require grad: no input with "
                                    "requires_grad=True reaches it (or it was computed under no_grad)")
        g = np.ones_like(self.data) if grad is None else _seed_grad(self, grad)
        leaves: list[Tensor] = []
        results = backprop([self], [g], leaves, collect_leaves=True)
        for leaf, lg in zip(leaves, results):
            if lg is not None:
                leaf.grad = _owned(lg) if leaf.grad is None else leaf.grad + lg


def _seed_grad(target: Tensor, grad: Any) -> np.ndarray:
    g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=target.data.dtype)
    if g.shape != target.data.shape:
        g = np.broadcast_to(g, target.data.shape) if g.ndim == 0 else g
        if g.shape != target.data.shape:
            raise ShapeError(f"output gradient of shape {g.shape} given for a Tensor of shape {target.data.shape}; "
                             "expected the same shape")
    return g


def _owned(g: np.ndarray) -> np.ndarray:
    """A writeable contiguous array (a rule may return a read-only broadcast view)."""
    return g if g.flags.writeable and g.flags.c_contiguous else np.array(g)


def wrap(data: np.ndarray) -> Tensor:
    """A constant Tensor around ``data`` (no checks, no copy)."""
    t = Tensor.__new__(Tensor)
    t.data, t.requires_grad, t.grad = data, False, None
    t._inputs, t._needs, t._rule, t._gen = (), (), None, 0
    return t


def node(data: Any, inputs: tuple, rule: Rule) -> Tensor:
    """The output Tensor of an op: ``data`` plus, when an input requires grad, the link to ``inputs``.

    ``inputs`` may mix Tensors and plain values; ``rule(g, needs)`` returns one gradient (or None) per input.
    """
    t = Tensor.__new__(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad = None
    if _GradMode.enabled:
        needs = tuple([isinstance(i, Tensor) and i.requires_grad for i in inputs])
        if True in needs:
            t.requires_grad, t._inputs, t._needs, t._rule = True, inputs, needs, rule
            t._gen = 1 + max([i._gen for i, n in zip(inputs, needs) if n])
            return t
    t.requires_grad, t._inputs, t._needs, t._rule, t._gen = False, (), (), None, 0
    return t


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, so it gets ``shape``."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != shape else g


def backprop(targets: Sequence[Tensor], grads: Sequence[np.ndarray], sources: list[Tensor],
             collect_leaves: bool = False) -> list[np.ndarray | None]:
    """Gradients of ``sum_i <targets[i], grads[i]>`` with respect to each of ``sources`` (None if unreached).

    With ``collect_leaves``, ``sources`` is filled with every leaf that requires grad (for ``backward``).
    """
    nodes: list[Tensor] = []
    stack = [t for t in targets if t.requires_grad]
    seen = {id(t) for t in stack}
    while stack:  # every recorded node reachable from the targets
        t = stack.pop()
        if t._rule is None:
            if collect_leaves:
                sources.append(t)
            continue
        nodes.append(t)
        for i, need in zip(t._inputs, t._needs):
            if need and id(i) not in seen:
                seen.add(id(i))
                stack.append(i)
    nodes.sort(key=_generation, reverse=True)

    wanted = {id(s): k for k, s in enumerate(sources)}
    results: list[np.ndarray | None] = [None] * len(sources)
    acc: dict[int, np.ndarray] = {}
    for t, g in zip(targets, grads):
        if t.requires_grad:
            _accumulate(acc, t, g)
    for t in nodes:
        g = acc.pop(id(t), None)  # type: ignore[arg-type]
        if g is None:
            continue
        if wanted:
            k = wanted.get(id(t))
            if k is not None:
                results[k] = g
        for inp, need, gi in zip(t._inputs, t._needs, t._rule(g, t._needs)):  # type: ignore[misc]
            if need and gi is not None:
                data = inp.data
                if type(gi) is not np.ndarray:
                    gi = np.asarray(gi)
                if gi.shape != data.shape:
                    gi = unbroadcast(gi, data.shape)
                if gi.dtype != data.dtype:
                    gi = gi.astype(data.dtype)
                prev = acc.get(id(inp))
                acc[id(inp)] = gi if prev is None else prev + gi
    for k, s in enumerate(sources):  # leaves (and sources no node consumed)
        if results[k] is None and id(s) in acc:
            results[k] = acc[id(s)]
    return results


_generation = attrgetter("_gen")


def _accumulate(acc: dict[int, np.ndarray], t: Tensor, g: Any) -> None:
    """Add ``g`` (summed to ``t``'s shape, cast to its dtype) to ``acc[id(t)]``."""
    data = t.data
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.shape != data.shape:
        g = unbroadcast(g, data.shape)
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    prev = acc.get(id(t))
    acc[id(t)] = g if prev is None else prev + g


def value(x: Any) -> Any:
    """The array behind ``x``: a Tensor's data; arrays and Python numbers as they are; lists as arrays."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (np.ndarray, np.generic, int, float, bool)):
        return x
    return np.asarray(x)
