"""DepthwiseConv2D, SeparableConv2D, Conv2DTranspose and Cropping2D on images of variable height and width
(``Input(shape=(None, None, C))``): symbolic shapes with ``None``, the numbers of a layer built for each size,
float64 gradient checks at two sizes (and at two sizes in one call of a shared layer), one clear ``ShapeError``
for an input too small, and a small fully convolutional model trained on one size and used on another."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ShapeError
from nnscratch.core.shapes import SampleShape
from nnscratch.utils.gradcheck import check_module

C = 3
TOL = 1e-6

LAYERS: dict[str, Callable[[], Any]] = {
    "depthwise-valid": lambda: nn.DepthwiseConv2D(3),
    "depthwise-same-stride2": lambda: nn.DepthwiseConv2D((2, 3), strides=2, padding="same", depth_multiplier=2,
                                                         activation="tanh"),
    "depthwise-explicit-dilated": lambda: nn.DepthwiseConv2D(3, padding=1, dilation_rate=2, use_bias=False),
    "separable-same": lambda: nn.SeparableConv2D(4, 3, padding="same", activation="tanh"),
    "separable-valid-stride2": lambda: nn.SeparableConv2D(5, 2, strides=2, depth_multiplier=2),
    "transpose-same-stride2": lambda: nn.Conv2DTranspose(2, 3, strides=2, padding="same"),
    "transpose-same-even-kernel": lambda: nn.Conv2DTranspose(2, 4, padding="same", activation="tanh"),
    "transpose-valid-output-padding": lambda: nn.Conv2DTranspose(2, (2, 3), strides=(2, 1), output_padding=(1, 0)),
    "transpose-explicit-dilated": lambda: nn.Conv2DTranspose(3, 3, padding=1, dilation_rate=2),
    "cropping-asymmetric": lambda: nn.Cropping2D(((1, 2), (0, 3))),
    "cropping-every-side": lambda: nn.Cropping2D(1),
}
# Per-sample (H, W) of the Input: both variable, the height fixed, the width fixed.
INPUT_HW = [(None, None), (7, None), (None, 8)]
SIZES = ((8, 11), (11, 6))  # even and odd heights and widths, giving two output sizes at stride 2


def images(n: int, hw: tuple[int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *hw, C))


def model_of(make: Callable[[], Any], hw: tuple[int | None, int | None]) -> nn.Model:
    inputs = nn.Input(shape=(*hw, C), dtype="float64")
    return nn.Model(inputs, make()(inputs), seed=0)


def call_sizes(hw: tuple[int | None, int | None]) -> list[tuple[int, int]]:
    """``SIZES`` with the Input's fixed axes at their size."""
    return [(size[0] if hw[0] is None else hw[0], size[1] if hw[1] is None else hw[1]) for size in SIZES]


