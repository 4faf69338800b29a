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
