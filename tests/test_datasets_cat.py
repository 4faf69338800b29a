"""Cat vs non-cat loader on tiny HDF5 files written by the tests, and on the real files when available."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from nnscratch.core.errors import DTypeError, ShapeError
from nnscratch.datasets import (
    KNOWN_FILES,
    CatData,
    ChecksumError,
    DatasetError,
    KnownFile,
    MissingFileError,
    flatten_images,
    load_cat,
    scale_images,
)

CLASSES = np.array([b"non-cat", b"cat"])


def write_split(folder: Path, split: str, n: int = 4, drop: tuple[str, ...] = (), **arrays: np.ndarray) -> Path:
    """Write ``<split>_catvnoncat.h5`` with n random images; ``arrays`` (x, y, classes) replace the defaults."""
    rng = np.random.default_rng(len(split) + n)
    data = {
        f"{split}_set_x": arrays.get("x", rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)),
        f"{split}_set_y": arrays.get("y", np.arange(n, dtype=np.int64) % 2),
        "list_classes": arrays.get("classes", CLASSES),
    }
    path = folder / f"{split}_catvnoncat.h5"
    with h5py.File(path, "w") as f:
        for key, value in data.items():
            if key not in drop:
                f.create_dataset(key, data=value)
    return path


@pytest.fixture
def cat_dir(tmp_path: Path) -> Path:
    write_split(tmp_path, "train", 5)
    write_split(tmp_path, "test", 3)
    return tmp_path


def test_loads_tiny_files(cat_dir: Path) -> None:
    data = load_cat(cat_dir, verify=False)
    assert isinstance(data, CatData)
    x_train, y_train, x_test, y_test, classes = data
    assert x_train.shape == (5, 64, 64, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (3, 64, 64, 3) and x_test.dtype == np.uint8
    assert y_train.shape == (5,) and y_train.dtype == np.int64
    assert y_test.tolist() == [0, 1, 0]
    assert classes == ["non-cat", "cat"]
    with h5py.File(cat_dir / "train_catvnoncat.h5") as f:
        np.testing.assert_array_equal(x_train, f["train_set_x"][()])


def test_verify_accepts_a_file_whose_checksum_is_known(cat_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        content = (cat_dir / name).read_bytes()
        known = KnownFile(name, len(content), hashlib.sha256(content).hexdigest(), "cat")
        monkeypatch.setitem(KNOWN_FILES, name, known)
    assert load_cat(cat_dir).x_train.shape == (5, 64, 64, 3)


def test_verify_rejects_a_file_of_the_wrong_size(cat_dir: Path) -> None:
    with pytest.raises(ChecksumError, match=r"train_catvnoncat\.h5: size \d+ bytes, expected 2572022 bytes"):
        load_cat(cat_dir)


def test_verify_rejects_wrong_content_of_the_right_size(cat_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    size = (cat_dir / "train_catvnoncat.h5").stat().st_size
    monkeypatch.setitem(KNOWN_FILES, "train_catvnoncat.h5",
                        KnownFile("train_catvnoncat.h5", size, "0" * 64, "cat"))
    with pytest.raises(ChecksumError, match="SHA-256 [0-9a-f]{64}, expected 0{64}.*fetch train_catvnoncat.h5"):
        load_cat(cat_dir)


def test_missing_file_lists_the_folder_and_how_to_get_it(tmp_path: Path) -> None:
    write_split(tmp_path, "train")
    with pytest.raises(MissingFileError) as info:
        load_cat(tmp_path, verify=False)
    message = str(info.value)
    assert "test_catvnoncat.h5" in message and str(tmp_path) in message
    assert "python -m nnscratch.datasets fetch" in message and "NNSCRATCH_DATA" in message
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all\n", bytes(range(256)) * 8],
                         ids=["empty", "text", "random"])
def test_not_hdf5(cat_dir: Path, content: bytes) -> None:
    (cat_dir / "train_catvnoncat.h5").write_bytes(content)
    with pytest.raises(DatasetError, match="train_catvnoncat.h5: not a readable HDF5 file.*fetch"):
        load_cat(cat_dir, verify=False)


def test_truncated_hdf5(cat_dir: Path) -> None:
    path = cat_dir / "train_catvnoncat.h5"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match="train_catvnoncat.h5"):
        load_cat(cat_dir, verify=False)


@pytest.mark.parametrize("key", ["train_set_x", "train_set_y", "list_classes"])
def test_missing_key(tmp_path: Path, key: str) -> None:
    write_split(tmp_path, "train", drop=(key,))
    write_split(tmp_path, "test")
    with pytest.raises(DatasetError, match=f"no dataset '{key}'"):
        load_cat(tmp_path, verify=False)


@pytest.mark.parametrize("arrays, match", [
    ({"x": np.zeros((4, 64, 64), np.uint8)}, r"train_set_x has shape \(4, 64, 64\), expected \(N, 64, 64, 3\)"),
    ({"x": np.zeros((4, 32, 32, 3), np.uint8)}, r"shape \(4, 32, 32, 3\)"),
    ({"x": np.zeros((4, 64, 64, 3), np.float32)}, "train_set_x has dtype float32, expected uint8"),
    ({"y": np.zeros(3, np.int64)}, r"train_set_y has shape \(3,\), expected \(4,\)"),
    ({"y": np.zeros((1, 4), np.int64)}, r"train_set_y has shape \(1, 4\)"),
    ({"y": np.zeros(4, np.float64)}, "train_set_y has dtype float64, expected integer"),
    ({"y": np.array([0, 1, 2, 1])}, r"labels \[2\], expected only 0 \(non-cat\) and 1 \(cat\)"),
    ({"y": np.array([0, -1, 1, 1])}, r"labels \[-1\]"),
    ({"classes": np.array([b"a", b"b", b"c"])}, r"list_classes has shape \(3,\)"),
], ids=["x-rank", "x-size", "x-dtype", "y-count", "y-rank", "y-dtype", "y-2", "y-negative", "classes"])
def test_wrong_content(tmp_path: Path, arrays: dict[str, np.ndarray], match: str) -> None:
    write_split(tmp_path, "train", 4, **arrays)
    write_split(tmp_path, "test")
    with pytest.raises(DatasetError, match=match) as info:
        load_cat(tmp_path, verify=False)
    assert "train_catvnoncat.h5" in str(info.value) and "fetch" in str(info.value)


def test_train_and_test_classes_must_agree(tmp_path: Path) -> None:
    write_split(tmp_path, "train")
    write_split(tmp_path, "test", classes=np.array([b"dog", b"cat"]))
    with pytest.raises(DatasetError, match="classes"):
        load_cat(tmp_path, verify=False)


def test_flatten_images_is_row_major_over_h_w_c() -> None:
    x = np.arange(2 * 64 * 64 * 3, dtype=np.int64).reshape(2, 64, 64, 3)
    flat = flatten_images(x)
    assert flat.shape == (2, 12288)
    np.testing.assert_array_equal(flat, x.reshape(2, -1))
    k = 5 * 192 + 7 * 3 + 2
    assert flat[1, k] == x[1, 5, 7, 2]
    assert flatten_images(np.zeros((3, 28, 28))).shape == (3, 784)
    with pytest.raises(ShapeError):
        flatten_images(np.zeros(5))


def test_scale_images() -> None:
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    scaled = scale_images(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 0.2, 1.0]], rtol=1e-7)
    assert scale_images(x, np.float64).dtype == np.float64
    np.testing.assert_array_equal(scale_images(x, np.float64), x / 255.0)
    with pytest.raises(DTypeError):
        scale_images(x.astype(np.float32))
    with pytest.raises(DTypeError):
        scale_images(x, np.int32)


def _real_data_dir() -> Path:
    folder = os.environ.get("NNSCRATCH_DATA")
    if not folder:
        pytest.skip("real cat data not available: set NNSCRATCH_DATA to the folder holding train_catvnoncat.h5")
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        if not (Path(folder) / name).is_file():
            pytest.skip(f"real cat data not available: no {name} in NNSCRATCH_DATA={folder}")
    return Path(folder)


def test_real_cat_data() -> None:
    x_train, y_train, x_test, y_test, classes = load_cat(_real_data_dir())
    assert x_train.shape == (209, 64, 64, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (50, 64, 64, 3) and x_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and np.bincount(y_train).tolist() == [137, 72]
    assert np.bincount(y_test).tolist() == [17, 33]
    assert classes == ["non-cat", "cat"]
    assert flatten_images(x_train).shape == (209, 12288)
