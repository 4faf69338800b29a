"""Shared fixtures."""

import os

import pytest

from nnscratch.datasets import DatasetError, load_cat


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
