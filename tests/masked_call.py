"""A test-only wrapper that calls a layer with masks on its call record, as a graph does for masked inputs."""

from __future__ import annotations

from typing import Any

import nnscratch as nn
from nnscratch.core.call import Call


class Masked(nn.Layer):
    """Runs ``inner`` with ``masks`` on its record (``ctx.mask``): one ``(N, T)`` array or None, or one per input."""

    checks_dtype = False  # inner checks

    def __init__(self, inner: nn.Layer, masks: Any) -> None:
        super().__init__()
        self.inner, self.masks = inner, masks

    def forward_call(self, ctx: Call, x: Any) -> Any:
        record = ctx.sub("inner")
        record.mask = self.masks
        return self.inner.forward_call(record, x)

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        return self.inner.backward_call(ctx.recorded("inner"), grad_out)
