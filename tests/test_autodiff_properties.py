"""Random compositions of ops (hypothesis): the tape's gradients agree with float64 finite differences."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nnscratch import ops
from nnscratch.autodiff.gradcheck import check_gradients

# Smooth ops only (no kinks a finite difference could straddle), bounded so that deep programs stay finite.
UNARY = [
    ops.tanh, ops.sin, ops.cos, ops.sigmoid, ops.arctan, ops.softplus, ops.log_sigmoid,
    lambda v: ops.softmax(v, axis=-1), lambda v: ops.log_softmax(v, axis=0), lambda v: ops.exp(ops.tanh(v)),
    lambda v: ops.sqrt(1.0 + ops.square(v)), lambda v: ops.log1p(ops.square(v)),
    lambda v: ops.sum(v, axis=0, keepdims=True), lambda v: ops.mean(v, axis=-1, keepdims=True),
    lambda v: ops.logsumexp(v, axis=-1, keepdims=True), lambda v: v - ops.mean(v),
    lambda v: v[::-1],
    lambda v: ops.take(v, np.array([1, 1, 0]), axis=0)[:2], lambda v: ops.tile(v[:, :1], (1, 3)),
]
BINARY = [
    ops.add, ops.subtract, ops.multiply,
    lambda a, b: a / (1.0 + ops.square(b)),
    lambda a, b: ops.where(np.array([True, False, True]), a, b),
    lambda a, b: ops.matmul(a, ops.transpose(b)) @ a if a.shape == b.shape == (2, 3) else a * b,
]
SHAPES = [(2, 3), (3,), (2, 1), (1, 3)]


@st.composite
def programs(draw):
    """Inputs of broadcast-compatible shapes and a list of steps, each applied to earlier values."""
    n_inputs = draw(st.integers(1, 3))
    shapes = [(2, 3)] + [draw(st.sampled_from(SHAPES)) for _ in range(n_inputs - 1)]
    seed = draw(st.integers(0, 2**31 - 1))
    steps = []
    for k in range(draw(st.integers(1, 7))):
        n_values = n_inputs + k
        if draw(st.booleans()):
            steps.append(("unary", draw(st.integers(0, len(UNARY) - 1)), draw(st.integers(0, n_values - 1)), 0))
        else:
            steps.append(("binary", draw(st.integers(0, len(BINARY) - 1)), draw(st.integers(0, n_values - 1)),
                          draw(st.integers(0, n_values - 1))))
    return shapes, seed, steps


def run(steps, *inputs):
    values = list(inputs)
    for kind, op, i, j in steps:
        a = ops.broadcast_to(values[i], (2, 3))  # every value starts full-size, so any op applies
        values.append(UNARY[op](a) if kind == "unary" else BINARY[op](a, values[j]))
    return values[-1] + ops.sum(values[0]) * 0.1  # every input reaches the output through the first


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_programs_match_finite_differences(program):
    shapes, seed, steps = program
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    # atol: a gradient that is exactly 0 (e.g. log_softmax over two equal broadcast rows) is 1e-10 numerically
    errors = check_gradients(lambda *xs: run(steps, *xs), *inputs, atol=1e-4)
    assert max(errors) < 1e-5, (errors, steps)
