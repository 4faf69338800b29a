"""UpSampling3D, ZeroPadding3D, Cropping3D: NumPy references, finite differences, volumes of variable depth,
configs and model files, ONNX export, bad arguments and inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, NNScratchError, ShapeError
from nnscratch.core.registry import from_config, to_config
from nnscratch.layers.conv3d import Conv3D
from nnscratch.layers.volume_shape import Cropping3D, UpSampling3D, ZeroPadding3D
from nnscratch.utils.gradcheck import check_module

TOL = 1e-6
CHANNELS = 2
SAMPLE = (4, 6, 5, CHANNELS)  # (D, H, W, C)
DEPTHS = (4, 7)


def _pairs(value: Any) -> list[tuple[int, int]]:
    """The reference reading of the three argument forms, written apart from the layers' own."""
    if isinstance(value, int):
        return [(value, value)] * 3
    return [(v, v) if isinstance(v, int) else (v[0], v[1]) for v in value]


def _repeat(size: Any) -> Callable[[np.ndarray], np.ndarray]:
    sizes = [size] * 3 if isinstance(size, int) else list(size)

    def formula(x: np.ndarray) -> np.ndarray:
        for axis, s in enumerate(sizes, start=1):
            x = np.repeat(x, s, axis=axis)
        return x
    return formula


