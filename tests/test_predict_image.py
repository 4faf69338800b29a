"""predict_image.py and nnscratch.predict: image files of any common format -> "path: label (p=...)"."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nnscratch as nn
from nnscratch.core.errors import ImageError, ModelFileError
from nnscratch.data.classify import (
    DEFAULT_CLASSES,
    DEFAULT_PREPROCESSING,
    classify_image,
    classify_images,
    load_classifier,
    preprocess_images,
    save_classifier,
)
from nnscratch.data.image import load_image

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "examples" / "predict_image.py"
LINE = re.compile(r"^(?P<path>.+): (?P<label>cat|non-cat) \(p=(?P<p>[01]\.\d\d)\)$")


def predict(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def tiny_model(inputs: int = 12288, seed: int = 0) -> nn.Sequential:
    model = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    return model.build((inputs,))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_classifier(tiny_model(), tmp_path_factory.mktemp("model") / "cat_model.npz")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    paths = {
        "rgba": folder / "photo.png",
        "gray": folder / "gray.png",
        "palette": folder / "palette.gif",
        "jpeg": folder / "photo.jpg",
        "text": folder / "notes.jpg",
        "empty": folder / "empty.png",
    }
    alpha = np.full((90, 120, 1), 200, np.uint8)
    Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA").save(paths["rgba"])
    Image.fromarray(rgb[..., 0], "L").save(paths["gray"])
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(paths["palette"])
    Image.fromarray(rgb).save(paths["jpeg"], quality=90)
    paths["text"].write_text("this is not a picture\n")
    paths["empty"].write_bytes(b"")
    return paths


def test_classifies_png_rgba_grayscale_palette_gif_and_jpeg(model_file: Path, images: dict[str, Path]) -> None:
    good = [images[k] for k in ("rgba", "gray", "palette", "jpeg")]
    proc = predict(*good, "--model", model_file)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(good) and proc.stderr == ""
    clf = load_classifier(model_file)
    for line, path in zip(lines, good):
        m = LINE.match(line)
        assert m, line
        assert m["path"] == str(path)
        label, prob = classify_image(path, clf)
        assert m["label"] == label and float(m["p"]) == pytest.approx(prob, abs=0.005)
        assert 0.5 <= prob <= 1.0


def test_not_an_image_is_one_error_line_and_the_others_still_run(model_file: Path, images: dict[str, Path]) -> None:
    proc = predict(images["jpeg"], images["text"], images["gray"], "--model", model_file)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = proc.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("predict_image.py: error: ") and "notes.jpg" in errors[0]
    assert "not an image" in errors[0]
    assert [LINE.match(line)["path"] for line in proc.stdout.splitlines()] == [str(images["jpeg"]), str(images["gray"])]


@pytest.mark.parametrize("name", ["text", "empty"])
def test_a_single_bad_file_exits_2(model_file: Path, images: dict[str, Path], name: str) -> None:
    proc = predict(images[name], "--model", model_file)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_missing_image_file(model_file: Path, tmp_path: Path) -> None:
    proc = predict(tmp_path / "nope.jpg", "--model", model_file)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and "nope.jpg" in proc.stderr


def test_json_output(model_file: Path, images: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = predict(images["rgba"], images["text"], "--model", model_file, "--json", out)
    assert proc.returncode == 2
    result = json.loads(out.read_text())
    assert result["classes"] == DEFAULT_CLASSES
    ok, bad = result["results"]
    assert ok["path"] == str(images["rgba"]) and ok["label"] in DEFAULT_CLASSES
    assert ok["probability"] == pytest.approx(max(ok["probabilities"].values()))
    assert sum(ok["probabilities"].values()) == pytest.approx(1.0)
    assert bad["path"] == str(images["text"]) and "error" in bad


@pytest.mark.parametrize("kind", ["missing", "text", "npy"])
def test_bad_model_file_exits_2_with_one_line(images: dict[str, Path], tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.npz"
    if kind == "text":
        path.write_text("not a model")
    elif kind == "npy":
        path = tmp_path / "model.npy"
        np.save(path, np.zeros(3))
    proc = predict(images["jpeg"], "--model", path)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr and "model" in lines[0]


def test_model_for_another_input_size_names_both_sizes(images: dict[str, Path], tmp_path: Path) -> None:
    path = tiny_model(784).save(tmp_path / "mnist_like.npz")
    proc = predict(images["jpeg"], "--model", path)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert "(784,)" in line and "(12288,)" in line
    with pytest.raises(ModelFileError, match=r"\(784,\).*\(12288,\)"):
        load_classifier(path)


def test_preprocessing_record_must_match_the_model(tmp_path: Path) -> None:
    path = save_classifier(tiny_model(), tmp_path / "m.npz", preprocessing={"size": [32, 32]})
    with pytest.raises(ModelFileError, match=r"32x32.*\(12288,\).*\(3072,\)"):
        load_classifier(path)


def test_too_many_outputs_for_the_classes(tmp_path: Path) -> None:
    model = nn.Sequential([nn.Dense(3), nn.Softmax()], seed=0).build((12288,))
    path = save_classifier(model, tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="3 output"):
        load_classifier(path)


def test_plain_model_file_uses_the_default_classes_and_preprocessing(images: dict[str, Path], tmp_path: Path) -> None:
    model = tiny_model(seed=3)
    clf = load_classifier(model.save(tmp_path / "plain"))  # ".npz" added by save, found again by the loader
    assert clf.classes == DEFAULT_CLASSES and clf.preprocessing == DEFAULT_PREPROCESSING and clf.size == (64, 64)
    x = preprocess_images(load_image(images["jpeg"])[np.newaxis], clf.preprocessing)
    p_cat = float(model.predict_proba(x)[0, 0])
    (label, prob), = classify_images([images["jpeg"]], clf)
    assert (label, prob) == (("cat", pytest.approx(p_cat)) if p_cat > 0.5 else ("non-cat", pytest.approx(1 - p_cat)))
    assert classify_images([images["jpeg"]], model) == [(label, pytest.approx(prob))]


def test_unflattened_image_model(images: dict[str, Path], tmp_path: Path) -> None:
    """A model taking (64, 64, 3) inputs (as a CNN would) gets unflattened images."""
    model = nn.Sequential([nn.Flatten(), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    path = model.build((64, 64, 3)).save(tmp_path / "cnn_like.npz")
    clf = load_classifier(path)
    assert clf.preprocessing["flatten"] is False
    assert preprocess_images(np.zeros((2, 64, 64, 3), np.uint8), clf.preprocessing).shape == (2, 64, 64, 3)
    proc = predict(images["rgba"], "--model", path)
    assert proc.returncode == 0 and LINE.match(proc.stdout.strip()), proc.stderr


def test_preprocessing_is_the_training_one() -> None:
    x = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    np.testing.assert_array_equal(preprocess_images(x), (x.reshape(3, -1) / np.float32(255)).astype(np.float32))
    assert preprocess_images(x, dtype=np.float64).dtype == np.float64


def test_library_raises_image_error(model_file: Path, images: dict[str, Path]) -> None:
    with pytest.raises(ImageError, match="notes.jpg"):
        classify_images([images["jpeg"], images["text"]], load_classifier(model_file))


def _photos_dir() -> Path:
    folder = Path(os.environ.get("NNSCRATCH_PHOTOS") or REPO.parent / "shared" / "photos")
    photos = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if folder.is_dir() else []
    if not photos:
        pytest.skip(f"real photos not found in {folder}: set NNSCRATCH_PHOTOS to a folder of photos")
    return folder


def test_real_photos_are_classified(model_file: Path) -> None:
    photos = sorted(p for p in _photos_dir().glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    proc = predict(*photos, "--model", model_file)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(photos)
    assert [LINE.match(line)["path"] for line in lines] == [str(p) for p in photos]
