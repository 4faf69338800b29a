"""Load a user's photo as a model input: an ``(H, W, 3)`` uint8 RGB array like the cat dataset's images.

Steps: open with Pillow (JPEG, PNG, GIF, BMP, WebP, TIFF...; the first frame of an animation), apply the
EXIF orientation, convert to RGB, resize to ``size``. Conversion: palette, grayscale, CMYK and YCbCr
images become RGB; 16-bit grayscale (``I;16``, ``I``) is scaled from 0-65535 to 0-255; images with
transparency (RGBA, LA, PA, palette or RGB with a transparent color) are composited on a white
background. Resizing uses bicubic filtering, the default of Pillow's ``Image.resize`` (what the course
uses), over the whole image, so the aspect ratio is not kept unless ``center_crop=True``.

Safety: only the formats of ``FORMATS`` are opened (no EPS, which would run Ghostscript, nor any other
Pillow plugin), and the pixel count is read from the header and checked against ``MAX_PIXELS`` before
anything is decoded, so a small file declaring a huge image is refused with an ``ImageError``.
"""

from __future__ import annotations

import os
import warnings
from struct import error as struct_error

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..core.errors import ImageError, InvalidValueError

_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")

FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")  # the Pillow plugins an image file may be opened with
MAX_PIXELS = 100_000_000  # width * height ceiling, checked from the header before decoding (raise it for bigger photos)


def load_image(path: str | os.PathLike[str], size: tuple[int, int] | None = (64, 64)) -> np.ndarray:
    """The image file at ``path`` as an ``(H, W, 3)`` uint8 RGB array, ``(H, W) = size`` (None: keep its size).

    Raises ``ImageError`` naming the file if it is missing, not an image, or truncated.
    """
    return prepare_image(path, size)


def prepare_image(image: str | os.PathLike[str] | Image.Image, size: tuple[int, int] | None = (64, 64), *,
                  center_crop: bool = False,
                  resample: Image.Resampling = Image.Resampling.BICUBIC) -> np.ndarray:
    """A file path or a PIL image -> ``(H, W, 3)`` uint8 RGB array with ``(H, W) = size`` (height first).

    ``size=None`` keeps the image's size. ``center_crop=True`` first crops the largest centered region
    with the aspect ratio of ``size`` (a square for 64x64), so the content is not stretched.
    ``resample`` is the Pillow filter used to resize (default bicubic).
    """
    _check_size(size)
    if isinstance(image, Image.Image):
        _check_pixels(image.size, repr(image))
        return _to_array(image, size, center_crop, resample, repr(image))
    path = os.fspath(image)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # nnscratch checks MAX_PIXELS itself
            with Image.open(path, formats=FORMATS) as img:
                _check_pixels(img.size, path)
                img.load()
                return _to_array(img, size, center_crop, resample, path)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read ({_describe(path)}); accepted formats: "
                         f"{', '.join(FORMATS)}") from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror})") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path}: cannot be decoded safely: too many pixels, a decompression bomb? ({exc}); "
                         "nothing was decoded") from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to decode it") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct_error, ZeroDivisionError) as exc:
        raise ImageError(f"{path}: cannot be decoded, truncated or corrupt ({exc})") from exc


def _check_pixels(size: tuple[int, int], name: str) -> None:
    """Refuse an image whose header declares more than ``MAX_PIXELS`` pixels (or no pixels at all)."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"{name}: the header declares an empty image ({width}x{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: cannot be decoded safely: the header declares {width}x{height} = {width * height} "
                         f"pixels, more than the limit of {MAX_PIXELS} (nnscratch.data.image.MAX_PIXELS; a "
                         "decompression bomb?); nothing was decoded")


def _check_size(size: tuple[int, int] | None) -> None:
    if size is None:
        return
    if not (isinstance(size, (tuple, list)) and len(size) == 2
            and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size)):
        raise InvalidValueError(f"size must be (height, width), two positive integers, or None; got {size!r}")


def _to_array(img: Image.Image, size: tuple[int, int] | None, center_crop: bool,
              resample: Image.Resampling, name: str) -> np.ndarray:
    if img.getexif().get(0x0112, 1) not in (0, 1):  # EXIF Orientation; exif_transpose copies even when it is 1
        img = ImageOps.exif_transpose(img)
    img = _to_rgb(img, name)
    if size is not None:
        height, width = size
        if center_crop:
            img = img.crop(_center_box(img.size, width / height))
        if img.size != (width, height):
            img = img.resize((width, height), resample=resample)
    return np.array(img, dtype=np.uint8)


def _center_box(size: tuple[int, int], aspect: float) -> tuple[int, int, int, int]:
    """The largest centered ``(left, top, right, bottom)`` box of width/height ``aspect`` in an image of ``size``."""
    width, height = size
    if width > height * aspect:
        crop = max(1, round(height * aspect))
        left = (width - crop) // 2
        return left, 0, left + crop, height
    crop = max(1, round(width / aspect))
    top = (height - crop) // 2
    return 0, top, width, top + crop


def _to_rgb(img: Image.Image, name: str) -> Image.Image:
    """``img`` as an RGB image; transparency composited on white, 16-bit gray scaled to 8 bits."""
    if img.mode in _SIXTEEN_BIT:
        gray = np.asarray(img).astype(np.float64)
        img = Image.fromarray(np.clip(np.rint(gray / 257.0), 0, 255).astype(np.uint8))
    has_alpha = img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
    try:
        if has_alpha:
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        return img if img.mode == "RGB" else img.convert("RGB")  # no copy when already RGB
    except (ValueError, OSError) as exc:
        raise ImageError(f"{name}: cannot convert image mode {img.mode} to RGB ({exc})") from exc


def _describe(path: str) -> str:
    """What a file that is not an image looks like: its size and first bytes."""
    with open(path, "rb") as f:
        head = f.read(16)
    size = os.path.getsize(path)
    return "an empty file" if size == 0 else f"{size} bytes starting with {head!r}"
