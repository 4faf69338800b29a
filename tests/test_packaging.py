"""The package as published: one version source, ``py.typed`` shipped, ``__all__`` lists that import, the
benchmark suite's command line inside the package, LICENSE and CHANGELOG present."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest

import nnscratch

PACKAGE = Path(nnscratch.__file__).resolve().parent
REPO = PACKAGE.parent
PYPROJECT = REPO / "pyproject.toml"
in_checkout = pytest.mark.skipif(not PYPROJECT.is_file(), reason="needs the source checkout (pyproject.toml)")

# Every package that re-exports names from its modules.
REEXPORTING = ["nnscratch", "nnscratch.layers", "nnscratch.datasets", "nnscratch.autodiff", "nnscratch.ops",
               "nnscratch.sklearn", "nnscratch.bench", "nnscratch.bench.workloads"]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; on 3.10 these checks are skipped
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_version_is_a_pep440_string():
    from packaging.version import Version

    assert str(Version(nnscratch.__version__)) == nnscratch.__version__


@in_checkout
def test_version_is_written_once_and_read_by_the_build():
    project = _pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "nnscratch.__version__"}
    # The attribute is a plain string literal, so the build reads it without importing numpy.
    assert _literal_version(PACKAGE / "__init__.py") == nnscratch.__version__


def _literal_version(init: Path) -> str | None:
    """The string assigned to ``__version__`` in ``init``, read without importing it."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    values = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
              and isinstance(node.value, ast.Constant)]
    return values[0] if len(values) == 1 else None


def test_installed_metadata_matches_the_version():
    try:
        installed = metadata.distribution("nnscratch")
    except metadata.PackageNotFoundError:
        pytest.skip("nnscratch is not installed (imported from a source folder)")
    init = Path(str(installed.locate_file("nnscratch/__init__.py")))
    if not init.is_file():
        pytest.skip("an editable install: its metadata holds the version of the day it was installed")
    assert installed.version == _literal_version(init)
    if init.resolve() == PACKAGE / "__init__.py":
        assert installed.version == nnscratch.__version__


def test_py_typed_is_in_the_package():
    assert (PACKAGE / "py.typed").is_file()


@in_checkout
def test_py_typed_and_license_are_shipped():
    project = _pyproject()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["nnscratch"]
    assert project["project"]["license-files"] == ["LICENSE"]
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "Copyright (c) 2026 the nnscratch authors" in license_text
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [2.0.0] - unreleased" in changelog and "## [0.1.0]" in changelog


@in_checkout
def test_metadata_declares_python_versions_extras_and_urls():
    project = _pyproject()["project"]
    assert project["requires-python"] == ">=3.10"
    assert "Programming Language :: Python :: 3.10" in project["classifiers"]
    assert "Typing :: Typed" in project["classifiers"]
    assert project["urls"]["Homepage"] == "https://github.com/nnscratch/nnscratch"
    extras = project["optional-dependencies"]
    assert {"onnx", "safetensors", "sklearn", "plot", "bench", "distributed", "test", "dev"} <= set(extras)


@pytest.mark.parametrize("package", REEXPORTING)
def test_all_names_are_importable_and_unique(package):
    module = pytest.importorskip(package, exc_type=ImportError)  # nnscratch.sklearn needs its optional extra
    names = module.__all__
    assert len(names) == len(set(names)), f"{package}.__all__ repeats a name"
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"
    namespace: dict = {}
    exec(f"from {package} import *", namespace)  # noqa: S102 - what `import *` really gives
    assert set(names) <= set(namespace)


def test_top_level_all_keeps_the_public_api():
    expected = {"Sequential", "Model", "Module", "Dense", "Conv2D", "Adam", "SGD", "load_model", "load",
                "NNScratchError", "Callback", "EarlyStopping", "History", "Parameter", "Ensemble",
                "set_num_threads", "get_num_threads", "callbacks", "losses", "optimizers", "schedules", "initializers"}
    assert expected <= set(nnscratch.__all__)
    # dir(), not vars(): most names load on first use (PEP 562), and dir() lists them before they are loaded
    public = {name for name in dir(nnscratch) if not name.startswith("_")}
    subpackages = {name for name in public if isinstance(value := getattr(nnscratch, name), types.ModuleType)
                   and value.__name__ == f"nnscratch.{name}"}
    # every public name the package defines is listed; its own subpackages may be (autodiff, ops) or not (core)
    assert public - subpackages <= set(nnscratch.__all__) <= public


def test_bench_main_is_the_command_line(capsys):
    from nnscratch.bench import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--only" in out and "usage:" in out


def test_python_dash_m_nnscratch_bench_help_and_list():
    for args, expected in ((["--help"], "--quick"), (["--list"], "mnist_cnn_epoch")):
        proc = subprocess.run([sys.executable, "-m", "nnscratch.bench", *args], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert expected in proc.stdout
