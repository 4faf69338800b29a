"""Every op's gradient against float64 central differences (broadcasting, keepdims, repeated inputs...)."""

import numpy as np
import pytest

from nnscratch import ops
from nnscratch.autodiff.gradcheck import check_gradients

TOL = 1e-6
R = np.random.default_rng(0)


def n(*shape):
    return R.standard_normal(shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def unit(*shape):
    return R.uniform(-0.8, 0.8, shape)


def distinct(*shape):
    """Normal values with no ties (max/min/abs/relu stay away from their kinks)."""
    return R.permutation(np.linspace(-2, 2, int(np.prod(shape))) + 0.013).reshape(shape)


UNARY = {  # name: input maker
    "negative": n, "abs": distinct, "square": n, "sqrt": pos, "reciprocal": pos, "exp": n, "expm1": n, "log": pos,
    "log1p": pos, "log2": pos, "log10": pos, "sin": n, "cos": n, "tan": unit, "arcsin": unit, "arccos": unit,
    "arctan": n, "sinh": n, "cosh": n, "tanh": n, "arcsinh": n, "arctanh": unit,
    "sigmoid": n, "log_sigmoid": n, "softplus": n, "relu": distinct, "leaky_relu": distinct, "elu": distinct,
    "silu": n, "gelu": n, "softmax": n, "log_softmax": n, "logsumexp": n,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    errors = check_gradients(getattr(ops, name), UNARY[name](3, 4))
    assert errors[0] < TOL


def test_arccosh():
    assert check_gradients(ops.arccosh, R.uniform(1.5, 3, (3, 4)))[0] < TOL


BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "arctan2"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))],
                         ids=["same", "row", "both-broadcast", "scalar"])
def test_binary_with_broadcasting(name, shapes):
    make = pos if name == "divide" else distinct
    x, y = make(*shapes[0]), make(*shapes[1]) + (0 if name == "divide" else 0.5)
    errors = check_gradients(getattr(ops, name), x, y)
    assert max(errors) < TOL


def test_power_both_arguments_and_constant_exponents():
    assert max(check_gradients(ops.power, pos(3, 4), n(4))) < TOL
    assert check_gradients(lambda x: x ** 3, n(5))[0] < TOL
    assert check_gradients(lambda x: 2.0 ** x, n(5))[0] < TOL


def test_power_zero_exponent_at_zero_is_zero_not_nan():
    assert check_gradients(lambda x: ops.power(x, 0.0) + ops.power(x, 2), np.array([0.0, 1.5]))[0] < TOL


def test_maximum_ties_split_the_gradient():
    from nnscratch.autodiff import Tensor
    a, b = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([1.0, 3.0]), requires_grad=True)
    ops.sum(ops.maximum(a, b)).backward()
    np.testing.assert_allclose(a.grad, [0.5, 0.0])
    np.testing.assert_allclose(b.grad, [0.5, 1.0])


def test_clip_and_where():
    x = distinct(3, 4)
    assert check_gradients(lambda v: ops.clip(v, -1.0, 1.0), x)[0] < TOL
    assert max(check_gradients(lambda a, b: ops.where(a > 0, a, b * 2), x, n(4))) < TOL


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp"])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False), (-1, True)])
def test_reductions(name, axis, keepdims):
    x = distinct(2, 3, 4) if name in ("max", "min") else n(2, 3, 4)
    assert check_gradients(lambda v: getattr(ops, name)(v, axis=axis, keepdims=keepdims), x)[0] < TOL


def test_var_std_ddof():
    x = n(4, 5)
    assert check_gradients(lambda v: ops.var(v, axis=0, ddof=1), x)[0] < TOL
    assert check_gradients(lambda v: ops.std(v, axis=1, ddof=1, keepdims=True), x)[0] < TOL


def test_max_with_ties_shares_the_gradient_evenly():
    from nnscratch.autodiff import Tensor
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    ops.sum(ops.max(x, axis=1)).backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


def test_prod_with_zeros_is_exact():
    x = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])
    assert check_gradients(lambda v: ops.prod(v, axis=1), x)[0] < TOL
    assert check_gradients(lambda v: ops.prod(v), np.array([2.0, 0.0, -1.5]))[0] < TOL


@pytest.mark.parametrize("ord_,axis", [(None, None), (2, 1), (1, 0), (np.inf, 1), (-np.inf, 1), (3, 1),
                                       ("fro", (0, 1)), (None, (1, 2))])
def test_norm(ord_, axis):
    x = distinct(2, 3, 4) if axis == (1, 2) else distinct(3, 4)
    assert check_gradients(lambda v: ops.norm(v, ord=ord_, axis=axis), x)[0] < TOL


def test_norm_at_zero_has_a_finite_gradient():
    from nnscratch.autodiff import Tensor
    z = Tensor(np.zeros(3), requires_grad=True)
    ops.norm(z).backward()
    np.testing.assert_array_equal(z.grad, 0)


def test_cumsum():
    assert check_gradients(lambda v: ops.cumsum(v, axis=1), n(3, 4))[0] < TOL
    assert check_gradients(ops.cumsum, n(3, 4))[0] < TOL


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)),
                                    ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4,))])
def test_matmul(shapes):
    assert max(check_gradients(ops.matmul, n(*shapes[0]), n(*shapes[1]))) < TOL
    assert max(check_gradients(lambda a, b: a @ b, n(*shapes[0]), n(*shapes[1]))) < TOL


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((4,), (4,)), ((), (3,)), ((2, 3, 4), (5, 4, 2)), ((3, 4), (4,))])
def test_dot(shapes):
    assert max(check_gradients(ops.dot, n(*shapes[0]), n(*shapes[1]))) < TOL


@pytest.mark.parametrize("axes", [2, 1, ([0, 2], [2, 0]), (1, 0)])
def test_tensordot(axes):
    a, b = (n(2, 3, 4), n(3, 4, 5)) if axes in (2, 1) else (n(2, 3, 4), n(4, 5, 2)) if axes != (1, 0) else (n(2, 3), n(3, 4))
    if axes == 1:
        b = n(4, 5)
    assert max(check_gradients(lambda x, y: ops.tensordot(x, y, axes=axes), a, b)) < TOL


@pytest.mark.parametrize("spec,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->ji", [(3, 4)]),
    ("ij->i", [(3, 4)]), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (4,)]), ("...d,d->...", [(2, 3, 4), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("ij,ij->ij", [(1, 3), (2, 3)]),
])
def test_einsum(spec, shapes):
    arrays = [n(*s) for s in shapes]
    assert max(check_gradients(lambda *a: ops.einsum(spec, *a), *arrays)) < TOL


def test_outer_and_transpose():
    assert max(check_gradients(ops.outer, n(3), n(2, 2))) < TOL
    assert check_gradients(lambda v: ops.transpose(v, (2, 0, 1)), n(2, 3, 4))[0] < TOL
    assert check_gradients(lambda v: v.T, n(2, 3))[0] < TOL
