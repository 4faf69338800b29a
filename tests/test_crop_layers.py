"""CenterCrop and RandomCrop: Keras's centred windows and smart_resize (against PyTorch's bilinear interpolation
of the window), per-sample random windows gathered at once, exact adjoint backward (gradient checks), seeds,
layouts, empty batches, variable sizes, config and file round trips, ONNX export in onnxruntime, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_augment import python_lines

import nnscratch as nn
from nnscratch.core import shapes
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError
from nnscratch.core.layer import Layer
from nnscratch.layers.augment import uniform_ints
from nnscratch.layers.crop import CenterCrop, RandomCrop, aspect_window
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)


def images(*shape: int, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def np_center_crop(img: np.ndarray, h_new: int, w_new: int) -> np.ndarray:
    """Keras's test reference (center_crop_test.py), channels last."""
    h, w = img.shape[1:3]
    top, left = (h - h_new) // 2, (w - w_new) // 2
    return img[:, top:top + h_new, left:left + w_new]


def smart_resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Keras's ``smart_resize``, channels last: the aspect-ratio window sliced out, then PyTorch's bilinear resize."""
    torch = pytest.importorskip("torch")
    h, w = img.shape[1:3]
    crop_height = max(min(h, int(float(w * height) / width)), 1)
    crop_width = max(min(w, int(float(h * width) / height)), 1)
    top, left = int(float(h - crop_height) / 2), int(float(w - crop_width) / 2)
    window = torch.from_numpy(np.ascontiguousarray(img[:, top:top + crop_height, left:left + crop_width]))
    out = torch.nn.functional.interpolate(window.permute(0, 3, 1, 2), size=(height, width), mode="bilinear",
                                          align_corners=False, antialias=False)
    return out.permute(0, 2, 3, 1).numpy()


def run(layer: Layer, x: np.ndarray, training: bool = False) -> np.ndarray:
    return layer.set_dtype("float64").forward(x, training=training)


@pytest.mark.parametrize("size", [(5, 7), (9, 4), (6, 11), (9, 11), (1, 1)])
def test_center_crop_is_keras_s_centred_window(size) -> None:
    img = images(2, 9, 11, 3)
    np.testing.assert_array_equal(run(CenterCrop(*size), img), np_center_crop(img, *size))


def test_an_odd_difference_puts_the_extra_row_at_the_bottom() -> None:
    img = np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(run(CenterCrop(3, 3), img)[0, :, :, 0], img[0, :3, :3, 0])
    np.testing.assert_array_equal(run(CenterCrop(2, 1), img)[0, :, :, 0], img[0, 1:3, 1:2, 0])


@pytest.mark.parametrize("size", [(15, 10), (10, 17), (12, 4), (6, 12), (20, 30)])
def test_an_image_smaller_than_the_target_is_smart_resized(size) -> None:
    img = images(2, 9, 11, 3)
    np.testing.assert_allclose(run(CenterCrop(*size), img), smart_resize(img, *size), atol=1e-12)


def test_the_resize_window_is_keras_s() -> None:
    assert aspect_window(9, 11, 15, 10) == (0, 2, 9, 6)
    assert aspect_window(9, 11, 10, 17) == (1, 0, 6, 11)
    assert aspect_window(4, 10, 6, 6) == (0, 3, 4, 4)
    assert aspect_window(3, 1000, 1, 1000) == (1, 0, 1, 1000)  # at least one row


@pytest.mark.parametrize("make", [lambda **k: CenterCrop(5, 7, **k), lambda **k: CenterCrop(15, 10, **k),
                                  lambda **k: RandomCrop(10, 6, **k)])
def test_channels_first_is_the_same_on_transposed_images(make) -> None:
    img = images(2, 9, 11, 3)
    first = run(make(data_format="channels_first"), img.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), run(make(), img), atol=1e-12)


def test_random_crop_at_inference_is_smart_resize_whatever_the_size() -> None:
    img = images(3, 10, 12, 2)
    for size in [(8, 9), (10, 12), (4, 4), (11, 14), (8, 8)]:
        np.testing.assert_allclose(run(RandomCrop(*size), img), smart_resize(img, *size), atol=1e-12)
    wide = images(2, 8, 16, 3)
    np.testing.assert_allclose(run(RandomCrop(8, 8), wide), wide[:, :, 4:12], atol=1e-12)  # the centred square


def test_random_crop_in_training_takes_one_random_window_per_sample() -> None:
    layer = RandomCrop(5, 4).set_dtype("float64").set_rng(np.random.default_rng(3))
    img = images(40, 9, 8, 2)
    out = layer.forward(img, training=True)
    # the same draws, cropped one sample at a time: the batch gather equals per-sample slicing
    draws = np.random.default_rng(3)
    top, left = uniform_ints(draws, 0, 4, 40), uniform_ints(draws, 0, 4, 40)
    expected = np.stack([img[i, top[i]:top[i] + 5, left[i]:left[i] + 4] for i in range(40)])
    np.testing.assert_array_equal(out, expected)
    assert len(set(zip(top, left))) > 10 and set(top) == set(range(5)) and set(left) == set(range(5))


def test_random_crop_in_training_of_a_small_image_resizes_and_of_the_target_size_is_the_identity() -> None:
    layer = RandomCrop(10, 6).set_dtype("float64")
    img = images(2, 8, 12, 1)
    np.testing.assert_allclose(layer.forward(img, training=True), smart_resize(img, 10, 6), atol=1e-12)
    layer, same = RandomCrop(10, 6).set_dtype("float64"), images(2, 10, 6, 1)
    assert layer.forward(same, training=True) is same
    np.testing.assert_array_equal(layer.backward(same), same)


def test_channels_first_random_windows_follow_the_draws() -> None:
    layer = RandomCrop(3, 5, data_format="channels_first").set_dtype("float64").set_rng(np.random.default_rng(1))
    img = images(16, 4, 7, 9)
    out = layer.forward(img, training=True)
    draws = np.random.default_rng(1)
    top, left = uniform_ints(draws, 0, 4, 16), uniform_ints(draws, 0, 4, 16)
    np.testing.assert_array_equal(out, np.stack([img[i, :, top[i]:top[i] + 3, left[i]:left[i] + 5]
                                                 for i in range(16)]))


CASES = [(lambda: CenterCrop(4, 5), False), (lambda: CenterCrop(10, 4), False), (lambda: CenterCrop(3, 12), False),
         (lambda: CenterCrop(4, 5, data_format="channels_first"), False), (lambda: RandomCrop(4, 5), True),
         (lambda: RandomCrop(3, 3, data_format="channels_first"), True), (lambda: RandomCrop(4, 5), False),
         (lambda: RandomCrop(10, 4), True)]


@pytest.mark.parametrize("make, training", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_check(make, training, seed) -> None:
    errors = check_module(make(), images(3, 7, 9, 2), training=training, seed=seed)
    assert errors["input"] < 1e-7, errors


def test_inside_a_network_gradients_check() -> None:
    model = nn.Sequential([nn.Conv2D(2, 3, padding="same"), RandomCrop(4, 5), CenterCrop(6, 3), nn.Flatten(),
                           nn.Dense(1)], seed=0, dtype="float64")
    for training in (True, False):
        errors = check_module(model, images(3, 6, 7, 1), training=training, seed=3)
        assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("make, training", CASES)
def test_backward_is_the_adjoint(make, training) -> None:
    layer = make().set_dtype("float64").set_rng(np.random.default_rng(5))
    x = images(30, 7, 9, 2, seed=1)
    y = layer.forward(x, training=training)
    g = images(*y.shape, seed=2)
    assert np.isclose(np.sum(y * g), np.sum(x * layer.backward(g)))


@pytest.mark.parametrize("training", [True, False])
def test_vectorized_no_python_work_per_sample(training) -> None:
    def lines(n: int) -> int:
        layer = RandomCrop(12, 10).set_rng(np.random.default_rng(0))
        x = np.random.default_rng(0).random((n, 16, 16, 3)).astype(np.float32)
        layer.forward(x, training=training)  # warm-up: the resize matrices for this shape
        return python_lines(lambda: layer.backward(layer.forward(x, training=training)))

    assert lines(64) == lines(2)


def test_reproducible_with_a_seed_and_the_model_s_generator() -> None:
    x = images(16, 9, 9, 1)
    first, again = (RandomCrop(5, 5, seed=11).forward(x, training=True) for _ in range(2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, RandomCrop(5, 5, seed=12).forward(x, training=True))
    outs = [nn.Sequential([RandomCrop(6, 6)], seed=7, dtype="float64").forward(x, training=True) for _ in range(2)]
    np.testing.assert_array_equal(*outs)


@pytest.mark.parametrize("make", [lambda: CenterCrop(4, 3), lambda: CenterCrop(12, 3), lambda: RandomCrop(4, 3),
                                  lambda: CenterCrop(2, 2, data_format="channels_first")])
def test_an_empty_batch_gives_the_shape_one_sample_gives(make) -> None:
    assert shapes.call_on_zeros(make(), (9, 8, 3), 0) == shapes.call_on_zeros(make(), (9, 8, 3), 1)


def test_images_of_any_size_crop_to_one_shape() -> None:
    x = nn.Input((None, None, 3))
    model = nn.Model(x, nn.GlobalAvgPool2D()(nn.Conv2D(2, 3)(CenterCrop(6, 6)(x))))
    assert model.layers[1].compute_output_shape((None, None, 3)) == (6, 6, 3)
    for size in [(6, 6), (11, 8), (4, 20)]:
        assert model.predict(images(2, *size, 3, dtype=np.float32)).shape == (2, 2)


def test_config_and_file_round_trip(tmp_path: Path) -> None:
    for layer in [CenterCrop(4, 5, data_format="channels_first"), RandomCrop(3, 2, seed=4)]:
        copy = type(layer).from_config(layer.get_config())
        assert copy.get_config() == layer.get_config() and copy.channels_first == layer.channels_first
    model = nn.Sequential([nn.Input((10, 12, 3)), RandomCrop(8, 8, seed=5), CenterCrop(6, 7), nn.Conv2D(2, 3),
                           nn.GlobalAvgPool2D(), nn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer="adam")
    x = images(8, 10, 12, 3, dtype=np.float32)
    model.fit(x, np.ones((8, 1), np.float32), epochs=1, batch_size=4, verbose=0)
    loaded = nn.load_model(model.save(tmp_path / "crop.npz"))
    random_crop, center_crop = loaded.layers[0], loaded.layers[1]
    assert isinstance(random_crop, RandomCrop) and random_crop.seed == 5 and random_crop.height == 8
    assert isinstance(center_crop, CenterCrop) and (center_crop.height, center_crop.width) == (6, 7)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert Layer.registry["CenterCrop"] is CenterCrop and Layer.registry["RandomCrop"] is RandomCrop


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-5), ("float64", 1e-12)])
def test_onnx_export_matches_predict(tmp_path: Path, dtype: str, tol: float) -> None:
    ort = pytest.importorskip("onnxruntime")
    import nnscratch.interop.onnx_preprocessing_converters  # noqa: F401  (registers the converters)

    x = nn.Input((9, 12, 3), dtype=dtype)
    conv = nn.Conv2D(2, 3)(x)  # (held channels-first in the graph)
    outs = [CenterCrop(5, 7)(x), CenterCrop(16, 10)(x), RandomCrop(4, 4)(x), RandomCrop(5, 6)(conv),
            CenterCrop(3, 4, data_format="channels_first")(x), CenterCrop(4, 20)(conv),
            RandomCrop(2, 5, data_format="channels_first")(x)]
    model = nn.Model(x, outs)
    data = images(3, 9, 12, 3, dtype=np.dtype(dtype))
    path = model.export(tmp_path / "crop.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: data})
    for ours, theirs in zip(model.predict(data), got):
        assert ours.shape == theirs.shape and theirs.dtype == np.dtype(dtype)
        np.testing.assert_allclose(theirs, ours, atol=tol)


@pytest.mark.parametrize("make, error, match", [
    (lambda: CenterCrop(0, 4), InvalidValueError, "CenterCrop height must be an integer >= 1"),
    (lambda: RandomCrop(4, 2.5), InvalidTypeError, "RandomCrop width must be an integer"),
    (lambda: CenterCrop(4, 4, data_format="NHWC"), InvalidValueError, "data_format must be 'channels_last' or"),
    (lambda: RandomCrop(4, 4, seed=-1), InvalidValueError, "seed must be None or a non-negative int"),
])
def test_bad_arguments(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer, layout", [(CenterCrop(2, 2), "height, width, channels"),
                                           (RandomCrop(2, 2, data_format="channels_first"), "channels, height, width")])
@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 64), (2, 3, 4, 5, 1)])
def test_non_image_input_is_a_shape_error(layer, layout, shape) -> None:
    with pytest.raises(ShapeError, match=f"expects images of shape \\(batch, {layout}\\)"):
        layer.forward(np.zeros(shape, np.float32), training=True)
    with pytest.raises(ShapeError, match="expects images of shape"):
        nn.Sequential([nn.Input(shape[1:]), type(layer)(2, 2)])
