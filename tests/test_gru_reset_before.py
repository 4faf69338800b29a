"""``GRU(reset_after=False)`` (Keras's other form: one bias ``(3 units,)``, the candidate
``act(x W_h + b_h + (r * h) U_h)``): float64 finite differences in every mode and through a mask, the formula
step by step (with its dropout masks), Keras's weight layout, configs and model files, and ONNX's
``GRU(linear_before_reset=0)`` in onnxruntime. PyTorch's GRU has only the other form, so no PyTorch oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from masked_call import Masked

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.functional import sigmoid
from nnscratch.utils.gradcheck import check_module

X = np.random.default_rng(0).standard_normal((3, 5, 4))
MASK = np.array([[1, 1, 1, 0, 0],  # padding at the end
                 [0, 0, 1, 1, 1],  # at the start
                 [1, 0, 1, 0, 1]], bool)  # every other step


def gru(units: int = 3, **kwargs: Any) -> nn.GRU:
    """A reset-before GRU in float64, built for ``X``, with a random (nonzero) bias when it has one."""
    layer = nn.GRU(units, reset_after=False, seed=kwargs.pop("seed", 0), **kwargs).set_dtype(np.float64)
    layer.build((None, 5, 4))
    if layer.bias is not None:
        layer.bias.data[...] = np.random.default_rng(7).standard_normal(layer.bias.shape) * 0.5
    return layer


def reference(layer: nn.GRU, x: np.ndarray, xmask: np.ndarray | None = None, hmask: np.ndarray | None = None,
              mask: np.ndarray | None = None) -> np.ndarray:
    """Keras's ``GRUCell.call`` with ``reset_after=False``, step by step in NumPy: every state ``(N, T, units)``
    in reading order (``xmask`` ``(N, F)`` and ``hmask`` ``(N, units)``: the dropout masks)."""
    k, rk = layer.kernel.data, layer.recurrent_kernel.data
    b = layer.bias.data if layer.bias is not None else np.zeros(rk.shape[1])
    u = layer.units
    if layer.go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    h, out = np.zeros((len(x), u)), []
    for t in range(x.shape[1]):
        xt = x[:, t] if xmask is None else x[:, t] * xmask
        hm = h if hmask is None else h * hmask
        xz, xr, xh = np.split(xt @ k + b, 3, axis=1)
        z = sigmoid(xz + hm @ rk[:, :u])
        r = sigmoid(xr + hm @ rk[:, u:2 * u])
        cand = np.tanh(xh + (r * hm) @ rk[:, 2 * u:])
        new = z * h + (1 - z) * cand
        h = new if mask is None else np.where(mask[:, t:t + 1], new, h)
        out.append(h)
    return np.stack(out, axis=1)


MODES = {
    "last": {},
    "sequences": {"return_sequences": True},
    "sequences-backwards": {"return_sequences": True, "go_backwards": True},
    "state": {"return_state": True},
    "sequences-state-backwards": {"return_sequences": True, "return_state": True, "go_backwards": True},
    "dropouts": {"dropout": 0.3, "recurrent_dropout": 0.4, "seed": 2},
    "dropouts-sequences-no-bias": {"dropout": 0.3, "recurrent_dropout": 0.4, "seed": 3, "use_bias": False,
                                   "return_sequences": True},
    "relu-sigmoid": {"activation": "relu", "recurrent_activation": "sigmoid", "return_sequences": True},
}


@pytest.mark.parametrize("kwargs", MODES.values(), ids=MODES.keys())
def test_gradients(kwargs) -> None:
    layer = gru(4, **kwargs)
    errors = check_module(layer, X, training=True)
    expected = {"input", "kernel", "recurrent_kernel"} | ({"bias"} if layer.use_bias else set())
    assert set(errors) == expected
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "go_backwards": True},
                                    {"return_state": True, "dropout": 0.3, "recurrent_dropout": 0.4, "seed": 4}],
                         ids=["last", "sequences-backwards", "state-dropouts"])
def test_gradients_through_padding(kwargs) -> None:
    layer = gru(3, **kwargs)
    wrapped = Masked(layer, MASK)
    errors = check_module(wrapped, X, training=True)
    assert {"input", "inner.kernel", "inner.recurrent_kernel", "inner.bias"} <= set(errors), errors
    assert max(errors.values()) < 1e-7, errors
    outs = wrapped.forward(X, training=True)
    outs = outs if isinstance(outs, list) else [outs]
    dx = wrapped.backward([np.ones_like(o) for o in outs] if len(outs) > 1 else np.ones_like(outs[0]))
    assert np.all(dx[~MASK] == 0) and np.count_nonzero(dx[MASK]) > dx[MASK].size // 2
    plain = Masked(layer, None).forward(X, training=True)
    assert not np.allclose(outs[0], plain[0] if isinstance(plain, list) else plain)


def test_the_formula_step_by_step() -> None:
    layer = gru(3, return_sequences=True)
    np.testing.assert_allclose(layer.forward(X), reference(layer, X), rtol=1e-12, atol=1e-14)
    back = gru(3, return_sequences=True, go_backwards=True)
    back.set_weights(layer.get_weights())
    np.testing.assert_allclose(back.forward(X), reference(back, X), rtol=1e-12, atol=1e-14)
    masked = Masked(layer, MASK).forward(X)
    np.testing.assert_allclose(masked, reference(layer, X, mask=MASK), rtol=1e-12, atol=1e-14)
    # the other form (the reset gate after the recurrent product) gives other numbers from the same kernels
    after = nn.GRU(3, return_sequences=True, use_bias=False).set_dtype(np.float64)
    after.build((None, 5, 4))
    after.set_weights(layer.get_weights()[:2])
    layer.bias.data[...] = 0
    assert not np.allclose(after.forward(X), layer.forward(X), atol=1e-3)


def test_dropout_masks_as_keras_applies_them() -> None:
    """Input dropout on x, recurrent dropout on h in all three products (``(r * (h * m)) @ U_h``), none on
    the mix ``z * h``."""
    layer = gru(3, return_sequences=True, dropout=0.4, recurrent_dropout=0.5, seed=5)
    out = layer.forward(X, training=True)
    ctx = layer.last_call
    xmask, hmask = ctx.xmask[0], ctx.hmask
    assert np.any(xmask == 0) and np.any(hmask == 0) and np.any(hmask != 0)
    np.testing.assert_allclose(out, reference(layer, X, xmask, hmask), rtol=1e-12, atol=1e-14)
    assert not np.allclose(out, reference(layer, X, xmask, None), atol=1e-3)
    np.testing.assert_allclose(layer.forward(X), reference(layer, X), rtol=1e-12, atol=1e-14)  # inference: none


def test_keras_weight_layout() -> None:
    layer = keras.layers.GRU(2, reset_after=False, bias_initializer="ones")
    layer.build((None, 5, 4))
    kernel, recurrent, bias = layer.get_weights()
    assert (kernel.shape, recurrent.shape, bias.shape) == ((4, 6), (2, 6), (6,))
    np.testing.assert_array_equal(kernel, layer.kernel.data)
    np.testing.assert_array_equal(recurrent, layer.recurrent_kernel.data)
    np.testing.assert_array_equal(bias, np.ones(6))
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(2), atol=1e-6)  # orthogonal rows
    no_bias = keras.layers.GRU(2, reset_after=False, use_bias=False)
    no_bias.build((None, 5, 4))
    assert [w.shape for w in no_bias.get_weights()] == [(4, 6), (2, 6)]
    with pytest.raises(ValueError):
        layer.set_weights([kernel, recurrent, np.ones((2, 6))])  # the other form's bias does not fit


def test_config_and_model_file_round_trip(tmp_path) -> None:
    layer = nn.GRU(3, reset_after=False, recurrent_dropout=0.2)
    config = layer.get_config()
    assert config["reset_after"] is False and nn.GRU(3).get_config()["reset_after"] is True
    assert nn.GRU.from_config(config).get_config() == config
    older = {k: v for k, v in nn.GRU(3).get_config().items() if k != "reset_after"}
    assert nn.GRU.from_config(older).reset_after is True  # files written before the flag was saved
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 5, 2)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    model = nn.Sequential([nn.Input((5, 2)), nn.GRU(6, reset_after=False), nn.Dense(1, activation="sigmoid")],
                          seed=0)
    model.compile("binary_crossentropy", nn.Adam(lr=0.02))
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "gru.npz")
    loaded = nn.load_model(tmp_path / "gru.npz")
    assert loaded.layers[0].reset_after is False and loaded.layers[0].bias.shape == (18,)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


ONNX_LAYERS = {
    "last": lambda: nn.GRU(4, reset_after=False, bias_initializer="random_normal"),
    "sequences-backwards": lambda: nn.GRU(3, reset_after=False, return_sequences=True, go_backwards=True,
                                          bias_initializer="random_normal"),
    "state": lambda: nn.GRU(3, reset_after=False, return_state=True, return_sequences=True),
    "no-bias": lambda: nn.GRU(3, reset_after=False, use_bias=False),
    "bidirectional": lambda: nn.Bidirectional(nn.GRU(2, reset_after=False, return_sequences=True,
                                                     bias_initializer="random_normal")),
}


@pytest.mark.parametrize("make", ONNX_LAYERS.values(), ids=ONNX_LAYERS.keys())
def test_onnx_export_runs_the_same(make, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    import onnx

    x = (X * 2).astype(np.float32)
    inputs = nn.Input((5, 4))
    model = nn.Model(inputs, make()(inputs), seed=0)
    path = model.export(tmp_path / "gru.onnx")
    grus = [n for n in onnx.load(str(path)).graph.node if n.op_type == "GRU"]
    assert grus and all(a.i == 0 for n in grus for a in n.attribute if a.name == "linear_before_reset")
    session = ort.InferenceSession(str(path))
    got = session.run(None, {session.get_inputs()[0].name: x})
    expected = model.predict(x)
    expected = expected if isinstance(expected, list) else [expected]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
