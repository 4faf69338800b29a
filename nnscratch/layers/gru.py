"""``GRU``: gated recurrent unit, both of Keras's forms (gate order update, reset, candidate).

``reset_after=True`` (Keras's default): with ``a = x_t @ kernel + b_in`` and ``r_h = h @ recurrent_kernel +
b_rec`` (``bias`` is ``(2, 3 units)``: the input and the recurrent bias), each split into blocks z, r, h of
``units``::

    z = rec(a_z + r_h_z)   r = rec(a_r + r_h_r)   n = act(a_h + r * r_h_h)
    h_t = z * h_{t-1} + (1 - z) * n

``reset_after=False``: one bias ``(3 units,)`` on the input products, and the reset gate scales the state
before the candidate's recurrent product (``U`` = ``recurrent_kernel``)::

    z = rec(a_z + h @ U_z)   r = rec(a_r + h @ U_r)   n = act(a_h + (r * h) @ U_h)

Recurrent dropout masks ``h`` in every product (``(r * (h * mask)) @ U_h`` in the candidate, as Keras's cell);
the mix ``z * h_{t-1}`` uses the unmasked state. Backward per step from dL/dh: ``dz = dh (h_{t-1} - n)``,
``dn = dh (1 - z)``; the candidate's pre-activation gradient goes to the input product as is and, times
``r``, to the recurrent product (after: ``r * (h U_h + b)``), or through ``U_h`` to ``r * h`` (before). At a
padding step (a mask) ``h`` keeps its value. ``h`` starts at zero, or at the call's initial state
(``recurrent_states``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from .recurrent import ACTIVATIONS, Recurrent, activation_name


class GRU(Recurrent):
    """``(N, T, F) -> (N, units)`` (``(N, T, units)`` with ``return_sequences``; ``return_state`` adds the
    final ``h``). ``kernel`` ``(F, 3 units)``, ``recurrent_kernel`` ``(units, 3 units)``, ``bias``
    ``(2, 3 units)`` (``(3 units,)`` with ``reset_after=False``), blocks in the order z, r, h."""

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activation_name(recurrent_activation, "GRU recurrent_activation")
        self.reset_after = bool(reset_after)

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self) -> np.ndarray | None:
        if self.bias is None or not self.reset_after:
            return super().input_bias()
        return self.bias.data[0]

    def add_input_bias_grad(self, total: np.ndarray) -> None:
        assert self.bias is not None
        if self.reset_after:
            self.bias.grad[0] += total
        else:
            self.bias.grad += total

    def run(self, ctx: Call, xw: np.ndarray, hmask: np.ndarray | None, keep: np.ndarray | None,
            init: list[np.ndarray] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        if not self.reset_after:
            return self.run_reset_before(ctx, xw, hmask, keep, init)
        steps, n, u = len(xw), xw.shape[1], self.units
        rec = ACTIVATIONS[self.recurrent_activation][0]
        gates = ctx.gates = np.empty((steps, n, 3 * u), self.dtype)  # z, r, n after their activations
        rhh = ctx.rhh = np.empty((steps, n, u), self.dtype)  # the recurrent product of the candidate block
        hs = np.empty((steps, n, u), self.dtype)
        h = np.zeros((n, u), self.dtype) if init is None else init[0]
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
                 keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        if not self.reset_after:
            return self.run_back_reset_before(ctx, dhs, dfinal, hmask, keep)
        u = self.units
        rec_grad = ACTIVATIONS[self.recurrent_activation][1]
        gates, rhh, hs = ctx.gates, ctx.rhh, ctx.hs
        held = self.held(keep, gates.dtype)
        dxw, drec = np.empty_like(gates), np.empty_like(gates)
        dh_next = dfinal[0] if dfinal and dfinal[0] is not None else np.zeros_like(hs[0])
        h_init = np.zeros_like(hs[0]) if ctx.init is None else ctx.init[0]
        for t in range(len(gates) - 1, -1, -1):
            g = gates[t]
            z, r, cand = g[:, :u], g[:, u:2 * u], g[:, 2 * u:]
            h_before = hs[t - 1] if t > 0 else h_init
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
        return dxw, drec, [dh_next]

    # ------------------------------------------------------------------ reset_after=False
    def run_reset_before(self, ctx: Call, xw: np.ndarray, hmask: np.ndarray | None, keep: np.ndarray | None,
                         init: list[np.ndarray] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """``run`` with the reset gate applied to the state before the candidate's recurrent product."""
        assert self.recurrent_kernel is not None
        steps, n, u = len(xw), xw.shape[1], self.units
        rec = ACTIVATIONS[self.recurrent_activation][0]
        uzr, uh = self.recurrent_kernel.data[:, :2 * u], self.recurrent_kernel.data[:, 2 * u:]
        gates = ctx.gates = np.empty((steps, n, 3 * u), self.dtype)  # z, r, n after their activations
        rh = ctx.rh = np.empty((steps, n, u), self.dtype)  # r * (h * mask): what U_h multiplies
        hs = np.empty((steps, n, u), self.dtype)
        h = np.zeros((n, u), self.dtype) if init is None else init[0]
        for t in range(steps):
            hm = h if hmask is None else h * hmask
            g = gates[t]
            g[:, :2 * u] = rec(xw[t][:, :2 * u] + hm @ uzr)
            np.multiply(g[:, u:2 * u], hm, out=rh[t])
            g[:, 2 * u:] = self.act(xw[t][:, 2 * u:] + rh[t] @ uh)
            new = g[:, :u] * h + (1 - g[:, :u]) * g[:, 2 * u:]
            if keep is not None:
                new = np.where(keep[t], new, h)
            h = hs[t] = new
        return hs, [h]

    def run_back_reset_before(self, ctx: Call, dhs: np.ndarray, dfinal: list[np.ndarray | None],
                              hmask: np.ndarray | None, keep: np.ndarray | None
                              ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """``run_back`` of ``run_reset_before``; the candidate block of the returned recurrent-product gradient is
        dL/d((r h) U_h), which ``add_recurrent_kernel_grad`` multiplies by ``r h``."""
        assert self.recurrent_kernel is not None
        u = self.units
        rec_grad = ACTIVATIONS[self.recurrent_activation][1]
        uzr, uh = self.recurrent_kernel.data[:, :2 * u], self.recurrent_kernel.data[:, 2 * u:]
        gates, hs = ctx.gates, ctx.hs
        held = self.held(keep, gates.dtype)
        dxw, drec = np.empty_like(gates), np.empty_like(gates)
        dh_next = dfinal[0] if dfinal and dfinal[0] is not None else np.zeros_like(hs[0])
        h_init = np.zeros_like(hs[0]) if ctx.init is None else ctx.init[0]
        for t in range(len(gates) - 1, -1, -1):
            g = gates[t]
            z, r, cand = g[:, :u], g[:, u:2 * u], g[:, 2 * u:]
            h_before = hs[t - 1] if t > 0 else h_init
            hm = h_before if hmask is None else h_before * hmask
            dh = dhs[t] + dh_next
            if held is not None:  # a held step passes dh on as is; its gates get nothing
                dh, dh_held = dh * held[0][t], dh * held[1][t]
            dx, dr = dxw[t], drec[t]
            da_h = dx[:, 2 * u:] = dr[:, 2 * u:] = dh * (1 - z) * self.act_grad(cand)
            drh = da_h @ uh.T  # dL/d(r * hm)
            dx[:, :u] = dr[:, :u] = dh * (h_before - cand) * rec_grad(z)
            dx[:, u:2 * u] = dr[:, u:2 * u] = drh * hm * rec_grad(r)
            dhm = dr[:, :2 * u] @ uzr.T + drh * r
            dh_next = dh * z + (dhm if hmask is None else dhm * hmask)
            if held is not None:
                dh_next += dh_held
        return dxw, drec, [dh_next]

    def add_recurrent_kernel_grad(self, ctx: Call, drec: np.ndarray) -> None:
        """With ``reset_after=False`` the candidate's block ``U_h`` multiplies ``r * h``, not ``h``."""
        if self.reset_after:
            return super().add_recurrent_kernel_grad(ctx, drec)
        assert self.recurrent_kernel is not None
        u = self.units
        before = ctx.hs[:-1] if ctx.hmask is None else ctx.hs[:-1] * ctx.hmask
        grad = self.recurrent_kernel.grad
        grad[:, :2 * u] += before.reshape(-1, u).T @ drec[1:, :, :2 * u].reshape(-1, 2 * u)
        grad[:, 2 * u:] += ctx.rh[1:].reshape(-1, u).T @ drec[1:, :, 2 * u:].reshape(-1, u)
        if ctx.init is not None:  # the step-0 products with the initial state (rh[0] = r * initial h)
            grad[:, :2 * u] += self.initial_h(ctx).T @ drec[0, :, :2 * u]
            grad[:, 2 * u:] += ctx.rh[0].T @ drec[0, :, 2 * u:]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}
