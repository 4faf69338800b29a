"""The tape: plain arrays stay plain, Tensors record, backward/gradient/vjp semantics, dtypes, stability."""

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import ops
from nnscratch.autodiff import Tensor, no_grad, record, vjp


def test_plain_arrays_in_plain_arrays_out():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for out in (ops.add(x, 1.0), ops.matmul(x, x.T), ops.relu(x), ops.sum(x, axis=0), ops.softmax(x),
                ops.take(x, [0, 0], axis=0), ops.getitem(x, (Ellipsis, 0)), ops.concatenate([x, x]), ops.split(x, 3, 1)[0]):
        assert isinstance(out, np.ndarray) and not isinstance(out, Tensor)
        assert out.dtype == np.float32


def test_tensor_properties_and_operators():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = np.ones(3)
    assert a.shape == (2, 3) and a.ndim == 2 and a.dtype == np.float64 and a.size == 6 and len(a) == 2
    assert a.T.shape == (3, 2) and a[..., 0].shape == (2,)
    for out in (a * b + 1, -a, a @ a.T, a ** 2, 2 - a, b / (a + 1), b + a, a.sum(axis=0), a.mean(), a.max(), a.min()):
        assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_array_equal((a @ a.T).data, a.data @ a.data.T)
    np.testing.assert_array_equal((b - a).data, b - a.data)  # ndarray on the left defers to the Tensor
    assert ((a > 2) & (a < 5)).dtype == bool
    np.testing.assert_array_equal((~(a > 2)).data, a.data <= 2)


def test_python_floats_become_float32_and_float32_stays_float32():
    assert Tensor(1.5).dtype == np.float32 and Tensor([1.0, 2.0]).dtype == np.float32
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    y = ops.mean(ops.log_softmax(ops.sigmoid(x @ w * 2.0 + 1.0) / 3.0) ** 2) + ops.std(x) + ops.norm(w)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_gradient_of_a_value_used_twice_is_summed():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = x * x + x
    ops.sum(y * y).backward()
    np.testing.assert_allclose(x.grad, 2 * (x.data**2 + x.data) * (2 * x.data + 1))


def test_broadcast_input_gets_gradient_summed_over_the_broadcast_axes():
    b = Tensor(np.zeros((1, 3)), requires_grad=True)
    s = Tensor(np.array(2.0), requires_grad=True)
    ops.sum(np.ones((4, 3)) * b * s).backward()
    np.testing.assert_allclose(b.grad, [[8.0, 8.0, 8.0]])
    assert s.grad.shape == () and float(s.grad) == 0.0


def test_backward_accumulates_into_leaves_like_pytorch():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).backward()
    (x * 3).backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    with pytest.raises(nn.NNScratchError, match="does not require grad"):
        Tensor(np.ones(2)).backward()


def test_tape_gradient_single_list_unconnected_and_output_gradient():
    with record() as tape:
        a, b, c = tape.watch(np.array([1.0, 2.0])), tape.watch(np.array(3.0)), tape.watch(np.ones(2))
        y = a * b
    np.testing.assert_allclose(tape.gradient(y, a), [3.0, 3.0])
    _, gb, gc = tape.gradient(y, [a, b, c])
    np.testing.assert_allclose(gb, 3.0)
    assert gc is None
    np.testing.assert_array_equal(tape.gradient(y, [c], unconnected="zero")[0], np.zeros(2))
    np.testing.assert_allclose(tape.gradient(y, a, output_gradient=np.array([1.0, -1.0])), [3.0, -3.0])


def test_gradient_with_respect_to_an_intermediate_value():
    with record() as tape:
        x = tape.watch(np.array([1.0, 2.0]))
        h = x * 2
        y = ops.sum(h * h)
    gh, gx = tape.gradient(y, [h, x])
    np.testing.assert_allclose(gh, 2 * h.data)
    np.testing.assert_allclose(gx, 4 * h.data)


def test_deep_graph_needs_no_recursion():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0 + 0.0
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_no_grad_records_nothing_and_record_turns_it_back_on():
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        assert not (x * 2).requires_grad
        with record() as tape:
            y = tape.watch(x) * 2
        assert y.requires_grad


