"""``Activated`` layers (a linear map, then the activation): the logits and the backward that starts there,
which loss fusion uses, agree with the unfused call."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.layers.activated import Activated

LAYERS: list[tuple[Callable[[str], nn.Layer], tuple[int, ...]]] = [
    (lambda act: nn.Conv1D(3, 3, padding="same", activation=act), (2, 7, 4)),
    (lambda act: nn.Conv2D(3, 3, padding="same", activation=act), (2, 5, 6, 2)),
    (lambda act: nn.Conv2DTranspose(3, 3, strides=2, activation=act), (2, 3, 4, 5)),
]


@pytest.mark.parametrize("make, shape", LAYERS)
def test_logits_and_backward_from_logits_match_the_call(make: Callable[[str], nn.Layer], shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    layer = make("sigmoid").set_dtype(np.float64)
    linear = make("linear").set_dtype(np.float64)
    layer.set_rng(np.random.default_rng(1))
    linear.set_rng(np.random.default_rng(1))
    assert isinstance(layer, Activated)
    assert isinstance(layer.output_activation(), nn.layers.activations.Sigmoid)
    assert linear.output_activation() is None
    y = layer.forward(x)
    ctx = layer.last_call
    assert ctx is not None
    z = linear.forward(x)  # the same weights, no activation
    np.testing.assert_allclose(layer.logits(ctx), z)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-z)))
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g).copy()
    grads = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    dz = g * y * (1 - y)  # the sigmoid's backward, by hand
    np.testing.assert_allclose(layer.backward_from_logits(ctx, dz), dx, rtol=1e-10, atol=1e-12)
    for p, expected in zip(layer.parameters(), grads):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-10, atol=1e-12)
