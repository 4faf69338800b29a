"""``import nnscratch`` loads only the core and the autodiff engine; every public name still resolves.

Each check runs in a fresh interpreter, so what other tests imported cannot hide a module that loads eagerly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nnscratch

ROOT = Path(nnscratch.__file__).resolve().parent.parent

# heavy third-party modules, and the subpackages that load only when something of theirs is used
NOT_ON_IMPORT = [
    "h5py", "PIL", "matplotlib", "torch", "sklearn", "ray", "onnx", "onnxruntime", "threadpoolctl",
    "nnscratch.layers", "nnscratch.models", "nnscratch.training", "nnscratch.io", "nnscratch.ops",
    "nnscratch.data", "nnscratch.datasets", "nnscratch.keras", "nnscratch.sklearn", "nnscratch.distributed",
    "nnscratch.interop", "nnscratch.bench", "nnscratch.cli", "nnscratch.recipes", "nnscratch.utils",
]
# what building and training a Sequential model never needs
NOT_FOR_TRAINING = [name for name in NOT_ON_IMPORT
                    if name not in ("nnscratch.layers", "nnscratch.models", "nnscratch.training", "nnscratch.io")]


def run_fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter on this checkout; it prints one JSON object, which is returned."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


LOADED = "json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('nnscratch',) + tuple(HEAVY)))"


def test_import_nnscratch_loads_no_heavy_module_and_no_lazy_subpackage():
    out = run_fresh(f"""
        import json, sys
        HEAVY = {[n for n in NOT_ON_IMPORT if "." not in n]!r}
        import nnscratch
        print({LOADED})
    """)
    loaded = set(out)
    assert "nnscratch.autodiff" in loaded  # the engine for layers written with call() is installed on import
    assert not [name for name in NOT_ON_IMPORT if name in loaded]


def test_building_and_training_a_model_loads_no_data_image_or_optional_module():
    out = run_fresh(f"""
        import json, sys
        import numpy as np
        import nnscratch as nn
        HEAVY = {[n for n in NOT_FOR_TRAINING if "." not in n]!r}
        x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
        inputs = nn.Input((3,))
        graph = nn.Model(inputs, nn.Dense(1)(nn.Dense(4, activation="relu")(inputs)))
        for model in (nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(1)], seed=0), graph):
            model.compile(loss="mse", optimizer=nn.Adam(lr=1e-2), metrics=["mae"])
            model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
            model.predict(x)
        print({LOADED})
    """)
    assert "nnscratch.training.trainer" in out
    assert not [name for name in NOT_FOR_TRAINING if name in out]


def test_every_name_in_all_resolves_in_a_fresh_interpreter_to_its_defining_object():
    out = run_fresh("""
        import importlib, json
        import nnscratch as nn
        listed_before = set(dir(nn))
        namespace = {}
        exec("from nnscratch import *", namespace)
        wrong = [name for name, (module, attr) in nn._LAZY.items()
                 if getattr(nn, name) is not (getattr(importlib.import_module(module, "nnscratch"), attr)
                                              if attr else importlib.import_module(module, "nnscratch"))]
        print(json.dumps({"all": nn.__all__, "star": sorted(n for n in namespace if not n.startswith("__")),
                          "dir": sorted(listed_before), "wrong": wrong}))
    """)
    assert set(out["all"]) == set(out["star"])
    assert set(out["all"]) <= set(out["dir"])  # dir() lists the lazy names before they are loaded
    assert {"core", "layers", "models", "training", "io"} <= set(out["dir"])  # subpackages, as before
    assert out["wrong"] == []


@pytest.mark.parametrize("name", nnscratch.__all__)
def test_each_public_name_is_an_attribute(name):
    assert getattr(nnscratch, name) is not None
    assert name in dir(nnscratch)


def test_an_unknown_name_is_an_attribute_error():
    assert not hasattr(nnscratch, "NoSuchLayer")
    with pytest.raises(AttributeError, match="NoSuchLayer"):
        nnscratch.NoSuchLayer  # noqa: B018


def test_a_model_file_naming_any_builtin_layer_loads_in_a_fresh_interpreter(tmp_path):
    path = tmp_path / "conv.npz"
    model = nnscratch.Sequential([nnscratch.Conv2D(2, 3), nnscratch.GlobalMaxPool2D(), nnscratch.Dense(1)], seed=0)
    model.build((None, 5, 5, 1))
    model.save(path)
    out = run_fresh(f"""
        import json
        import nnscratch
        model = nnscratch.load_model({str(path)!r})
        print(json.dumps([type(layer).__name__ for layer in model.layers]))
    """)
    assert out == ["Conv2D", "GlobalMaxPool2D", "Dense"]


@pytest.mark.parametrize("statement", ["from nnscratch.datasets import load_mnist",
                                       "from nnscratch.recipes import train_mnist", "import nnscratch.bench"])
def test_mnist_loader_recipe_and_benchmarks_load_neither_h5py_nor_pillow(statement):
    out = run_fresh(f"""
        import json, sys
        HEAVY = ["h5py", "PIL"]
        {statement}
        print({LOADED})
    """)
    assert not [name for name in out if name.split(".")[0] in ("h5py", "PIL")]
    assert "nnscratch.data.cat" not in out and "nnscratch.data.image" not in out


@pytest.mark.parametrize("statement", ["from nnscratch.cli import make_parser; make_parser().format_help()",
                                       "from nnscratch.recipes.cat import train_cat",
                                       "from nnscratch.data.classify import load_classifier"])
def test_command_line_parser_and_cat_recipe_load_h5py_and_pillow_only_when_used(statement):
    """``nnscratch --help`` (every subcommand's parser) starts without them; reading the cat files or a photo loads
    them (the cat and predict tests)."""
    out = run_fresh(f"""
        import json, sys
        HEAVY = ["h5py", "PIL"]
        {statement}
        print({LOADED})
    """)
    assert not [name for name in out if name.split(".")[0] in ("h5py", "PIL")]


def test_cat_loader_still_resolves_through_the_lazy_package():
    from nnscratch import datasets, recipes
    from nnscratch.data.cat import load_cat
    from nnscratch.recipes.cat import train_cat

    assert datasets.load_cat is load_cat and recipes.train_cat is train_cat
    assert set(datasets.__all__) <= set(dir(datasets)) and "load_cat" in dir(datasets)
