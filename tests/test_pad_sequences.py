"""``keras.utils.pad_sequences``: Keras's examples, a per-sequence reference loop (Keras's algorithm), errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import keras
from nnscratch.core.errors import InvalidValueError
from nnscratch.data.sequences import pad_sequences


def reference(sequences, maxlen, padding, truncating, value, dtype="int32"):
    """Keras's loop, one sequence at a time."""
    out = np.full((len(sequences), maxlen), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        cut = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, :len(cut)] = cut
        else:
            out[i, -len(cut):] = cut
    return out


def test_the_keras_docstring_examples() -> None:
    seq = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(keras.utils.pad_sequences(seq), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(keras.utils.pad_sequences(seq, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(keras.utils.pad_sequences(seq, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(keras.utils.pad_sequences(seq, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert keras.utils.pad_sequences(seq).dtype == np.int32


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 0, 1, 4, 9])
def test_matches_the_per_sequence_loop(padding, truncating, maxlen) -> None:
    rng = np.random.default_rng(maxlen or 0)
    sequences = [list(rng.integers(1, 50, rng.integers(0, 8))) for _ in range(30)]
    expected_len = max(len(s) for s in sequences) if maxlen is None else maxlen
    got = pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating, value=-7)
    np.testing.assert_array_equal(got, reference(sequences, expected_len, padding, truncating, -7))


def test_sequences_of_vectors_floats_and_empty_input() -> None:
    got = pad_sequences([[[1, 2], [3, 4]], [[5, 6]]], padding="post", dtype="float32")
    np.testing.assert_array_equal(got, [[[1, 2], [3, 4]], [[5, 6], [0, 0]]])
    assert got.dtype == np.float32
    assert pad_sequences([]).shape == (0, 0)
    np.testing.assert_array_equal(pad_sequences([[], []], maxlen=2), np.zeros((2, 2)))
    np.testing.assert_array_equal(pad_sequences([np.array([1.5, 2.5])], dtype="float64"), [[1.5, 2.5]])


@pytest.mark.parametrize("call, match", [
    (lambda: pad_sequences([[1]], padding="middle"), "padding must be 'pre' or 'post'"),
    (lambda: pad_sequences([[1]], truncating="both"), "truncating must be"),
    (lambda: pad_sequences([1, 2]), "item 0 is int"),
    (lambda: pad_sequences("abc"), "list of sequences"),
    (lambda: pad_sequences([[1]], maxlen=-1), "maxlen must be a whole number"),
    (lambda: pad_sequences([[[1, 2]], [[1, 2, 3]]]), "items must all have one shape"),
])
def test_bad_arguments(call, match) -> None:
    with pytest.raises(InvalidValueError, match=match):
        call()
