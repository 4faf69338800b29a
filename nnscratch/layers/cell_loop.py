"""``CellLoop``: a user's cell (``call(inputs, states)`` written with ``keras.ops``) run over the steps of a
sequence on the autodiff tape, as ``RNN`` runs it.

One call is one ``vjp`` over a Python loop on the steps (never on the samples): each step's input
``x[:, t]`` is a leaf of its own (so backward costs one pass, not one full-size gradient per step), the cell's
own trainable weights are watched for the duration (``autodiff.layer_calls``, as for any layer written with
``call``), and layers the cell calls inside ``call`` are one op each with a record of their own, as are its
``add_loss`` values. The states start from the call's initial states, else the cell's ``get_initial_state``
(inside the tape: a learned initial state gets its gradient), else zeros. Backward is the tape's, exact.

Masks (``ctx.mask`` ``(N, T)``, True: a real step; Keras's TensorFlow backend): at a padding step every state
keeps its value and the output is the previous step's output (zeros before the first real step). With
``go_backwards`` the sequence and its mask are read from the end, and the returned sequence is in reading order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autodiff.elementwise import where
from ..autodiff.gradients import vjp
from ..autodiff.layer_calls import own_weights, takes, tracing, weights_as
from ..autodiff.tape import Tensor, value
from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from .cell_protocol import state_widths, who
from .recurrent_states import sequence_mask


@dataclass(frozen=True)
class CellLoop:
    """``cell`` over ``(N, T, F)`` (or ``[x, *initial states]``): ``forward_call``/``backward_call`` as a layer's;
    outputs ``(N, units)`` (``(N, T, units)`` with ``return_sequences``), then the final states with
    ``return_state``. Holds no call state: everything backward needs is on ``ctx``."""

    cell: Layer
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False

    def forward_call(self, ctx: Call, x: Any) -> Any:
        x, init = (x[0], list(x[1:])) if isinstance(x, (list, tuple)) else (x, None)
        n, steps = x.shape[:2]
        if steps == 0:
            raise ShapeError(f"{who(self.cell)} was given a sequence of no steps, shape {x.shape}")
        keep = _reading_mask(sequence_mask(ctx.mask), self.go_backwards, (n, steps))
        xr = x[:, ::-1] if self.go_backwards else x
        seq: list[Any] = [xr[:, t] for t in range(steps)]  # one leaf per step
        if not ctx.input_grad:
            seq = [Tensor(s) for s in seq]
            init = None if init is None else [Tensor(s) for s in init]
        weights = own_weights(self.cell)
        names = [name for name, _ in weights]
        kwargs: dict[str, Any] = {"training": ctx.training} if takes(self.cell, "training") else {}
        added: list[Any] = []

        def fn(seq: list[Any], token: Any, init: list[Any] | None, *params: Any) -> list[Any]:
            with tracing(ctx, token) as frame, weights_as(self.cell, names, params):
                states = self._start(init, n, x.dtype)
                outs, out, before = [], None, None
                for t in range(steps):
                    out, new = self._step(seq[t], states, kwargs, n, t)
                    if keep is not None:
                        real = keep[:, t, None]
                        before = np.zeros_like(value(out)) if before is None else before
                        out = where(real, out, before)
                        new = [where(real, a, b) for a, b in zip(new, states)]
                    before, states = out, new
                    if self.return_sequences:
                        outs.append(out)
                added.extend(frame.losses)
            result = [outs if self.return_sequences else out, states if self.return_state else []]
            if added:
                total = added[0]
                for extra in added[1:]:
                    total = total + extra
                result.append(total)
            return result

        result, back = vjp(fn, seq, np.zeros((), np.float32), init, *[p.data for _, p in weights])
        ctx.back, ctx.weights, ctx.has_loss, ctx.has_init = back, [p for _, p in weights], bool(added), init is not None
        ctx.shape = x.shape
        ys, finals = result[0], list(result[1])
        if added:
            ctx.losses.append(float(np.asarray(result[2])))
        y = np.stack(ys, axis=1) if self.return_sequences else ys
        ctx.specs = [(a.shape, a.dtype) for a in [y, *finals]]
        return [y, *finals] if self.return_state else y

    def backward_call(self, ctx: Call, grad_out: Any) -> Any:
        """dL/dx ``(N, T, F)``; ``[dx, *dL/d(initial states)]`` for a call given initial states."""
        grads = list(grad_out) if self.return_state else [grad_out]
        grads = [np.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(grads, ctx.specs)]
        dy = [grads[0][:, t] for t in range(grads[0].shape[1])] if self.return_sequences else [grads[0]]
        seeds = [*dy, *grads[1:]] + ([np.asarray(ctx.loss_scale)] if ctx.has_loss else [])  # the outputs' leaves
        dseq, _, dinit, *dparams = ctx.back(seeds[0] if len(seeds) == 1 else seeds)
        for p, g in zip(ctx.weights, dparams):
            if g is not None:
                p.grad += g
        if not ctx.input_grad:
            return None
        n, steps, features = ctx.shape
        dtype = ctx.specs[0][1]
        dx = np.stack([np.zeros((n, features), dtype) if d is None else d for d in dseq], axis=1)
        dx = np.ascontiguousarray(dx[:, ::-1] if self.go_backwards else dx)
        if not ctx.has_init:
            return dx
        widths = state_widths(self.cell)
        return [dx, *(np.zeros((n, w), dtype) if d is None else d for d, w in zip(dinit, widths))]

    # ------------------------------------------------------------------ inside the tape
    def _start(self, init: list[Any] | None, n: int, dtype: np.dtype) -> list[Any]:
        """The states before the first step: the call's, else ``get_initial_state(batch_size=n)``, else zeros."""
        if init is not None:
            return list(init)
        widths = state_widths(self.cell)
        make = getattr(self.cell, "get_initial_state", None)
        if make is None:
            return [np.zeros((n, w), dtype) for w in widths]
        made = make(batch_size=n)
        states = list(made) if isinstance(made, (list, tuple)) else [made]
        states = [s.astype(dtype) if isinstance(s, np.ndarray) and s.dtype != dtype else s for s in states]
        self._check_states(states, n, "get_initial_state returned")
        return states

    def _step(self, xt: Any, states: list[Any], kwargs: dict[str, Any], n: int, t: int) -> tuple[Any, list[Any]]:
        result = self.cell.call(xt, list(states), **kwargs)  # type: ignore[attr-defined]
        if not isinstance(result, (list, tuple)) or len(result) != 2:
            size = f" of {len(result)}" if isinstance(result, (list, tuple)) else ""
            raise InvalidValueError(f"{who(self.cell)}.call(inputs, states) must return (output, new_states), got "
                                    f"a {type(result).__name__}{size}")
        out, new = result
        new = list(new) if isinstance(new, (list, tuple)) else [new]
        if t == 0:  # the same shapes at every step
            shape = np.shape(value(out))
            if len(shape) != 2 or shape[0] != n:
                raise ShapeError(f"{who(self.cell)}.call returned an output of shape {shape}; expected (batch, "
                                 f"units) with batch {n}")
            self._check_states(new, n, "call returned new states")
        return out, new

    def _check_states(self, states: list[Any], n: int, what: str) -> None:
        widths = state_widths(self.cell)
        shapes = [tuple(np.shape(value(s))) for s in states]
        expected = [(n, w) for w in widths]
        if shapes != expected:
            raise ShapeError(f"{who(self.cell)}: {what} of shapes {shapes}; its state_size {self.cell.state_size!r} "  # type: ignore[attr-defined]
                             f"says {len(widths)} state{'s' if len(widths) > 1 else ''} of shapes {expected} "
                             "(batch, width)")


def _reading_mask(mask: Any, backwards: bool, shape: tuple[int, int]) -> np.ndarray | None:
    """The mask ``(N, T)`` as the loop reads it, ``(N, T)`` booleans (reversed with ``go_backwards``); None without
    one or when every step is real."""
    if mask is None:
        return None
    keep = np.asarray(mask, dtype=bool)
    if keep.shape != shape:
        raise ShapeError(f"the mask must have shape (batch, steps) = {shape}, got {keep.shape}")
    if keep.all():
        return None
    return keep[:, ::-1] if backwards else keep
