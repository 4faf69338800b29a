"""The ``nnscratch`` command line (``python -m nnscratch``): each subcommand's help, its fast paths, and user
errors as one line on stderr with exit status 2."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tomllib
from PIL import Image

import nnscratch as nn
from nnscratch.cli import main
from nnscratch.data.classify import load_classifier, save_classifier
from nnscratch.datasets import KNOWN_FILES, KnownFile

REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(?P<path>.+): (?P<label>cat|non-cat) \(p=(?P<p>[01]\.\d\d)\)$")
COMMANDS = ["fetch", "verify", "predict", "export", "summary", "train-cat", "train-mnist"]


def cli(*args: object, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m nnscratch ARGS`` in a subprocess, as a user runs it."""
    base = {k: v for k, v in os.environ.items() if k != "NNSCRATCH_DATA"}
    base.update({"OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", **(env or {})})
    return subprocess.run([sys.executable, "-m", "nnscratch", *map(str, args)], check=False, capture_output=True, text=True,
                          timeout=timeout, env=base, cwd=REPO)


def one_error_line(proc: subprocess.CompletedProcess, command: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"nnscratch {command}: error: "), line
    return line


# ----------------------------------------------------------------------------- help and entry points
def test_console_script_is_declared() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["nnscratch"] == "nnscratch.cli:main"


def test_python_m_nnscratch_lists_the_subcommands() -> None:
    proc = cli("--help")
    assert proc.returncode == 0, proc.stderr
    for command in [*COMMANDS, "bench"]:
        assert re.search(rf"^\s+{command}\b", proc.stdout, re.MULTILINE), command
    bad = cli("train-dog")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "invalid choice" in bad.stderr
    none = cli()
    assert none.returncode == 2 and "COMMAND" in none.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_each_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nnscratch {command}") and "--debug" in out


def test_bench_runs_the_suite_or_says_it_is_absent(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["bench", "--help"])
    captured = capsys.readouterr()
    if importlib.util.find_spec("nnscratch.bench") is None:
        assert status == 2 and captured.err.strip().splitlines() == [
            "nnscratch bench: error: the benchmark suite (nnscratch.bench) is not part of this nnscratch installation"]
    else:
        assert status == 0 and "usage" in captured.out


# ----------------------------------------------------------------------------- fetch and verify
CONTENT = b"a tiny dataset file\n" * 100


