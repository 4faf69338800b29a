"""``ContiguousParameters``: parameters whose ``data`` and ``grad`` are views of one flat buffer each.

An element-wise optimizer (SGD, RMSprop, Adam...) does the same arithmetic on every number of every
parameter. With the parameters side by side in one vector, a step is a handful of NumPy calls over that
vector instead of a handful per parameter: for a small network the per-call overhead was most of the
step.

``attach`` moves each parameter's ``data`` and ``grad`` into the buffers once (the values are kept; the
arrays become views, so code holding the old array objects across ``compile`` holds copies). If anything
later rebinds a parameter's arrays (another optimizer packing them, ``p.data = ...``), ``intact()`` turns
false and the optimizer falls back to updating parameter by parameter: never a silent no-op.
"""

from __future__ import annotations

from operator import attrgetter, is_

import numpy as np

from ..core.parameter import Parameter

_DATA, _GRAD = attrgetter("data"), attrgetter("_grad")


class ContiguousParameters:
    """``data`` and ``grad``: flat vectors ``(total,)`` whose pieces are the parameters' arrays."""

    def __init__(self, params: list[Parameter]) -> None:
        dtype = params[0].data.dtype
        self.params = params
        self.sizes = [p.data.size for p in params]
        self.offsets = np.cumsum([0, *self.sizes]).tolist()
        self.data = np.empty(self.offsets[-1], dtype)
        self.grad = np.empty(self.offsets[-1], dtype)
        for p, view_data, view_grad in zip(params, self.views(self.data), self.views(self.grad)):
            view_data[...] = p.data
            view_grad[...] = p._grad
            p.data, p._grad = view_data, view_grad
        self._data_views = [p.data for p in params]
        self._grad_views = [p._grad for p in params]

    @staticmethod
    def packable(params: list[Parameter]) -> bool:
        """At least two parameters, one floating dtype, and no two sharing memory (tied arrays stay tied)."""
        if len(params) < 2 or len({p.data.dtype for p in params}) != 1:
            return False
        spans = sorted((p.data.__array_interface__["data"][0], p.data.nbytes) for p in params)
        return all(start + size <= nxt for (start, size), (nxt, _) in zip(spans, spans[1:]))

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """``flat`` (a vector like ``data``) cut into arrays shaped like the parameters."""
        return [flat[a:b].reshape(p.data.shape) for p, a, b in zip(self.params, self.offsets, self.offsets[1:])]

    def intact(self) -> bool:
        """Every parameter's ``data`` and ``grad`` are still the views made at packing."""
        params = self.params
        return (all(map(is_, map(_DATA, params), self._data_views))
                and all(map(is_, map(_GRAD, params), self._grad_views)))

    def zero_grad(self) -> None:
        """Every gradient marked zero (``Parameter.zero_grad``): no pass over the vector."""
        for p in self.params:
            p.grad_is_zero = True

    def gradients(self) -> np.ndarray:
        """``grad``, the pieces of the parameters that got no gradient since ``zero_grad`` set to zero."""
        for p, view in zip(self.params, self._grad_views):
            if p.grad_is_zero:
                view.fill(0)
        return self.grad
