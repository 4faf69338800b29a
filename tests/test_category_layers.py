"""CategoryEncoding and Discretization: Keras's documented examples, NumPy references (np.eye, np.digitize),
count weights and their exact gradient, Keras's approximate-quantile adapt, empty batches, config and file round
trips, ONNX export in onnxruntime (float32 and float64), errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core import shapes
from nnscratch.core.errors import DTypeError, InvalidTypeError, InvalidValueError, NotBuiltError, ShapeError
from nnscratch.core.layer import Layer
from nnscratch.layers.category_encoding import CategoryEncoding
from nnscratch.layers.discretization import Discretization

rng = np.random.default_rng(0)


# ---------------------------------------------------------------- CategoryEncoding
def test_keras_s_documented_examples() -> None:
    one_hot = CategoryEncoding(num_tokens=4, output_mode="one_hot")([3, 2, 0, 1])
    np.testing.assert_array_equal(one_hot, [[0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    multi_hot = CategoryEncoding(num_tokens=4, output_mode="multi_hot")([[0, 1], [0, 0], [1, 2], [3, 1]])
    np.testing.assert_array_equal(multi_hot, [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    count_weights = np.array([[.1, .2], [.1, .1], [.2, .3], [.4, .2]])
    counted = CategoryEncoding(num_tokens=4, output_mode="count")([[0, 1], [0, 0], [1, 2], [3, 1]],
                                                                   count_weights=count_weights)
    np.testing.assert_allclose(counted, [[.1, .2, 0, 0], [.2, 0, 0, 0], [0, .2, .3, 0], [0, .2, 0, .4]], rtol=1e-6)
    assert one_hot.dtype == multi_hot.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_encodings_match_numpy(dtype) -> None:
    tokens = rng.integers(0, 6, size=(9, 5))
    eye = np.eye(6)
    x = tokens.astype(dtype)
    np.testing.assert_array_equal(CategoryEncoding(6, "one_hot").forward(x), eye[tokens])
    np.testing.assert_array_equal(CategoryEncoding(6).forward(x), eye[tokens].max(axis=1))
    np.testing.assert_array_equal(CategoryEncoding(6, "count").forward(x), eye[tokens].sum(axis=1))
    np.testing.assert_array_equal(CategoryEncoding(6, "binary").forward(x), eye[tokens].max(axis=1))
    for mode in ("one_hot", "multi_hot", "count"):  # one token a sample: (N,) and (N, 1) give (N, num_tokens)
        np.testing.assert_array_equal(CategoryEncoding(6, mode).forward(x[:, 0]), eye[tokens[:, 0]])
        np.testing.assert_array_equal(CategoryEncoding(6, mode).forward(x[:, :1]), eye[tokens[:, 0]])


def test_count_weights_and_their_exact_gradient() -> None:
    tokens = rng.integers(0, 5, size=(7, 4)).astype(np.float64)
    weights = rng.normal(size=(7, 4))
    layer = CategoryEncoding(5, "count").set_dtype("float64")
    out = layer.forward([tokens, weights])
    np.testing.assert_allclose(out, np.einsum("ntk,nt->nk", np.eye(5)[tokens.astype(int)], weights))
    g = rng.normal(size=out.shape)
    no_grad, dw = layer.backward(g)
    assert no_grad is None and dw.shape == weights.shape
    assert np.isclose(np.sum(out * g), np.sum(weights * dw))  # the output is linear in the weights
    single = CategoryEncoding(5, "count").set_dtype("float64")
    out = single.forward([tokens[:, 0], weights[:, 0]])
    np.testing.assert_allclose(out, np.eye(5)[tokens[:, 0].astype(int)] * weights[:, :1])
    assert np.isclose(np.sum(out * g), np.sum(weights[:, 0] * single.backward(g)[1]))


def test_tokens_get_no_gradient() -> None:
    layer = CategoryEncoding(3)
    layer.forward(np.array([[0.0, 2.0]], np.float32))
    assert layer.backward(np.ones((1, 3), np.float32)) is None


def test_count_weights_in_a_model_train_the_layers_before() -> None:
    tokens, features = nn.Input((4,)), nn.Input((4,))
    weights = nn.Dense(4)(features)
    model = nn.Model([tokens, features], nn.Dense(1)(CategoryEncoding(6, "count")([tokens, weights])))
    model.compile(loss="mse", optimizer="sgd")
    x = [rng.integers(0, 6, size=(16, 4)).astype(np.float32), rng.normal(size=(16, 4)).astype(np.float32)]
    before = model.get_weights()
    model.fit(x, np.ones((16, 1), np.float32), epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before[0], model.get_weights()[0])  # the first Dense got gradients


@pytest.mark.parametrize("tokens, match", [
    ([[0, 4]], "token 4 at \\(0, 1\\), out of range: num_tokens=4, so tokens must be 0..3"),
    ([[-1, 0]], "token -1 at \\(0, 0\\), out of range"),
    ([[1.5, 0]], "holds 1.5 at index \\(0, 0\\); expected whole numbers"),
    ([[np.nan, 0]], "holds nan"),
])
def test_bad_tokens_are_one_clear_error(tokens, match) -> None:
    with pytest.raises(InvalidValueError, match=match):
        CategoryEncoding(4).forward(np.array(tokens, np.float32))


@pytest.mark.parametrize("make, error, match", [
    (lambda: CategoryEncoding(), InvalidValueError, "needs num_tokens"),
    (lambda: CategoryEncoding(0), InvalidValueError, "num_tokens must be an integer >= 1"),
    (lambda: CategoryEncoding("3"), InvalidTypeError, "num_tokens must be an integer"),
    (lambda: CategoryEncoding(3, "tf_idf"), InvalidValueError, "output_mode must be one of 'one_hot', 'multi_hot'"),
    (lambda: CategoryEncoding(3, sparse=True), InvalidValueError, "sparse=True is not supported"),
    (lambda: CategoryEncoding(3)(np.zeros((2, 2)), count_weights=np.ones((2, 2))), InvalidValueError,
     "count_weights are used only with output_mode='count'"),
    (lambda: CategoryEncoding(3, "count")(np.zeros((2, 2)), count_weights=np.ones((2, 3))), ShapeError,
     "count_weights must have the tokens' shape"),
    (lambda: CategoryEncoding(3).forward(np.zeros((2, 2, 2))), ShapeError,
     "encodes inputs of shape \\(batch,\\) or \\(batch, tokens\\), got \\(batch, 2, 2\\)"),
    (lambda: CategoryEncoding(3).forward(np.zeros((2, 2), bool)), DTypeError, "expects integer tokens"),
    (lambda: CategoryEncoding(2 ** 25).forward(np.zeros((2, 2), np.float32)), DTypeError, "needs integer or float64"),
])
def test_bad_arguments_and_inputs(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_one_hot_takes_any_rank_and_the_built_shape_is_kept() -> None:
    tokens = rng.integers(0, 3, size=(2, 4, 5))
    np.testing.assert_array_equal(CategoryEncoding(3, "one_hot").forward(tokens), np.eye(3)[tokens])
    layer = CategoryEncoding(3)
    layer.forward(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match="built for tokens of shape \\(batch, 4\\), got \\(2, 5\\)"):
        layer.forward(np.zeros((2, 5)))


# ---------------------------------------------------------------- Discretization
def test_discretization_keras_s_documented_examples() -> None:
    x = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])
    np.testing.assert_array_equal(Discretization(bin_boundaries=[0., 1., 2.])(x), [[0, 2, 3, 1], [1, 3, 2, 1]])
    layer = Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(x)
    np.testing.assert_array_equal(layer(x), [[0, 2, 3, 2], [1, 3, 3, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bins_match_np_digitize(dtype) -> None:
    boundaries = [-1.0, -0.25, 0.0, 0.5, 0.5, 2.0]
    x = np.concatenate([rng.normal(size=40), boundaries, [-np.inf, np.inf, np.nan, -0.0]]).astype(dtype)
    x = x.reshape(2, -1)
    layer = Discretization(bin_boundaries=boundaries).set_dtype(dtype)
    np.testing.assert_array_equal(layer.forward(x), np.digitize(x, np.array(boundaries, dtype)))
    assert layer.forward(x).dtype == dtype
    for mode, reduce in (("one_hot", None), ("multi_hot", np.max), ("count", np.sum)):
        eye = np.eye(7)[np.digitize(x, np.array(boundaries, dtype))]
        expected = eye if reduce is None else reduce(eye, axis=1)
        np.testing.assert_array_equal(Discretization(bin_boundaries=boundaries, output_mode=mode).forward(x), expected)


def test_any_rank_in_int_mode_and_no_boundaries_is_one_bin() -> None:
    x = rng.normal(size=(2, 3, 4, 5))
    np.testing.assert_array_equal(Discretization(bin_boundaries=[0.0]).forward(x), (x >= 0).astype(np.float32))
    np.testing.assert_array_equal(Discretization(bin_boundaries=[]).forward(x), np.zeros(x.shape))
    np.testing.assert_array_equal(Discretization(bin_boundaries=[0.0], output_mode="count").forward(x[:, 0, 0]),
                                  np.stack([(x[:, 0, 0] < 0).sum(1), (x[:, 0, 0] >= 0).sum(1)], axis=1))


def test_adapt_learns_quantiles_from_an_array_or_batches() -> None:
    data = rng.uniform(0, 100, size=(20000, 3))
    layer = Discretization(num_bins=5, epsilon=0.001).adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.2, 0.4, 0.6, 0.8]), atol=0.5)
    counts = np.bincount(layer(data).astype(int).ravel(), minlength=5)
    assert counts.min() > 0.19 * data.size and counts.max() < 0.21 * data.size
    batched = Discretization(num_bins=5, epsilon=0.001).adapt(iter(np.array_split(data, 10)))
    np.testing.assert_allclose(batched.bin_boundaries, layer.bin_boundaries, atol=1.0)
    first = Discretization(num_bins=5, epsilon=0.001).adapt(np.array_split(data, 10), steps=1)
    np.testing.assert_array_equal(first.bin_boundaries, Discretization(num_bins=5, epsilon=0.001)
                                  .adapt(np.array_split(data, 10)[0]).bin_boundaries)
    few = Discretization(num_bins=8).adapt(np.array([1.0, 2.0, 3.0]))  # fewer points than bins: fewer boundaries
    assert few.bin_boundaries == [1.0, 2.0] and few.depth == 3


def test_gradient_is_zero() -> None:
    layer = Discretization(bin_boundaries=[0.0, 1.0]).set_dtype("float64")
    x = rng.normal(size=(3, 4))
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((3, 4))), np.zeros((3, 4)))


@pytest.mark.parametrize("make, error, match", [
    (lambda: Discretization(), InvalidValueError, "needs bin_boundaries"),
    (lambda: Discretization([0.0], num_bins=2), InvalidValueError, "not both"),
    (lambda: Discretization([1.0, 0.0]), InvalidValueError, "bin_boundaries must be in increasing order"),
    (lambda: Discretization([0.0, np.nan]), InvalidValueError, "bin_boundaries must be a list of numbers"),
    (lambda: Discretization("0, 1"), InvalidValueError, "bin_boundaries must be a list of numbers"),
    (lambda: Discretization(num_bins=0), InvalidValueError, "num_bins must be an integer >= 1"),
    (lambda: Discretization(num_bins=3, epsilon=0), InvalidValueError, "epsilon must be a number in \\(0, 1\\]"),
    (lambda: Discretization([0.0], output_mode="tf_idf"), InvalidValueError, "output_mode must be one of 'int'"),
    (lambda: Discretization([0.0], output_mode="count", sparse=True), InvalidValueError, "sparse=True"),
    (lambda: Discretization([0.0]).adapt(np.ones(3)), InvalidValueError, "only a layer made with num_bins can adapt"),
    (lambda: Discretization(num_bins=3).adapt(np.ones(0)), InvalidValueError, "got no values"),
    (lambda: Discretization(num_bins=3).adapt([np.array(["a"])]), InvalidTypeError, "takes arrays of numbers"),
    (lambda: Discretization(num_bins=3).adapt(np.array([1.0, np.nan])), InvalidValueError, "batch 0 holds NaN"),
    (lambda: Discretization(num_bins=3).forward(np.ones((2, 2))), NotBuiltError, "call adapt\\(data\\)"),
    (lambda: Discretization([0.0], output_mode="multi_hot").forward(np.ones((2, 2, 2))), ShapeError,
     "output_mode='multi_hot' encodes inputs of shape \\(batch,\\) or \\(batch, tokens\\)"),
])
def test_discretization_bad_arguments_and_inputs(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


# ---------------------------------------------------------------- both
LAYERS = [lambda: CategoryEncoding(4), lambda: CategoryEncoding(4, "one_hot"), lambda: CategoryEncoding(4, "count"),
          lambda: Discretization([0.5, 1.5]), lambda: Discretization([0.5, 1.5], output_mode="multi_hot")]


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("shape", [(), (1,), (5,)])
def test_an_empty_batch_gives_the_shape_one_sample_gives(make, shape) -> None:
    assert shapes.call_on_zeros(make(), shape, 0) == shapes.call_on_zeros(make(), shape, 1)


def test_config_and_file_round_trip(tmp_path: Path) -> None:
    adapted = Discretization(num_bins=3, output_mode="one_hot").adapt(rng.normal(size=100))
    for layer in [CategoryEncoding(5, "count"), Discretization([0.0, 2.0], epsilon=0.1), adapted]:
        copy = type(layer).from_config(layer.get_config())
        assert copy.get_config() == layer.get_config()
    assert Discretization.from_config(adapted.get_config()).bin_boundaries == adapted.bin_boundaries
    tokens, values = nn.Input((3,)), nn.Input((3,))
    encoded = nn.Concatenate()([CategoryEncoding(5)(tokens), nn.Flatten()(adapted(values)),
                                CategoryEncoding(5, "count")([tokens, values])])
    model = nn.Model([tokens, values], nn.Dense(2)(encoded))
    x = [rng.integers(0, 5, size=(6, 3)).astype(np.float32), rng.normal(size=(6, 3)).astype(np.float32)]
    loaded = nn.load_model(model.save(tmp_path / "encoded.npz"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    found = [layer for layer in loaded.layers if isinstance(layer, (CategoryEncoding, Discretization))]
    assert [type(layer).__name__ for layer in found] == ["CategoryEncoding", "Discretization", "CategoryEncoding"]
    assert found[1].bin_boundaries == adapted.bin_boundaries and found[1].num_bins == 3
    assert Layer.registry["CategoryEncoding"] is CategoryEncoding
    assert Layer.registry["Discretization"] is Discretization


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-6), ("float64", 1e-12)])
def test_onnx_export_matches_predict(tmp_path: Path, dtype: str, tol: float) -> None:
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_preprocessing_converters  # noqa: F401  (registers the converters)

    tokens, values, single = nn.Input((5,), dtype=dtype), nn.Input((5,), dtype=dtype), nn.Input((), dtype=dtype)
    image = nn.Input((4, 4, 2), dtype=dtype)
    outs = [CategoryEncoding(7)(tokens), CategoryEncoding(7, "count")(tokens), CategoryEncoding(7, "one_hot")(tokens),
            CategoryEncoding(7, "count")([tokens, values]), CategoryEncoding(7, "one_hot")(single),
            CategoryEncoding(7, "count")([single, single]), CategoryEncoding(7, "multi_hot")(single),
            Discretization([1.0, 2.0, 3.0], output_mode="one_hot")(values),
            Discretization([1.0, 2.5], output_mode="count")(values),
            Discretization([1.0, 2.5], output_mode="multi_hot")(single), Discretization([])(values),
            Discretization([-0.5, 0.1, 0.1, 1.0])(nn.Conv2D(2, 1)(image))]
    model = nn.Model([tokens, values, single, image], outs)
    values_data = np.concatenate([rng.normal(size=(4, 4)) * 3, [[0.0], [1.0], [2.5], [3.0]]], axis=1)
    x = [rng.integers(0, 7, size=(4, 5)), values_data, rng.integers(0, 7, size=4), rng.normal(size=(4, 4, 4, 2))]
    x = [a.astype(dtype) for a in x]
    path = model.export(tmp_path / "encoded.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), x)})
    for ours, theirs in zip(model.predict(x), got):
        assert ours.shape == theirs.shape and theirs.dtype == np.dtype(dtype)
        np.testing.assert_allclose(theirs, ours, atol=tol)


def test_onnx_bins_of_nan_and_infinities_are_numpy_s(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_preprocessing_converters  # noqa: F401  (registers the converters)

    values = nn.Input((4,))
    layer = Discretization([-1.0, 0.0, 2.0])
    path = nn.Model(values, layer(values)).export(tmp_path / "bins.onnx")
    x = np.array([[np.nan, -np.inf, np.inf, 0.0]], np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_array_equal(got, layer.forward(x))
    np.testing.assert_array_equal(got, np.digitize(x, [-1.0, 0.0, 2.0]))