def test_vjp_with_inputs_and_parameters():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    labels = np.array([0, 1, 1, 0])

    def layer(x, params, labels, scale):
        w, b = params
        return ops.take_along_axis(ops.relu(x @ w + b) * scale, labels[:, None], axis=1)

    out, backward = vjp(layer, x, [w, b], labels, 2.0)
    z = x @ w + b
    np.testing.assert_allclose(out, np.take_along_axis(np.maximum(z, 0) * 2, labels[:, None], axis=1))
    g = rng.standard_normal(out.shape)
    dx, (dw, db), dlabels, dscale = backward(g)
    gz = np.zeros_like(z)
    gz[np.arange(4), labels] = g[:, 0] * 2
    gz *= z > 0
    np.testing.assert_allclose(dx, gz @ w.T)
    np.testing.assert_allclose(dw, x.T @ gz)
    np.testing.assert_allclose(db, gz.sum(axis=0))
    assert dlabels is None and dscale is None
    np.testing.assert_allclose(backward(g)[0], dx)  # may be called again


def test_vjp_constant_tensor_input_gets_no_gradient_and_dicts_and_tuples_nest():
    x, w = np.ones((2, 3), np.float32), np.full((3, 1), 0.5, np.float32)
    out, backward = vjp(lambda x, p: (x @ p["w"], ops.sum(p["w"])), Tensor(x), {"w": w})
    assert isinstance(out, tuple) and out[0].dtype == np.float32
    dx, dp = backward((np.ones((2, 1), np.float32), np.float32(1.0)))
    assert dx is None
    np.testing.assert_allclose(dp["w"], np.full((3, 1), 3.0))
    assert dp["w"].dtype == np.float32
    with pytest.raises(nn.NNScratchError, match="output gradients"):
        backward([np.ones((2, 1))])


def test_vjp_of_an_output_that_ignores_the_inputs():
    _, backward = vjp(lambda x: np.zeros(3), np.ones(3))
    assert backward(np.ones(3)) == (None,)


def test_requires_grad_needs_a_float_dtype_and_no_silent_conversion():
    with pytest.raises(nn.DTypeError):
        Tensor(np.arange(3), requires_grad=True)
    t = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(nn.NNScratchError, match="convert_to_numpy"):
        np.asarray(t)
    assert ops.convert_to_numpy(t) is t.data
    np.testing.assert_array_equal(np.asarray(Tensor(np.ones(2))), np.ones(2))
    with pytest.raises(TypeError):
        np.exp(t)


def test_convert_to_tensor():
    assert isinstance(ops.convert_to_tensor([1.0, 2.0]), np.ndarray)
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    t = Tensor(np.ones(2), requires_grad=True)
    assert ops.convert_to_tensor(t) is t
    c = ops.convert_to_tensor(t, "float32")
    assert c.dtype == np.float32 and c.requires_grad


def test_stable_functions_at_extreme_inputs():
    x = np.array([[-1e4, 0.0, 1e4], [-50.0, 20.0, 30.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = ops.sigmoid(x)
        np.testing.assert_allclose(s[0], [0.0, 0.5, 1.0])
        assert s[1, 0] > 0  # not flushed to zero in float32
        np.testing.assert_allclose(ops.softmax(x).sum(axis=-1), 1.0, rtol=1e-6)
        ls = ops.log_softmax(x)
        assert np.all(np.isfinite(ls)) and ls[0, 0] == pytest.approx(-2e4)
        np.testing.assert_allclose(ops.logsumexp(x, axis=1), [1e4, 30 + np.log1p(np.exp(-10))], rtol=1e-6)
        np.testing.assert_allclose(ops.log_sigmoid(x)[0], [-1e4, np.log(0.5), 0.0], rtol=1e-6)
        np.testing.assert_allclose(ops.softplus(x)[0], [0.0, np.log(2), 1e4], rtol=1e-6)
    assert ops.sigmoid(x).dtype == ops.softmax(x).dtype == ops.logsumexp(x).dtype == np.float32
    assert ops.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    t = Tensor(x, requires_grad=True)
    ops.sum(ops.log_softmax(t) * ops.sigmoid(t) + ops.logsumexp(t, axis=0)).backward()
    assert np.all(np.isfinite(t.grad))


def test_errors_say_what_was_expected():
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(nn.InvalidValueError, match="Frobenius"):
        ops.norm(t, ord=2, axis=(0, 1))
    with pytest.raises(nn.InvalidValueError, match="distinct letters"):
        ops.einsum("ii->i", t)
    with pytest.raises(nn.InvalidValueError, match="not differentiable"):
        ops.pad(t, 1, mode="mean")
    with pytest.raises(nn.ShapeError, match="same shape"):
        (t * 2).backward(np.ones(3))
