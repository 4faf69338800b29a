"""Augmentation layers: RandomFlip and RandomShift (training only, vectorized, exact adjoint backward)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

LAYERS = [
    lambda: nn.RandomFlip(),
    lambda: nn.RandomFlip("vertical"),
    lambda: nn.RandomFlip("horizontal_and_vertical"),
    lambda: nn.RandomShift(2),
    lambda: nn.RandomShift(3, fill_mode="constant"),
    lambda: nn.RandomShift((1, 4), fill_mode="nearest"),
    lambda: nn.RandomShift((0, 2)),
]


def images(n=6, h=7, w=5, c=2, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal((n, h, w, c)).astype(dtype)


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_check_in_training(make, seed):
    errors = check_module(make(), images(), training=True, seed=seed)
    assert errors["input"] < 1e-7, errors


@pytest.mark.parametrize("make", LAYERS)
def test_backward_is_the_adjoint(make):
    # <forward(x), g> == <x, backward(g)> for the transform drawn, with many samples so every case occurs.
    layer = make().set_dtype("float64").set_rng(np.random.default_rng(5))
    x, g = images(n=40, seed=1), images(n=40, seed=2)
    y = layer.forward(x, training=True)
    assert np.isclose(np.sum(y * g), np.sum(x * layer.backward(g)))


@pytest.mark.parametrize("make", LAYERS)
def test_identity_at_inference(make):
    layer = make()
    x = images(dtype=np.float32)
    assert layer.forward(x, training=False) is x
    g = images(seed=3, dtype=np.float32)
    assert layer.backward(g) is g


def test_flip_flips_some_samples_and_not_others():
    layer = nn.RandomFlip().set_rng(np.random.default_rng(0))
    x = images(n=32)
    y = layer.forward(x, training=True)
    flipped = np.array([np.array_equal(y[i], x[i, :, ::-1]) for i in range(len(x))])
    kept = np.array([np.array_equal(y[i], x[i]) for i in range(len(x))])
    assert np.all(flipped | kept)
    assert 5 < flipped.sum() < 27 and kept.sum() == 32 - flipped.sum()
    assert np.array_equal(flipped, layer.last_call.masks[0][1])


def test_vertical_flip_flips_rows():
    layer = nn.RandomFlip("vertical").set_rng(np.random.default_rng(1))
    x = images(n=16)
    y = layer.forward(x, training=True)
    mask = layer.last_call.masks[0][1]
    assert mask.any() and not mask.all()
    assert np.array_equal(y[mask], x[mask][:, ::-1])
    assert np.array_equal(y[~mask], x[~mask])


def _offset(x, y, max_shift):
    """The (dy, dx) for which y equals x shifted (compared on the part of the image that stays inside)."""
    h, w = x.shape[:2]
    found = []
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            ys, xs = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
            ysrc, xsrc = slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0))
            if np.array_equal(y[ys, xs], x[ysrc, xsrc]):
                found.append((dy, dx))
    return found


@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest"])
def test_shift_keeps_shape_and_moves_content_by_at_most_max_shift(fill_mode):
    layer = nn.RandomShift(3, fill_mode=fill_mode).set_rng(np.random.default_rng(0))
    x = images(n=20, h=12, w=10, c=3)
    y = layer.forward(x, training=True)
    assert y.shape == x.shape and y.dtype == x.dtype
    offsets = [_offset(x[i], y[i], 3) for i in range(len(x))]
    assert all(len(o) == 1 for o in offsets)  # random normal pixels: exactly one shift explains each sample
    assert len({o[0] for o in offsets}) > 5  # the samples got different shifts
    if fill_mode == "constant":
        for i, [(dy, dx)] in enumerate(offsets):
            border = np.ones(x.shape[1:3], bool)
            border[max(dy, 0):12 + min(dy, 0), max(dx, 0):10 + min(dx, 0)] = False
            assert np.all(y[i][border] == 0)


def test_reflect_fill_matches_pad_and_crop():
    layer = nn.RandomShift(2).set_rng(np.random.default_rng(4))
    x = images(n=10, h=6, w=6, c=1)
    y = layer.forward(x, training=True)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    for i in range(len(x)):
        crops = [padded[i, a:a + 6, b:b + 6] for a in range(5) for b in range(5)]
        assert any(np.array_equal(y[i], crop) for crop in crops)


def test_reproducible_with_a_seed():
    x = images(n=16, h=9, w=9)
    outs = []
    for _ in range(2):
        model = nn.Sequential([nn.RandomFlip(), nn.RandomShift(2)], seed=7, dtype="float64")
        outs.append(model.forward(x, training=True))
    assert np.array_equal(outs[0], outs[1])
    other = nn.Sequential([nn.RandomFlip(), nn.RandomShift(2)], seed=8, dtype="float64").forward(x, training=True)
    assert not np.array_equal(outs[0], other)


def test_works_with_a_random_state_and_float32():
    layer = nn.RandomShift(1).set_rng(np.random.RandomState(0))
    x = images(dtype=np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32 and layer.backward(y).dtype == np.float32


def test_inside_a_network_trains_and_gradients_check():
    # Anywhere in a network: after a convolution, in float64 with the model's fixed seed.
    model = nn.Sequential([nn.Conv2D(2, 3, padding="same"), nn.RandomFlip(), nn.RandomShift(1),
                           nn.Flatten(), nn.Dense(1)], seed=0, dtype="float64")
    errors = check_module(model, images(n=3, h=5, w=5, c=1), training=True, seed=3)
    assert max(errors.values()) < 1e-6, errors


def test_save_load_round_trip(tmp_path):
    model = nn.Sequential([nn.RandomFlip("horizontal_and_vertical"), nn.RandomShift((2, 3), fill_mode="nearest"),
                           nn.Conv2D(2, 3), nn.GlobalAvgPool2D(), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    x = images(n=8, h=8, w=8, c=3, dtype=np.float32)
    y = (np.arange(8) % 2).reshape(-1, 1).astype(np.float32)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = model.save(tmp_path / "aug.npz")
    loaded = nn.load_model(path)
    flip, shift = loaded.layers[0], loaded.layers[1]
    assert isinstance(flip, nn.RandomFlip) and flip.mode == "horizontal_and_vertical"
    assert isinstance(shift, nn.RandomShift) and shift.max_shift == (2, 3) and shift.fill_mode == "nearest"
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("make, match", [
    (lambda: nn.RandomFlip("diagonal"), "mode"),
    (lambda: nn.RandomFlip(3), "mode"),
    (lambda: nn.RandomShift(-1), "max_shift"),
    (lambda: nn.RandomShift(1.5), "max_shift"),
    (lambda: nn.RandomShift((1, 2, 3)), "max_shift"),
    (lambda: nn.RandomShift(2, fill_mode="wrap"), "fill_mode"),
])
def test_bad_arguments(make, match):
    with pytest.raises(InvalidValueError, match=match):
        make()


@pytest.mark.parametrize("layer", [nn.RandomFlip(), nn.RandomShift(1)])
@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 64), (2, 3, 4, 5, 1)])
def test_non_4d_input_is_a_shape_error(layer, shape):
    with pytest.raises(ShapeError, match="batch, height, width, channels"):
        layer.forward(np.zeros(shape, np.float32), training=True)


def test_reflect_shift_larger_than_the_image_is_a_shape_error():
    with pytest.raises(ShapeError, match="max_shift"):
        nn.RandomShift(4).forward(np.zeros((2, 4, 8, 1), np.float32), training=True)


def python_lines(fn) -> int:
    """How many lines of Python ``fn()`` executes (the work inside NumPy's C functions is not counted)."""
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("make", [lambda: nn.RandomFlip(), lambda: nn.RandomShift(4)])
def test_vectorized_no_python_work_per_sample(make):
    # A loop over samples or pixels would run more lines of Python for a larger batch; vectorized code runs
    # the same lines for 2 images as for 64.
    def lines(n: int) -> int:
        layer = make().set_rng(np.random.default_rng(0))
        x = np.random.default_rng(0).random((n, 16, 16, 3)).astype(np.float32)
        layer.forward(x, training=True)  # warm-up: buffers and index tables for this shape
        return python_lines(lambda: layer.backward(layer.forward(x, training=True)))

    assert lines(64) == lines(2)
