"""Gradients of the shape and indexing ops against float64 finite differences, and the ops without gradient."""

import numpy as np
import pytest

from nnscratch import ops
from nnscratch.autodiff import Tensor
from nnscratch.autodiff.gradcheck import check_gradients

TOL = 1e-6
R = np.random.default_rng(1)


def n(*shape):
    return R.standard_normal(shape)


@pytest.mark.parametrize("fn,shape", [
    (lambda v: ops.reshape(v, (4, -1)), (2, 3, 2)),
    (lambda v: ops.expand_dims(v, 1), (3, 2)),
    (lambda v: ops.expand_dims(v, (0, -1)), (3, 2)),
    (lambda v: ops.squeeze(v), (3, 1, 2, 1)),
    (lambda v: ops.squeeze(v, axis=1), (3, 1, 2)),
    (ops.ravel, (2, 3)),
    (lambda v: ops.swapaxes(v, 0, 2), (2, 3, 4)),
    (lambda v: ops.moveaxis(v, 0, -1), (2, 3, 4)),
    (lambda v: ops.broadcast_to(v, (4, 2, 3)), (2, 1)),
    (lambda v: ops.tile(v, 3), (2, 3)),
    (lambda v: ops.tile(v, (2, 1, 2)), (2, 3)),
    (lambda v: ops.repeat(v, 2), (2, 3)),
    (lambda v: ops.repeat(v, 3, axis=1), (2, 3)),
    (lambda v: ops.repeat(v, [2, 0, 1], axis=1), (2, 3)),
    (lambda v: ops.repeat(v, [1, 3], axis=0), (2, 3)),
    (lambda v: ops.pad(v, ((1, 2), (0, 1))), (2, 3)),
    (lambda v: ops.pad(v, 1, constant_values=5.0), (2, 3)),
    (lambda v: ops.pad(v, ((1, 2), (2, 1)), mode="reflect"), (3, 4)),
    (lambda v: ops.pad(v, 2, mode="edge"), (2, 3)),
    (lambda v: ops.pad(v, ((0, 0), (3, 1)), mode="symmetric"), (2, 3)),
    (lambda v: ops.pad(v, ((1, 1), (2, 2)), mode="wrap"), (2, 3)),
    (lambda v: v.reshape(3, 2).T, (2, 3)),
    (lambda v: v.transpose(1, 0), (2, 3)),
])
def test_shape_op(fn, shape):
    assert check_gradients(fn, n(*shape))[0] < TOL


def test_concatenate_stack_split():
    a, b, c = n(2, 3), n(2, 1), n(2, 3)
    assert max(check_gradients(lambda x, y: ops.concatenate([x, y], axis=1), a, b)) < TOL
    assert max(check_gradients(lambda x, y: ops.concatenate([x, y], axis=None), a, b)) < TOL
    assert max(check_gradients(lambda x, y: ops.stack([x, y, x], axis=1), a, c)) < TOL
    assert check_gradients(lambda x: ops.split(x, 3, axis=1)[2] * ops.split(x, 3, axis=1)[0], a)[0] < TOL
    assert check_gradients(lambda x: ops.concatenate(ops.split(x, [1, 2], axis=1)[::-1], axis=1), a)[0] < TOL


def test_concatenate_with_a_constant_gives_grad_only_to_the_tensor():
    x = Tensor(n(2, 2), requires_grad=True)
    ops.sum(ops.concatenate([x, np.ones((1, 2))], axis=0)).backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))


@pytest.mark.parametrize("key", [
    (Ellipsis, 0), (slice(1, None), slice(None, None, -2)), (None, 1), 2, (np.array([0, 2, 0, 0]),),
    (np.array([[1, 1], [0, 2]]), slice(None)), (slice(None), [3, 3, 0]), (np.array([0, 0]), np.array([1, 1])),
    (np.array([True, False, True]),), (slice(None), np.array([True, False, True, True])),
], ids=["ellipsis", "slices", "newaxis", "int", "repeated-ints", "int-2d", "list", "pairs", "bool", "bool-axis1"])
def test_getitem(key):
    assert check_gradients(lambda v: v[key], n(3, 4))[0] < TOL


def test_getitem_with_repeated_indices_accumulates():
    x = Tensor(np.arange(4.0), requires_grad=True)
    ops.sum(x[np.array([1, 1, 1, 3])]).backward()
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 1])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take_with_duplicates(axis):
    idx = np.array([[0, 2], [2, 2]])
    assert check_gradients(lambda v: ops.take(v, idx, axis=axis), n(3, 4))[0] < TOL


