"""Shape probes run on an empty batch, so building a model (from a file too) allocates no activations: every
built-in layer takes zeros of shape ``(0, ...)`` and gives the per-sample shapes one sample gives."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_from_config import ARGUMENTS, BUILT_IN

import nnscratch as nn
from nnscratch.core import shapes
from nnscratch.core.layer import Layer

CANDIDATES: list[Any] = [(6,), (7, 4), (9, 8, 3), (5, 4, 6, 3), [(7, 4), (7, 4)], [(7, 4), (7, 4), (7, 4)], (4,),
                         [(4,), (4,)], [(4,), (4,), (4,)]]  # (the last two: a cell's step and its states)
NO_SAMPLE_SHAPE = {"InputLayer", "StackedRNNCells"}  # not called on arrays (StackedRNNCells: only inside an RNN)


ADAPTED = {"Normalization": {"mean": [0.5] * 4, "std": [2.0] * 4}}  # (without them: adapt() first)


def fresh(name: str) -> Layer:
    return Layer.registry[name](**ARGUMENTS.get(name, {}), **ADAPTED.get(name, {}))


@pytest.mark.parametrize("name", [n for n in BUILT_IN if n not in NO_SAMPLE_SHAPE])
def test_every_built_in_layer_gives_its_shapes_for_an_empty_batch(name: str) -> None:
    tried = []
    for shape in CANDIDATES:
        try:
            one = shapes.call_on_zeros(fresh(name), shape, 1)
        except Exception as exc:  # noqa: BLE001  (a shape this layer does not take: try the next)
            tried.append(f"{shape}: {type(exc).__name__}")
            continue
        assert shapes.call_on_zeros(fresh(name), shape, 0) == one, shape
        return
    pytest.fail(f"{name} took none of the candidate shapes: {tried}")


def test_building_a_huge_architecture_allocates_nothing_the_size_of_its_activations(tmp_path: Path) -> None:
    x = nn.Input((64, 64, 1))
    y = nn.UpSampling2D(32)(x)  # (2048, 2048, 1): 16 MiB a sample in float32
    y = nn.Conv2D(4, 3, padding="same")(y)  # 64 MiB a sample, and its im2col workspace 9 times its input
    model = nn.Model(x, nn.GlobalAvgPool2D()(y))
    path = model.save(tmp_path / "big.npz")
    tracemalloc.start()
    try:
        again = nn.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # bytes: the record and the weights, no activation
    assert again.predict(np.ones((1, 64, 64, 1), np.float32)).shape == (1, 4)
