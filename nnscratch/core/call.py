"""``Call``: the record of one call of a layer — everything its backward needs, and nothing a layer keeps.

A layer owns its weights; what one forward call computes for its backward (the input, a mask, the
column matrix of a convolution) is stored on the ``Call`` of that call. A layer used at two places of a
graph is called with two ``Call`` objects, so each backward sees its own forward, and the gradients of
the shared weights add up. Scratch buffers live on the call too (``Call.ws``), so a buffer a layer
reuses for speed never overwrites an output or a gradient of another call.

A graph keeps one ``Call`` per node and reuses it every step (the buffers are reused with it); a layer
called directly (``layer.forward(x)`` / ``layer.backward(dy)``) uses a call of its own, one at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .workspace import Workspace


class Call:
    """Per-call state: ``training``, whether the caller needs the input gradient, scratch buffers.

    ``input_grad`` is ``False`` when nothing upstream needs dL/dx (the first layers of a model): the
    layer's backward may then return ``None`` and skip that product. Layers put whatever else their
    backward needs on the record as attributes (``ctx.x = x``); ``sub(key)`` gives a nested record for a
    sub-layer (a layer's activation, a nested model's nodes), kept from call to call like this one.
    """

    if TYPE_CHECKING:  # for the type checker only: a record holds whatever attributes its layer put on it
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self, training: bool = False, input_grad: bool = True) -> None:
        self.training = training
        self.input_grad = input_grad
        self.ws = Workspace()
        self._subs: dict[Any, Call] = {}
        # Scalars layers added to the loss in this call (``add_loss``), shared with every nested record,
        # and the factor their gradient gets in backward (the trainer's weight of this batch's loss).
        self.losses: list[float] = []
        self.loss_scale = 1.0
        # The input's mask (N, T) (a list for several inputs), set by the graph before the call when the input
        # carries one (nnscratch.core.masking); None otherwise.
        self.mask: Any = None
        # After a graph's forward on this record (a model's call): the masks (N, T) of its outputs, one per output
        # (None for an output without one), or None when no tensor of the graph carries a mask. The trainer weighs
        # the losses and metrics of a masked output with it.
        self.output_masks: list[Any] | None = None

    def sub(self, key: Any, input_grad: bool | None = None) -> Call:
        """The nested record ``key`` (created on first use), with this call's ``training`` mode."""
        child = self._subs.get(key)
        if child is None:
            child = self._subs[key] = Call(self.training, self.input_grad)
            child.losses = self.losses
        child.training, child.loss_scale = self.training, self.loss_scale
        child.input_grad = self.input_grad if input_grad is None else input_grad
        return child

    def recorded(self, key: Any) -> Call:
        """The nested record ``key`` as forward left it (backward reads it; ``sub`` would reset its mode)."""
        return self._subs[key]

    def __repr__(self) -> str:
        return f"Call(training={self.training}, input_grad={self.input_grad})"
