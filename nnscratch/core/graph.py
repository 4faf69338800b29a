"""``Graph``: runs the nodes between a model's inputs and outputs, forward and backward.

The nodes are put in an order where each comes after the nodes it reads from (a topological order).
Every tensor gets a slot; forward fills the slots, backward walks the steps in reverse and *adds* the
gradients of a tensor read by several nodes (a fork, a residual connection, a shared layer).

Each node has its own ``Call`` record under the model call's record (``ctx.sub(key)``), so a layer used
at two nodes, or a whole model called twice inside another, keeps each call's state apart.

The plan of steps is derived from the nodes: fusions registered in ``nnscratch.core.rewrites`` replace
pairs of nodes, and each step knows whether its input gradient is needed (not when everything upstream
is a model input or a layer without trainable weights): the first layer of a model skips dL/dx.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import rewrites
from .call import Call
from .errors import InvalidTypeError, InvalidValueError
from .layer import Layer
from .masking import output_masked
from .tensor import Node, SymbolicTensor


@dataclass
class Step:
    layer: Any
    in_slots: list[int]
    out_slots: list[int]
    several_inputs: bool
    several_outputs: bool
    key: Any
    input_grad: bool = True
    fusion: str | None = None
    training: bool | None = None  # the node's pinned mode (``layer(x, training=False)``), None: the call's
    masks: bool = False  # an input or output carries a mask (nnscratch.core.masking)
    simple: bool = field(init=False)  # one tensor in, one out

    def __post_init__(self) -> None:
        self.simple = not self.several_inputs and not self.several_outputs


@dataclass
class Plan:
    steps: list[Step]
    needs_grad: list[bool]  # per slot: some step before it has trainable weights (or a model input needs one)
    producer: dict[int, Step] = field(init=False)  # the step that writes each slot
    has_masks: bool = field(init=False)  # some step's input or output carries a mask

    def __post_init__(self) -> None:
        self.producer = {s: step for step in self.steps for s in step.out_slots}
        self.has_masks = any(step.masks for step in self.steps)


def _as_list(tensors: Any, what: str) -> list[SymbolicTensor]:
    items = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    for i, t in enumerate(items):
        if not isinstance(t, SymbolicTensor):
            raise InvalidTypeError(f"Model {what}[{i}] must be a symbolic tensor (from nn.Input or a layer called "
                                   f"on one), got {type(t).__name__}")
    if not items:
        raise InvalidValueError(f"Model needs at least one tensor in {what}")
    return items


class Graph:
    """The nodes from ``inputs`` to ``outputs`` (symbolic tensors), ready to run on arrays."""

    def __init__(self, inputs: Any, outputs: Any) -> None:
        self.inputs = _as_list(inputs, "inputs")
        self.outputs = _as_list(outputs, "outputs")
        for i, t in enumerate(self.inputs):
            if t.node is not None:
                raise InvalidValueError(f"Model inputs[{i}] is the output of layer '{t.node.layer.name}', not an "
                                        f"nn.Input; build the model from the Input tensors")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise InvalidValueError("Model inputs lists the same Input twice")
        self.nodes = self._ordered_nodes()
        slot = {id(t): i for i, t in enumerate(self.inputs)}
        self.steps: list[Step] = []
        for k, node in enumerate(self.nodes):
            for t in node.outputs:
                slot[id(t)] = len(slot)
            masks = any(t.masked for t in (*node.inputs, *node.outputs))
            self.steps.append(Step(node.layer, [slot[id(t)] for t in node.inputs], [slot[id(t)] for t in node.outputs],
                                   node.several_inputs, node.several_outputs, k, training=node.training, masks=masks))
        self.n_slots = len(slot)
        self.has_masks = any(step.masks for step in self.steps)
        self.input_slots = list(range(len(self.inputs)))
        self.output_slots = [slot[id(t)] for t in self.outputs]
        self.consumers = [0] * self.n_slots
        for step in self.steps:
            for s in step.in_slots:
                self.consumers[s] += 1
        self.layers: list[Any] = []
        for step in self.steps:
            if all(step.layer is not layer for layer in self.layers):
                self.layers.append(step.layer)
        for layer in self.layers:
            if layer.keeps_call_state and sum(step.layer is layer for step in self.steps) > 1:
                raise InvalidValueError(f"layer '{layer.name}' ({type(layer).__name__}) keeps its call state on "
                                        f"itself (it overrides forward/backward), so it cannot be called twice in one "
                                        f"model; implement forward_call/backward_call to share it")
        self._plans: dict[Any, Plan] = {}
        self._version = -1
        self._fused: dict[tuple[int, int], Any] = {}
        self._masked: dict[tuple[bool, ...], tuple[list[Step], list[bool]]] = {}

    def _ordered_nodes(self) -> list[Node]:
        """The nodes the outputs depend on, each after the nodes it reads from (iterative depth-first)."""
        inputs = {id(t) for t in self.inputs}
        order: list[Node] = []
        state: dict[int, int] = {}  # 1: on the stack, 2: placed
        for out in self.outputs:
            stack: list[tuple[SymbolicTensor, bool]] = [(out, False)]
            while stack:
                t, expanded = stack.pop()
                node = t.node
                if node is None:
                    if id(t) not in inputs:
                        raise InvalidValueError(f"Model outputs depend on the input '{t.name}', which is not among the "
                                                f"model's inputs")
                    continue
                if expanded:
                    if state.get(id(node)) != 2:
                        state[id(node)] = 2
                        order.append(node)
                    continue
                if state.get(id(node)) == 2:
                    continue
                state[id(node)] = 1
                stack.append((t, True))
                for t_in in reversed(node.inputs):
                    if t_in.node is not None and state.get(id(t_in.node)) == 1:
                        raise InvalidValueError("the graph has a cycle")
                    stack.append((t_in, False))
        return order

    # ------------------------------------------------------------------ plans
    def plan(self, input_grad: bool, use_rewrites: bool = True, input_masked: tuple[bool, ...] = ()) -> Plan:
        """The steps to run, fused where a fusion applies, each knowing whether its input gradient is needed;
        with ``input_masked`` (one flag per input, some True), each knowing whether a mask reaches it from them."""
        if self._version != Layer.trainable_version:  # a layer was frozen or unfrozen: plan again
            self._plans.clear()
            self._version = Layer.trainable_version
        key = (input_grad, use_rewrites, input_masked)
        plan = self._plans.get(key)
        if plan is None:
            steps = self.masked_steps(input_masked)[0] if input_masked else self.steps
            plan = self._plans[key] = self._make_plan(input_grad, use_rewrites, steps)
        return plan

    def masked_steps(self, input_masked: tuple[bool, ...]) -> tuple[list[Step], list[bool]]:
        """The steps, and whether each output carries a mask, when the inputs carry masks where ``input_masked``
        says (a model nested in another gets its caller's masks): ``output_masked`` for each node in turn, as
        when the model was put together, so a layer that drops a mask warns and one that refuses it raises."""
        known = self._masked.get(input_masked)
        if known is not None:
            return known
        masked = [False] * self.n_slots
        masked[:len(input_masked)] = input_masked
        steps = []
        for step, node in zip(self.steps, self.nodes):
            flags = [masked[s] for s in step.in_slots]
            shapes = [t.sample_shape for t in node.inputs]
            out = (output_masked(step.layer, shapes, flags) if step.several_inputs
                   else output_masked(step.layer, shapes[0], flags[0]))
            out_flags = [bool(f) for f in out] if isinstance(out, list) else [bool(out)] * len(step.out_slots)
            for s, flag in zip(step.out_slots, out_flags):
                masked[s] = flag
            steps.append(replace(step, masks=any(flags) or any(out_flags)))
        known = self._masked[input_masked] = (steps, [masked[s] for s in self.output_slots])
        return known

    def _make_plan(self, input_grad: bool, use_rewrites: bool, steps: list[Step]) -> Plan:
        steps = self._fuse(steps) if use_rewrites else steps
        needs = [False] * self.n_slots
        for s in self.input_slots:
            needs[s] = input_grad
        planned = []
        for step in steps:
            wants = any(needs[s] for s in step.in_slots)
            trains = any(True for _ in step.layer.named_parameters())
            for s in step.out_slots:
                needs[s] = wants or trains
            planned.append(Step(step.layer, step.in_slots, step.out_slots, step.several_inputs,
                                step.several_outputs, step.key, wants, step.fusion, step.training, step.masks))
        return Plan(planned, needs)

    def _fuse(self, steps: list[Step]) -> list[Step]:
        outputs = set(self.output_slots)
        by_input = {s: step for step in steps if not step.several_inputs for s in step.in_slots}
        fused: list[Step] = []
        absorbed: set[int] = set()
        for step in steps:
            if id(step) in absorbed:
                continue
            nxt = None
            if not step.several_outputs and not step.several_inputs and len(step.out_slots) == 1 and not step.masks:
                s = step.out_slots[0]
                if self.consumers[s] == 1 and s not in outputs:
                    nxt = by_input.get(s)
            fusion = (rewrites.find_fusion(step.layer, nxt.layer)
                      if nxt is not None and nxt.training == step.training else None)
            if fusion is None:
                fused.append(step)
                continue
            assert nxt is not None  # a fusion was found for the pair
            pair = (id(step.layer), id(nxt.layer))
            if pair not in self._fused:
                self._fused[pair] = fusion.make(step.layer, nxt.layer)
            fused.append(Step(self._fused[pair], step.in_slots, nxt.out_slots, False, False,
                              (step.key, nxt.key), fusion=fusion.name, training=step.training))
            absorbed.add(id(nxt))
        return fused

    # ------------------------------------------------------------------ running
    def forward(self, ctx: Call, xs: list[np.ndarray], use_rewrites: bool = True,
                input_masks: list[Any] | None = None) -> list[np.ndarray]:
        """The outputs for the input arrays ``xs`` (with ``input_masks``, one ``(N, T)`` mask or None per input:
        the masks they carry); each node's record goes under ``ctx``, and the outputs' masks on
        ``ctx.output_masks`` (None when the graph has no masks)."""
        pattern: tuple[bool, ...] = ()
        if input_masks is not None and any(m is not None for m in input_masks):
            pattern = tuple(m is not None for m in input_masks)
        plan = ctx.plan = self.plan(ctx.input_grad, use_rewrites, pattern)
        values: list[Any] = [None] * self.n_slots
        values[:len(xs)] = xs
        if plan.has_masks:
            return self._forward_masked(ctx, plan, values, input_masks)
        ctx.output_masks = None
        sub = ctx.sub
        for step in plan.steps:
            record = sub(step.key, step.input_grad)
            if step.training is not None:
                record.training = step.training
            if step.simple:
                values[step.out_slots[0]] = step.layer.forward_call(record, values[step.in_slots[0]])
                continue
            x = [values[s] for s in step.in_slots] if step.several_inputs else values[step.in_slots[0]]
            y = step.layer.forward_call(record, x)
            if step.several_outputs:
                for s, v in zip(step.out_slots, y):
                    values[s] = v
            else:
                values[step.out_slots[0]] = y
        return [values[s] for s in self.output_slots]

    def _forward_masked(self, ctx: Call, plan: Plan, values: list[Any], input_masks: list[Any] | None
                        ) -> list[np.ndarray]:
        """``forward`` with each tensor's mask beside its values: a step's input masks go on its record
        (``record.mask``), its outputs' masks are what its call left on the record (``record.output_masks``: a
        nested model's) or else its ``compute_mask``'s, and the graph outputs' masks go on ``ctx.output_masks``
        (one per output, None where it has none)."""
        masks: list[Any] = [None] * self.n_slots
        if input_masks is not None:
            masks[:len(input_masks)] = input_masks
        for step in plan.steps:
            record = ctx.sub(step.key, step.input_grad)
            if step.training is not None:
                record.training = step.training
            x = [values[s] for s in step.in_slots] if step.several_inputs else values[step.in_slots[0]]
            mask = [masks[s] for s in step.in_slots] if step.several_inputs else masks[step.in_slots[0]]
            record.mask = mask if step.masks else None
            y = step.layer.forward_call(record, x)
            out_masks = None
            if step.masks:
                out_masks = record.output_masks
                if out_masks is None:
                    out_masks = step.layer.compute_mask(x, mask)
            outs = list(y) if step.several_outputs else [y]
            out_masks = list(out_masks) if isinstance(out_masks, (list, tuple)) else [out_masks] * len(outs)
            for s, v, m in zip(step.out_slots, outs, out_masks):
                values[s], masks[s] = v, m
        ctx.output_masks = [masks[s] for s in self.output_slots]
        return [values[s] for s in self.output_slots]

    def backward(self, ctx: Call, grads: list[np.ndarray | None], from_logits: frozenset[int] = frozenset()
                 ) -> list[np.ndarray | None]:
        """dL/d(inputs) from dL/d(outputs) (None: no gradient reaches that output) of the call in ``ctx``.

        For an output index in ``from_logits`` the gradient is with respect to the logits of its final
        activation (``output_logits``), and backward starts below that activation."""
        plan: Plan = ctx.plan
        needs, subs = plan.needs_grad, ctx._subs
        g: list[Any] = [None] * self.n_slots
        logits_steps = {}
        for i, (s, grad) in enumerate(zip(self.output_slots, grads)):
            if grad is None:
                continue
            if i in from_logits:
                logits_steps[s] = grad
            else:
                g[s] = grad if g[s] is None else g[s] + grad
        for step in reversed(plan.steps):
            sub = subs[step.key]
            if step.simple:  # one tensor in, one out: the common case, without the lists below
                out = step.out_slots[0]
                if logits_steps and out in logits_steps:
                    dx = step.layer.backward_from_logits(sub, logits_steps[out])
                elif g[out] is None:
                    continue
                else:
                    dx = step.layer.backward_call(sub, g[out])
                s = step.in_slots[0]
                if step.input_grad and dx is not None and needs[s]:
                    g[s] = dx if g[s] is None else g[s] + dx
                continue
            if not step.several_outputs and step.out_slots[0] in logits_steps:
                dx = step.layer.backward_from_logits(sub, logits_steps[step.out_slots[0]])
            else:
                outs = [g[s] for s in step.out_slots]
                if all(o is None for o in outs):
                    continue
                dx = step.layer.backward_call(sub, outs if step.several_outputs else outs[0])
            if not step.input_grad or dx is None:
                continue
            for s, d in zip(step.in_slots, dx if step.several_inputs else [dx]):
                if d is not None and needs[s]:
                    g[s] = d if g[s] is None else g[s] + d
        return [g[s] for s in self.input_slots]

    def output_step(self, i: int) -> Step | None:
        """The plain step that produces output ``i``, if no other node reads that tensor (for loss fusion)."""
        s = self.output_slots[i]
        if self.consumers[s] or s in self.input_slots or self.output_slots.count(s) > 1:
            return None
        for step in self.steps:
            if s in step.out_slots and not step.several_outputs:
                return step
        return None

    def output_logits(self, ctx: Call, i: int) -> np.ndarray:
        """The logits (the final activation's input) of output ``i`` in the call recorded in ``ctx``."""
        step = ctx.plan.producer[self.output_slots[i]]
        return step.layer.logits(ctx.recorded(step.key))
