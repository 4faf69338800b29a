"""``LSTM``: long short-term memory (Keras's layer, its gate order input, forget, cell, output).

Per step, with ``z = x_t @ kernel + h @ recurrent_kernel + bias`` split into four blocks of ``units``::

    i = rec(z_i)   f = rec(z_f)   g = act(z_c)   o = rec(z_o)       (rec: recurrent_activation, sigmoid)
    c_t = f * c_{t-1} + i * g      h_t = o * act(c_t)               (act: activation, tanh)

``unit_forget_bias`` starts the forget block of the bias at 1 (Keras's default). Backward per step, from
dL/dh and the dL/dc carried from the step after: ``dc = dc_next + dh * o * act'(c)``, then each gate's
pre-activation gradient; ``dc_{t-1} = dc * f``. At a padding step (a mask) ``h`` and ``c`` keep their values.
``h`` and ``c`` start at zero, or at the call's initial states (``recurrent_states``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from .recurrent import ACTIVATIONS, Recurrent, activation_name


class LSTM(Recurrent):
    """``(N, T, F) -> (N, units)`` (``(N, T, units)`` with ``return_sequences``; ``return_state`` adds the
    final ``h`` and ``c``). ``kernel`` ``(F, 4 units)``, ``recurrent_kernel`` ``(units, 4 units)``, ``bias``
    ``(4 units,)``, blocks in the order i, f, c, o."""

    gates = 4
    state_count = 2

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activation_name(recurrent_activation, "LSTM recurrent_activation")
        self.unit_forget_bias = bool(unit_forget_bias)

    def initial_bias(self) -> np.ndarray:
        bias = super().initial_bias()
        if self.unit_forget_bias:
            bias[self.units: 2 * self.units] = 1.0
        return bias

    def run(self, ctx: Call, xw: np.ndarray, hmask: np.ndarray | None, keep: np.ndarray | None,
            init: list[np.ndarray] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        steps, n, u = len(xw), xw.shape[1], self.units
        rec = ACTIVATIONS[self.recurrent_activation][0]
        gates = ctx.gates = np.empty((steps, n, 4 * u), self.dtype)  # i, f, g, o after their activations
        cells = ctx.cells = np.empty((steps, n, u), self.dtype)
        act_cells = ctx.act_cells = np.empty((steps, n, u), self.dtype)  # act(c), for backward too
        hs = np.empty((steps, n, u), self.dtype)
        h, c = (np.zeros((n, u), self.dtype), np.zeros((n, u), self.dtype)) if init is None else init
        for t in range(steps):
            z = xw[t] + self.state_products(h, hmask)
            g = gates[t]
            g[:, :2 * u] = rec(z[:, :2 * u])
            g[:, 2 * u:3 * u] = self.act(z[:, 2 * u:3 * u])
            g[:, 3 * u:] = rec(z[:, 3 * u:])
            new_c = g[:, u:2 * u] * c + g[:, :u] * g[:, 2 * u:3 * u]
            act_cells[t] = self.act(new_c)  # of the step's own cell, held or not: its backward needs that
            new_h = g[:, 3 * u:] * act_cells[t]
            if keep is not None:
                new_c, new_h = np.where(keep[t], new_c, c), np.where(keep[t], new_h, h)
            c = cells[t] = new_c
            h = hs[t] = new_h
        return hs, [h, c]

    def run_back(self, ctx: Call, dhs: np.ndarray, dfinal: list[np.ndarray | None], hmask: np.ndarray | None,
                 keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        u = self.units
        rec_grad = ACTIVATIONS[self.recurrent_activation][1]
        gates, cells, act_cells = ctx.gates, ctx.cells, ctx.act_cells
        held = self.held(keep, gates.dtype)
        dz = np.empty_like(gates)
        dh_next = dfinal[0] if len(dfinal) > 0 and dfinal[0] is not None else np.zeros_like(cells[0])
        dc_next = dfinal[1] if len(dfinal) > 1 and dfinal[1] is not None else np.zeros_like(cells[0])
        c_init = np.zeros_like(cells[0]) if ctx.init is None else ctx.init[1]
        for t in range(len(gates) - 1, -1, -1):
            g = gates[t]
            i, f, gg, o = g[:, :u], g[:, u:2 * u], g[:, 2 * u:3 * u], g[:, 3 * u:]
            dh = dhs[t] + dh_next
            if held is not None:  # a held step passes dh and dc on as they are; its gates get nothing
                dh, dh_held = dh * held[0][t], dh * held[1][t]
                dc_next, dc_held = dc_next * held[0][t], dc_next * held[1][t]
            ac = act_cells[t]
            dc = dc_next + dh * o * self.act_grad(ac)
            c_before = cells[t - 1] if t > 0 else c_init
            d = dz[t]
            d[:, :u] = dc * gg * rec_grad(i)
            d[:, u:2 * u] = dc * c_before * rec_grad(f)
            d[:, 2 * u:3 * u] = dc * i * self.act_grad(gg)
            d[:, 3 * u:] = dh * ac * rec_grad(o)
            dc_next = dc * f
            dh_next = self.state_grad(d, hmask)
            if held is not None:
                dc_next += dc_held
                dh_next += dh_held
        return dz, dz, [dh_next, dc_next]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}
