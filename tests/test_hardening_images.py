"""Hostile images, built here (tiny): refused from the header before decoding; odd but valid modes accepted."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from nnscratch.core.errors import ImageError
from nnscratch.data import image as image_module
from nnscratch.data.image import load_image, prepare_image


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width x height`` RGB pixels, holding a few bytes of data: a bomb."""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b""))


def test_a_13000x13000_png_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(13000, 13000))
    with pytest.raises(ImageError, match=r"declares 13000x13000 = 169000000 pixels, more than the limit of 100000000 "
                                         r"\(nnscratch.data.image.MAX_PIXELS.*nothing was decoded") as info:
        load_image(path)
    assert str(path) in str(info.value)
    assert sorted(tmp_path.iterdir()) == [path]


def test_the_pixel_ceiling_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    Image.new("RGB", (20, 10), (10, 20, 30)).save(path)
    assert load_image(path, size=None).shape == (10, 20, 3)
    monkeypatch.setattr(image_module, "MAX_PIXELS", 199)
    with pytest.raises(ImageError, match=r"declares 20x10 = 200 pixels, more than the limit of 199"):
        load_image(path)
    with pytest.raises(ImageError, match="more than the limit of 199"):
        prepare_image(Image.new("RGB", (20, 10)))


@pytest.mark.parametrize("name, content", [
    ("eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n%%EndComments\nshowpage\n"),
    ("ppm", b"P6\n2 2\n255\n" + bytes(12)),
])
def test_formats_outside_the_allow_list_are_not_opened(tmp_path, name, content):
    path = tmp_path / f"picture.{name}"
    path.write_bytes(content)
    with Image.open(path):  # Pillow alone would open it (and EPS would run Ghostscript on decoding)
        pass
    with pytest.raises(ImageError, match="not an image Pillow can read .*accepted formats: JPEG, PNG, GIF, BMP, TIFF, WEBP"):
        load_image(path)


def gray16() -> Image.Image:
    return Image.fromarray((np.arange(600).reshape(20, 30) * 100).astype(np.uint16))


MODES = {  # mode -> (image, format); every one must become an RGB array
    "1": (lambda: Image.new("1", (30, 20), 1), "PNG"),
    "L": (lambda: Image.new("L", (30, 20), 128), "PNG"),
    "P": (lambda: Image.new("RGB", (30, 20), (200, 0, 0)).convert("P"), "GIF"),
    "LA": (lambda: Image.new("LA", (30, 20), (100, 128)), "PNG"),
    "RGBA": (lambda: Image.new("RGBA", (30, 20), (0, 0, 200, 100)), "PNG"),
    "I;16": (gray16, "PNG"),
    "I;16-tiff": (gray16, "TIFF"),
    "CMYK": (lambda: Image.new("CMYK", (30, 20), (0, 200, 200, 0)), "JPEG"),
    "CMYK-tiff": (lambda: Image.new("CMYK", (30, 20), (0, 200, 200, 0)), "TIFF"),
    "I-tiff": (lambda: Image.new("I", (30, 20), 70000), "TIFF"),
    "F-tiff": (lambda: Image.new("F", (30, 20), 100.0), "TIFF"),
    "RGB-bmp": (lambda: Image.new("RGB", (30, 20), (1, 2, 3)), "BMP"),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_valid_odd_mode_images_are_accepted(tmp_path, mode):
    make, fmt = MODES[mode]
    path = tmp_path / f"img.{fmt.lower()}"
    make().save(path, fmt)
    array = load_image(path, size=(8, 8))
    assert array.shape == (8, 8, 3) and array.dtype == np.uint8


def test_an_rgb_image_is_not_converted(monkeypatch):
    img = Image.new("RGB", (6, 4), (9, 8, 7))
    calls = []
    original = Image.Image.convert
    monkeypatch.setattr(Image.Image, "convert", lambda self, *a, **k: calls.append(a) or original(self, *a, **k))
    assert prepare_image(img, size=None)[0, 0].tolist() == [9, 8, 7]
    assert calls == []
    prepare_image(img.convert("L"), size=None)
    assert calls  # (other modes are converted)