def test_take_embedding_lookup_accumulates_rows():
    table = Tensor(np.zeros((5, 2)), requires_grad=True)
    ops.sum(ops.take(table, np.array([[1, 3], [1, 1]]), axis=0)).backward()
    np.testing.assert_array_equal(table.grad[:, 0], [0, 3, 0, 1, 0])


def test_take_along_axis():
    x = n(3, 4)
    idx = np.array([[0, 0], [3, 1], [2, 2]])
    assert check_gradients(lambda v: ops.take_along_axis(v, idx, axis=1), x)[0] < TOL
    assert check_gradients(lambda v: ops.take_along_axis(v, np.array([[2, 0, 2, 1]]), axis=0), x)[0] < TOL
    assert check_gradients(lambda v: ops.take_along_axis(v, np.array([5, 5, 0]), axis=None), x)[0] < TOL


def test_pick_the_argmax_entries():
    """A cross-entropy-like pick: the argmax (no gradient) chooses which entries get one."""
    x = n(4, 5)
    assert check_gradients(lambda v: ops.take_along_axis(v, ops.argmax(v, axis=1, keepdims=True), axis=1), x)[0] < TOL


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "isnan", "isfinite", "isinf", "logical_not"])
def test_unary_without_gradient(name):
    x = Tensor(n(3), requires_grad=True)
    out = getattr(ops, name)(x)
    assert isinstance(out, Tensor) and not out.requires_grad
    np.testing.assert_array_equal(out.data, getattr(np, name)(x.data))


@pytest.mark.parametrize("name", ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                                  "logical_and", "logical_or", "logical_xor"])
def test_comparisons_have_no_gradient(name):
    x = Tensor(n(3), requires_grad=True)
    out = getattr(ops, name)(x, 0.0)
    assert isinstance(out, Tensor) and not out.requires_grad and out.dtype == bool
    np.testing.assert_array_equal(out.data, getattr(np, name)(x.data, 0.0))


def test_non_differentiable_ops_in_the_path_block_only_their_branch():
    def fn(v):
        mask = ops.cast(v > 0, "float64")                       # comparison + cast: no gradient
        hot = ops.one_hot(ops.argmax(v, axis=1), 4, dtype="float64")
        return v * mask + ops.sign(v) * v + hot * v + ops.cast(ops.cast(v, "int64"), "float64")

    x = np.array([[0.3, -1.2, 2.1, 0.7], [-0.4, 1.1, -2.3, 0.9]])
    assert check_gradients(fn, x)[0] < TOL
    t = Tensor(x, requires_grad=True)
    ops.sum(fn(t)).backward()
    np.testing.assert_allclose(t.grad, (x > 0) + np.sign(x) + (np.arange(4) == np.argmax(x, axis=1)[:, None]))


def test_stop_gradient_treats_its_value_as_a_constant():
    x = np.array([0.5, -2.0, 3.0])
    t = Tensor(x, requires_grad=True)
    ops.sum(ops.stop_gradient(t) * t + ops.stop_gradient(ops.exp(t))).backward()
    np.testing.assert_allclose(t.grad, x)  # d/dt (c * t) with c = t's value; exp(t) contributes nothing
    assert ops.stop_gradient(x) is x


def test_one_hot_argmax_argmin_argsort():
    labels = np.array([2, 0, 5])
    np.testing.assert_array_equal(ops.one_hot(labels, 3), [[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    assert ops.one_hot(labels, 3).dtype == np.float32
    assert ops.one_hot(labels, 3, axis=0).shape == (3, 3)
    x = Tensor(np.array([[1.0, 5.0, 5.0], [0.0, -1.0, 3.0]]), requires_grad=True)
    np.testing.assert_array_equal(ops.argmax(x, axis=1).data, [1, 2])
    np.testing.assert_array_equal(ops.argmin(x, axis=1).data, [0, 1])
    np.testing.assert_array_equal(ops.argsort(x).data, np.argsort(x.data, axis=-1, kind="stable"))


def test_cast_float_to_float_passes_the_gradient_in_the_input_dtype():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = ops.cast(x, "float64")
    assert y.dtype == np.float64
    ops.sum(y * y).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, 4.0])
    assert not ops.cast(x, "int32").requires_grad
