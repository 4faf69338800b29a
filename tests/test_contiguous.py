"""Packed parameters (``training/contiguous.py``): an element-wise optimizer's step over one flat vector gives
exactly the numbers of the step parameter by parameter, and never goes silent
when something rebinds a parameter's arrays."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.parameter import Parameter
from nnscratch.training.contiguous import ContiguousParameters

OPTIMIZERS = {
    "sgd": lambda: nn.SGD(lr=0.1),
    "momentum": lambda: nn.SGD(lr=0.05, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda: nn.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: nn.RMSprop(lr=1e-3, momentum=0.5, weight_decay=1e-2),
    "adam": lambda: nn.Adam(lr=1e-3, weight_decay=1e-3),
    "adamw": lambda: nn.AdamW(lr=1e-3),
    "adagrad": lambda: nn.Adagrad(lr=1e-2),
    "adamax": lambda: nn.Adamax(lr=1e-3, weight_decay=1e-3),
    "nadam": lambda: nn.Nadam(lr=1e-3),
}
SHAPES = [(7, 5), (5,), (5, 3), (3,)]


def params(shapes=SHAPES, seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]


def run(opt, ps, steps=4, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        opt.zero_grad()
        for p in ps:
            p.grad += rng.standard_normal(p.shape).astype(np.float32)
        opt.step()
    return [p.data.copy() for p in ps]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_packed_step_equals_the_per_parameter_step(name):
    packed, loose = params(), params()
    a, b = OPTIMIZERS[name](), OPTIMIZERS[name]()
    a.attach(packed)
    b.attach(loose)
    assert a._flat is not None
    b._flat = None  # the per-parameter path
    for x, y in zip(run(a, packed), run(b, loose)):
        np.testing.assert_array_equal(x, y)
    assert all(p.data.base is a._flat.data for p in packed)  # the arrays are views of one vector


def test_a_rebound_parameter_is_still_trained():
    ps = params()
    opt = nn.SGD(lr=0.5)
    opt.attach(ps)
    ps[0].data = np.zeros((7, 5), np.float32)  # not the packed view any more
    ps[0].grad.fill(1.0)
    opt.step()
    np.testing.assert_allclose(ps[0].data, -0.5)


def test_parameters_sharing_memory_are_not_packed():
    base = np.ones((4, 4), np.float32)
    tied = [Parameter(base), Parameter(base[:2])]  # the second is a view of the first's array
    assert not ContiguousParameters.packable(tied)
    opt = nn.SGD(lr=0.1)
    opt.attach(tied)
    assert opt._flat is None and tied[1].data.base is base


def test_zero_grad_clears_every_gradient_and_keeps_views():
    ps = params()
    opt = nn.Adam()
    opt.attach(ps)
    for p in ps:
        p.grad.fill(3.0)
    opt.zero_grad()
    assert all(p.grad_is_zero for p in ps)
    assert opt._flat is not None and opt._flat.intact()
    assert not opt._flat.gradients().any()  # what the packed step reads
    assert all(not p.grad.any() for p in ps)  # what any reader of grad sees
    assert opt._flat.intact()


def test_a_gradient_only_marked_zero_reads_as_zero_and_is_overwritten_by_the_first_product():
    p = Parameter(np.zeros((2, 3), np.float32))
    p.grad += 5.0
    p.zero_grad()  # marks it zero: the array still holds 5s
    a, b = np.ones((2, 4), np.float32), np.ones((4, 3), np.float32)
    p.add_matmul(a, b)  # written straight into the array
    np.testing.assert_array_equal(p.grad, a @ b)
    p.zero_grad()
    p.add_sum(np.ones((3, 2, 3), np.float32))
    p.add_sum(np.ones((3, 2, 3), np.float32))  # the second adds
    np.testing.assert_array_equal(p.grad, np.full((2, 3), 6.0))
    p.zero_grad()
    np.testing.assert_array_equal(p.grad, 0.0)  # read before anything was added: zeros


def test_a_model_trains_the_same_after_packing():
    """Weights read before compile keep their values; training moves the packed ones, and a saved model
    reloads to the same predictions."""
    x = np.random.default_rng(0).standard_normal((32, 4)).astype(np.float32)
    y = (x.sum(axis=1) > 0).astype(np.float32).reshape(-1, 1)
    model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.build((4,))
    before = [w.copy() for w in model.get_weights()]
    model.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=1e-2))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    assert model.trainer.optimizer._flat is not None
