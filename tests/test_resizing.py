"""Resizing: aligned pixel centres (against PyTorch's bilinear interpolate when installed), block means and
identity as known cases, centred crops, gradient checks, ONNX export in onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

rng = np.random.default_rng(0)


def resize(x: np.ndarray, *args, **kwargs) -> np.ndarray:
    return nn.Resizing(*args, **kwargs).set_dtype("float64").forward(x)


def test_known_cases() -> None:
    x = rng.normal(size=(2, 6, 8, 3))
    np.testing.assert_allclose(resize(x, 6, 8), x)
    halves = x.reshape(2, 3, 2, 4, 2, 3).mean(axis=(2, 4))  # half size: each output pixel is a 2x2 block mean
    np.testing.assert_allclose(resize(x, 3, 4), halves)
    np.testing.assert_array_equal(resize(x, 3, 4, interpolation="nearest"), x[:, 1::2, 1::2])
    doubled = resize(x, 12, 16, interpolation="nearest")
    np.testing.assert_array_equal(doubled, x.repeat(2, axis=1).repeat(2, axis=2))


def test_matches_torch_bilinear() -> None:
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 5, 7, 3))
    for size in [(9, 4), (3, 11), (5, 7)]:
        expected = torch.nn.functional.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=size,
                                                   mode="bilinear", align_corners=False, antialias=False)
        np.testing.assert_allclose(resize(x, *size), expected.permute(0, 2, 3, 1).numpy(), atol=1e-12)


def test_crop_to_aspect_ratio_takes_the_centred_window() -> None:
    x = rng.normal(size=(1, 4, 10, 1))
    np.testing.assert_allclose(resize(x, 2, 2, crop_to_aspect_ratio=True), resize(x[:, :, 3:7], 2, 2))


@pytest.mark.parametrize("kwargs", [dict(height=7, width=3), dict(height=2, width=5, interpolation="nearest"),
                                    dict(height=3, width=3, crop_to_aspect_ratio=True)])
def test_gradient_check(kwargs) -> None:
    errors = check_module(nn.Resizing(**kwargs), rng.normal(size=(2, 4, 6, 2)))
    assert errors["input"] < 1e-7, errors


def test_in_a_model_and_exported(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    x = nn.Input((9, 12, 3))
    bilinear = nn.Resizing(5, 7)(x)
    nearest = nn.Resizing(16, 10, interpolation="nearest")(nn.Conv2D(2, 3)(x))
    cropped = nn.Resizing(4, 4, crop_to_aspect_ratio=True)(x)
    model = nn.Model(inputs=x, outputs=[bilinear, nearest, cropped])
    data = rng.normal(size=(3, 9, 12, 3)).astype(np.float32)
    path = model.export(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: data})
    for ours, theirs in zip(model.predict(data), got):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_errors() -> None:
    with pytest.raises(InvalidValueError, match="interpolation must be 'bilinear' or 'nearest'"):
        nn.Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(InvalidValueError, match="Resizing height"):
        nn.Resizing(0, 4)
    with pytest.raises(ShapeError, match="Resizing"):
        nn.Resizing(4, 4).forward(np.zeros((2, 5, 5), np.float32))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_crop_to_aspect_ratio_resizes_the_window_alone_when_it_upscales(interpolation):
    """Keras crops, then resizes the window: its edge pixels are repeated, nothing outside it is read (4x10 -> 6x6
    read the columns beside the window before)."""
    x = np.random.default_rng(0).standard_normal((2, 4, 10, 3))
    layer = nn.Resizing(6, 6, interpolation=interpolation, crop_to_aspect_ratio=True).set_dtype("float64")
    top, left, rows, cols = layer.window(4, 10)
    assert (rows, cols) == (4, 4)
    window = nn.Resizing(6, 6, interpolation=interpolation).set_dtype("float64")(x[:, top:top + rows, left:left + cols])
    np.testing.assert_allclose(layer(x), window, rtol=0, atol=1e-14)
