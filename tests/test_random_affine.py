"""RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness: Keras's geometry and fill
modes on known cases, gradient checks of the drawn maps, identity at inference, bad arguments refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)


def images(n: int = 3, h: int = 6, w: int = 7, c: int = 2) -> np.ndarray:
    return rng.normal(size=(n, h, w, c))


def train(layer: nn.Layer, x: np.ndarray) -> np.ndarray:
    return layer.set_dtype("float64").forward(x, training=True)


MAKERS = [
    lambda: nn.RandomRotation(0.2),
    lambda: nn.RandomRotation((-0.3, 0.1), fill_mode="constant", fill_value=0.5),
    lambda: nn.RandomRotation(0.4, fill_mode="wrap", interpolation="nearest"),
    lambda: nn.RandomZoom(0.3),
    lambda: nn.RandomZoom((-0.4, 0.2), (0.1, 0.5), fill_mode="nearest"),
    lambda: nn.RandomTranslation(0.3, 0.2),
    lambda: nn.RandomTranslation((-0.5, 0.5), 0.1, fill_mode="constant"),
    lambda: nn.RandomContrast(0.4, value_range=(-100, 100)),
    lambda: nn.RandomBrightness(0.2, value_range=(-100, 100)),
]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_check_in_training(make, seed) -> None:
    errors = check_module(make(), images(), training=True, seed=seed)
    assert errors["input"] < 1e-7, errors


@pytest.mark.parametrize("make", MAKERS)
def test_identity_at_inference_and_keeps_the_shape(make) -> None:
    x = images()
    layer = make().set_dtype("float64")
    assert layer.forward(x, training=False) is x
    assert train(layer, x).shape == x.shape


def test_a_quarter_turn_is_rot90_counter_clockwise() -> None:
    x = images(2, 5, 5, 3)
    y = train(nn.RandomRotation((0.25, 0.25)), x)
    np.testing.assert_allclose(y, np.rot90(x, k=1, axes=(1, 2)), atol=1e-9)
    y = train(nn.RandomRotation((-0.25, -0.25), interpolation="nearest"), x)
    np.testing.assert_allclose(y, np.rot90(x, k=-1, axes=(1, 2)), atol=1e-9)


@pytest.mark.parametrize("fill_mode, top", [
    ("reflect", lambda x: x[:, [1, 0]]),  # d c b a | a b c d
    ("wrap", lambda x: x[:, [-2, -1]]),
    ("nearest", lambda x: x[:, [0, 0]]),
    ("constant", lambda x: np.full_like(x[:, :2], 0.5)),
])
def test_translation_moves_whole_pixels_and_fills_by_mode(fill_mode, top) -> None:
    x = images(2, 8, 5, 1)
    y = train(nn.RandomTranslation((0.25, 0.25), 0.0, fill_mode=fill_mode, fill_value=0.5), x)  # 2 rows down
    np.testing.assert_allclose(y[:, 2:], x[:, :-2], atol=1e-12)
    np.testing.assert_allclose(y[:, :2], top(x), atol=1e-12)


def test_zoom_scales_about_the_centre() -> None:
    x = images(1, 9, 9, 1)
    zoomed_in = train(nn.RandomZoom((-0.5, -0.5)), x)  # twice as large: the centre pixel stays
    assert zoomed_in[0, 4, 4, 0] == pytest.approx(x[0, 4, 4, 0])
    np.testing.assert_allclose(zoomed_in[0, 4, ::2, 0], x[0, 4, 2:7, 0])
    zoomed_out = train(nn.RandomZoom((1.0, 1.0), fill_mode="constant", fill_value=-7.0), x)  # half size
    np.testing.assert_allclose(zoomed_out[0, 2:7, 2:7, 0], x[0, ::2, ::2, 0])
    assert np.all(zoomed_out[0, :2] == -7.0) and np.all(zoomed_out[0, :, -2:] == -7.0)
    stretched = train(nn.RandomZoom(0.0, (1.0, 1.0)), x)  # width only
    np.testing.assert_allclose(stretched[0, :, 2:7, 0], x[0, :, ::2, 0])


def test_contrast_keeps_each_channel_mean_and_scales_its_spread() -> None:
    x = images(20, 4, 4, 3) * 10 + 100
    y = train(nn.RandomContrast(0.3), x)
    np.testing.assert_allclose(y.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=1e-9)
    ratio = y.std(axis=(1, 2)) / x.std(axis=(1, 2))
    assert np.all(ratio >= 0.7 - 1e-9) and np.all(ratio <= 1.3 + 1e-9) and ratio.std() > 0.01
    np.testing.assert_allclose(ratio, ratio[:, :1].repeat(3, axis=1))  # one factor per image
    clipped = train(nn.RandomContrast((0.0, 1.0), value_range=(0, 1)), rng.uniform(size=(5, 4, 4, 1)))
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_brightness_shifts_each_image_by_a_share_of_the_range() -> None:
    x = rng.uniform(50, 200, size=(30, 3, 3, 3))
    y = train(nn.RandomBrightness(0.1), x)
    delta = (y - x).reshape(30, -1)
    np.testing.assert_allclose(delta, delta[:, :1].repeat(27, axis=1), atol=1e-9)
    assert np.all(np.abs(delta) <= 25.5 + 1e-9) and delta.std() > 1
    y = train(nn.RandomBrightness((0.9, 1.0), value_range=(0, 1)), rng.uniform(size=(4, 3, 3, 1)))
    assert y.max() == 1.0 and y.min() >= 0.9 and np.mean(y == 1.0) > 0.5  # clipped at the top of the range


def test_reproducible_from_the_model_seed_and_saved(tmp_path: Path) -> None:
    def model() -> nn.Sequential:
        return nn.Sequential([nn.Input((8, 8, 3)), nn.RandomRotation(0.1), nn.RandomZoom(0.2),
                              nn.RandomTranslation(0.1, 0.1), nn.RandomContrast(0.2), nn.RandomBrightness(0.1),
                              nn.Flatten(), nn.Dense(2)], seed=4)
    x = rng.uniform(0, 255, size=(4, 8, 8, 3)).astype(np.float32)
    a, b = model(), model()
    np.testing.assert_array_equal(a.forward(x, training=True), b.forward(x, training=True))
    reloaded = nn.load_model(a.save(tmp_path / "m.npz"))
    np.testing.assert_array_equal(reloaded.predict(x), a.predict(x))


def test_keras_augmentation_block_trains() -> None:
    keras.utils.set_random_seed(2)
    x = rng.uniform(0, 255, size=(64, 8, 8, 3)).astype("float32")
    y = (x[..., 0].mean(axis=(1, 2)) > 127.5).astype("int64")
    augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.1),
                                     keras.layers.RandomZoom(0.1)])
    model = keras.Sequential([keras.Input((8, 8, 3)), augmentation, keras.layers.Rescaling(1 / 255),
                              keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("make, match", [
    (lambda: nn.RandomRotation(1.5), r"RandomRotation factor must be a number in \[-1, 1\]"),
    (lambda: nn.RandomRotation((0.1, 0.2, 0.3)), "or a pair"),
    (lambda: nn.RandomZoom(0.1, fill_mode="mirror"), "fill_mode must be one of 'reflect', 'wrap'"),
    (lambda: nn.RandomTranslation(0.1, 0.1, interpolation="bicubic"), "interpolation must be one of"),
    (lambda: nn.RandomRotation(0.1, seed=True), r"RandomRotation seed must be None or a non-negative int, got True"),
    (lambda: nn.RandomFlip("horizontal", seed="3"), r"RandomFlip seed must be None or a non-negative int"),
    (lambda: nn.RandomContrast(-0.2), r"RandomContrast factor must be a number in \[0, 1\]"),
    (lambda: nn.RandomBrightness(0.2, value_range=(1, 1)), "value_range must be two finite numbers low < high"),
    (lambda: nn.RandomBrightness(0.2, value_range="wide"), "value_range must be two numbers"),
])
def test_bad_arguments(make, match) -> None:
    with pytest.raises(InvalidValueError, match=match):
        make()
