"""Conv2D, MaxPool2D and AvgPool2D on images whose height and width vary between calls
(``Input(shape=(None, None, C))``): output shapes, the same numbers as a layer built for each size, float64
finite differences at several sizes, errors, and a fully convolutional model trained on one size and run on others."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ShapeError
from nnscratch.utils.gradcheck import check_module

LAYERS = [
    (nn.Conv2D, dict(filters=3, kernel_size=3, padding="same", activation="relu")),
    (nn.Conv2D, dict(filters=2, kernel_size=3, strides=2, padding="same")),  # pads follow the size's parity
    (nn.Conv2D, dict(filters=2, kernel_size=(2, 3), strides=(1, 2))),
    (nn.Conv2D, dict(filters=16, kernel_size=3, padding="same")),  # blocks of two pixels on even widths
    (nn.Conv2D, dict(filters=2, kernel_size=3, dilation_rate=2, padding=1)),
    (nn.MaxPool2D, dict()),  # pairwise on even sizes, windows on odd ones
    (nn.MaxPool2D, dict(pool_size=3, strides=2, padding="same")),
    (nn.AvgPool2D, dict(pool_size=3, strides=2, padding="same")),  # per-pixel counts at the border
    (nn.AvgPool2D, dict(pool_size=2)),
]
IDS = [f"{cls.__name__}-{config}" for cls, config in LAYERS]
SIZES = [(8, 10), (7, 9), (12, 5)]


def variable(cls: type, config: dict, input_shape: tuple = (None, None, 3), dtype: str = "float64") -> nn.Sequential:
    return nn.Sequential([nn.Input(input_shape), cls(**config)], dtype=dtype, seed=0)


@pytest.mark.parametrize("cls, config", LAYERS, ids=IDS)
def test_each_size_gives_what_a_layer_built_for_it_gives(cls: type, config: dict) -> None:
    model = variable(cls, config)
    layer = model.layers[-1]
    assert layer.pads is None
    rng = np.random.default_rng(0)
    for h, w in SIZES:
        x = rng.standard_normal((2, h, w, 3))
        fixed = variable(cls, config, (h, w, 3))
        fixed.set_weights(model.get_weights())
        y, expected = model.forward(x, training=True), fixed.forward(x, training=True)
        assert y.shape == expected.shape == (2, *fixed.layers[-1].output_shape)
        np.testing.assert_array_equal(y, expected)
        g = rng.standard_normal(y.shape)
        np.testing.assert_array_equal(model.backward(g), fixed.backward(g))
        for mine, theirs in zip(model.parameters(), fixed.parameters()):
            np.testing.assert_array_equal(mine.grad, theirs.grad)
            mine.zero_grad()


@pytest.mark.parametrize("cls, config", LAYERS, ids=IDS)
def test_finite_differences_at_several_sizes(cls: type, config: dict) -> None:
    model = variable(cls, config)
    rng = np.random.default_rng(1)
    for h, w in SIZES:
        errors = check_module(model, rng.standard_normal((2, h, w, 3)))
        assert max(errors.values()) < 1e-6, ((h, w), errors)


def test_output_shapes_keep_the_fixed_axis() -> None:
    x = nn.Input((None, 12, 3))
    h = nn.Conv2D(4, 3, strides=2, padding="same")(x)
    assert h.sample_shape == (None, 6, 4)
    p = nn.MaxPool2D(3)(h)
    assert p.sample_shape == (None, 2, 4)
    model = nn.Model(x, p)
    assert model.predict(np.zeros((2, 17, 12, 3), np.float32)).shape == (2, 3, 2, 4)
    with pytest.raises(ShapeError, match="12"):  # the fixed axis is still checked
        model.predict(np.zeros((2, 17, 10, 3), np.float32))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2D(2, 5), r"Conv2D window 5x5 is larger than its \(padded\) input 3x8"),
    (lambda: nn.MaxPool2D(4), r"MaxPool2D window 4x4 is larger than its \(padded\) input 3x8"),
])
def test_an_image_smaller_than_the_window_is_one_shape_error(make, message: str) -> None:
    model = nn.Sequential([nn.Input((None, None, 2)), make()])
    assert model.predict(np.zeros((1, 9, 8, 2), np.float32)).shape[0] == 1
    with pytest.raises(ShapeError, match=message):
        model.predict(np.zeros((1, 3, 8, 2), np.float32))


def test_a_fixed_axis_too_short_for_the_window_is_refused_when_the_model_is_put_together() -> None:
    with pytest.raises(ShapeError, match=r"window spans 5 columns, more than its \(padded\) input's 3"):
        nn.Conv2D(2, 5)(nn.Input((None, 3, 2)))


def test_a_flatten_of_images_of_any_size_before_a_dense_is_refused_with_the_way_out() -> None:
    with pytest.raises(ShapeError, match=r"Dense needs a fixed number of features .*GlobalAveragePooling2D"):
        nn.Dense(2)(nn.Flatten()(nn.Conv2D(2, 3)(nn.Input((None, None, 3)))))


def test_channels_must_be_fixed() -> None:
    with pytest.raises(ShapeError, match="fixed number of channels"):
        nn.Conv2D(2, 3)(nn.Input((None, None, None)))


def test_a_fully_convolutional_model_trains_on_one_size_and_runs_on_others(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16, 16, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)  # brighter than average or not
    inputs = nn.Input((None, None, 1))
    h = nn.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    h = nn.MaxPool2D()(h)
    h = nn.Conv2D(8, 3, padding="same", activation="relu")(h)
    h = nn.AvgPool2D(2)(h)
    outputs = nn.Dense(2, activation="softmax")(nn.GlobalAvgPool2D()(h))
    model = nn.Model(inputs, outputs, seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.Adam(lr=1e-2), metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    before = model.predict(x)
    for size in [(20, 12), (9, 31)]:
        other = rng.standard_normal((32, *size, 1)).astype(np.float32)
        probabilities = model.predict(other)
        assert probabilities.shape == (32, 2) and np.isfinite(probabilities).all()
        assert (probabilities.argmax(axis=1) == (other.mean(axis=(1, 2, 3)) > 0)).mean() > 0.8
    np.testing.assert_array_equal(model.predict(x), before)  # other sizes in between change nothing
    path = tmp_path / "fcn.nns"
    model.save(path)
    loaded = nn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(other), probabilities)