@pytest.fixture
def tiny_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``tiny.bin`` made a known file, present in ``tmp_path/src``; ``NNSCRATCH_DATA`` = ``tmp_path/data``."""
    monkeypatch.setitem(KNOWN_FILES, "tiny.bin", KnownFile("tiny.bin", len(CONTENT), hashlib.sha256(CONTENT).hexdigest(),
                                                           "tiny"))
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "data"))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "tiny.bin").write_bytes(CONTENT)
    return tmp_path


def test_fetch_copies_into_nnscratch_data_and_verify_checks(tiny_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "tiny", "--from", str(tiny_file / "src")]) == 0
    assert (tiny_file / "data" / "tiny.bin").read_bytes() == CONTENT
    assert "SHA-256 verified" in capsys.readouterr().out
    assert main(["fetch", "tiny.bin", "--from", str(tiny_file / "src")]) == 0  # already there: skipped
    assert "already present" in capsys.readouterr().out
    assert main(["verify", "tiny"]) == 0
    assert capsys.readouterr().out.startswith("OK tiny.bin")
    (tiny_file / "data" / "tiny.bin").write_bytes(CONTENT[:-1] + b"!")
    assert main(["verify", "tiny"]) == 2
    assert "tiny.bin" in capsys.readouterr().err
    assert main(["fetch", "tiny", "--from", str(tiny_file / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


# ----------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = nn.Sequential([nn.Dense(3, activation="relu"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    return save_classifier(model.build((12288,)), tmp_path_factory.mktemp("model") / "cat_model.npz")


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)).save(path)
    return path


def test_predict_prints_a_label_per_photo(model_file: Path, photo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = cli("predict", photo, photo, "--model", model_file, "--json", out)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and all(LINE.match(line)["path"] == str(photo) for line in lines)
    result = json.loads(out.read_text())
    (label, prob), = [(r["label"], r["probability"]) for r in result["results"][:1]]
    assert LINE.match(lines[0])["label"] == label and float(LINE.match(lines[0])["p"]) == pytest.approx(prob, abs=0.005)


def test_predict_errors(model_file: Path, photo: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    proc = cli("predict", text, photo, "--model", model_file)
    assert "notes.jpg" in one_error_line(proc, "predict")
    assert [LINE.match(line)["path"] for line in proc.stdout.splitlines()] == [str(photo)]
    assert "model" in one_error_line(cli("predict", photo, "--model", tmp_path / "missing.npz"), "predict")
    mnist_like = nn.Sequential([nn.Dense(1, activation="sigmoid")], seed=0).build((784,)).save(tmp_path / "m.npz")
    assert "(784,)" in one_error_line(cli("predict", photo, "--model", mnist_like), "predict")


# ----------------------------------------------------------------------------- export, summary
def test_export_writes_an_onnx_file_that_computes_predict(model_file: Path, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "cat.onnx"
    proc = cli("export", model_file, "--out", out)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith(f"{out}: Sequential") and "(batch, 12288)" in proc.stdout
    x = np.random.default_rng(1).random((3, 12288), dtype=np.float32)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(got, nn.load_model(model_file).predict(x), atol=1e-6)


def test_export_defaults_to_the_models_name_and_summary_prints_the_layers(model_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    copy = tmp_path / "mine.npz"
    copy.write_bytes(model_file.read_bytes())
    assert cli("export", copy).returncode == 0 and (tmp_path / "mine.onnx").is_file()
    proc = cli("summary", copy)
    assert proc.returncode == 0 and "(Dense)" in proc.stdout and "Total params: 36,871" in proc.stdout


def test_export_and_summary_errors(tmp_path: Path) -> None:
    assert "no model file at" in one_error_line(cli("export", tmp_path / "missing.npz"), "export")
    text = tmp_path / "notes.npz"
    text.write_text("not a model")
    assert "not an nnscratch model file" in one_error_line(cli("summary", text), "summary")


# ----------------------------------------------------------------------------- train-cat
@pytest.fixture(scope="module")
def tiny_cat(cat_files: Callable[[int, int], Path]) -> Path:
    return cat_files(12, 6)


def test_train_cat_then_predict(tiny_cat: Path, photo: Path, tmp_path: Path) -> None:
    out, model = tmp_path / "r.json", tmp_path / "cat_model.npz"
    proc = cli("train-cat", "--data-dir", tiny_cat, "--no-verify", "--epochs", "1", "--out", model, "--json", out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["mode"] == "dense" and result["saved"] == str(model) and "test accuracy:" in proc.stdout
    assert isinstance(load_classifier(model).model, nn.Ensemble)
    proc = cli("predict", photo, "--model", model)
    assert proc.returncode == 0 and LINE.match(proc.stdout.strip()), proc.stderr


def test_train_cat_reference_prints_the_course_lines(tiny_cat: Path, tmp_path: Path) -> None:
    proc = cli("train-cat", "--model", "reference", "--layers", "12288,2,1", "--iterations", "2", "--out", "",
               "--data-dir", tiny_cat, "--no-verify")
    assert proc.returncode == 0, proc.stderr
    assert re.findall(r"^Cost after iteration (\d+): \d\.\d{6}$", proc.stdout, re.MULTILINE) == ["0", "1"]
    assert "saved" not in proc.stdout


def test_train_cat_user_errors(tiny_cat: Path, tmp_path: Path) -> None:
    line = one_error_line(cli("train-cat", "--data-dir", tmp_path / "nowhere"), "train-cat")
    assert "not found" in line and "nnscratch fetch cat" in line
    assert "--layers" in one_error_line(cli("train-cat", "--layers", "12288,1", "--data-dir", tiny_cat,
                                            "--no-verify"), "train-cat")
    assert "--epochs" in one_error_line(cli("train-cat", "--epochs", "0", "--data-dir", tiny_cat, "--no-verify"),
                                        "train-cat")


def test_train_cat_on_the_real_data_prints_the_courses_first_cost(real_cat, tmp_path: Path) -> None:
    proc = cli("train-cat", "--model", "reference", "--iterations", "1", "--out", "",
               env={"NNSCRATCH_DATA": os.environ["NNSCRATCH_DATA"]})
    assert proc.returncode == 0, proc.stderr
    assert "Cost after iteration 0: 0.771749" in proc.stdout


# ----------------------------------------------------------------------------- train-mnist
def write_idx(path: Path, array: np.ndarray) -> None:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 200), ("t10k", 50)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 + 2 * labels] = 255  # one bright row per digit: learnable
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_train_mnist_on_tiny_files(tiny_mnist: Path, tmp_path: Path, model: str) -> None:
    out, saved = tmp_path / "r.json", tmp_path / "m.npz"
    proc = cli("train-mnist", "--model", model, "--data-dir", tiny_mnist, "--no-verify", "--epochs", "1", "--limit",
               "100", "--quiet", "--json", out, "--out", saved)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["model"] == model and result["train_samples"] == 100 and np.array(result["confusion_matrix"]).sum() == 50
    assert "confusion matrix" in proc.stdout and nn.load_model(saved).predict(
        np.zeros((1, 784) if model == "mlp" else (1, 28, 28, 1), np.float32)).shape == (1, 10)


def test_train_mnist_user_errors(tiny_mnist: Path, tmp_path: Path) -> None:
    assert "not found" in one_error_line(cli("train-mnist", "--data-dir", tmp_path / "nowhere"), "train-mnist")
    assert "expected" in one_error_line(cli("train-mnist", "--data-dir", tiny_mnist), "train-mnist")  # checksums
    assert "--lr" in one_error_line(cli("train-mnist", "--lr", "-1", "--data-dir", tiny_mnist, "--no-verify"),
                                    "train-mnist")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = cli("train-mnist", "--debug", "--data-dir", tmp_path / "nowhere")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_export_images_writes_pngs_named_by_index_and_label(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from nnscratch.data import cat

    rng = np.random.default_rng(0)
    fake = cat.CatData(rng.integers(0, 256, (5, 64, 64, 3), dtype=np.uint8), np.array([0, 1, 0, 1, 1]),
                       rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8), np.array([1, 0, 1]), ["non-cat", "cat"])
    monkeypatch.setattr(cat, "load_cat", lambda root=None, verify=True: fake)
    assert main(["export-images", "--count", "5", "--out", str(tmp_path / "p")]) == 0
    files = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert files == ["test_000_cat.png", "test_001_non-cat.png", "test_002_cat.png"]  # only 3 test images
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "p" / files[1])), fake.x_test[1])
    assert main(["export-images", "--count", "0"]) == 2