def _pad(padding: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.pad(x, [(0, 0), *_pairs(padding), (0, 0)])


def _crop(cropping: Any) -> Callable[[np.ndarray], np.ndarray]:
    (a, b), (c, d), (e, f) = _pairs(cropping)
    return lambda x: x[:, a:x.shape[1] - b, c:x.shape[2] - d, e:x.shape[3] - f]


# id: (layer class, argument, the NumPy formula of its forward)
CASES: dict[str, tuple[type, Any, Callable[[np.ndarray], np.ndarray]]] = {
    "UpSampling3D-2": (UpSampling3D, 2, _repeat(2)),
    "UpSampling3D-1": (UpSampling3D, 1, _repeat(1)),
    "UpSampling3D-(1,2,3)": (UpSampling3D, (1, 2, 3), _repeat((1, 2, 3))),
    "UpSampling3D-[3,1,2]": (UpSampling3D, [3, 1, 2], _repeat([3, 1, 2])),
    "ZeroPadding3D-1": (ZeroPadding3D, 1, _pad(1)),
    "ZeroPadding3D-0": (ZeroPadding3D, 0, _pad(0)),
    "ZeroPadding3D-(2,0,1)": (ZeroPadding3D, (2, 0, 1), _pad((2, 0, 1))),
    "ZeroPadding3D-pairs": (ZeroPadding3D, ((1, 0), (0, 2), (3, 1)), _pad(((1, 0), (0, 2), (3, 1)))),
    "ZeroPadding3D-lists": (ZeroPadding3D, [[0, 1], [2, 0], [0, 0]], _pad([[0, 1], [2, 0], [0, 0]])),
    "Cropping3D-1": (Cropping3D, 1, _crop(1)),
    "Cropping3D-0": (Cropping3D, 0, _crop(0)),
    "Cropping3D-(1,2,0)": (Cropping3D, (1, 2, 0), _crop((1, 2, 0))),
    "Cropping3D-pairs": (Cropping3D, ((0, 2), (3, 1), (1, 0)), _crop(((0, 2), (3, 1), (1, 0)))),
    "Cropping3D-lists": (Cropping3D, [[1, 0], [0, 0], [2, 2]], _crop([[1, 0], [0, 0], [2, 2]])),
}


def _x(depth: int = SAMPLE[0], seed: int = 0, n: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, depth, *SAMPLE[1:]))


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_numpy_and_finite_differences(case: str) -> None:
    cls, arg, formula = CASES[case]
    x = _x()
    layer = cls(arg).set_dtype(np.float64)
    y = layer.forward(x)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, formula(x))
    y32 = cls(arg).forward(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_array_equal(y32, formula(x.astype(np.float32)))
    errors = check_module(cls(arg), x)
    assert errors["input"] < TOL, errors


def test_backward_formulas() -> None:
    rng = np.random.default_rng(1)
    x = _x()  # (2, 4, 6, 5, 2)
    up = UpSampling3D((2, 1, 3)).set_dtype(np.float64)
    g = rng.standard_normal((2, 8, 6, 15, CHANNELS))
    up.forward(x)
    np.testing.assert_allclose(up.backward(g), g.reshape(2, 4, 2, 6, 1, 5, 3, CHANNELS).sum(axis=(2, 4, 6)),
                               rtol=1e-14)
    pad = ZeroPadding3D(((1, 0), (2, 1), (0, 3))).set_dtype(np.float64)
    pad.forward(x)
    g = rng.standard_normal((2, 5, 9, 8, CHANNELS))
    np.testing.assert_array_equal(pad.backward(g), g[:, 1:5, 2:8, 0:5])
    crop = Cropping3D(((1, 2), (0, 1), (2, 0))).set_dtype(np.float64)
    crop.forward(x)
    g = rng.standard_normal((2, 1, 5, 3, CHANNELS))
    np.testing.assert_array_equal(crop.backward(g), np.pad(g, ((0, 0), (1, 2), (0, 1), (2, 0), (0, 0))))


def test_padding_then_cropping_is_the_identity() -> None:
    x = _x().astype(np.float32)
    pads = ((2, 1), (0, 3), (1, 1))
    np.testing.assert_array_equal(Cropping3D(pads).forward(ZeroPadding3D(pads).forward(x)), x)


@pytest.mark.parametrize("case", ["UpSampling3D-(1,2,3)", "ZeroPadding3D-pairs", "Cropping3D-pairs"])
def test_an_empty_batch(case: str) -> None:
    cls, arg, formula = CASES[case]
    layer = cls(arg)
    x = np.zeros((0, *SAMPLE), np.float32)
    y = layer.forward(x)
    assert y.shape == formula(x).shape and y.shape[0] == 0
    dx = layer.backward(np.zeros(y.shape, np.float32))
    assert dx.shape == x.shape


def test_attributes_and_keras_defaults() -> None:
    for cls in (UpSampling3D, ZeroPadding3D, Cropping3D):
        assert cls.per_sample and not cls.checks_dtype
    assert UpSampling3D().size == (2, 2, 2)
    assert ZeroPadding3D().padding == ((1, 1), (1, 1), (1, 1))
    assert Cropping3D().cropping == ((1, 1), (1, 1), (1, 1))
    assert UpSampling3D(data_format="channels_last").size == (2, 2, 2)


@pytest.mark.parametrize("cls", [UpSampling3D, ZeroPadding3D, Cropping3D])
def test_nothing_of_a_call_is_kept_on_the_layer(cls: type) -> None:
    layer = cls(1)
    before = set(vars(layer))
    y = layer.forward(_x().astype(np.float32))
    layer.backward(np.ones_like(y))
    assert set(vars(layer)) == before


def test_cropping_is_checked_when_built_for_fixed_axes() -> None:
    with pytest.raises(ShapeError, match=r"removes the whole depth of inputs of shape \(batch, 2, 6, 5, 2\)"):
        Cropping3D((1, 0, 0)).build((2, 6, 5, CHANNELS))
    Cropping3D((1, 0, 0)).build((3, 6, 5, CHANNELS))
    variable = Cropping3D((1, 0, 0))(nn.Input(shape=(None, 6, 5, CHANNELS)))  # checked at each call
    assert variable.shape == (None, None, 6, 5, CHANNELS)


def _model(cls: type, arg: Any, depth: int | None, conv: bool = False) -> nn.Model:
    inputs = nn.Input(shape=(depth, *SAMPLE[1:]), dtype="float64")
    h = Conv3D(3, 3, padding="same")(inputs) if conv else inputs
    h = cls(arg)(h)
    return nn.Model(inputs, Conv3D(2, (1, 2, 2))(h) if conv else h, seed=0)


@pytest.mark.parametrize("case", CASES)
def test_a_variable_depth_model_computes_what_fixed_ones_do(case: str) -> None:
    cls, arg, formula = CASES[case]
    model = _model(cls, arg, None)
    assert model.input_shape == (None, *SAMPLE[1:])
    fixed_out = formula(np.zeros((1, 9, *SAMPLE[1:])))
    variable = cls(arg)(nn.Input(shape=(None, *SAMPLE[1:])))
    assert variable.shape == (None, None, *fixed_out.shape[2:])  # depth varies, the rest is known
    assert cls(arg)(nn.Input(shape=(None, None, None, CHANNELS))).shape == (None, None, None, None, CHANNELS)
    for depth in DEPTHS:
        x = _x(depth, seed=depth)
        fixed = _model(cls, arg, depth)
        assert cls(arg)(nn.Input(shape=x.shape[1:])).shape == (None, *formula(x).shape[1:])
        np.testing.assert_array_equal(model.predict(x), formula(x))
        np.testing.assert_array_equal(model.predict(x), fixed.predict(x))


@pytest.mark.parametrize("case", ["UpSampling3D-(1,2,3)", "ZeroPadding3D-pairs", "Cropping3D-pairs"])
def test_variable_depth_between_convolutions(case: str) -> None:
    cls, arg, _ = CASES[case]
    model = _model(cls, arg, None, conv=True)
    for depth in DEPTHS:
        x = _x(depth, seed=depth, n=1)
        errors = check_module(model, x)
        assert max(errors.values()) < TOL, (depth, errors)
        fixed = _model(cls, arg, depth, conv=True)
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(model.predict(x), fixed.predict(x), rtol=0, atol=1e-12)


def test_one_layer_at_two_places_keeps_each_size_on_its_record() -> None:
    a = nn.Input(shape=(None, *SAMPLE[1:]), dtype="float64")
    b = nn.Input(shape=(None, *SAMPLE[1:]), dtype="float64")
    up, crop = UpSampling3D((2, 1, 1)), Cropping3D(((1, 0), (0, 0), (0, 0)))
    merged = nn.Concatenate(axis=1)([crop(up(a)), crop(up(b))])
    model = nn.Model([a, b], Conv3D(2, 2)(merged), seed=0)
    xs = [_x(2, seed=1, n=1), _x(3, seed=2, n=1)]
    assert model.predict(xs).shape == (1, 4 - 1 + 6 - 1 - 1, 5, 4, 2)
    errors = check_module(model, xs)
    assert max(errors.values()) < TOL, errors


def test_cropping_that_removes_an_axis() -> None:
    with pytest.raises(ShapeError, match=r"crop_h \(Cropping3D\) cropping \(\(0, 0\), \(3, 3\), \(0, 0\)\) removes "
                                         r"the whole height of inputs of shape \(batch, 4, 6, 5, 2\)"):
        Cropping3D((0, 3, 0), name="crop_h")(nn.Input(shape=SAMPLE))
    with pytest.raises(ShapeError, match=r"removes the whole width of inputs of shape \(batch, 4, 6, 5, 2\)"):
        Cropping3D(((0, 0), (0, 0), (4, 1))).forward(np.zeros((1, *SAMPLE), np.float32))
    model = _model(Cropping3D, ((2, 1), (0, 0), (0, 0)), None)  # a variable depth: checked at each call
    assert model.predict(_x(4)).shape == (2, 1, *SAMPLE[1:])
    with pytest.raises(ShapeError, match=r"\(Cropping3D\) cropping \(\(2, 1\), \(0, 0\), \(0, 0\)\) removes the "
                                         r"whole depth of inputs of shape \(batch, 3, 6, 5, 2\)"):
        model.predict(_x(3))


@pytest.mark.parametrize("case", CASES)
def test_config_round_trip(case: str) -> None:
    cls, arg, _ = CASES[case]
    layer = cls(arg)
    config = layer.get_config()
    assert set(config) == {"UpSampling3D": {"size"}, "ZeroPadding3D": {"padding"},
                           "Cropping3D": {"cropping"}}[cls.__name__]
    again = from_config(to_config(layer))
    assert type(again) is cls and again.get_config() == config == cls(**config).get_config()
    x = _x().astype(np.float32)
    np.testing.assert_array_equal(again.forward(x), layer.forward(x))


def test_model_file_round_trip(tmp_path) -> None:
    inputs = nn.Input(shape=(None, *SAMPLE[1:]))
    h = ZeroPadding3D(((1, 0), (2, 1), (0, 1)))(Conv3D(3, 3, activation="tanh")(inputs))
    h = Cropping3D(((1, 2), (0, 3), (1, 0)))(UpSampling3D((2, 1, 2))(h))
    model = nn.Model(inputs, Conv3D(2, 2)(h), seed=0)
    path = model.save(tmp_path / "m")
    loaded = nn.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers][-4:] == ["ZeroPadding3D", "UpSampling3D", "Cropping3D",
                                                                       "Conv3D"]
    for depth in DEPTHS:
        x = _x(depth, seed=depth).astype(np.float32)
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


