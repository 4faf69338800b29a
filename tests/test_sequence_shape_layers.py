"""UpSampling1D, ZeroPadding1D, Cropping1D: NumPy references, finite differences, sequences of any length,
configs and model files, ONNX export, bad arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, NNScratchError, ShapeError
from nnscratch.core.registry import from_config, to_config
from nnscratch.layers.sequence_shape import Cropping1D, UpSampling1D, ZeroPadding1D
from nnscratch.utils.gradcheck import check_module

TOL = 1e-7
CHANNELS = 3
LENGTHS = (5, 8)


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _repeat(size: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.repeat(x, size if isinstance(size, int) else size[0], axis=1)


def _pad(padding: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.pad(x, ((0, 0), _pair(padding), (0, 0)))


def _crop(cropping: Any) -> Callable[[np.ndarray], np.ndarray]:
    start, end = _pair(cropping)
    return lambda x: x[:, start:x.shape[1] - end]


# id: (layer class, argument, the NumPy formula of its forward)
CASES: dict[str, tuple[type, Any, Callable[[np.ndarray], np.ndarray]]] = {
    "UpSampling1D-2": (UpSampling1D, 2, _repeat(2)),
    "UpSampling1D-3": (UpSampling1D, 3, _repeat(3)),
    "UpSampling1D-1": (UpSampling1D, 1, _repeat(1)),
    "UpSampling1D-(2,)": (UpSampling1D, (2,), _repeat((2,))),
    "ZeroPadding1D-1": (ZeroPadding1D, 1, _pad(1)),
    "ZeroPadding1D-0": (ZeroPadding1D, 0, _pad(0)),
    "ZeroPadding1D-(2,0)": (ZeroPadding1D, (2, 0), _pad((2, 0))),
    "ZeroPadding1D-[0,3]": (ZeroPadding1D, [0, 3], _pad([0, 3])),
    "ZeroPadding1D-(1,2)": (ZeroPadding1D, (1, 2), _pad((1, 2))),
    "Cropping1D-1": (Cropping1D, 1, _crop(1)),
    "Cropping1D-0": (Cropping1D, 0, _crop(0)),
    "Cropping1D-(1,1)": (Cropping1D, (1, 1), _crop((1, 1))),
    "Cropping1D-(0,2)": (Cropping1D, (0, 2), _crop((0, 2))),
    "Cropping1D-[3,0]": (Cropping1D, [3, 0], _crop([3, 0])),
    "Cropping1D-(2,1)": (Cropping1D, (2, 1), _crop((2, 1))),
}


def _x(length: int, seed: int = 0, n: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, length, CHANNELS))


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_numpy_and_finite_differences(case: str) -> None:
    cls, arg, formula = CASES[case]
    x = _x(6)
    layer = cls(arg).set_dtype(np.float64)
    np.testing.assert_array_equal(layer.forward(x), formula(x))
    assert layer.forward(x.astype(np.float32)).dtype == np.float32  # any dtype passes through
    assert check_module(cls(arg), x)["input"] < TOL


def test_backward_formulas() -> None:
    x = _x(4)
    up = UpSampling1D(3).set_dtype(np.float64)
    g = np.random.default_rng(1).standard_normal((2, 12, CHANNELS))
    up.forward(x)
    np.testing.assert_allclose(up.backward(g), g.reshape(2, 4, 3, CHANNELS).sum(axis=2), rtol=1e-15)
    pad = ZeroPadding1D((2, 1)).set_dtype(np.float64)
    pad.forward(x)
    np.testing.assert_array_equal(pad.backward(g[:, :7]), g[:, 2:6])
    crop = Cropping1D((1, 2)).set_dtype(np.float64)
    crop.forward(_x(5))
    dx = crop.backward(g[:, :2])
    np.testing.assert_array_equal(dx, np.pad(g[:, :2], ((0, 0), (1, 2), (0, 0))))


def test_padding_then_cropping_is_the_identity() -> None:
    x = _x(4).astype(np.float32)
    np.testing.assert_array_equal(Cropping1D((2, 3)).forward(ZeroPadding1D((2, 3)).forward(x)), x)


def test_attributes_and_keras_defaults() -> None:
    for cls in (UpSampling1D, ZeroPadding1D, Cropping1D):
        assert cls.per_sample and not cls.checks_dtype
    assert UpSampling1D().size == 2
    assert ZeroPadding1D().padding == (1, 1)
    assert Cropping1D().cropping == (1, 1)


def _model(cls: type, arg: Any, length: int | None, conv: bool = False) -> nn.Model:
    inputs = nn.Input(shape=(length, CHANNELS), dtype="float64")
    h = nn.Conv1D(4, 3, padding="same")(inputs) if conv else inputs
    h = cls(arg)(h)
    return nn.Model(inputs, nn.Conv1D(2, 2)(h) if conv else h, seed=0)


@pytest.mark.parametrize("case", CASES)
def test_a_variable_length_model_computes_what_fixed_ones_do(case: str) -> None:
    cls, arg, formula = CASES[case]
    model = _model(cls, arg, None)
    assert model.input_shape == (None, CHANNELS)
    assert cls(arg)(nn.Input(shape=(None, CHANNELS))).shape == (None, None, CHANNELS)
    for length in LENGTHS:
        x = _x(length, seed=length)
        fixed = _model(cls, arg, length)
        assert cls(arg)(nn.Input(shape=(length, CHANNELS))).shape == (None, *formula(x).shape[1:])
        np.testing.assert_array_equal(model.predict(x), fixed.predict(x))
        np.testing.assert_array_equal(model.predict(x), formula(x))


@pytest.mark.parametrize("case", ["UpSampling1D-3", "ZeroPadding1D-(1,2)", "Cropping1D-(2,1)"])
def test_variable_length_between_convolutions(case: str) -> None:
    cls, arg, _ = CASES[case]
    model = _model(cls, arg, None, conv=True)
    for length in LENGTHS:
        x = _x(length, seed=length)
        errors = check_module(model, x)
        assert max(errors.values()) < TOL, (length, errors)
        fixed = _model(cls, arg, length, conv=True)
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(model.predict(x), fixed.predict(x), rtol=0, atol=1e-12)


def test_one_layer_at_two_places_keeps_each_length_on_its_record() -> None:
    a, b = nn.Input(shape=(None, CHANNELS), dtype="float64"), nn.Input(shape=(None, CHANNELS), dtype="float64")
    up, crop = UpSampling1D(2), Cropping1D((1, 0))
    merged = nn.Concatenate(axis=1)([crop(up(a)), crop(up(b))])
    model = nn.Model([a, b], nn.Conv1D(2, 2)(merged), seed=0)
    xs = [_x(3, seed=1), _x(5, seed=2)]
    assert model.predict(xs).shape == (2, 6 - 1 + 10 - 1 - 1, 2)
    errors = check_module(model, xs)
    assert max(errors.values()) < TOL, errors


def test_lengths_too_short_for_the_cropping() -> None:
    with pytest.raises(ShapeError, match=r"cropping1d_short \(Cropping1D\) cropping \(2, 1\) removes every step of "
                                         r"inputs of shape \(batch, 3, 3\)"):
        Cropping1D((2, 1), name="cropping1d_short")(nn.Input(shape=(3, CHANNELS)))
    model = _model(Cropping1D, (2, 1), None)
    assert model.predict(_x(4)).shape == (2, 1, CHANNELS)
    with pytest.raises(ShapeError, match=r"\(Cropping1D\) cropping \(2, 1\) removes every step of inputs of "
                                         r"shape \(batch, 3, 3\)"):
        model.predict(_x(3))


@pytest.mark.parametrize("case", CASES)
def test_config_round_trip(case: str) -> None:
    cls, arg, _ = CASES[case]
    layer = cls(arg)
    again = from_config(to_config(layer))
    assert type(again) is cls and again.get_config() == layer.get_config() == cls(**layer.get_config()).get_config()
    x = _x(6).astype(np.float32)
    np.testing.assert_array_equal(again.forward(x), layer.forward(x))


def test_model_file_round_trip(tmp_path) -> None:
    inputs = nn.Input(shape=(None, CHANNELS))
    h = ZeroPadding1D((2, 1))(nn.Conv1D(4, 3, activation="tanh")(inputs))
    h = Cropping1D((1, 3))(UpSampling1D(3)(h))
    model = nn.Model(inputs, nn.Conv1D(2, 2)(h), seed=0)
    path = model.save(tmp_path / "m")
    loaded = nn.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers][-4:] == ["ZeroPadding1D", "UpSampling1D", "Cropping1D",
                                                                       "Conv1D"]
    for length in LENGTHS:
        x = _x(length, seed=length).astype(np.float32)
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


ONNX_LAYERS = [lambda: UpSampling1D(3), lambda: ZeroPadding1D((2, 1)), lambda: ZeroPadding1D(0),
               lambda: Cropping1D((1, 2)), lambda: Cropping1D(0)]


@pytest.mark.parametrize("make", ONNX_LAYERS, ids=["UpSampling1D", "ZeroPadding1D", "ZeroPadding1D-0", "Cropping1D",
                                                   "Cropping1D-0"])
def test_onnx_export_matches_predict(make: Callable[[], Any], tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_sequence_shape_converters  # noqa: F401  (registers the converters)

    inputs = nn.Input(shape=(6, CHANNELS))
    h = make()(nn.Conv1D(4, 3, padding="same", activation="relu")(inputs))
    model = nn.Model(inputs, nn.Dense(2)(nn.Conv1D(5, 2)(h)), seed=0)
    path = model.export(tmp_path / "m.onnx", format="onnx")
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        x = np.random.default_rng(n).standard_normal((n, 6, CHANNELS)).astype(np.float32)
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        want = model.predict(x)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


BAD: list[tuple[Callable[[], Any], str]] = [
    (lambda: UpSampling1D(0), r"UpSampling1D size must be an integer >= 1 .*got 0"),
    (lambda: UpSampling1D(-2), r"UpSampling1D size must be an integer >= 1 .*got -2"),
    (lambda: UpSampling1D(2.0), r"UpSampling1D size must be an integer >= 1 .*got 2\.0"),
    (lambda: UpSampling1D(True), r"UpSampling1D size must be an integer >= 1 .*got True"),
    (lambda: UpSampling1D((2, 2)), r"UpSampling1D size must be an integer >= 1 .*got \(2, 2\)"),
    (lambda: ZeroPadding1D(-1), r"ZeroPadding1D padding must be an integer >= 0 or a pair \(before, after\) of them, got -1"),
    (lambda: ZeroPadding1D((1, -1)), r"ZeroPadding1D padding must be .*got \(1, -1\)"),
    (lambda: ZeroPadding1D((1, 2, 3)), r"ZeroPadding1D padding must be .*got \(1, 2, 3\)"),
    (lambda: ZeroPadding1D(1.5), r"ZeroPadding1D padding must be .*got 1\.5"),
    (lambda: ZeroPadding1D("same"), r"ZeroPadding1D padding must be .*got 'same'"),
    (lambda: Cropping1D(-1), r"Cropping1D cropping must be an integer >= 0 or a pair \(start, end\) of them, got -1"),
    (lambda: Cropping1D((0,)), r"Cropping1D cropping must be .*got \(0,\)"),
    (lambda: Cropping1D(((1, 1), (0, 0))), r"Cropping1D cropping must be .*got \(\(1, 1\), \(0, 0\)\)"),
    (lambda: UpSampling1D(data_format="channels_first"), "UpSampling1D works on channels-last arrays only"),
    (lambda: ZeroPadding1D(data_format="channels_first"), "ZeroPadding1D works on channels-last arrays only"),
    (lambda: Cropping1D(data_format="channels_first"), "Cropping1D works on channels-last arrays only"),
]


@pytest.mark.parametrize(("make", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_arguments_raise_one_clear_error(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        make()


@pytest.mark.parametrize("cls", [UpSampling1D, ZeroPadding1D, Cropping1D])
def test_inputs_of_the_wrong_rank(cls: type) -> None:
    for shape in ((2, 5), (2, 4, 4, 1)):
        with pytest.raises(ShapeError, match=rf"{cls.__name__} expects inputs of shape \(batch, steps, channels\)"):
            cls().forward(np.zeros(shape, np.float32))
    layer = cls()
    layer.forward(np.zeros((1, 4, 2), np.float32))
    with pytest.raises(NNScratchError, match=rf"{cls.__name__} was built for inputs of shape \(batch, 4, 2\)"):
        layer.forward(np.zeros((1, 5, 2), np.float32))
