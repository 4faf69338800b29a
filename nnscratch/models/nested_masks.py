"""A graph model called inside another takes its inputs' Keras masks into its graph, as Keras 3 does.

A masked input (``Embedding(mask_zero=True)`` or ``Masking`` upstream of the nested model) reaches the nested
model's layers as it would if they were in the outer graph: its graph is planned for inputs with masks
(``Graph.masked_steps``: a layer inside that drops the mask warns, one that refuses it raises), the call runs
with them, and the outputs' masks it computes go on to the outer graph (``record.output_masks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.call import Call
from ..core.graph import Graph


class NestedMasks:
    """What ``Model`` does with masks its caller passes in (a mixin)."""

    if TYPE_CHECKING:  # Model's
        several_inputs: bool
        several_outputs: bool
        rewrites: bool

        def _graph(self) -> Graph: ...
        def input_list(self, x: Any) -> list[Any]: ...

    supports_masking = True  # every graph model

    @staticmethod
    def call_masks(ctx: Call) -> list[Any] | None:
        """The masks of a call's inputs (one per input, None where it has none), or None when none has one."""
        mask = ctx.mask
        if mask is None:  # (every top-level call: nothing to pass on)
            return None
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        return masks if any(m is not None for m in masks) else None

    def outputs_masked(self, input_shape: Any, masked: Any) -> Any:
        """Whether each output carries a mask when the inputs carry one where ``masked`` says: the graph's flags."""
        _, out = self._graph().masked_steps(tuple(bool(f) for f in (masked if isinstance(masked, list) else [masked])))
        return out if self.several_outputs else out[0]

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The outputs' masks for ``inputs`` carrying ``mask`` (as ``forward_call`` takes them): None where the graph
        gives an output none; else the masks of an inference call on ``inputs``. (In a graph the model's own call
        leaves them on its record, and the graph takes those: this runs only when called by itself.)"""
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask]
        graph = self._graph()
        _, masked = graph.masked_steps(tuple(m is not None for m in masks))
        out: list[Any] = [None] * len(masked)
        if any(masked):
            ctx = Call()
            graph.forward(ctx, self.input_list(inputs), self.rewrites, masks)
            out = ctx.output_masks or out
        return out if self.several_outputs else out[0]