ONNX_LAYERS: dict[str, Callable[[], Any]] = {
    "UpSampling3D": lambda: UpSampling3D((2, 1, 3)),
    "UpSampling3D-2": lambda: UpSampling3D(2),
    "ZeroPadding3D": lambda: ZeroPadding3D(((1, 0), (2, 1), (0, 3))),
    "ZeroPadding3D-0": lambda: ZeroPadding3D(0),
    "Cropping3D": lambda: Cropping3D(((1, 0), (2, 1), (0, 2))),
    "Cropping3D-0": lambda: Cropping3D(0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ONNX_LAYERS)
def test_onnx_export_matches_predict(name: str, dtype: str, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_volume_shape_converters  # noqa: F401  (registers the converters)

    inputs = nn.Input(shape=SAMPLE, dtype=dtype)
    h = ONNX_LAYERS[name]()(Conv3D(3, 3, padding="same", activation="relu")(inputs))
    model = nn.Model(inputs, nn.Dense(2)(Conv3D(4, 2)(h)), seed=0)
    path = model.export(tmp_path / "m.onnx", format="onnx")
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        x = np.random.default_rng(n).standard_normal((n, *SAMPLE)).astype(dtype)
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        want = model.predict(x)
        assert got.dtype == want.dtype == np.dtype(dtype)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 if dtype == "float32" else 1e-12)


def test_onnx_export_of_the_layer_alone(tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_volume_shape_converters  # noqa: F401  (registers the converters)

    inputs = nn.Input(shape=SAMPLE)
    h = UpSampling3D((1, 2, 1))(ZeroPadding3D((1, 0, 2))(inputs))
    model = nn.Model(inputs, Cropping3D(((0, 1), (1, 2), (2, 0)))(h))
    path = model.export(tmp_path / "m.onnx", format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = _x().astype(np.float32)
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    want = _crop(((0, 1), (1, 2), (2, 0)))(_repeat((1, 2, 1))(_pad((1, 0, 2))(x)))
    np.testing.assert_array_equal(got, want)


BAD: list[tuple[Callable[[], Any], str]] = [
    (lambda: UpSampling3D(0), r"UpSampling3D size must be an integer >= 1 or three of them .*got 0"),
    (lambda: UpSampling3D((2, 2)), r"UpSampling3D size must be .*got \(2, 2\)"),
    (lambda: UpSampling3D((2, 0, 2)), r"UpSampling3D size must be .*got \(2, 0, 2\)"),
    (lambda: UpSampling3D(2.0), r"UpSampling3D size must be .*got 2\.0"),
    (lambda: UpSampling3D(True), r"UpSampling3D size must be .*got True"),
    (lambda: ZeroPadding3D(-1), r"ZeroPadding3D padding must be an integer >= 0, three of them \(depth, height, "
                                r"width\), or \(\(front, back\), \(top, bottom\), \(left, right\)\), got -1"),
    (lambda: ZeroPadding3D((1, 1)), r"ZeroPadding3D padding must be .*got \(1, 1\)"),
    (lambda: ZeroPadding3D((1, -1, 0)), r"ZeroPadding3D padding must be .*got \(1, -1, 0\)"),
    (lambda: ZeroPadding3D(((1, 1), (1, 1))), r"ZeroPadding3D padding must be .*got \(\(1, 1\), \(1, 1\)\)"),
    (lambda: ZeroPadding3D(((1, 1), (1, 1), (1,))),
     r"ZeroPadding3D padding must be .*got \(\(1, 1\), \(1, 1\), \(1,\)\)$"),
    (lambda: ZeroPadding3D(((1, 1), 1, (1, 1))), r"ZeroPadding3D padding must be .*got \(\(1, 1\), 1, \(1, 1\)\)"),
    (lambda: ZeroPadding3D(1.5), r"ZeroPadding3D padding must be .*got 1\.5"),
    (lambda: ZeroPadding3D("same"), r"ZeroPadding3D padding must be .*got 'same'"),
    (lambda: Cropping3D(-2), r"Cropping3D cropping must be an integer >= 0, three of them .*got -2"),
    (lambda: Cropping3D((True, 0, 0)), r"Cropping3D cropping must be .*got \(True, 0, 0\)"),
    (lambda: Cropping3D(((0, 1), (0, 1), (0, -1))), r"Cropping3D cropping must be .*\(0, -1\)\)$"),
    (lambda: UpSampling3D(data_format="channels_first"), "UpSampling3D works on channels-last arrays only"),
    (lambda: ZeroPadding3D(data_format="channels_first"), "ZeroPadding3D works on channels-last arrays only"),
    (lambda: Cropping3D(data_format="channels_first"), "Cropping3D works on channels-last arrays only"),
]


@pytest.mark.parametrize(("make", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_arguments_raise_one_clear_error(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        make()


def test_upsampling3d_takes_no_interpolation_argument() -> None:  # (as Keras 3's)
    with pytest.raises(TypeError, match="interpolation"):
        UpSampling3D(interpolation="nearest")


@pytest.mark.parametrize("cls", [UpSampling3D, ZeroPadding3D, Cropping3D])
def test_inputs_of_the_wrong_rank(cls: type) -> None:
    for shape in ((2, 6, 5, 2), (2, 3, 4, 6, 5, 2)):
        with pytest.raises(ShapeError, match=rf"{cls.__name__} expects inputs of shape \(batch, depth, height, "
                                             rf"width, channels\), got \(batch, {', '.join(map(str, shape[1:]))}\)"):
            cls().forward(np.zeros(shape, np.float32))
    with pytest.raises(ShapeError, match=rf"{cls.__name__} expects inputs of shape"):
        cls()(nn.Input(shape=(6, 5, 2)))
    layer = cls()
    layer.forward(np.zeros((1, *SAMPLE), np.float32))
    with pytest.raises(NNScratchError, match=rf"{cls.__name__} was built for inputs of shape \(batch, 4, 6, 5, 2\)"):
        layer.forward(np.zeros((1, 5, 6, 5, 2), np.float32))