@pytest.mark.parametrize("hw", INPUT_HW, ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_each_size_computes_what_a_layer_built_for_it_does(name: str, hw: tuple[int | None, int | None]) -> None:
    model = model_of(LAYERS[name], hw)
    symbolic = model.outputs[0].shape[1:]
    outputs = []
    for size in call_sizes(hw):
        fixed = model_of(LAYERS[name], size)
        fixed.set_weights(model.get_weights())
        expected = fixed.outputs[0].shape[1:]
        assert symbolic == (None if hw[0] is None else expected[0], None if hw[1] is None else expected[1],
                            expected[2])
        x = images(2, size, seed=size[0])
        y = model.predict(x)
        assert y.shape[1:] == expected
        np.testing.assert_allclose(y, fixed.predict(x), rtol=0, atol=1e-12)
        np.testing.assert_allclose(model.forward(x, training=True), fixed.predict(x), rtol=0, atol=1e-12)
        outputs.append((x, y))
    assert outputs[0][1].shape != outputs[1][1].shape  # the two sizes are two geometries
    x, y = outputs[0]
    np.testing.assert_allclose(model.predict(x), y, rtol=0, atol=1e-12)  # back at the first size


@pytest.mark.parametrize("name", LAYERS)
def test_gradients_match_finite_differences_at_two_sizes(name: str) -> None:
    model = model_of(LAYERS[name], (None, None))
    for size in ((6, 7), (5, 4)):
        errors = check_module(model, images(2, size, seed=size[1]))
        assert set(errors) == {"input", *dict(model.named_parameters())}, errors
        assert max(errors.values()) < TOL, (size, errors)


@pytest.mark.parametrize("name", LAYERS)
def test_a_layer_called_at_two_sizes_in_one_graph(name: str) -> None:
    """One layer at two places of a graph, on images of two sizes: each call keeps its own geometry for its
    backward, and the gradients of the shared weights add up."""
    a, b = nn.Input(shape=(None, None, C), dtype="float64"), nn.Input(shape=(None, None, C), dtype="float64")
    layer = LAYERS[name]()
    model = nn.Model([a, b], [layer(a), layer(b)], seed=0)
    xa, xb = images(2, (7, 9), seed=1), images(2, (5, 6), seed=2)
    ya, yb = model.predict([xa, xb])
    for x, y in ((xa, ya), (xb, yb)):
        fixed = model_of(LAYERS[name], x.shape[1:3])
        fixed.set_weights(model.get_weights())
        np.testing.assert_allclose(y, fixed.predict(x), rtol=0, atol=1e-12)
    errors = check_module(model, [xa, xb])
    assert {"input.0", "input.1"} <= set(errors) and max(errors.values()) < TOL, errors


TOO_SMALL = [
    (lambda: nn.DepthwiseConv2D(3), (2, 5),
     "DepthwiseConv2D window 3x3 is larger than its (padded) input 2x5 (input shape (batch, 2, 5, 3))"),
    (lambda: nn.DepthwiseConv2D((2, 3), dilation_rate=(1, 3)), (6, 4),
     "DepthwiseConv2D window 2x7 is larger than its (padded) input 6x4 (input shape (batch, 6, 4, 3))"),
    (lambda: nn.SeparableConv2D(4, 3, strides=2), (9, 2),
     "DepthwiseConv2D window 3x3 is larger than its (padded) input 9x2 (input shape (batch, 9, 2, 3))"),
    (lambda: nn.Conv2DTranspose(2, 3, padding=2), (1, 4),
     "Conv2DTranspose with padding (2, 2) crops more than its output holds: output -1x2 for input shape "
     "(batch, 1, 4, 3)"),
    (lambda: nn.Cropping2D(((1, 2), (0, 3))), (3, 8),
     "Cropping2D cropping ((1, 2), (0, 3)) removes every row or column of inputs of shape (batch, 3, 8, 3)"),
    (lambda: nn.Cropping2D(((1, 2), (0, 3))), (8, 3),
     "Cropping2D cropping ((1, 2), (0, 3)) removes every row or column of inputs of shape (batch, 8, 3, 3)"),
]


@pytest.mark.parametrize(("make", "size", "message"), TOO_SMALL, ids=[m for _, _, m in TOO_SMALL])
def test_an_input_too_small_is_one_clear_error_at_the_call(make: Callable[[], Any], size: tuple[int, int],
                                                          message: str) -> None:
    model = model_of(make, (None, None))
    with pytest.raises(ShapeError, match=re.escape(message)):
        model.predict(images(1, size))
    assert model.predict(images(1, (9, 10))).shape[0] == 1  # the failed size leaves no trace
    with pytest.raises(ShapeError, match=re.escape(message)):  # nor was it kept as a plan
        model.predict(images(1, size))


FIXED_TOO_SMALL = [
    (lambda: nn.DepthwiseConv2D(3), (2, None), "DepthwiseConv2D window spans 3 rows, more than its (padded) input's 2"),
    (lambda: nn.SeparableConv2D(4, 3, strides=2), (None, 2), "DepthwiseConv2D window spans 3 columns"),
    (lambda: nn.Conv2DTranspose(2, 3, padding=2), (1, None), "crops more than its output holds: output -1xNone"),
    (lambda: nn.Cropping2D(((1, 2), (0, 3))), (None, 3), "Cropping2D cropping ((1, 2), (0, 3)) removes every row"),
]


@pytest.mark.parametrize(("make", "hw", "message"), FIXED_TOO_SMALL, ids=[str(hw) for _, hw, _ in FIXED_TOO_SMALL])
def test_a_fixed_axis_too_small_fails_when_the_model_is_put_together(make: Callable[[], Any],
                                                                     hw: tuple[int | None, int | None],
                                                                     message: str) -> None:
    shown = ", ".join(map(str, hw))
    with pytest.raises(ShapeError, match=re.escape(f"cannot take inputs of shape (batch, {shown}, {C})") + ".*"
                       + re.escape(message)):
        model_of(make, hw)


def test_public_pads_are_those_of_a_fixed_size_only() -> None:
    layer = nn.DepthwiseConv2D(3, strides=2, padding="same")
    layer.build((9, 8, C))
    assert layer.pads == ((1, 1), (0, 1))  # TensorFlow's rule: the extra pad at the bottom/right
    variable = nn.DepthwiseConv2D(3, strides=2, padding="same")
    variable.build(SampleShape((None, 8, C)))
    assert variable.pads is None and variable.output_shape == (None, 4, C)
    transpose = nn.Conv2DTranspose(2, 3, strides=2, padding="same")
    transpose.build(SampleShape((5, None, C)))
    assert transpose.output_shape == (10, None, 2)


FULLY_CONVOLUTIONAL = {
    "DepthwiseConv2D": lambda: nn.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
    "SeparableConv2D": lambda: nn.SeparableConv2D(4, 3, activation="relu"),
    "Conv2DTranspose": lambda: nn.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
    "Cropping2D": lambda: nn.Cropping2D(((1, 2), (3, 0))),
}


@pytest.mark.parametrize("name", FULLY_CONVOLUTIONAL)
def test_a_fully_convolutional_model_trains_on_one_size_and_predicts_another(name: str) -> None:
    inputs = nn.Input(shape=(None, None, C))
    outputs = nn.Dense(1)(nn.GlobalAvgPool2D()(FULLY_CONVOLUTIONAL[name]()(inputs)))
    model = nn.Model(inputs, outputs, seed=0)
    model.compile(loss="mse", optimizer=nn.Adam(0.01))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 16, 16, C)).astype(np.float32)
    y = 1 + 4 * x.mean(axis=(1, 2, 3))[:, None]
    history = model.fit(x, y, epochs=6, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    other = rng.standard_normal((5, 20, 12, C)).astype(np.float32)
    pred = model.predict(other)
    assert pred.shape == (5, 1) and np.all(np.isfinite(pred))
    loss = model.evaluate(other, 1 + 4 * other.mean(axis=(1, 2, 3))[:, None], verbose=0)
    assert np.isfinite(loss)
