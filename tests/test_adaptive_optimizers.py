"""Adagrad, Adamax and Nadam: Keras's formulas written out in NumPy, PyTorch's optimizers as an oracle (with a
tiny epsilon, where the two frameworks place it differently), state saved and restored, names."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.parameter import Parameter
from nnscratch.training import optimizers

rng = np.random.default_rng(0)
W0 = rng.normal(size=(5, 3))
GRADS = [rng.normal(size=(5, 3)) for _ in range(25)]


def run(opt, grads=GRADS, params=None) -> np.ndarray:
    p = params or Parameter(W0.copy())
    opt.attach([p])
    for g in grads:
        p.grad[...] = g
        opt.step()
    return p.data


def keras_reference(name: str, lr: float) -> np.ndarray:
    w, a, m, u, v, product = W0.copy(), np.full_like(W0, 0.1), np.zeros_like(W0), np.zeros_like(W0), 0 * W0, 1.0
    b1, b2, eps = 0.9, 0.999, 1e-7
    for t, g in enumerate(GRADS, start=1):
        if name == "adagrad":
            a += g * g
            w -= lr * g / np.sqrt(a + eps)
        elif name == "adamax":
            m = b1 * m + (1 - b1) * g
            u = np.maximum(b2 * u, np.abs(g))
            w -= lr / (1 - b1**t) * m / (u + eps)
        else:
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            mu, mu_next = (b1 * (1 - 0.5 * 0.96 ** (0.004 * s)) for s in (t, t + 1))
            product *= mu
            m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu) * g / (1 - product)
            w -= lr * m_hat / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


@pytest.mark.parametrize("name, cls", [("adagrad", nn.Adagrad), ("adamax", nn.Adamax), ("nadam", nn.Nadam)])
def test_keras_formulas(name, cls) -> None:
    np.testing.assert_allclose(run(cls(lr=0.05)), keras_reference(name, 0.05), rtol=1e-12, atol=1e-12)
    assert type(optimizers.get(name)) is cls and type(getattr(keras.optimizers, cls.__name__)(1e-3)) is cls


@pytest.mark.parametrize("ours, theirs", [
    (lambda: keras.optimizers.Adagrad(0.1, initial_accumulator_value=0.1, epsilon=1e-12),
     lambda torch, p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=1e-12)),
    (lambda: keras.optimizers.Adamax(0.01, epsilon=1e-12), lambda torch, p: torch.optim.Adamax(p, lr=0.01, eps=1e-12)),
    (lambda: keras.optimizers.Nadam(0.01, epsilon=1e-12), lambda torch, p: torch.optim.NAdam(p, lr=0.01, eps=1e-12)),
])
def test_against_pytorch(ours, theirs) -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor(W0.copy(), requires_grad=True)
    opt = theirs(torch, [t])
    for g in GRADS:
        t.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(run(ours()), t.detach().numpy(), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("cls", [nn.Adagrad, nn.Adamax, nn.Nadam])
def test_state_round_trip_continues_exactly(cls) -> None:
    straight = run(cls(lr=0.02))
    first, p = cls(lr=0.02), Parameter(W0.copy())
    run(first, GRADS[:10], p)
    second = cls(lr=0.02)
    second.attach([p])
    second.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(run(second, GRADS[10:], p), straight)
    assert cls.__name__.lower() == optimizers.from_config(cls(lr=0.3).get_config()).name


def test_a_model_trains_with_each() -> None:
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    for name in ("adagrad", "adamax", "nadam"):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(keras.optimizers.get({"name": name, "lr": 0.1}), "binary_crossentropy")
        history = model.fit(x, y, epochs=5, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]


def test_bad_arguments() -> None:
    with pytest.raises(nn.InvalidValueError, match="initial_accumulator_value must be >= 0"):
        nn.Adagrad(initial_accumulator_value=-1)
    with pytest.raises(nn.InvalidValueError, match="beta1 must be in"):
        nn.Nadam(beta_1=1.0)
