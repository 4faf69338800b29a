"""Loading user photos for a model: formats, modes, EXIF orientation, resizing, broken files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from nnscratch.core.errors import ImageError, InvalidValueError
from nnscratch.data.image import load_image, prepare_image

REPO = Path(__file__).resolve().parents[1]
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def halves(width: int, height: int, left: tuple[int, int, int], right: tuple[int, int, int]) -> Image.Image:
    """An RGB image whose left half is ``left`` and right half ``right``."""
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:, : width // 2], pixels[:, width // 2:] = left, right
    return Image.fromarray(pixels)


def save(img: Image.Image, path: Path, **kwargs: object) -> Path:
    img.save(path, **kwargs)
    return path


def assert_close(pixel: np.ndarray, color: tuple[int, int, int], tol: int = 12) -> None:
    assert np.abs(pixel.astype(int) - color).max() <= tol, f"{pixel} is not close to {color}"


RGB = halves(90, 60, RED, BLUE)
FORMATS = {
    "rgb.png": (RGB, {}),
    "gray.png": (RGB.convert("L"), {}),
    "bilevel.png": (RGB.convert("1"), {}),
    "palette.png": (RGB.convert("P", palette=Image.Palette.ADAPTIVE, colors=4), {}),
    "rgba.png": (RGB.convert("RGBA"), {}),
    "la.png": (RGB.convert("LA"), {}),
    "rgb.jpg": (RGB, {"quality": 95}),
    "cmyk.jpg": (RGB.convert("CMYK"), {"quality": 95}),
    "anim.gif": (RGB.convert("P"), {"save_all": True, "append_images": [halves(90, 60, GREEN, GREEN).convert("P")]}),
    "rgb.bmp": (RGB, {}),
    "rgb.tiff": (RGB, {}),
    "rgb.webp": (RGB, {"lossless": True}),
}


@pytest.mark.parametrize("file_name", list(FORMATS))
def test_formats_and_modes(tmp_path: Path, file_name: str) -> None:
    if file_name.endswith(".webp") and not features.check("webp"):
        pytest.skip("this Pillow was built without WebP support")
    img, kwargs = FORMATS[file_name]
    array = load_image(save(img, tmp_path / file_name, **kwargs))
    assert array.shape == (64, 64, 3) and array.dtype == np.uint8
    left, right = array[32, 5], array[32, 58]
    if img.mode in ("L", "LA", "1"):
        assert left[0] == left[1] == left[2] and left[0] > right[0]  # gray: red is brighter than blue
    else:
        assert_close(left, RED, 40 if "cmyk" in file_name else 12)
        assert_close(right, BLUE, 40 if "cmyk" in file_name else 12)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored image must be rotated 90 degrees clockwise for display
    path = save(halves(40, 20, RED, BLUE), tmp_path / "rotated.jpg", exif=exif, quality=95)
    array = load_image(path, size=None)
    assert array.shape == (40, 20, 3)  # displayed: 20 wide, 40 tall
    assert_close(array[5, 10], RED)  # the stored left side is on top
    assert_close(array[35, 10], BLUE)
    assert load_image(path).shape == (64, 64, 3)


def test_transparency_is_composited_on_white(tmp_path: Path) -> None:
    pixels = np.zeros((20, 20, 4), np.uint8)
    pixels[:, :10] = (255, 0, 0, 255)  # opaque red | transparent
    path = save(Image.fromarray(pixels), tmp_path / "alpha.png")
    array = load_image(path, size=None)
    assert array[5, 2].tolist() == [255, 0, 0] and array[5, 15].tolist() == [255, 255, 255]
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    path = save(palette, tmp_path / "transparent.gif", transparency=0)
    assert load_image(path, size=None)[0, 0].tolist() == [255, 255, 255]


def test_sixteen_bit_gray_is_scaled(tmp_path: Path) -> None:
    pixels = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    path = save(Image.fromarray(pixels), tmp_path / "deep.png")
    with Image.open(path) as img:
        assert img.mode.startswith("I")
    array = load_image(path, size=None)
    assert array.shape == (1, 3, 3) and array[0, :, 0].tolist() == [0, 100, 255]


@pytest.mark.parametrize("width, height", [(1, 1), (3, 500), (1000, 20), (64, 64), (640, 480)])
def test_any_size_becomes_64x64(width: int, height: int) -> None:
    array = prepare_image(Image.new("RGB", (width, height), GREEN))
    assert array.shape == (64, 64, 3) and array.dtype == np.uint8
    assert (array == GREEN).all()
    array[0, 0] = 0  # a writable array


def test_size_is_height_then_width() -> None:
    array = prepare_image(halves(100, 50, RED, BLUE), size=(10, 20))
    assert array.shape == (10, 20, 3)
    assert_close(array[5, 1], RED)
    assert_close(array[5, 18], BLUE)


def test_center_crop_keeps_the_middle() -> None:
    pixels = np.zeros((100, 200, 3), np.uint8)
    pixels[:, :50], pixels[:, 50:150], pixels[:, 150:] = RED, GREEN, BLUE
    whole = prepare_image(Image.fromarray(pixels))
    assert_close(whole[32, 0], RED)
    cropped = prepare_image(Image.fromarray(pixels), center_crop=True)
    assert cropped.shape == (64, 64, 3) and (np.abs(cropped.astype(int) - GREEN) <= 2).all()
    tall = prepare_image(Image.fromarray(pixels.transpose(1, 0, 2).copy()), size=(8, 16), center_crop=True)
    assert tall.shape == (8, 16, 3) and (np.abs(tall.astype(int) - GREEN) <= 2).all()


@pytest.mark.parametrize("size", [(64,), (0, 64), (64.0, 64), "64", (True, 64)])
def test_bad_size(size: object) -> None:
    with pytest.raises(InvalidValueError, match="size"):
        prepare_image(Image.new("RGB", (4, 4)), size=size)  # type: ignore[arg-type]


@pytest.mark.parametrize("content, match", [
    (b"this is a text file, not a photo\n", "not an image Pillow can read .*this is a text"),
    (b"", "not an image Pillow can read \\(an empty file\\)"),
], ids=["text", "empty"])
def test_not_an_image(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=f"{path}: {match}"):
        load_image(path)


def test_truncated_jpeg(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match=f"{path}: cannot be decoded, truncated or corrupt"):
        load_image(path)


def test_missing_file_or_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=f"{tmp_path / 'nope.png'}: cannot be read"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match=f"{tmp_path}: cannot be read"):
        load_image(tmp_path)


def _photos_dir() -> Path:
    folder = Path(os.environ.get("NNSCRATCH_PHOTOS") or REPO.parent / "shared" / "photos")
    if not folder.is_dir():
        pytest.skip(f"real photos not available: set NNSCRATCH_PHOTOS (no folder {folder})")
    return folder


def test_real_photos() -> None:
    photos = sorted(p for p in _photos_dir().iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    assert photos, "no photos in the photos folder"
    for path in photos:
        array = load_image(path)
        assert array.shape == (64, 64, 3) and array.dtype == np.uint8, path
