"""A model file whose architecture asks for more weights than the file holds is refused before allocating."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ModelFileError
from nnscratch.core.limits import claim, weight_budget


def rewrite(path: Path, edit) -> None:
    """The model file at ``path`` with its JSON record changed by ``edit(record)`` (weights kept)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    record = json.loads(arrays["__config__"].tobytes().decode())
    edit(record)
    arrays["__config__"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize("units", [10**12, 10**6, 3, 1])
def test_a_dense_layer_larger_than_the_file_is_refused_before_any_allocation(tmp_path: Path, units: int) -> None:
    model = nn.Sequential([nn.Dense(2)], seed=0)
    model.build((4,))
    path = model.save(tmp_path / "m.npz")
    rewrite(path, lambda r: r["model"]["config"]["layers"][0]["config"].update(units=units))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ModelFileError) as info:
        nn.load_model(path)
    message = str(info.value)
    assert str(path) in message
    if units > 1:  # more than the file's 10 values: refused by the budget, naming the shape asked for
        assert "more weights than the file holds (10 values)" in message and f"({units}, 4)" in message
    else:  # fewer (5 values): built, then the shapes do not match the file's
        assert "another architecture" in message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # kB: nothing large allocated


def test_the_budget_counts_every_weight_and_is_off_outside_loading() -> None:
    with weight_budget(10):
        claim((2, 3))
        claim((4,))
        with pytest.raises(ModelFileError, match="past the budget"):
            claim((1,))
    claim((10**6, 10**6))  # no budget: no limit (nothing is allocated by claim itself)


def test_a_graph_model_file_loads_within_its_own_budget(tmp_path: Path) -> None:
    x = nn.Input(shape=(3,))
    d = nn.Dense(3, activation="tanh")
    model = nn.Model(x, nn.Add()([d(x), d(d(x))]))
    again = nn.load_model(model.save(tmp_path / "g.npz"))  # a shared layer's weights are counted once
    np.testing.assert_array_equal(again.predict(np.ones((2, 3), np.float32)), model.predict(np.ones((2, 3), np.float32)))


def test_a_version_1_file_still_loads(tmp_path: Path) -> None:
    """Files written by nnscratch 0.1 (format version 1: a chain, no layer names) load and predict the same."""
    model = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(2), nn.Softmax()], seed=0)
    model.build((3,))
    path = model.save(tmp_path / "v1.npz")

    def as_version_1(record: dict) -> None:
        record["version"] = 1
        for layer in record["model"]["config"]["layers"]:
            layer.pop("name", None)
            if isinstance(layer["config"].get("activation"), dict):
                layer["config"]["activation"].pop("name", None)

    rewrite(path, as_version_1)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(nn.load_model(path).predict(x), model.predict(x))
    rewrite(path, lambda r: r.update(version=3))
    with pytest.raises(ModelFileError, match="model format version 3; this nnscratch reads versions 1, 2"):
        nn.load_model(path)


def test_a_file_naming_an_unregistered_class_is_refused(tmp_path: Path) -> None:
    class Mine(nn.Dense):  # defined outside nnscratch: not buildable from a file unless registered
        pass

    x = nn.Input(shape=(3,))
    model = nn.Model(x, Mine(2)(x))
    path = model.save(tmp_path / "mine.npz")
    with pytest.raises(ModelFileError, match="unknown layer class 'Mine'.*register_layer"):
        nn.load_model(path)
    assert nn.load_model(path, custom_objects={"Mine": Mine}).predict(np.ones((1, 3), np.float32)).shape == (1, 2)
