"""Shared fixtures."""

import os
import zlib
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import nnscratch as nn
from nnscratch.datasets import DatasetError, load_cat


@pytest.fixture(autouse=True)
def repeatable_draws(request: pytest.FixtureRequest):
    """Each test draws the same numbers at every run: layers built without a seed of their own share a generator
    seeded from the test's id (so a finite-difference check whose random weights put a ReLU input on its kink
    fails always or never, not one run in a hundred)."""
    test = f"{request.node.module.__name__}::{request.node.name}"  # the same from any folder pytest runs in
    nn.set_random_seed(zlib.crc32(test.encode()))
    yield
    nn.set_random_seed(None)


@pytest.fixture(scope="session")
def real_cat():
    """The real cat data from ``NNSCRATCH_DATA``; the test is skipped, saying why, when it is not there."""
    folder = os.environ.get("NNSCRATCH_DATA")
    if not folder:
        pytest.skip("real cat data not found: set NNSCRATCH_DATA to the folder holding train_catvnoncat.h5 and "
                    "test_catvnoncat.h5 (python -m nnscratch.datasets fetch cat)")
    try:
        return load_cat(folder)
    except DatasetError as exc:
        pytest.skip(f"real cat data not found in NNSCRATCH_DATA={folder}: {exc}")


@pytest.fixture(scope="session")
def cat_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, int], Path]:
    """``cat_files(n_train, n_test)``: a new folder of tiny files of the course's layout whose cats are
    brighter than the non-cats (learnable)."""
    def write_split(folder: Path, split: str, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        y = np.arange(n) % 2
        x = rng.integers(0, 128, (n, 64, 64, 3)) + 100 * y[:, None, None, None]
        with h5py.File(folder / f"{split}_catvnoncat.h5", "w") as f:
            f.create_dataset(f"{split}_set_x", data=x.astype(np.uint8))
            f.create_dataset(f"{split}_set_y", data=y.astype(np.int64))
            f.create_dataset("list_classes", data=np.array([b"non-cat", b"cat"]))

    def make(n_train: int, n_test: int) -> Path:
        folder = tmp_path_factory.mktemp("cat")
        write_split(folder, "train", n_train, 0)
        write_split(folder, "test", n_test, 1)
        return folder

    return make


@pytest.fixture
def pickle_payload(tmp_path: Path) -> tuple[np.ndarray, Path]:
    """An object array whose unpickling would create the file ``marker`` (which must then not exist)."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (open, (str(marker), "w"))

    payload = np.empty(1, dtype=object)
    payload[0] = Exploit()
    return payload, marker


@pytest.fixture
def tiny_image_context() -> Callable[[bool], object]:
    """A factory of quick, torch-free benchmark contexts holding 200 random training and 50 test MNIST-shaped
    images (no data files read); ``real`` says whether the workload should treat them as the real data."""
    from nnscratch.bench.context import Context

    def make(real: bool) -> Context:
        rng = np.random.default_rng(0)
        ctx = Context(quick=True, reps=1, warmup=0, use_torch=False, use_sklearn=False)
        ctx._mnist = (rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), rng.integers(0, 10, 200),
                      rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50))
        ctx.real_data, ctx.data_source = real, "real MNIST" if real else "SYNTHETIC"
        return ctx

    return make
