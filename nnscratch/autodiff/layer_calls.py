"""Layers written with ``call`` and ``nnscratch.ops``: run once per call on the tape, differentiated by it.

A layer that defines ``call(inputs)`` (and ``build`` with ``add_weight``) but no backward becomes a
*traced* layer. Each call runs ``call`` through ``vjp``, with the layer's own trainable weights watched:
for the duration of the call, the weight attributes (``self.w``) hold the watched Tensors, so ops on
them are recorded. The backward closure is kept on the call's record (``ctx``): a traced layer used at
two places is exact, like any other. Backward adds the weights' gradients into ``param.grad``.

Inside ``call``, calling another layer (a ``Dense``, a nested custom layer, a model) on a traced Tensor runs
that layer's own forward/backward as one op of the tape, with a record of its own under this call's: a
layer called twice in one ``call`` has two records, and its weights get the sum of both gradients. A
sub-layer with trainable weights is linked to the call's *token* (a watched scalar no op reads), so its
backward runs even when nothing upstream needs the input gradient (the first layers of a model).
``layer(x, training=...)`` inside ``call`` runs that sub-layer in the mode given (else the call's own).
A ``Model`` subclass written with ``call`` runs through ``trace`` (``nnscratch.models.subclassed``).
``add_loss(value)`` inside ``call`` adds a scalar to the training loss; its gradient flows back through
the same tape (``Call.losses`` collects the values for the trainer).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.shapes import is_probing, lazy_shape
from .gradients import vjp
from .tape import Tensor, is_grad_enabled, node


class _Frame:
    """The call being traced on this thread: its record, the count of sub-layer calls, added losses."""

    def __init__(self, ctx: Call, token: Any) -> None:
        self.ctx = ctx
        self.token = token  # a watched scalar: sub-layers with weights hang off it (see the module doc)
        self.calls = 0
        self.losses: list[Any] = []


_local = threading.local()


def _frames() -> list[_Frame]:
    stack = getattr(_local, "frames", None)
    if stack is None:
        stack = _local.frames = []
    return stack


@contextmanager
def tracing(ctx: Call, token: Any) -> Iterator[_Frame]:
    """Within, layers called on traced Tensors record into this call's frame (``ctx``; ``token``: see above)."""
    current = _Frame(ctx, token)
    _frames().append(current)
    try:
        yield current
    finally:
        _frames().pop()


@contextmanager
def weights_as(layer: Layer, names: list[str], values: tuple) -> Iterator[None]:
    """The weight attributes ``names`` hold ``values`` (watched Tensors) for the duration."""
    saved = [getattr(layer, n) for n in names]
    try:
        for n, v in zip(names, values):
            object.__setattr__(layer, n, v)
        yield
    finally:
        for n, v in zip(names, saved):
            object.__setattr__(layer, n, v)


def own_weights(layer: Layer) -> list[tuple[str, Parameter]]:
    """The layer's own trainable weights (sub-layers' weights are updated by the sub-layers themselves)."""
    if not layer.trainable:
        return []
    return [(n, p) for n, p in vars(layer).items() if isinstance(p, Parameter) and p.trainable]


def takes(layer: Layer, argument: str) -> bool:
    """Whether the traced layer's ``call`` takes ``argument`` (``training``, ``mask``), by name or ``**kwargs``."""
    cls = type(layer)
    cached = cls.__dict__.get("_call_arguments")
    if cached is None:
        params = inspect.signature(cast(Any, cls).call).parameters  # a traced layer's class defines call
        cached = (set(params), any(p.kind is p.VAR_KEYWORD for p in params.values()))
        cls._call_arguments = cached  # type: ignore[attr-defined]
    names, any_keyword = cached
    return argument in names or any_keyword


