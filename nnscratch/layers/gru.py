"""``GRU``: gated recurrent unit, Keras's default form (``reset_after=True``, gate order update, reset, candidate).

Per step, with ``a = x_t @ kernel + b_in`` and ``r_h = h @ recurrent_kernel + b_rec`` (``bias`` is
``(2, 3 units)``: the input and the recurrent bias), each split into blocks z, r, h of ``units``::

    z = rec(a_z + r_h_z)   r = rec(a_r + r_h_r)   n = act(a_h + r * r_h_h)
    h_t = z * h_{t-1} + (1 - z) * n

Backward per step from dL/dh: ``dz = dh (h_{t-1} - n)``, ``dn = dh (1 - z)``; the candidate's
pre-activation gradient goes to the input product as is and, times ``r``, to the recurrent product. At a
padding step (a mask) ``h`` keeps its value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from .recurrent import ACTIVATIONS, Recurrent, activation_name


class GRU(Recurrent):
    """``(N, T, F) -> (N, units)`` (``(N, T, units)`` with ``return_sequences``; ``return_state`` adds the
    final ``h``). ``kernel`` ``(F, 3 units)``, ``recurrent_kernel`` ``(units, 3 units)``, ``bias``
    ``(2, 3 units)``, blocks in the order z, r, h."""

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        if not reset_after:
            raise InvalidValueError("GRU(reset_after=False) is not supported: nnscratch's GRU is Keras 3's default "
                                    "form, the reset gate applied after the recurrent product (reset_after=True)")
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activation_name(recurrent_activation, "GRU recurrent_activation")

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units)

    def input_bias(self) -> np.ndarray | None:
        return None if self.bias is None else self.bias.data[0]

    def add_input_bias_grad(self, total: np.ndarray) -> None:
        assert self.bias is not None
        self.bias.grad[0] += total

    def run(self, ctx: Call, xw: np.ndarray, hmask: np.ndarray | None,
            keep: np.ndarray | None) -> tuple[np.ndarray, list[np.ndarray]]:
        steps, n, u = len(xw), xw.shape[1], self.units
        rec = ACTIVATIONS[self.recurrent_activation][0]
        gates = ctx.gates = np.empty((steps, n, 3 * u), self.dtype)  # z, r, n after their activations
        rhh = ctx.rhh = np.empty((steps, n, u), self.dtype)  # the recurrent product of the candidate block
        hs = np.empty((steps, n, u), self.dtype)
        h = np.zeros((n, u), self.dtype)
        for t in range(steps):
            r_h = self.state_products(h, hmask)
            if self.bias is not None:
                r_h += self.bias.data[1]
            g = gates[t]
            g[:, :2 * u] = rec(xw[t][:, :2 * u] + r_h[:, :2 * u])
            rhh[t] = r_h[:, 2 * u:]
            g[:, 2 * u:] = self.act(xw[t][:, 2 * u:] + g[:, u:2 * u] * rhh[t])
            new = g[:, :u] * h + (1 - g[:, :u]) * g[:, 2 * u:]
            if keep is not None:
                new = np.where(keep[t], new, h)
            h = hs[t] = new
        return hs, [h]

    def run_back(self, ctx: Call, dhs: np.ndarray, dfinal: list[np.ndarray | None], hmask: np.ndarray | None,
                 keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        u = self.units
        rec_grad = ACTIVATIONS[self.recurrent_activation][1]
        gates, rhh, hs = ctx.gates, ctx.rhh, ctx.hs
        held = self.held(keep, gates.dtype)
        dxw, drec = np.empty_like(gates), np.empty_like(gates)
        dh_next = dfinal[0] if dfinal and dfinal[0] is not None else np.zeros_like(hs[0])
        for t in range(len(gates) - 1, -1, -1):
            g = gates[t]
            z, r, cand = g[:, :u], g[:, u:2 * u], g[:, 2 * u:]
            h_before = hs[t - 1] if t > 0 else np.zeros_like(hs[0])
            dh = dhs[t] + dh_next
            if held is not None:  # a held step passes dh on as is; its gates get nothing
                dh, dh_held = dh * held[0][t], dh * held[1][t]
            da_h = dh * (1 - z) * self.act_grad(cand)
            dx, dr = dxw[t], drec[t]
            dx[:, :u] = dr[:, :u] = dh * (h_before - cand) * rec_grad(z)
            dx[:, u:2 * u] = dr[:, u:2 * u] = da_h * rhh[t] * rec_grad(r)
            dx[:, 2 * u:] = da_h
            dr[:, 2 * u:] = da_h * r
            dh_next = dh * z + self.state_grad(dr, hmask)
            if held is not None:
                dh_next += dh_held
        if self.bias is not None:
            self.bias.grad[1] += drec.reshape(-1, 3 * u).sum(axis=0)
        return dxw, drec

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation}
