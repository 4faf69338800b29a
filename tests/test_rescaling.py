"""Rescaling: the exact affine map, per channel or by one number, its gradient, errors, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)


def test_maps_pixels_exactly() -> None:
    pixels = rng.integers(0, 256, size=(5, 4, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(nn.Rescaling(1 / 255).forward(pixels), pixels * np.float32(1 / 255))
    signed = nn.Rescaling(1 / 127.5, offset=-1).forward(pixels)
    assert signed.dtype == np.float32 and signed.min() >= -1 and signed.max() <= 1
    per_channel = nn.Rescaling([1, 2, 3], offset=[0, 10, 20]).forward(pixels)
    np.testing.assert_array_equal(per_channel, pixels * [1, 2, 3] + [0, 10, 20])


@pytest.mark.parametrize("scale, offset, shape", [(0.5, 2.0, (4, 3)), ([1.0, -2.0, 0.5], [0.0, 1.0, 2.0], (2, 3, 3, 3))])
def test_gradient_check(scale, offset, shape) -> None:
    layer = nn.Rescaling(scale, offset=offset).set_dtype("float64")
    errors = check_module(layer, rng.normal(size=shape))
    assert errors["input"] < 1e-7, errors


def test_inside_a_saved_model(tmp_path: Path) -> None:
    model = nn.Sequential([nn.Input((4, 4, 3)), nn.Rescaling([1 / 255, 2 / 255, 1 / 255], offset=-0.5), nn.Flatten(),
                           nn.Dense(2)], seed=1)
    x = rng.integers(0, 256, size=(3, 4, 4, 3)).astype(np.float32)
    path = model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(nn.load_model(path).predict(x), model.predict(x))


def test_errors_name_the_problem() -> None:
    with pytest.raises(InvalidValueError, match="scale must be a finite number"):
        nn.Rescaling(float("nan"))
    with pytest.raises(InvalidValueError, match="offset must be a finite number"):
        nn.Rescaling(1.0, offset=[[1.0]])
    with pytest.raises(ShapeError, match="scale has 2 values, one per channel, but the inputs have shape"):
        nn.Rescaling([1.0, 2.0]).forward(np.zeros((1, 3), np.float32))
