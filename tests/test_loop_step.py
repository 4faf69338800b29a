"""``loop.fit_with``: ``fit``'s loop around another training step (what ``nnscratch.distributed`` runs)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.training.loop import fit_with


def data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)), rng.integers(0, 3, n)


def model(seed=0):
    m = nn.Sequential([nn.Input(shape=(6,), dtype="float64"), nn.Dense(8, activation="tanh"),
                       nn.Dense(3, activation="softmax")], seed=seed)
    return m.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=0.01), metrics=["accuracy"])


class Recorder:
    """A step maker whose step records its arguments and trains with ``model.train_step``."""

    def __init__(self):
        self.calls, self.entered, self.exited, self.arrays = [], 0, 0, None

    @contextmanager
    def __call__(self, m, xs, ys):
        self.entered += 1
        self.arrays = (xs, ys)
        try:
            yield lambda xb, yb, rows: (self.calls.append(([a.copy() for a in xb], yb, rows)), m.train_step(xb, yb))[1]
        finally:
            self.exited += 1


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_step_gets_each_batch_with_its_rows_and_training_matches_fit(shuffle):
    x, y = data()
    kwargs = dict(epochs=2, batch_size=16, shuffle=shuffle, validation_split=0.2, verbose=0)
    plain, stepped = model(), model()
    expected = plain.fit(x, y, **kwargs)
    recorder = Recorder()
    history = fit_with(recorder, stepped, x, y, **kwargs)
    assert recorder.entered == recorder.exited == 1
    xs, ys = recorder.arrays
    np.testing.assert_array_equal(xs[0], x[:40])  # the training part of the split, as fit uses it
    assert len(recorder.calls) == 2 * 3  # 40 samples in batches of 16: 16, 16, 8
    for xb, yb, rows in recorder.calls:
        assert isinstance(rows, np.ndarray if shuffle else slice)
        np.testing.assert_array_equal(xb[0], xs[0][rows])
        np.testing.assert_array_equal(yb[0], ys[0][rows])
    for name, value in plain.state_dict().items():
        np.testing.assert_array_equal(stepped.state_dict()[name], value, err_msg=name)
    assert history.history == expected.history


def test_the_step_is_left_when_training_fails():
    class Boom(nn.Callback):
        def on_train_batch_end(self, batch, logs):
            raise RuntimeError("boom")

    x, y = data()
    recorder = Recorder()
    with pytest.raises(RuntimeError, match="boom"):
        fit_with(recorder, model(), x, y, epochs=1, batch_size=16, verbose=0, callbacks=[Boom()])
    assert recorder.entered == recorder.exited == 1 and len(recorder.calls) == 1