def _sample_shapes(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [tuple(a.shape[1:]) for a in x]
    return tuple(x.shape[1:])


class CallEngine:
    """What ``Layer`` delegates traced layers to (installed as ``Layer.call_engine``)."""

    def forward(self, layer: Layer, ctx: Call, x: Any) -> Any:
        if not layer.built:
            shapes = lazy_shape(_sample_shapes(x))
            batch = [(None, *s) for s in shapes] if isinstance(shapes, list) else (None, *shapes)
            if type(layer).build is not Layer.build:
                type(layer).build(layer, batch)
            layer.input_shape = shapes
        return self.trace(layer, ctx, x)

    def trace(self, layer: Layer, ctx: Call, x: Any) -> Any:
        """Run ``layer.call(x)`` on the tape (the layer is built); the backward is kept on ``ctx``."""
        weights = own_weights(layer)
        names = [n for n, _ in weights]
        kwargs: dict[str, Any] = {"training": ctx.training} if takes(layer, "training") else {}
        if ctx.mask is not None and takes(layer, "mask"):  # Keras passes the input's mask to call(mask=...)
            kwargs["mask"] = ctx.mask
        frame_losses: list[Any] = []

        def fn(inputs: Any, token: Any, *params: Any) -> Any:
            with tracing(ctx, token) as frame, weights_as(layer, names, params):
                out = cast(Any, layer).call(inputs, **kwargs)
                frame_losses.extend(frame.losses)
            if frame_losses:
                total = frame_losses[0]
                for extra in frame_losses[1:]:
                    total = total + extra
                return out, total
            return out

        inputs = x if ctx.input_grad else _constant(x)
        out, back = vjp(fn, inputs, np.zeros((), np.float32), *[p.data for _, p in weights])
        ctx.back, ctx.weights, ctx.has_loss = back, [p for _, p in weights], bool(frame_losses)
        if frame_losses:
            out, added = out
            ctx.losses.append(float(np.asarray(added)))
        out = _plain(out)
        # several outputs: the graph gives None as the gradient of one that nothing reads; backward makes it zeros
        ctx.output_specs = [(o.shape, o.dtype) for o in out] if isinstance(out, list) else None
        return out

    def backward(self, layer: Layer, ctx: Call, grad_out: Any) -> Any:
        if ctx.output_specs is not None and any(g is None for g in grad_out):  # (vjp would read None as ones)
            grad_out = [np.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(grad_out,
                                                                                                 ctx.output_specs)]
        seed = (grad_out, np.asarray(ctx.loss_scale)) if ctx.has_loss else grad_out
        grads = ctx.back(seed)
        for p, g in zip(ctx.weights, grads[2:]):  # after the input and the token
            if g is not None:
                p.grad += g
        dx = grads[0]
        if not ctx.input_grad:
            return None
        return list(dx) if isinstance(dx, (list, tuple)) else dx  # None for an input that gets no gradient

    def recording(self, items: list[Any]) -> bool:
        return bool(_frames()) and any(isinstance(t, Tensor) for t in items)

    def apply(self, layer: Layer, x: Any, training: bool | None = None) -> Any:
        """``layer(x)`` on traced Tensors inside another layer's ``call``: one op of the tape. A layer with several
        outputs (``return_state``, ``return_attention_scores``) is one op giving them joined in one flat array,
        cut back into the outputs by the tape's own slicing: a list of Tensors, each differentiable, whose
        gradients reach the layer's ``backward_call`` together (zeros for an output nothing reads)."""
        frame = _frames()[-1]
        several = isinstance(x, (list, tuple))
        items = list(x) if several else [x]
        wants_dx = any(isinstance(t, Tensor) and t.requires_grad for t in items)
        sub = frame.ctx.sub(("layer", frame.calls), input_grad=wants_dx)
        if training is not None:
            sub.training = bool(training)  # nested records copy it from here
        frame.calls += 1
        arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in items]
        if not layer.built and is_probing():  # built for its sample shape, the variable axes left variable
            layer.build(lazy_shape(_sample_shapes(arrays if several else arrays[0])))
        y = layer.forward_call(sub, arrays if several else arrays[0])
        shapes = [o.shape for o in y] if isinstance(y, (list, tuple)) else None
        if shapes is not None:
            y = np.concatenate([o.reshape(-1) for o in y])
        trains = next(iter(layer.named_parameters()), None) is not None
        inputs = (*items, frame.token) if trains else tuple(items)

        def rule(g: np.ndarray, needs: tuple) -> tuple:
            dx = layer.backward_call(sub, g if shapes is None else _pieces(g, shapes))
            dxs = [None] * len(items) if dx is None else (list(dx) if several else [dx])
            return (*dxs, None) if trains else tuple(dxs)

        out = node(y, inputs, rule) if is_grad_enabled() else Tensor(y)
        return out if shapes is None else _pieces(out, shapes)

    def add_loss(self, layer: Layer, value: Any) -> None:
        frames = _frames()
        if not frames:
            raise InvalidValueError(f"{layer.name}.add_loss must be called inside the layer's call()")
        if np.ndim(value.data if isinstance(value, Tensor) else value) != 0:
            raise InvalidValueError(f"{layer.name}.add_loss expects a scalar (e.g. ops.sum(...)), got shape "
                                    f"{np.shape(value.data if isinstance(value, Tensor) else value)}")
        frames[-1].losses.append(value)


def _pieces(flat: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    """``flat`` (an array, or a Tensor: then by differentiable ops) cut into consecutive pieces of ``shapes``."""
    pieces, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        pieces.append(flat[start:start + size].reshape(shape))
        start += size
    return pieces


def _constant(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_constant(a) for a in x)
    return Tensor(x) if isinstance(x, np.ndarray) else x


def _plain(out: Any) -> Any:
    if isinstance(out, Tensor):
        return out.data
    if isinstance(out, np.ndarray):
        return out
    if isinstance(out, (list, tuple)):
        return [_plain(o) for o in out]
    raise InvalidTypeError(f"a layer's call() must return an array or a list of arrays, got {type(out).__name__}")


Layer.call_engine = CallEngine()
