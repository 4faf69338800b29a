"""GaussianDropout, AlphaDropout, ActivityRegularization, UnitNormalization and Dot (Keras 3's semantics):
float64 gradient checks, their formulas and statistics, seeds, variable-length inputs, configs and model files,
ONNX export in onnxruntime, and bad arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import DTypeError, InvalidTypeError, InvalidValueError, ShapeError
from nnscratch.layers.activity_regularization import ActivityRegularization
from nnscratch.layers.dot import Dot, dot
from nnscratch.layers.noise_dropout import ALPHA_P, AlphaDropout, GaussianDropout
from nnscratch.layers.unit_norm import UnitNormalization
from nnscratch.models.loading import model_from_json
from nnscratch.utils.gradcheck import check_module, check_training

TOL = 1e-7


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("make, shape", [
    (lambda: GaussianDropout(0.3, seed=1), (4, 5)),
    (lambda: GaussianDropout(0.6), (3, 4, 2)),
    (lambda: GaussianDropout(0.0), (3, 4)),
    (lambda: AlphaDropout(0.3, seed=1), (4, 5)),
    (lambda: AlphaDropout(0.4, noise_shape=(None, 1, None)), (4, 3, 5)),
    (lambda: AlphaDropout(0.2, noise_shape=[1, 3, 1]), (4, 3, 5)),
    (lambda: ActivityRegularization(l1=0.1), (4, 5)),
    (lambda: ActivityRegularization(l2=0.3), (4, 3, 2)),
    (lambda: ActivityRegularization(0.05, 0.2), (4, 3, 2)),
    (lambda: ActivityRegularization(), (4, 3)),
    (lambda: UnitNormalization(), (4, 5)),
    (lambda: UnitNormalization(axis=1), (3, 4, 5)),
    (lambda: UnitNormalization(axis=-2), (3, 4, 5)),
    (lambda: UnitNormalization(axis=[1, 2]), (3, 4, 5)),
    (lambda: UnitNormalization(axis=(-1, -3)), (2, 3, 4, 5)),
], ids=["gaussian", "gaussian-3d", "gaussian-rate0", "alpha", "alpha-noise-shape", "alpha-list-noise-shape",
        "activity-l1", "activity-l2", "activity-l1-l2", "activity-none", "unit", "unit-axis1", "unit-axis-2",
        "unit-axes", "unit-axes-negative"])
def test_single_input_gradients(make: Callable[[], Any], shape: tuple[int, ...]) -> None:
    for training in (True, False):
        errors = check_module(make(), normal(*shape), training=training, seed=3)
        assert max(errors.values()) < TOL, (training, errors)


DOT_FORMS = [
    (1, False, (4, 5), (4, 5)),
    (-1, False, (4, 5), (4, 5)),
    (2, False, (3, 4, 5), (3, 6, 5)),
    ((1, 2), False, (3, 5, 4), (3, 6, 5)),
    ([2, 1], False, (2, 3, 4, 5), (2, 4, 6)),
    ((-1, 1), False, (3, 4), (3, 4, 6)),  # vector . matrix -> (N, 6)
    ((2, 1), False, (3, 5, 4), (3, 4)),  # matrix . vector -> (N, 5)
    ((1, 3), False, (2, 3, 4), (2, 5, 2, 3)),
    (1, True, (4, 5), (4, 5)),
    ((1, 2), True, (3, 5, 4), (3, 6, 5)),
    (-1, True, (3, 4, 5), (3, 6, 5)),
]
DOT_IDS = ["vectors", "vectors-neg", "seq-axes2", "pair", "4d-3d", "vec-mat", "mat-vec", "3d-4d", "cosine",
           "cosine-pair", "cosine-seq"]


@pytest.mark.parametrize("axes, normalize, s1, s2", DOT_FORMS, ids=DOT_IDS)
def test_dot_gradients(axes: Any, normalize: bool, s1: tuple[int, ...], s2: tuple[int, ...]) -> None:
    errors = check_module(Dot(axes, normalize=normalize), [normal(*s1, seed=1), normal(*s2, seed=2)])
    assert max(errors.values()) < TOL, errors


# ---------------------------------------------------------------- formulas and statistics
def test_gaussian_dropout_noise_statistics_and_inference_identity() -> None:
    rate = 0.3
    layer = GaussianDropout(rate, seed=0).set_dtype("float64")
    x = np.full((400, 500), 2.0)
    noise = layer.forward(x, training=True) / x
    assert abs(noise.mean() - 1.0) < 0.005  # the mean is kept
    assert abs(noise.std() / np.sqrt(rate / (1 - rate)) - 1) < 0.01  # stddev sqrt(rate / (1 - rate))
    assert layer.stddev == pytest.approx(np.sqrt(rate / (1 - rate)))
    dy = normal(400, 500)
    np.testing.assert_array_equal(layer.backward(dy), dy * noise)
    assert layer.forward(x, training=False) is x
    assert GaussianDropout(0.0).forward(x, training=True) is x
    y32 = GaussianDropout(0.5, seed=1).forward(x.astype(np.float32), training=True)
    assert y32.dtype == np.float32


def test_alpha_dropout_keeps_zero_mean_unit_variance() -> None:
    rate = 0.2
    layer = AlphaDropout(rate, seed=0).set_dtype("float64")
    x = normal(500, 400)
    y = layer.forward(x, training=True)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1.0) < 0.01
    a = ((1 - rate) * (1 + rate * ALPHA_P**2)) ** -0.5
    b = -a * ALPHA_P * rate
    assert ALPHA_P == pytest.approx(-1.7580993408473766, abs=1e-15)
    assert layer.affine() == pytest.approx((a, b))
    dropped = np.isclose(y, a * ALPHA_P + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - rate) < 0.005
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=0, atol=1e-12)
    dy = normal(500, 400, seed=1)
    np.testing.assert_allclose(layer.backward(dy), np.where(dropped, 0.0, a * dy), rtol=0, atol=1e-12)
    assert layer.forward(x, training=False) is x
    assert AlphaDropout(0.0).forward(x, training=True) is x


def test_alpha_dropout_noise_shape_shares_draws() -> None:
    layer = AlphaDropout(0.5, noise_shape=(None, 1, None), seed=2).set_dtype("float64")
    y = layer.forward(np.zeros((20, 6, 8)), training=True)  # zeros: kept -> b, dropped -> a * alpha_p + b
    assert np.all(y.min(axis=1) == y.max(axis=1))
    assert len(np.unique(y)) == 2


def test_activity_regularization_penalty_is_keras_per_batch_mean() -> None:
    l1, l2 = 0.01, 0.02
    layer = ActivityRegularization(l1=l1, l2=l2).set_dtype("float64")
    x = normal(6, 3, 4)
    assert layer.forward(x, training=False) is x
    expected = (l1 * np.abs(x).sum() + l2 * np.square(x).sum()) / len(x)
    assert layer.last_call is not None and layer.last_call.losses == [pytest.approx(expected, rel=1e-12)]
    twice = layer.penalty(np.concatenate([x, x]))
    assert twice == pytest.approx(expected, rel=1e-12)  # divided by the batch size: the same for repeated rows
    dy = normal(6, 3, 4, seed=1)
    np.testing.assert_allclose(layer.backward(dy), dy + (l1 * np.sign(x) + 2 * l2 * x) / len(x), rtol=1e-12)
    layer.forward(x, training=True)
    assert len(layer.last_call.losses) == 1


def test_activity_regularization_in_a_compiled_model() -> None:
    inputs = nn.Input(shape=(5,), dtype="float64")
    hidden = nn.Dense(4, activation="tanh")(inputs)
    outputs = nn.Dense(2)(ActivityRegularization(l1=0.05, l2=0.1)(hidden))
    model = nn.Model(inputs, outputs, seed=0)
    model.compile(loss="mse", optimizer="sgd")
    x, y = normal(8, 5), normal(8, 2, seed=1)
    errors = check_training(model, x, y)
    assert max(errors.values()) < TOL, errors
    h = nn.Model(inputs, hidden).predict(x)
    mse = float(np.mean((model.predict(x) - y) ** 2))
    penalty = (0.05 * np.abs(h).sum() + 0.1 * np.square(h).sum()) / len(x)
    assert model.evaluate(x, y, batch_size=8) == pytest.approx(mse + penalty, rel=1e-10)


def test_unit_normalization_norms_and_epsilon() -> None:
    x = normal(5, 3, 4)
    y = UnitNormalization().set_dtype("float64").forward(x)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-12)
    y = UnitNormalization(axis=[1, 2]).set_dtype("float64").forward(x)
    np.testing.assert_allclose(np.sqrt((y**2).sum(axis=(1, 2))), 1.0, rtol=1e-12)
    # Keras: x * rsqrt(max(sum(x**2), 1e-12 ** 2)) = x / max(||x||, 1e-12); a zero vector stays 0 with a finite
    # gradient (1e12 * dy)
    tiny = np.array([[3e-13, 4e-13], [0.0, 0.0], [3.0, 4.0]])
    layer = UnitNormalization().set_dtype("float64")
    np.testing.assert_allclose(layer.forward(tiny), [[0.3, 0.4], [0.0, 0.0], [0.6, 0.8]], rtol=1e-12)
    dx = layer.backward(np.ones_like(tiny))
    np.testing.assert_allclose(dx[:2], 1e12, rtol=1e-12)
    assert np.all(np.isfinite(dx))
    assert UnitNormalization().forward(x.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("axes, normalize, s1, s2", DOT_FORMS, ids=DOT_IDS)
def test_dot_matches_einsum(axes: Any, normalize: bool, s1: tuple[int, ...], s2: tuple[int, ...]) -> None:
    x, y = normal(*s1, seed=1), normal(*s2, seed=2)
    i, j = (axes, axes) if isinstance(axes, int) else axes
    i, j = i % x.ndim, j % y.ndim
    if normalize:
        x = x / np.linalg.norm(x, axis=i, keepdims=True)
        y = y / np.linalg.norm(y, axis=j, keepdims=True)
    letters = "abcdefgh"
    xs = "n" + letters[: x.ndim - 1]
    ys = "n" + letters[x.ndim - 1: x.ndim + y.ndim - 2]
    ys = ys[:j] + xs[i] + ys[j + 1:]
    out = "n" + "".join(c for k, c in enumerate(xs) if k not in (0, i)) + "".join(
        c for k, c in enumerate(ys) if k not in (0, j))
    expected = np.einsum(f"{xs},{ys}->{out}", x, y)
    if expected.ndim == 1:
        expected = expected[:, None]
    got = Dot(axes, normalize=normalize).set_dtype("float64").forward([normal(*s1, seed=1), normal(*s2, seed=2)])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_dot_output_shapes_as_keras() -> None:
    a, b = nn.Input(shape=(8,)), nn.Input(shape=(8,))
    assert Dot(axes=1)([a, b]).shape == (None, 1)
    s, t = nn.Input(shape=(4, 8)), nn.Input(shape=(6, 8))
    assert Dot(axes=2)([s, t]).shape == (None, 4, 6)
    assert dot([s, t], axes=-1, normalize=True).shape == (None, 4, 6)
    assert Dot(axes=(2, 1))([s, a]).shape == (None, 4)
    u, v = nn.Input(shape=(2, 5)), nn.Input(shape=(10, 2))
    assert Dot(axes=(1, 2))([u, v]).shape == (None, 5, 10)  # Keras's docstring example


def test_dot_cosine_similarity() -> None:
    x, y = normal(6, 5), normal(6, 5, seed=1)
    y[0] = 3 * x[0]
    got = Dot(1, normalize=True).set_dtype("float64").forward([x, y])
    cosine = (x * y).sum(axis=1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    np.testing.assert_allclose(got[:, 0], cosine, rtol=1e-12)
    assert got[0, 0] == pytest.approx(1.0)
    zero = Dot(1, normalize=True).forward([np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)])
    np.testing.assert_array_equal(zero, 0.0)


def _split_step(threads: int) -> tuple[float, dict[str, np.ndarray]]:
    nn.set_num_threads(threads)
    try:
        model = nn.Sequential([nn.Conv2D(3, 3, padding="same", activation="tanh"), UnitNormalization(axis=[1, 2]),
                               ActivityRegularization(0.01, 0.02), nn.Flatten(), nn.Dense(3), nn.Softmax()],
                              seed=0, dtype="float64").compile("categorical_crossentropy", nn.SGD(lr=0.1))
        x = normal(40, 6, 6, 2)
        y = np.random.default_rng(1).integers(0, 3, 40)
        model.build(x.shape[1:])
        model.trainer.prepare(training=True)
        parallel = model.trainer.parallel  # every layer is per_sample: the batch is split
        assert parallel is not None and parallel.threads_for(len(x)) == threads
        value = model.train_step(x, y)["loss"]
        return value, {name: p.grad.copy() for name, p in model.named_parameters()}
    finally:
        nn.set_num_threads(None)


def test_a_batch_split_across_threads_gives_the_whole_batch_step() -> None:
    value, grads = _split_step(1)
    split_value, split_grads = _split_step(2)
    assert split_value == pytest.approx(value, rel=1e-12)
    for name, g in grads.items():
        np.testing.assert_allclose(split_grads[name], g, rtol=1e-10, atol=1e-13, err_msg=name)


# ---------------------------------------------------------------- seeds
@pytest.mark.parametrize("make", [lambda s: GaussianDropout(0.4, seed=s), lambda s: AlphaDropout(0.4, seed=s)],
                         ids=["gaussian", "alpha"])
def test_a_seed_repeats_the_draws(make: Callable[[int], Any]) -> None:
    x = np.ones((4, 30), np.float32)
    first = [make(7).forward(x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(*first)
    layer = make(7)
    stream = [layer.forward(x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(stream[0], first[0])
    assert not np.array_equal(stream[0], stream[1])  # a stream of draws, not one
    assert not np.array_equal(make(8).forward(x, training=True), first[0])
    models = [nn.Sequential([make(7)], seed=s).build((30,)) for s in (0, 1)]  # the model's seed does not matter
    np.testing.assert_array_equal(models[0].forward(x, training=True), models[1].forward(x, training=True))


# (a resumed run continues their draws: tests/test_layer_seed.py)


# ---------------------------------------------------------------- sequences of any length
FEATURES = 3
LENGTHS = (4, 7)
SEQUENCE_LAYERS: dict[str, Callable[[], Any]] = {
    "GaussianDropout": lambda: GaussianDropout(0.3, seed=1),
    "AlphaDropout": lambda: AlphaDropout(0.3, noise_shape=(None, 1, None), seed=1),
    "ActivityRegularization": lambda: ActivityRegularization(0.05, 0.1),
    "UnitNormalization-last": lambda: UnitNormalization(),
    "UnitNormalization-steps": lambda: UnitNormalization(axis=[1, 2]),
    "Dot-steps": lambda: Dot(2),
    "Dot-features": lambda: Dot(1, normalize=True),
}


def _sequence_model(name: str, length: int | None) -> nn.Model:
    make = SEQUENCE_LAYERS[name]
    x = nn.Input(shape=(length, FEATURES), dtype="float64")
    h = nn.Dense(FEATURES, activation="tanh")(x)
    if name.startswith("Dot"):
        y = make()([h, x])
    else:
        y = make()(h)
    return nn.Model(x, y, seed=0)


@pytest.mark.parametrize("name", SEQUENCE_LAYERS)
def test_variable_length(name: str) -> None:
    model = _sequence_model(name, None)
    expected = {"Dot-steps": (None, None), "Dot-features": (FEATURES, FEATURES)}.get(name, (None, FEATURES))
    assert model.outputs[0].shape == (None, *expected)
    for length in LENGTHS:
        x = normal(2, length, FEATURES, seed=length)
        for training in (True, False):
            errors = check_module(model, x, training=training, seed=5)
            assert max(errors.values()) < TOL, (length, training, errors)
        fixed = _sequence_model(name, length)
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(model.predict(x), fixed.predict(x), rtol=0, atol=1e-12)
        model.set_rng(np.random.default_rng(9), seeded=True)
        fixed.set_rng(np.random.default_rng(9), seeded=True)
        np.testing.assert_allclose(model.forward(x, training=True), fixed.forward(x, training=True), atol=1e-12)


# ---------------------------------------------------------------- configs and files
@pytest.mark.parametrize("layer, config", [
    (GaussianDropout(0.25, seed=3), {"rate": 0.25}),
    (AlphaDropout(0.1, noise_shape=(None, 1, None)), {"rate": 0.1, "noise_shape": [None, 1, None]}),
    (AlphaDropout(0.1), {"rate": 0.1}),
    (ActivityRegularization(l1=0.01), {"l1": 0.01, "l2": 0.0}),
    (UnitNormalization(axis=(1, 2)), {"axis": [1, 2]}),
    (UnitNormalization(), {"axis": -1}),
    (Dot((1, 2), normalize=True), {"axes": [1, 2], "normalize": True}),
    (Dot(-1), {"axes": -1, "normalize": False}),
])
def test_get_config(layer: Any, config: dict[str, Any]) -> None:
    assert layer.get_config() == config
    copy = type(layer).from_config(layer.get_config())
    assert copy.get_config() == config


def _all_five(dtype: str = "float32") -> nn.Model:
    a = nn.Input(shape=(4, 6), dtype=dtype)
    b = nn.Input(shape=(5, 6), dtype=dtype)
    h = nn.Dense(6)(a)
    h = GaussianDropout(0.2, seed=3)(h)
    h = AlphaDropout(0.1, noise_shape=(None, 1, None), seed=4)(h)
    h = ActivityRegularization(0.01, 0.02)(h)
    h = UnitNormalization(axis=[1, 2])(h)
    scores = Dot(axes=2, normalize=True)([h, b])  # (N, 4, 5)
    plain = Dot(axes=(1, 1))([h, nn.Dense(6)(h)])  # (N, 6, 6)
    return nn.Model([a, b], [scores, plain], seed=0)


def test_save_and_load(tmp_path: Path) -> None:
    model = _all_five()
    xs = [normal(3, 4, 6).astype(np.float32), normal(3, 5, 6, seed=1).astype(np.float32)]
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    copy = model_from_json(model.to_json())
    copy.set_weights(model.get_weights())
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    seeds = {type(layer).__name__: layer.seed for layer in loaded.layers if layer.seed is not None}
    assert seeds == {"GaussianDropout": 3, "AlphaDropout": 4}
    for other in (loaded, copy):
        for ours, theirs in zip(model.predict(xs), other.predict(xs)):
            np.testing.assert_array_equal(ours, theirs)
    # the seeded layers of the loaded model draw the noise the original draws
    for ours, theirs in zip(model.forward(xs, training=True), loaded.forward(xs, training=True)):
        np.testing.assert_array_equal(ours, theirs)


# ---------------------------------------------------------------- ONNX
def _onnx_outputs(model: Any, xs: list[np.ndarray], path: Path) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    from nnscratch.interop import onnx_small_layer_converters  # noqa: F401  (registers the converters)

    session = ort.InferenceSession(str(model.export(path)), providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})


def _check_onnx(model: Any, xs: list[np.ndarray], path: Path) -> None:
    want = model.predict(xs if len(xs) > 1 else xs[0])
    want = want if isinstance(want, list) else [want]
    got = _onnx_outputs(model, xs, path)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, atol=1e-5)


def test_onnx_all_five(tmp_path: Path) -> None:
    model = _all_five()
    xs = [normal(3, 4, 6).astype(np.float32), normal(3, 5, 6, seed=1).astype(np.float32)]
    _check_onnx(model, xs, tmp_path / "m.onnx")


@pytest.mark.parametrize("axes, normalize, s1, s2", DOT_FORMS, ids=DOT_IDS)
def test_onnx_dot(axes: Any, normalize: bool, s1: tuple[int, ...], s2: tuple[int, ...], tmp_path: Path) -> None:
    a, b = nn.Input(shape=s1[1:]), nn.Input(shape=s2[1:])
    model = nn.Model([a, b], Dot(axes, normalize=normalize)([a, b]))
    xs = [normal(*s1, seed=1).astype(np.float32), normal(*s2, seed=2).astype(np.float32)]
    _check_onnx(model, xs, tmp_path / "dot.onnx")


@pytest.mark.parametrize("axis", [-1, 1, [1, 2], [2, 3], (-3, -1)])
def test_onnx_unit_normalization_on_images(axis: Any, tmp_path: Path) -> None:
    # after a Conv2D the exported tensor is channels-first: the axes follow it
    x = nn.Input(shape=(5, 6, 2))
    h = UnitNormalization(axis=axis)(nn.Conv2D(3, 2)(x))
    model = nn.Model(x, nn.Conv2D(2, 1)(h))
    _check_onnx(model, [normal(3, 5, 6, 2).astype(np.float32)], tmp_path / "unit.onnx")


def test_onnx_zero_vectors(tmp_path: Path) -> None:
    x = nn.Input(shape=(4,))
    model = nn.Model(x, [UnitNormalization()(x), Dot(1, normalize=True)([x, x])])
    data = normal(3, 4).astype(np.float32)
    data[1] = 0.0
    _check_onnx(model, [data], tmp_path / "zeros.onnx")


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("make, error, match", [
    (lambda: GaussianDropout(1.0), InvalidValueError, r"GaussianDropout rate must be a number in \[0, 1\), got 1.0"),
    (lambda: GaussianDropout(-0.1), InvalidValueError, r"GaussianDropout rate must be a number in \[0, 1\)"),
    (lambda: GaussianDropout("0.5"), InvalidTypeError, r"GaussianDropout rate must be a number"),
    (lambda: GaussianDropout(0.1, seed=-1), InvalidValueError, "GaussianDropout seed must be None or a non-negative"),
    (lambda: AlphaDropout(1.0), InvalidValueError, r"AlphaDropout rate must be a number in \[0, 1\)"),
    (lambda: AlphaDropout(float("nan")), InvalidValueError, r"AlphaDropout rate must be a number in \[0, 1\)"),
    (lambda: AlphaDropout(0.2, noise_shape=(None, 0)), InvalidValueError, "AlphaDropout noise_shape must be None or"),
    (lambda: AlphaDropout(0.2, noise_shape=5), InvalidValueError, "AlphaDropout noise_shape must be None or"),
    (lambda: AlphaDropout(0.2, noise_shape=(None, 2)).forward(np.ones((2, 3)), training=True), ShapeError,
     r"AlphaDropout noise_shape \(None, 2\) does not fit inputs of shape \(2, 3\)"),
    (lambda: AlphaDropout(0.2, seed=1.5), InvalidValueError, "AlphaDropout seed must be"),
    (lambda: ActivityRegularization(l1=-0.1), InvalidValueError, r"ActivityRegularization l1 must be a finite number >= 0"),
    (lambda: ActivityRegularization(l2=float("inf")), InvalidValueError, "ActivityRegularization l2 must be"),
    (lambda: ActivityRegularization(l2="0.1"), InvalidTypeError, "ActivityRegularization l2 must be"),
    (lambda: UnitNormalization(axis="last"), InvalidTypeError, "UnitNormalization axis must be an int or a non-empty list"),
    (lambda: UnitNormalization(axis=[]), InvalidTypeError, "UnitNormalization axis must be an int or a non-empty list"),
    (lambda: UnitNormalization(axis=1.0), InvalidTypeError, "UnitNormalization axis must be"),
    (lambda: UnitNormalization(axis=0).forward(np.ones((2, 3))), ShapeError,
     r"UnitNormalization axis 0 does not name distinct non-batch axes of inputs of rank 2 .*axis 0 is the batch"),
    (lambda: UnitNormalization(axis=2).forward(np.ones((2, 3))), ShapeError, "UnitNormalization axis 2 does not name"),
    (lambda: UnitNormalization(axis=[1, -1]).forward(np.ones((2, 3))), ShapeError, r"axis \[1, -1\] does not name distinct"),
    (lambda: UnitNormalization(axis=2)(nn.Input(shape=(3,))), ShapeError, "UnitNormalization axis 2"),
    (lambda: UnitNormalization().forward(np.ones((2, 3), np.int64)), DTypeError, r"UnitNormalization expects a float array of shape \(batch, ...\), got int64"),
    (lambda: Dot("last"), InvalidTypeError, r"Dot axes must be an int or a pair of ints .*got 'last'"),
    (lambda: Dot((1, 2, 3)), InvalidTypeError, r"Dot axes must be an int or a pair of ints"),
    (lambda: Dot((1, 1.0)), InvalidTypeError, r"Dot axes must be an int or a pair of ints"),
    (lambda: Dot(True), InvalidTypeError, r"Dot axes must be an int or a pair of ints"),
    (lambda: Dot(0), InvalidValueError, r"Dot axes 0 include axis 0, the batch axis"),
    (lambda: Dot((1, 0)), InvalidValueError, r"Dot axes \(1, 0\) include axis 0"),
    (lambda: Dot(1, normalize="yes"), InvalidTypeError, "Dot normalize must be True or False"),
    (lambda: Dot(1).forward(np.ones((2, 3))), InvalidTypeError, "Dot takes a list of exactly 2 inputs, got ndarray"),
    (lambda: Dot(1).forward([np.ones((2, 3))] * 3), InvalidTypeError, "Dot takes a list of exactly 2 inputs, got list of 3"),
    (lambda: Dot(1).forward([np.ones((2, 3)), np.ones((2, 4))]), ShapeError,
     r"Dot axes 1 pair axis 1 of \(batch, 3\) \(3\) with axis 1 of \(batch, 4\) \(4\): they must have one size"),
    (lambda: Dot(1).forward([np.ones((2, 3)), np.ones((3, 3))]), ShapeError, "Dot inputs have different batch sizes"),
    (lambda: Dot(1).forward([np.ones(3), np.ones(3)]), ShapeError, "Dot needs inputs of rank 2 or more"),
    (lambda: Dot(1).forward([np.ones((2, 3)), np.ones((2, 3), np.float32)]), DTypeError, "Dot inputs have different dtypes: float64, float32"),
    (lambda: Dot(1).forward([np.ones((2, 3), int), np.ones((2, 3), int)]), DTypeError, "Dot inputs must be float arrays, got int64, int64"),
    (lambda: Dot(-3).forward([np.ones((2, 3)), np.ones((2, 3))]), ShapeError,
     r"Dot axes -3: axis -3 is not an axis of input 0's samples \(rank 2"),
    (lambda: Dot((1, 2)).forward([np.ones((2, 3)), np.ones((2, 3))]), ShapeError, r"axis 2 is not an axis of input 1"),
    (lambda: Dot(2)([nn.Input(shape=(3, 4)), nn.Input(shape=(3, 5))]), ShapeError, "they must have one size"),
    (lambda: Dot(2)([nn.Input(shape=(None, 4)), nn.Input(shape=(None, 5))]), ShapeError, "they must have one size"),
])
def test_bad_arguments(make: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()
