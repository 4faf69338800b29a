"""Recurrent layers (``SimpleRNN``, ``LSTM``, ``GRU``): float64 gradient checks in every mode, the formulas
against a step-by-step NumPy loop and against PyTorch's layers, Keras's weight layout, and training."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.core.functional import sigmoid
from nnscratch.utils.gradcheck import check_module

X = np.random.default_rng(0).standard_normal((3, 5, 4))

LAYERS = {
    "SimpleRNN": lambda: nn.SimpleRNN(6),
    "SimpleRNN-relu-sequences-backwards": lambda: nn.SimpleRNN(4, activation="relu", return_sequences=True,
                                                                go_backwards=True),
    "LSTM": lambda: nn.LSTM(5),
    "LSTM-sequences": lambda: nn.LSTM(5, return_sequences=True),
    "LSTM-state": lambda: nn.LSTM(4, return_state=True, return_sequences=True),
    "LSTM-dropouts": lambda: nn.LSTM(4, dropout=0.3, recurrent_dropout=0.4, seed=1),
    "GRU": lambda: nn.GRU(5),
    "GRU-sequences-backwards": lambda: nn.GRU(3, return_sequences=True, go_backwards=True),
    "GRU-state": lambda: nn.GRU(3, return_state=True),
    "GRU-dropouts-no-bias": lambda: nn.GRU(4, dropout=0.3, recurrent_dropout=0.4, use_bias=False, seed=2),
    "SimpleRNN-recurrent-dropout": lambda: nn.SimpleRNN(4, recurrent_dropout=0.5, seed=3),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_gradients(make) -> None:
    layer = make()
    errors = check_module(layer, X, training=True)
    assert set(errors) >= {"input", "kernel", "recurrent_kernel"}
    assert max(errors.values()) < 1e-7, errors


def test_simple_rnn_is_the_textbook_loop() -> None:
    layer = nn.SimpleRNN(3, return_sequences=True).set_dtype(np.float64)
    out = layer.forward(X)
    k, rk, b = (p.data for p in (layer.kernel, layer.recurrent_kernel, layer.bias))
    h = np.zeros((3, 3))
    for t in range(5):
        h = np.tanh(X[:, t] @ k + h @ rk + b)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-12)


def test_lstm_and_gru_match_their_formulas_step_by_step() -> None:
    lstm = nn.LSTM(3).set_dtype(np.float64)
    out = lstm.forward(X)
    k, rk, b = (p.data for p in (lstm.kernel, lstm.recurrent_kernel, lstm.bias))
    h, c = np.zeros((3, 3)), np.zeros((3, 3))
    for t in range(5):
        i, f, g, o = np.split(X[:, t] @ k + h @ rk + b, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    np.testing.assert_allclose(out, h, rtol=1e-12)
    gru = nn.GRU(3).set_dtype(np.float64)
    out = gru.forward(X)
    k, rk, b = (p.data for p in (gru.kernel, gru.recurrent_kernel, gru.bias))
    h = np.zeros((3, 3))
    for t in range(5):
        xz, xr, xh = np.split(X[:, t] @ k + b[0], 3, axis=1)
        hz, hr, hh = np.split(h @ rk + b[1], 3, axis=1)
        z, r = sigmoid(xz + hz), sigmoid(xr + hr)
        h = z * h + (1 - z) * np.tanh(xh + r * hh)
    np.testing.assert_allclose(out, h, rtol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_against_pytorch(kind) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    layer = getattr(nn, kind)(4, return_sequences=True).set_dtype(np.float64)
    out = layer.forward(X, training=True)
    g = np.random.default_rng(1).standard_normal(out.shape)
    dx = layer.backward(g)
    k, rk, b = layer.kernel.data, layer.recurrent_kernel.data, layer.bias.data
    ref = getattr(torch.nn, kind)(4, 4, batch_first=True).double()
    # PyTorch's LSTM gates are i, f, g, o as Keras's; its GRU's are r, z, n where Keras has z, r, h
    order = np.r_[4:8, 0:4, 8:12] if kind == "GRU" else np.arange(16)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(k.T[order]))
        ref.weight_hh_l0.copy_(torch.from_numpy(rk.T[order]))
        ref.bias_ih_l0.copy_(torch.from_numpy((b[0] if kind == "GRU" else b)[order]))
        ref.bias_hh_l0.copy_(torch.from_numpy(b[1][order] if kind == "GRU" else np.zeros(16)))
    xt = torch.from_numpy(X.copy()).requires_grad_(True)
    theirs, _ = ref(xt)
    theirs.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.kernel.grad.T[order], ref.weight_ih_l0.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.recurrent_kernel.grad.T[order], ref.weight_hh_l0.grad.numpy(), rtol=1e-9,
                               atol=1e-12)


def test_keras_weight_layout_and_initial_values() -> None:
    model = keras.Sequential([keras.Input((5, 4)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    kernel, recurrent, bias = model.layers[0].get_weights()
    assert kernel.shape == (4, 12) and recurrent.shape == (3, 12) and bias.shape == (12,)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(3), np.ones(3), np.zeros(6)])  # unit_forget_bias
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-6)  # orthogonal rows
    gru = keras.layers.GRU(2)
    gru.build((None, 5, 4))
    assert [w.shape for w in gru.get_weights()] == [(4, 6), (2, 6), (2, 6)]


def test_outputs_states_and_backwards_reading() -> None:
    seq = nn.LSTM(3, return_sequences=True, return_state=True).set_dtype(np.float64)
    out, h, c = seq.forward(X)
    assert out.shape == (3, 5, 3) and h.shape == c.shape == (3, 3)
    np.testing.assert_array_equal(out[:, -1], h)
    back = nn.LSTM(3, go_backwards=True).set_dtype(np.float64)
    back.build((5, 4))
    forward = nn.LSTM(3).set_dtype(np.float64)
    forward.build((5, 4))
    forward.set_weights(back.get_weights())
    np.testing.assert_allclose(back.forward(X), forward.forward(X[:, ::-1]), rtol=1e-12)


def test_a_model_of_them_saves_and_learns(tmp_path) -> None:
    """Is the sum of a sequence positive? An LSTM and a GRU model learn it from 256 sequences."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((256, 8, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    inputs = nn.Input(shape=(8, 1))
    merged = nn.Concatenate()([nn.LSTM(8)(inputs), nn.GRU(8)(inputs)])
    model = nn.Model(inputs, nn.Dense(1, activation="sigmoid")(merged), seed=0)
    model.compile("binary_crossentropy", nn.Adam(lr=0.02), metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "rnn.npz")
    np.testing.assert_array_equal(nn.load_model(tmp_path / "rnn.npz").predict(x), model.predict(x))


