"""ConvLSTM2D (Keras 3's layer, channels-last sequences of images): float64 finite differences, a loop reference
written per step and per gate, PyTorch's conv2d with autograd, shapes, refusals, configs, model files, and
keras-io's next-frame prediction model on moving squares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.layers.conv3d import Conv3D
from nnscratch.layers.conv_lstm import ConvLSTM2D
from nnscratch.utils.gradcheck import check_module

TOL = 1e-6
SHAPE = (3, 6, 7, 2)  # (T, H, W, C) per sample

CASES = [
    dict(padding="same"),
    dict(padding="valid"),
    dict(kernel_size=(1, 1)),
    dict(kernel_size=(2, 3), padding="same"),  # even kernel: the extra "same" pad at the bottom
    dict(return_sequences=True),
    dict(return_state=True),
    dict(return_sequences=True, return_state=True, padding="same"),
    dict(go_backwards=True),
    dict(go_backwards=True, return_sequences=True, padding="same"),
    dict(activation="relu", padding="same", return_sequences=True),
    dict(use_bias=False),
    dict(strides=2),
    dict(strides=(2, 1), padding="same"),
    dict(dilation_rate=2),
    dict(dilation_rate=(2, 1), padding="same", recurrent_activation="tanh"),
]


def make(seed: int = 1, **kwargs: Any) -> ConvLSTM2D:
    args: dict[str, Any] = dict(filters=3, kernel_size=3)
    args.update(kwargs)
    layer = ConvLSTM2D(**args)
    layer.set_dtype(np.float64)
    layer.set_rng(np.random.default_rng(seed))
    return layer


def sequences(n: int, shape: tuple[int, ...] = SHAPE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *shape))


def built(layer: ConvLSTM2D, x: np.ndarray) -> ConvLSTM2D:
    """``layer`` built for ``x`` with a bias that is not the initializer's (so every gate's bias matters)."""
    layer.forward(x)
    if layer.bias is not None:
        layer.bias.data[...] = np.random.default_rng(5).standard_normal(layer.bias.shape) * 0.5
    return layer


def outputs(out: Any) -> list[np.ndarray]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


# ---------------------------------------------------------------- finite differences
@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={v}" for a, v in k.items()))
def test_gradients_match_finite_differences(kwargs: dict[str, Any]) -> None:
    x = sequences(2)
    errors = check_module(built(make(**kwargs), x), x)
    assert set(errors) >= {"input", "kernel", "recurrent_kernel"}
    assert max(errors.values()) < TOL, errors


def test_only_the_final_states_may_get_gradients() -> None:
    """With return_state, dL/dh and dL/dc of the final states alone (the output's gradient None) still reach x."""
    x = sequences(2)
    layer = built(make(return_state=True, padding="same"), x)
    layer.zero_grad()
    layer.forward(x)
    out, h, c = layer.forward(x)
    g = np.random.default_rng(3).standard_normal(c.shape)
    dx = layer.backward([None, None, g])

    def loss(xs: np.ndarray) -> float:
        return float(np.sum(layer.forward(xs)[2] * g))
    eps, numeric = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        numeric[idx] = (loss(xp) - loss(xm)) / (2 * eps)
    np.testing.assert_allclose(dx, numeric, atol=1e-7)
    assert np.abs(dx).max() > 1e-3


def test_no_input_gradient_when_not_needed() -> None:
    x = sequences(2)
    layer = built(make(padding="same"), x)
    ctx = nn.core.call.Call(training=True, input_grad=False)
    y = layer.forward_call(ctx, x)
    layer.zero_grad()
    assert layer.backward_call(ctx, np.ones_like(y)) is None
    assert np.abs(layer.kernel.grad).sum() > 0 and np.abs(layer.recurrent_kernel.grad).sum() > 0
    layer.backward_call(ctx, np.ones_like(y))  # gradients add up
    first = layer.kernel.grad.copy()
    layer.zero_grad()
    layer.backward_call(ctx, np.ones_like(y))
    np.testing.assert_allclose(first, 2 * layer.kernel.grad, rtol=1e-12)


# ---------------------------------------------------------------- a loop reference
def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's "same": ``ceil(size / stride)`` outputs, the extra pad cell after."""
    total = max((-(-size // stride) - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_plain(x: np.ndarray, w: np.ndarray, stride: tuple[int, int], dilation: tuple[int, int],
               padding: str) -> np.ndarray:
    """Cross-correlation of ``x`` ``(N, H, W, C)`` with ``w`` ``(KH, KW, C, O)``, one einsum per kernel offset."""
    kh, kw = w.shape[:2]
    if padding == "same":
        pads = [same_pads(x.shape[1 + a], w.shape[a], stride[a], dilation[a]) for a in range(2)]
        x = np.pad(x, ((0, 0), *pads, (0, 0)))
    oh = (x.shape[1] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x.shape[2] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((len(x), oh, ow, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            a, b = i * dilation[0], j * dilation[1]
            patch = x[:, a:a + stride[0] * (oh - 1) + 1:stride[0], b:b + stride[1] * (ow - 1) + 1:stride[1]]
            out += np.einsum("nhwc,co->nhwo", patch, w[i, j])
    return out


def reference(layer: ConvLSTM2D, x: np.ndarray) -> list[np.ndarray]:
    """The layer's outputs, step by step and gate by gate."""
    acts = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0),
            "linear": lambda z: z}
    act, rec = acts[layer.activation], acts[layer.recurrent_activation]
    f = layer.filters
    k, rk = layer.kernel.data, layer.recurrent_kernel.data
    b = layer.bias.data if layer.bias is not None else np.zeros(4 * f)
    seq = x[:, ::-1] if layer.go_backwards else x
    h = c = None
    hs = []
    for t in range(seq.shape[1]):
        z = []
        for gate in range(4):
            cols = slice(gate * f, (gate + 1) * f)
            zg = conv_plain(seq[:, t], k[..., cols], layer.strides, layer.dilation_rate, layer.padding) + b[cols]
            if h is not None:
                zg = zg + conv_plain(h, rk[..., cols], (1, 1), (1, 1), "same")
            z.append(zg)
        i, fg, g, o = rec(z[0]), rec(z[1]), act(z[2]), rec(z[3])
        c = i * g if c is None else fg * c + i * g
        h = o * act(c)
        hs.append(h)
    out = np.stack(hs, axis=1) if layer.return_sequences else h
    return [out, h, c] if layer.return_state else [out]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={v}" for a, v in k.items()))
def test_outputs_match_a_loop_reference(kwargs: dict[str, Any]) -> None:
    x = sequences(3)
    layer = built(make(**kwargs), x)
    got, want = outputs(layer.forward(x)), reference(layer, x)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- PyTorch
def torch_run(layer: ConvLSTM2D, x: np.ndarray, gs: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The recurrence with torch's conv2d (NCHW) and autograd: outputs, then dL/dx and dL/d(each weight) for
    L = sum(outputs * gs)."""
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}
    act, rec = acts[layer.activation], acts[layer.recurrent_activation]
    xt = torch.tensor(x, requires_grad=True)
    weights = [torch.tensor(p.data, requires_grad=True) for p in layer.weights]
    kernel, rkernel = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else None
    kh, kw = layer.kernel_size
    w_in, w_rec = kernel.permute(3, 2, 0, 1), rkernel.permute(3, 2, 0, 1)  # (4F, C, KH, KW)

    def same(v: Any, stride: tuple[int, int], dilation: tuple[int, int]) -> Any:
        top, bottom = same_pads(v.shape[2], kh, stride[0], dilation[0])
        left, right = same_pads(v.shape[3], kw, stride[1], dilation[1])
        return fn.pad(v, (left, right, top, bottom))

    seq = xt.flip(1) if layer.go_backwards else xt
    f, h, c, hs = layer.filters, None, None, []
    for t in range(seq.shape[1]):
        xs = seq[:, t].permute(0, 3, 1, 2)
        if layer.padding == "same":
            xs = same(xs, layer.strides, layer.dilation_rate)
        z = fn.conv2d(xs, w_in, bias, stride=layer.strides, dilation=layer.dilation_rate)
        if h is not None:
            z = z + fn.conv2d(same(h, (1, 1), (1, 1)), w_rec)
        i, fg, g, o = rec(z[:, :f]), rec(z[:, f:2 * f]), act(z[:, 2 * f:3 * f]), rec(z[:, 3 * f:])
        c = i * g if c is None else fg * c + i * g
        h = o * act(c)
        hs.append(h)
    nhwc = [v.permute(0, 2, 3, 1) for v in hs]
    out = torch.stack(nhwc, dim=1) if layer.return_sequences else nhwc[-1]
    outs = [out, h.permute(0, 2, 3, 1), c.permute(0, 2, 3, 1)] if layer.return_state else [out]
    loss = sum((o * torch.tensor(g)).sum() for o, g in zip(outs, gs))
    loss.backward()
    return [o.detach().numpy() for o in outs], [xt.grad.numpy(), *(w.grad.numpy() for w in weights)]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(f"{a}={v}" for a, v in k.items()))
def test_outputs_and_gradients_match_pytorch(kwargs: dict[str, Any]) -> None:
    pytest.importorskip("torch")
    x = sequences(2, seed=4)
    layer = built(make(**kwargs), x)
    got = outputs(layer.forward(x))
    rng = np.random.default_rng(6)
    gs = [rng.standard_normal(o.shape) for o in got]
    layer.zero_grad()
    dx = layer.backward(gs if layer.return_state else gs[0])
    want, grads = torch_run(layer, x, gs)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    for a, b in zip([dx, *(p.grad for p in layer.weights)], grads):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


# ---------------------------------------------------------------- shapes, probes, float32
@pytest.mark.parametrize("kwargs, shape", [
    (dict(padding="same"), (8, 8, 4)),
    (dict(padding="same", return_sequences=True), (None, 8, 8, 4)),
    (dict(), (6, 6, 4)),
    (dict(strides=2, return_sequences=True), (None, 3, 3, 4)),
    (dict(strides=2, padding="same"), (4, 4, 4)),
    (dict(dilation_rate=2), (4, 4, 4)),
])
def test_output_shapes_in_a_model(kwargs: dict[str, Any], shape: tuple[Any, ...]) -> None:
    inputs = nn.Input((None, 8, 8, 2))
    out = ConvLSTM2D(4, 3, **kwargs)(inputs)
    assert out.sample_shape == shape
    model = nn.Model(inputs, out)
    text = model.summary(print_fn=None)
    assert f"(None, {', '.join(map(str, shape))})" in text
    kernel = 3 * 3 * 2 * 16 + 3 * 3 * 4 * 16 + 16
    assert model.count_params() == kernel and str(kernel) in text
    y = model.predict(np.zeros((2, 5, 8, 8, 2), np.float32))
    assert y.shape == (2, *(5 if d is None else d for d in shape))


def test_return_state_shapes_and_values() -> None:
    inputs = nn.Input((None, 8, 8, 2))
    out, h, c = ConvLSTM2D(4, 3, padding="same", return_state=True)(inputs)
    assert out.sample_shape == h.sample_shape == c.sample_shape == (8, 8, 4)
    model = nn.Model(inputs, [out, h, c])
    y, hv, cv = model.predict(sequences(3, (4, 8, 8, 2)).astype(np.float32))
    np.testing.assert_array_equal(y, hv)
    assert not np.allclose(hv, cv)


def test_empty_batch_and_float32() -> None:
    layer = ConvLSTM2D(4, 3, padding="same", return_sequences=True, return_state=True)
    out, h, c = layer.forward(np.zeros((0, 5, 8, 8, 2), np.float32))
    assert out.shape == (0, 5, 8, 8, 4) and h.shape == c.shape == (0, 8, 8, 4)
    assert layer.kernel.shape == (3, 3, 2, 16) and layer.recurrent_kernel.shape == (3, 3, 4, 16)
    assert layer.bias.shape == (16,) and layer.kernel.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])  # unit_forget_bias
    x = sequences(2, (5, 8, 8, 2)).astype(np.float32)
    out, h, c = layer.forward(x, training=True)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    dx = layer.backward([np.ones_like(out), None, None])
    assert dx.dtype == np.float32 and dx.shape == x.shape and np.abs(dx).sum() > 0
    reference_out = reference(layer, x.astype(np.float64))[0]
    np.testing.assert_allclose(out, reference_out, atol=1e-5)


def test_recurrent_kernel_is_orthogonal_and_kernel_glorot() -> None:
    layer = ConvLSTM2D(4, 3)
    layer.forward(np.zeros((1, 2, 6, 6, 2), np.float32))
    flat = layer.recurrent_kernel.data.reshape(-1, 16).astype(np.float64)  # (KH*KW*F, 4F): orthonormal columns
    np.testing.assert_allclose(flat.T @ flat, np.eye(16), atol=1e-5)
    limit = np.sqrt(6 / (3 * 3 * 2 + 3 * 3 * 16))  # Keras's fans of (KH, KW, C, 4F)
    assert np.abs(layer.kernel.data).max() <= limit and np.abs(layer.kernel.data).max() > 0.8 * limit


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("kwargs, words", [
    (dict(stateful=True), "stateful"),
    (dict(dropout=0.1), "dropout"),
    (dict(recurrent_dropout=0.2), "dropout"),
    (dict(strides=2, dilation_rate=2), "dilation_rate"),
    (dict(data_format="channels_first"), "channels_last"),
    (dict(padding="causal"), "padding"),
    (dict(activation="softmax"), "activation"),
    (dict(kernel_constraint="non_neg"), "constraints"),
])
def test_refusals(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidValueError, match=words):
        ConvLSTM2D(4, 3, **kwargs)


def test_call_refusals() -> None:
    layer = ConvLSTM2D(4, 3, padding="same")
    x = np.zeros((1, 2, 6, 6, 2), np.float32)
    state = np.zeros((1, 6, 6, 4), np.float32)
    with pytest.raises(InvalidValueError, match="initial states"):
        layer(x, initial_state=[state, state])
    with pytest.raises(InvalidValueError, match="initial states"):
        layer([x, state, state])
    with pytest.raises(InvalidValueError, match="mask"):
        layer(x, mask=np.ones((1, 2), bool))
    with pytest.raises(ShapeError, match="steps, height, width, channels"):
        ConvLSTM2D(4, 3)(nn.Input((6, 6, 2)))
    with pytest.raises(ShapeError, match="window"):
        ConvLSTM2D(4, 7)(nn.Input((None, 6, 6, 2)))
    with pytest.raises(ShapeError, match="at least one step"):
        ConvLSTM2D(4, 3).forward(np.zeros((1, 0, 6, 6, 2), np.float32))


# ---------------------------------------------------------------- configs and files
def test_config_round_trip() -> None:
    layer = ConvLSTM2D(5, (3, 2), strides=(2, 1), padding="same", activation="relu",
                       recurrent_activation="tanh", use_bias=False, unit_forget_bias=False, return_sequences=True,
                       return_state=True, go_backwards=True, kernel_regularizer={"l2": 0.01})
    config = layer.get_config()
    assert config["filters"] == 5 and config["kernel_size"] == [3, 2] and config["strides"] == [2, 1]
    assert config["dilation_rate"] == [1, 1] and config["recurrent_initializer"]["name"] == "orthogonal"
    copy = ConvLSTM2D.from_config(config)
    assert copy.get_config() == config
    assert ConvLSTM2D.from_config(ConvLSTM2D(2, 3).get_config()).get_config() == ConvLSTM2D(2, 3).get_config()


def test_model_file_gives_the_same_predictions(tmp_path: Path) -> None:
    inputs = nn.Input((None, 8, 8, 2))
    h = ConvLSTM2D(4, 3, padding="same", return_sequences=True, go_backwards=True)(inputs)
    h = nn.BatchNorm()(h)
    out = ConvLSTM2D(3, (1, 1), activation="relu", recurrent_regularizer="l2")(h)
    model = nn.Model(inputs, out, seed=0)
    x = sequences(3, (4, 8, 8, 2)).astype(np.float32)
    loaded = nn.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert np.abs(model.predict(x)).max() > 0


def test_bidirectional_wraps_it() -> None:
    x = sequences(2, (3, 6, 6, 2))
    inner = make(padding="same", return_sequences=True)
    layer = nn.Bidirectional(inner)
    layer.set_dtype(np.float64)
    layer.set_rng(np.random.default_rng(0))
    y = layer.forward(x)
    assert y.shape == (2, 3, 6, 6, 6)
    back = layer.backward_layer
    np.testing.assert_allclose(y[..., 3:], reference(back, x)[0][:, ::-1], atol=1e-12)
    errors = check_module(layer, x)
    assert max(errors.values()) < TOL, errors


# ---------------------------------------------------------------- keras-io's next-frame prediction
def moving_squares(n: int, steps: int = 7, size: int = 16, seed: int = 0) -> np.ndarray:
    """``(n, steps, size, size, 1)`` frames of a 3x3 square moving one or two pixels a step, bouncing off the edges."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, steps, size, size, 1), np.float32)
    for s in range(n):
        pos, vel = rng.integers(0, size - 3, 2), rng.choice([-2, -1, 1, 2], 2)
        for t in range(steps):
            frames[s, t, pos[0]:pos[0] + 3, pos[1]:pos[1] + 3] = 1.0
            for a in range(2):
                if not 0 <= pos[a] + vel[a] <= size - 3:
                    vel[a] = -vel[a]
                pos[a] += vel[a]
    return frames


def test_next_frame_model_learns() -> None:
    frames = moving_squares(32)
    x, y = frames[:, :-1], frames[:, 1:]  # T = 6: predict each next frame
    inputs = nn.Input((None, 16, 16, 1))
    h = ConvLSTM2D(8, (3, 3), padding="same", return_sequences=True, activation="relu")(inputs)
    h = nn.BatchNorm()(h)
    out = Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same")(h)
    model = nn.Model(inputs, out, seed=0)
    assert out.sample_shape == (None, 16, 16, 1)
    model.compile(loss="binary_crossentropy", optimizer=nn.Adam(0.01))
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0], losses
    assert model.predict(x[:2]).shape == (2, 6, 16, 16, 1)
