"""image_dataset_from_directory: class subfolders to (images, labels) batches, Keras's options, splits without
overlap, bad files named, and a model that learns from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import ImageError, InvalidValueError
from nnscratch.data.image_folder import ImageFolder, image_dataset_from_directory


def make_folder(root: Path, counts: dict[str, int], size: tuple[int, int] = (12, 10)) -> Path:
    """``root/<class>/<i>.png`` images: class k is a flat grey of value 40 + 80 k plus noise."""
    rng = np.random.default_rng(0)
    for k, (name, count) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = np.clip(40 + 80 * k + rng.normal(0, 5, size=(*size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:02d}.png")
    (root / "notes.txt").write_text("not an image, and not in a class folder")
    return root


def test_batches_labels_and_class_names(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"cats": 5, "dogs": 7})
    ds = image_dataset_from_directory(root, image_size=(8, 6), batch_size=4, shuffle=False, verbose=False)
    assert isinstance(ds, ImageFolder) and ds.class_names == ["cats", "dogs"] and len(ds) == 3
    batches = list(ds)
    images = np.concatenate([x for x, _ in batches])
    labels = np.concatenate([y for _, y in batches])
    assert images.shape == (12, 8, 6, 3) and images.dtype == np.float32 and labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [0] * 5 + [1] * 7)
    np.testing.assert_allclose(images[labels == 0].mean(), 40, atol=3)  # not rescaled: Keras's 0..255
    np.testing.assert_allclose(images[labels == 1].mean(), 120, atol=3)
    assert ds.file_paths[0].endswith("cats/00.png") and len(ds.file_paths) == 12


def test_label_modes_color_modes_and_class_order(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a": 2, "b": 2, "c": 2})
    kw = dict(image_size=(4, 4), batch_size=6, shuffle=False, verbose=False)
    x, y = image_dataset_from_directory(root, label_mode="categorical", **kw)[0]
    np.testing.assert_array_equal(y, np.eye(3, dtype=np.float32)[[0, 0, 1, 1, 2, 2]])
    x, y = image_dataset_from_directory(root, class_names=["c", "a"], color_mode="grayscale", **kw)[0]
    assert x.shape == (4, 4, 4, 1)
    np.testing.assert_array_equal(y, [0, 0, 1, 1])
    assert x[0].mean() > x[-1].mean()  # class "c" (the brightest) comes first
    only_images = image_dataset_from_directory(root, labels=None, **kw)[0]
    assert isinstance(only_images, np.ndarray) and only_images.shape == (6, 4, 4, 3)
    with pytest.raises(InvalidValueError, match="needs exactly 2 classes"):
        image_dataset_from_directory(root, label_mode="binary", **kw)


def test_validation_split_is_seeded_and_disjoint(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a": 10, "b": 10})
    train, val = image_dataset_from_directory(root, image_size=(4, 4), validation_split=0.25, subset="both", seed=3,
                                              verbose=False)
    assert len(train.file_paths) == 15 and len(val.file_paths) == 5
    assert not set(train.file_paths) & set(val.file_paths)
    again = image_dataset_from_directory(root, image_size=(4, 4), validation_split=0.25, subset="validation", seed=3,
                                         verbose=False)
    assert again.file_paths == val.file_paths
    with pytest.raises(InvalidValueError, match="give a seed"):
        image_dataset_from_directory(root, validation_split=0.25, subset="both")


def test_shuffle_deals_new_batches_each_epoch(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a": 6, "b": 6})
    ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=1, verbose=False)
    first = [tuple(y) for _, y in ds]
    ds.on_epoch_end()
    second = [tuple(y) for _, y in ds]
    assert sorted(sum(first, ())) == sorted(sum(second, ())) and first != second


def test_a_model_learns_from_the_folder_through_keras(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = make_folder(tmp_path / "data", {"dark": 16, "light": 16})
    train, val = keras.utils.image_dataset_from_directory(root, image_size=(6, 6), batch_size=8,
                                                          validation_split=0.25, subset="both", seed=0, workers=2)
    assert capsys.readouterr().out.splitlines() == ["Found 32 files belonging to 2 classes.",
                                                    "Using 24 files for training.", "Using 8 files for validation."]
    nn.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=30, verbose=0)
    assert history.history["val_accuracy"][-1] == 1.0


def test_bad_folders_and_files_get_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="is not a folder"):
        image_dataset_from_directory(tmp_path / "missing")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(InvalidValueError, match="no image files"):
        image_dataset_from_directory(tmp_path / "empty", verbose=False)
    with pytest.raises(InvalidValueError, match="no class subfolders"):
        image_dataset_from_directory(tmp_path / "empty", class_names=["b"], verbose=False)
    with pytest.raises(InvalidValueError, match="interpolation must be one of"):
        image_dataset_from_directory(tmp_path / "empty", interpolation="gaussian", verbose=False)
    with pytest.raises(InvalidValueError, match="color_mode must be one of"):
        image_dataset_from_directory(tmp_path / "empty", color_mode="rgba", verbose=False)
    root = make_folder(tmp_path / "data", {"a": 2, "b": 2})
    (root / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=5, shuffle=False, verbose=False)
    with pytest.raises(ImageError, match="broken.png"):
        ds[0]
    with pytest.raises(InvalidValueError, match="labels has 2 entries for 5 image files"):
        image_dataset_from_directory(root, labels=[0, 1], verbose=False)


def test_load_img_and_img_to_array(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, size=(10, 16, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    img = keras.utils.load_img(tmp_path / "a.png")
    array = keras.utils.img_to_array(img)
    assert array.dtype == np.float32 and array.shape == (10, 16, 3)
    np.testing.assert_array_equal(array, pixels)
    small = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png", target_size=(5, 8),
                                                          interpolation="bilinear"))
    assert small.shape == (5, 8, 3)
    gray = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png", color_mode="grayscale"))
    assert gray.shape == (10, 16, 1)
    square = keras.utils.load_img(tmp_path / "a.png", target_size=(4, 4), keep_aspect_ratio=True)
    assert square.size == (4, 4)
    (tmp_path / "fake.jpg").write_text("not a picture")
    with pytest.raises(ImageError, match="fake.jpg"):
        keras.utils.load_img(tmp_path / "fake.jpg")
    with pytest.raises(InvalidValueError, match="color_mode must be 'rgb' or 'grayscale'"):
        keras.utils.load_img(tmp_path / "a.png", color_mode="rgba")