@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.LSTM(3).forward(np.ones((2, 4), np.float32)), ShapeError,
     r"LSTM expects inputs of shape \(batch, steps, features\), got \(batch, 4\)"),
    (lambda: nn.GRU(3, reset_after=False, recurrent_activation="softsign"), InvalidValueError,
     "GRU recurrent_activation must be one of 'tanh'"),  # reset_after=False itself is supported (its own tests)
    (lambda: nn.SimpleRNN(3).reset_states(np.zeros((2, 3))), InvalidValueError, "is not stateful"),  # (stateful: its tests)
    (lambda: nn.LSTM(3, activation="softsign"), InvalidValueError, "LSTM activation must be one of 'tanh'"),
    (lambda: nn.GRU(3, recurrent_dropout=1.0), InvalidValueError, "GRU recurrent_dropout must be a number in"),
    (lambda: nn.SimpleRNN(0), InvalidValueError, "SimpleRNN units"),
])
def test_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make", [
    lambda: nn.SimpleRNN(6, activation="relu", return_sequences=True, go_backwards=True),
    lambda: nn.LSTM(5), lambda: nn.LSTM(5, return_sequences=True, go_backwards=True),
    lambda: nn.LSTM(3, return_state=True), lambda: nn.GRU(4, go_backwards=True, use_bias=False),
    lambda: nn.GRU(3, return_state=True, return_sequences=True),
], ids=["SimpleRNN", "LSTM", "LSTM-sequences-backwards", "LSTM-state", "GRU-backwards", "GRU-state"])
def test_onnx_export_runs_the_same(make, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    x = X.astype(np.float32)
    inputs = nn.Input((5, 4))
    model = nn.Model(inputs, make()(inputs), seed=0)
    session = ort.InferenceSession(str(model.export(tmp_path / "rnn.onnx")))
    got = session.run(None, {session.get_inputs()[0].name: x})
    expected = model.predict(x)
    for a, b in zip(got, expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_onnx_refuses_a_linear_recurrent_activation(tmp_path) -> None:
    pytest.importorskip("onnx", reason="onnx is an optional extra")
    model = nn.Sequential([nn.Input((5, 4)), nn.SimpleRNN(3, activation=None)])
    with pytest.raises(InvalidValueError, match="with the 'linear' activation: ONNX's recurrent ops take tanh"):
        model.export(tmp_path / "never.onnx")
    assert not (tmp_path / "never.onnx").exists()


BIDIRECTIONAL = {
    "LSTM-concat": lambda: nn.Bidirectional(nn.LSTM(3)),
    "GRU-sequences-sum": lambda: nn.Bidirectional(nn.GRU(3, return_sequences=True), merge_mode="sum"),
    "SimpleRNN-sequences-mul": lambda: nn.Bidirectional(nn.SimpleRNN(3, return_sequences=True), merge_mode="mul"),
    "LSTM-states-ave": lambda: nn.Bidirectional(nn.LSTM(2, return_sequences=True, return_state=True),
                                                merge_mode="ave"),
    "GRU-none": lambda: nn.Bidirectional(nn.GRU(2), merge_mode=None),
}


@pytest.mark.parametrize("make", BIDIRECTIONAL.values(), ids=BIDIRECTIONAL.keys())
def test_bidirectional_gradients_and_onnx(make, tmp_path) -> None:
    errors = check_module(make(), X, training=True)
    assert {"forward_layer.kernel", "backward_layer.kernel", "input"} <= set(errors)
    assert max(errors.values()) < 1e-7, errors
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    inputs = nn.Input((5, 4))
    model = nn.Model(inputs, make()(inputs), seed=0)
    session = ort.InferenceSession(str(model.export(tmp_path / "bi.onnx")))
    got = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})
    expected = model.predict(X.astype(np.float32))
    for a, b in zip(got, expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bidirectional_lstm_against_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    layer = nn.Bidirectional(nn.LSTM(4, return_sequences=True)).set_dtype(np.float64)
    out = layer.forward(X)
    ref = torch.nn.LSTM(4, 4, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for half, suffix in ((layer.forward_layer, ""), (layer.backward_layer, "_reverse")):
            getattr(ref, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(half.kernel.data.T.copy()))
            getattr(ref, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(half.recurrent_kernel.data.T.copy()))
            getattr(ref, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(half.bias.data.copy()))
            getattr(ref, f"bias_hh_l0{suffix}").zero_()
        theirs, _ = ref(torch.from_numpy(X.copy()))
    np.testing.assert_allclose(out, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_bidirectional_in_keras_spelling_saves_and_refuses_other_layers(tmp_path) -> None:
    model = keras.Sequential([keras.Input((5, 4)), keras.layers.Bidirectional(keras.layers.GRU(3)),
                              keras.layers.Dense(1)])
    assert [w.shape for w in model.layers[0].get_weights()] == [(4, 9), (3, 9), (2, 9)] * 2
    model.save(tmp_path / "bi.npz")
    x = X.astype(np.float32)
    np.testing.assert_array_equal(nn.load_model(tmp_path / "bi.npz").predict(x), model.predict(x))
    with pytest.raises(nn.InvalidTypeError, match="Bidirectional layer must be a recurrent layer .*got Dense"):
        nn.Bidirectional(nn.Dense(3))
    with pytest.raises(InvalidValueError, match="merge_mode must be one of"):
        nn.Bidirectional(nn.LSTM(3), merge_mode="max")


def test_models_with_recurrent_layers_stay_off_the_thread_split() -> None:
    """They may draw dropout masks, which the data-parallel step's replicas would draw twice alike."""
    from nnscratch.training.parallel import DataParallel

    def model(*layers):
        return nn.Sequential([nn.Input((8, 3)), nn.Conv1D(4, 3, padding="same"), *layers, nn.Dense(1)])

    assert DataParallel.eligible(model(nn.GlobalMaxPool1D()))
    assert not DataParallel.eligible(model(nn.LSTM(4, dropout=0.2)))
    assert not DataParallel.eligible(model(nn.Bidirectional(nn.GRU(2))))
    inputs = nn.Input((8, 3))
    features = nn.Conv1D(4, 3)(inputs)
    attended = nn.MultiHeadAttention(2, 2, dropout=0.1)(features, features)
    assert not DataParallel.eligible(nn.Model(inputs, nn.GlobalMaxPool1D()(attended)))


def test_weight_penalties_and_refused_arguments() -> None:
    """kernel_, recurrent_ and bias_regularizer add to the training loss as Dense's do; masks and constraints are
    refused with a message (they were TypeErrors)."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((16, 5, 3)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)

    def model(**penalties):
        net = nn.Sequential([nn.Input((5, 3)), nn.LSTM(4, **penalties), nn.Dense(1)], seed=2)
        return net.compile("mse", "sgd")

    plain = model()
    penalized = model(kernel_regularizer=keras.regularizers.L2(0.1), recurrent_regularizer="l1",
                      bias_regularizer=keras.regularizers.L2(0.5))
    penalized.set_weights(plain.get_weights())
    lstm = penalized.layers[0]
    expected = (0.1 * np.sum(lstm.kernel.data.astype(np.float64) ** 2)
                + 0.01 * np.sum(np.abs(lstm.recurrent_kernel.data.astype(np.float64)))
                + 0.5 * np.sum(lstm.bias.data.astype(np.float64) ** 2))
    assert penalized.evaluate(x, y) - plain.evaluate(x, y) == pytest.approx(expected, rel=1e-4)
    copy = nn.LSTM.from_config(lstm.get_config())
    assert copy.get_config() == lstm.get_config() and copy.recurrent_regularizer is not None
    with pytest.raises(InvalidValueError, match="weight constraints are not supported"):
        keras.layers.GRU(3, kernel_constraint="max_norm")
    assert keras.layers.Embedding(10, 4, mask_zero=False).output_dim == 4
