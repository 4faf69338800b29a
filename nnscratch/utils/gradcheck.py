"""Finite-difference gradient checks (float64) for any module or loss.

``check_module(layer, x)`` compares ``backward``'s dL/dx and dL/dparam with central differences of
L = sum(forward(x) * G) for a fixed random G; ``check_loss(loss, pred, target)`` does the same for a loss.
Each returns ``{tensor name: relative error}`` with relative error ||a - n|| / (||a|| + ||n||). The central
differences and the error are ``nnscratch.autodiff.gradcheck``'s, as for the tape's own checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff.gradcheck import numeric_gradient, relative_error
from ..core.errors import DTypeError
from ..core.layer import Module
from ..training.losses import Loss


def check_module(module: Module, x: Any, training: bool = False, eps: float = 1e-6,
                 seed: int = 0) -> dict[str, float]:
    """Relative errors of dL/dx (key ``"input"``; ``"input.<i>"`` for several inputs) and of every
    trainable parameter of ``module`` (a layer or a whole model; lists for several inputs/outputs).

    The module must be float64 (unbuilt modules are switched to it). Random layers (dropout) get the same
    generator state before every forward, so each evaluation draws the same mask.
    """
    if not module.built:
        module.set_dtype(np.float64)
    if module.dtype != np.float64:
        raise DTypeError(f"gradient checks need a float64 module, got {module.dtype}")
    several = isinstance(x, (list, tuple))
    xs = [np.array(a, dtype=np.float64) for a in (x if several else [x])]

    def forward() -> list[np.ndarray]:
        module.set_rng(np.random.default_rng(seed), seeded=True)
        out = module.forward(xs if several else xs[0], training)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    outs = forward()
    rng = np.random.default_rng(seed + 1)
    g = [rng.standard_normal(o.shape) for o in outs]
    params = dict(module.named_parameters())
    for p in params.values():
        p.zero_grad()
    forward()
    dx = module.backward([a.copy() for a in g] if len(g) > 1 else g[0].copy())
    dxs = list(dx) if several else [dx]
    analytic = {name: p.grad.copy() for name, p in params.items()}

    def f() -> float:  # what backward differentiates: the outputs against g, plus any add_loss penalties
        value = float(sum(np.sum(o * gi) for o, gi in zip(forward(), g)))
        return value + float(sum(module.last_call.losses)) if module.last_call is not None else value

    errors = {}
    for i, (a, d) in enumerate(zip(xs, dxs)):
        errors["input" if not several else f"input.{i}"] = relative_error(d, numeric_gradient(f, a, eps))
    for name, p in params.items():
        errors[name] = relative_error(analytic[name], numeric_gradient(f, p.data, eps))
    return errors


def check_training(model: Any, x: Any, y: Any, eps: float = 1e-6, seed: int = 0) -> dict[str, float]:
    """Relative errors of ``model.compute_gradients(x, y)`` (the compiled, weighted loss of every output)
    against central differences of that loss, for every trainable weight of a compiled float64 model."""
    if model.dtype != np.float64:
        raise DTypeError(f"gradient checks need a float64 model, got {model.dtype}")
    model.set_rng(np.random.default_rng(seed), seeded=True)
    _, grads = model.compute_gradients(x, y)
    trainer = model.trainer
    from ..training.data import input_arrays, target_arrays

    xs = input_arrays(model, x)
    ys = target_arrays(model, y, len(xs[0]))
    state = [(p, p.data.copy()) for p in model.non_trainable_weights]

    def f() -> float:
        model.set_rng(np.random.default_rng(seed), seeded=True)
        value = trainer.forward_loss(trainer.ctx, xs, ys)[0]
        for p, saved in state:
            p.data[...] = saved
        return value

    params = dict(model.named_parameters())
    return {name: relative_error(grads[name], numeric_gradient(f, p.data, eps)) for name, p in params.items()}


def check_loss(loss: Loss, pred: np.ndarray, target: Any, eps: float = 1e-6, mask: np.ndarray | None = None) -> float:
    """Relative error of ``loss.backward()`` against central differences of ``loss.forward`` (with ``mask``
    ``(N, T)`` on an output ``(N, T, ...)``: of the masked loss)."""
    pred = np.array(pred, dtype=np.float64)

    def value() -> float:
        return loss.forward(pred, target) if mask is None else loss.forward(pred, target, mask=mask)

    value()
    analytic = loss.backward().copy()
    return relative_error(analytic, numeric_gradient(value, pred, eps))
