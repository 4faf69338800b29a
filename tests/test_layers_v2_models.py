"""The new layers inside graph models: a layer called twice, save/load, training; bad arguments and inputs."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import NNScratchError
from nnscratch.utils.gradcheck import check_module

SHARED = [
    ((7, 2), lambda: nn.Conv1D(2, 3, padding="same", activation="tanh")),
    ((5, 4, 2), lambda: nn.Conv2DTranspose(2, 3, padding="same")),
    ((4, 3), lambda: nn.LayerNormalization()),
    ((6, 2), lambda: nn.MaxPool1D(3, strides=1, padding="same")),
    ((6, 2), lambda: nn.AvgPool1D(2, strides=1, padding="same")),
]


@pytest.mark.parametrize(("shape", "make"), SHARED, ids=lambda v: getattr(v, "__name__", str(v)))
def test_a_layer_called_twice_is_exact(shape: tuple, make) -> None:
    """``y = f(x) + f(f(x))`` with one layer ``f``: its calls keep their own records and its gradients add up."""
    nn.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((2, *shape))
    inp = nn.Input(shape, dtype="float64")
    layer = make()
    first = layer(inp)
    model = nn.Model(inp, nn.Add()([first, layer(first)]))
    y1 = layer.forward(x)
    np.testing.assert_allclose(model.predict(x), y1 + layer.forward(y1), rtol=1e-12)
    errors = check_module(model, x)
    assert max(errors.values()) < 1e-7, errors


def test_a_shared_embedding_adds_the_gradients_of_both_inputs() -> None:
    a, b = nn.Input((3,)), nn.Input((3,))
    embed = nn.Embedding(6, 2)
    model = nn.Model([a, b], nn.Add()([embed(a), embed(b)]))
    xa, xb = np.array([[0, 1, 1]], np.float32), np.array([[1, 5, 0]], np.float32)
    out = model.predict([xa, xb])
    np.testing.assert_array_equal(out, embed.embeddings.data[[[0, 1, 1]]] + embed.embeddings.data[[[1, 5, 0]]])
    model.compile(loss="mse", optimizer="sgd")
    _, grads = model.compute_gradients([xa, xb], np.zeros_like(out))
    g = 2 * out / out.size  # d(mean squared error)/d(out)
    expected = np.zeros((6, 2))
    for i, row in enumerate([0, 1, 1]):
        expected[row] += g[0, i]
    for i, row in enumerate([1, 5, 0]):
        expected[row] += g[0, i]
    (grad,) = grads.values()
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def small_model() -> nn.Model:
    nn.set_random_seed(1)
    seq = nn.Input((12, 3), name="seq")
    s = nn.Conv1D(4, 3, padding="causal", activation="relu")(seq)
    s = nn.MaxPooling1D(2)(s)
    s = nn.LayerNormalization()(s)
    s = nn.AveragePooling1D(2, padding="same")(s)
    s = nn.GlobalMaxPooling1D()(s)
    img = nn.Input((5, 6, 2), name="img")
    i = nn.ZeroPadding2D(((1, 0), (0, 1)))(img)
    i = nn.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu")(i)
    i = nn.UpSampling2D((1, 2))(i)
    i = nn.Cropping2D(((1, 1), (2, 0)))(i)
    i = nn.GlobalMaxPooling2D()(i)
    words = nn.Input((5,), name="words")
    w = nn.Embedding(10, 4)(words)
    w = nn.GlobalAveragePooling1D()(w)
    merged = nn.Concatenate()([nn.Dense(3)(s), nn.Dense(3)(i), nn.Dense(3)(w)])
    return nn.Model([seq, img, words], nn.Dense(2)(merged))


def data(n: int = 16) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((n, 12, 3)).astype(np.float32), rng.standard_normal((n, 5, 6, 2)).astype(np.float32),
          rng.integers(0, 10, (n, 5)).astype(np.float32)]
    return xs, rng.standard_normal((n, 2)).astype(np.float32)


def test_save_and_load_round_trip(tmp_path) -> None:
    model = small_model()
    xs, y = data()
    model.compile(loss="mse", optimizer=nn.Adam(lr=1e-2))
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(xs, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))  # every weight trained
    loaded = nn.load_model(model.save(tmp_path / "model.nns"))
    assert [type(layer).__name__ for layer in loaded.graph.layers] == [type(layer).__name__ for layer in model.graph.layers]
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs))


F32 = np.float32
BAD = [
    (lambda: nn.Conv1D(0, 3), "Conv1D filters"),
    (lambda: nn.Conv1D(2, (3, 3)), "Conv1D kernel_size"),
    (lambda: nn.Conv1D(2, 3, padding="full"), "Conv1D padding must be one of"),
    (lambda: nn.Conv1D(2, 3, data_format="channels_first"), "Conv1D works on channels-last"),
    (lambda: nn.Conv1D(2, 3).forward(np.zeros((2, 5), F32)), r"Conv1D expects inputs of shape \(batch, steps, channels\)"),
    (lambda: nn.Conv1D(2, 9).forward(np.zeros((2, 5, 1), F32)), "Conv1D window of 9 steps is longer"),
    (lambda: nn.Conv2DTranspose(2, 3, strides=2, output_padding=2), "Conv2DTranspose output_padding"),
    (lambda: nn.Conv2DTranspose(2, 0), "Conv2DTranspose kernel_size"),
    (lambda: nn.Conv2DTranspose(2, 3).forward(np.zeros((2, 5, 5), F32)),
     r"Conv2DTranspose expects inputs of shape \(batch, height, width, channels\)"),
    (lambda: nn.Conv2DTranspose(2, 1, padding=2).forward(np.zeros((1, 2, 2, 1), F32)), "Conv2DTranspose with padding"),
    (lambda: nn.UpSampling2D(interpolation="bilinear"), "UpSampling2D supports interpolation='nearest'"),
    (lambda: nn.UpSampling2D(0), "UpSampling2D size"),
    (lambda: nn.UpSampling2D().forward(np.zeros((2, 4, 4), F32)), r"UpSampling2D expects inputs of shape \(batch, height"),
    (lambda: nn.MaxPool1D(0), "MaxPool1D pool_size"),
    (lambda: nn.AvgPool1D(2, padding="full"), "AvgPool1D padding"),
    (lambda: nn.MaxPool1D(2, padding=2), "MaxPool1D padding 2 must be smaller"),
    (lambda: nn.MaxPool1D(3).forward(np.zeros((1, 2, 1), F32)), "MaxPool1D window of 3 steps is longer"),
    (lambda: nn.AvgPool1D().forward(np.zeros((2, 8, 8, 1), F32)), r"AvgPool1D expects inputs of shape \(batch, steps"),
    (lambda: nn.GlobalMaxPool2D().forward(np.zeros((2, 5, 3), F32)), r"GlobalMaxPool2D expects inputs of shape \(batch, h"),
    (lambda: nn.GlobalMaxPool1D().forward(np.zeros((2, 5), F32)), r"GlobalMaxPool1D expects inputs of shape \(batch, s"),
    (lambda: nn.GlobalAvgPool1D().forward(np.zeros((2, 4, 4, 1), F32)), r"GlobalAvgPool1D expects inputs of shape"),
    (lambda: nn.Embedding(0, 3), "Embedding input_dim"),
    (lambda: nn.Embedding(3, 2).forward(np.array([["a"]])), "Embedding expects integer indices"),
    (lambda: nn.Embedding(3, 2).forward([[1, 2]]), "Embedding expects a numpy array"),
    (lambda: nn.LayerNormalization(axis="x"), "LayerNormalization axis must be an integer"),
    (lambda: nn.LayerNormalization(epsilon=0), "LayerNormalization epsilon"),
    (lambda: nn.LayerNormalization(axis=0).forward(np.zeros((2, 3), F32)), "LayerNormalization axis 0 does not name"),
    (lambda: nn.LayerNormalization(axis=[1, -1]).forward(np.zeros((2, 3), F32)), "LayerNormalization axis"),
    (lambda: nn.Cropping2D(-1), "Cropping2D cropping must be"),
    (lambda: nn.Cropping2D(((1, 2),)), "Cropping2D cropping must be"),
    (lambda: nn.Cropping2D(3).forward(np.zeros((1, 5, 8, 1), F32)), "Cropping2D cropping .* removes every row"),
    (lambda: nn.ZeroPadding2D("x"), "ZeroPadding2D padding must be"),
    (lambda: nn.ZeroPadding2D().forward(np.zeros((2, 5), F32)), r"ZeroPadding2D expects inputs of shape \(batch, height"),
]


@pytest.mark.parametrize(("make", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_arguments_and_inputs_raise_one_clear_error(make, message: str) -> None:
    with pytest.raises(NNScratchError, match=message):
        make()


def test_a_built_layer_names_the_shape_it_was_built_for() -> None:
    for layer, good, bad in [(nn.Conv1D(2, 3), (2, 6, 1), (2, 7, 1)), (nn.Embedding(4, 2), (2, 3), (2, 4)),
                             (nn.UpSampling2D(), (1, 2, 2, 1), (1, 3, 2, 1)), (nn.MaxPool1D(), (1, 4, 2), (1, 4, 3))]:
        layer.forward(np.zeros(good, np.float32))
        with pytest.raises(NNScratchError, match=rf"{type(layer).__name__} was built for inputs of shape"):
            layer.forward(np.zeros(bad, np.float32))


def test_the_graph_reports_a_bad_layer_by_name() -> None:
    with pytest.raises(NNScratchError, match="GlobalMaxPool2D expects inputs of shape"):
        nn.GlobalMaxPooling2D()(nn.Input((5, 3)))
