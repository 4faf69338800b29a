"""fit / evaluate / predict on a PyDataset or a generator of batches: the same numbers as with arrays, Keras's
epoch rules (len batches, steps_per_epoch carried on, shuffled batch order), and one clear error per bad batch."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ShapeError, TrainingDivergedError

rng = np.random.default_rng(3)
X = rng.normal(size=(100, 4)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.float32)[:, None]
W = rng.uniform(0.5, 2.0, size=100)


class Batches(nn.PyDataset):
    """Batches of ``bs`` rows of (x, y[, w]); records what was asked for."""

    def __init__(self, x: np.ndarray, y: np.ndarray, bs: int, w: np.ndarray | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.x, self.y, self.w, self.bs = x, y, w, bs
        self.asked: list[int] = []
        self.begins = self.ends = 0

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.bs)

    def __getitem__(self, i: int):
        self.asked.append(i)
        rows = slice(i * self.bs, (i + 1) * self.bs)
        return (self.x[rows], self.y[rows]) if self.w is None else (self.x[rows], self.y[rows], self.w[rows])

    def on_epoch_begin(self) -> None:
        self.begins += 1

    def on_epoch_end(self) -> None:
        self.ends += 1


def model(seed: int = 0, built: bool = True) -> nn.Sequential:
    layers = [nn.Dense(8, activation="tanh"), nn.Dense(1, activation="sigmoid")]
    m = nn.Sequential(([nn.Input((4,))] if built else []) + layers, seed=seed)
    m.compile(loss="binary_crossentropy", optimizer=nn.SGD(lr=0.1, momentum=0.9), metrics=["accuracy"])
    return m


def weights(m: nn.Model) -> list[np.ndarray]:
    return [w.copy() for w in m.get_weights()]


def test_pydataset_trains_exactly_as_the_same_batches_from_arrays() -> None:
    a, b = model(), model()
    ha = a.fit(X, Y, epochs=3, batch_size=32, shuffle=False, validation_data=(X[:40], Y[:40]), verbose=0)
    hb = b.fit(Batches(X, Y, 32), epochs=3, shuffle=False, validation_data=Batches(X[:40], Y[:40], 16), verbose=0)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(wa, wb)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(ha.history[key], hb.history[key], rtol=1e-6)


def test_batch_sample_weights_equal_fit_sample_weight() -> None:
    a, b = model(), model()
    a.fit(X, Y, epochs=2, batch_size=25, shuffle=False, sample_weight=W, verbose=0)
    b.fit(Batches(X, Y, 25, W), epochs=2, shuffle=False, verbose=0)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_class_weight_applies_to_batches() -> None:
    a, b = model(), model()
    a.fit(X, Y, epochs=1, batch_size=50, shuffle=False, class_weight={0: 1.0, 1: 5.0}, verbose=0)
    b.fit(Batches(X, Y, 50), epochs=1, shuffle=False, class_weight={0: 1.0, 1: 5.0}, verbose=0)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_shuffle_orders_batches_anew_each_epoch_reproducibly() -> None:
    runs = []
    for _ in range(2):
        ds = Batches(X, Y, 10)
        m = model(seed=5)
        m.fit(ds, epochs=3, verbose=0)
        runs.append((ds.asked, weights(m)))
        assert ds.begins == ds.ends == 3
        epochs = [ds.asked[k * 10:(k + 1) * 10] for k in range(3)]
        assert all(sorted(e) == list(range(10)) for e in epochs)  # every batch once per epoch
        assert epochs[0] != list(range(10)) and epochs[0] != epochs[1]
    assert runs[0][0] == runs[1][0]
    for wa, wb in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(wa, wb)


def test_steps_per_epoch_carries_on_through_a_pydataset() -> None:
    ds = Batches(X, Y, 20)  # 5 batches a pass
    m = model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = m.fit(ds, epochs=4, steps_per_epoch=2, shuffle=False, verbose=0)
    # Keras's rule: epochs go on where the last one stopped; a pass that runs out cuts the epoch short (warned)
    assert ds.asked == [0, 1, 2, 3, 4, 0, 1]
    assert len(h.history["loss"]) == 4 and any("ran out of batches" in str(w.message) for w in caught)


def test_generator_with_steps_per_epoch_takes_exactly_that_many() -> None:
    taken = []

    def forever():
        i = 0
        while True:
            taken.append(i)
            rows = slice(i % 10 * 10, i % 10 * 10 + 10)
            yield X[rows], Y[rows]
            i += 1

    m = model(built=False)  # built from the first batch, which still trains
    h = m.fit(forever(), epochs=3, steps_per_epoch=4, verbose=0)
    assert taken == list(range(12)) and len(h.history["loss"]) == 3 and m.built


def test_exhausted_generator_stops_training_with_a_warning() -> None:
    def once():
        for i in range(0, 100, 25):
            yield X[i:i + 25], Y[i:i + 25]

    m = model()
    with pytest.warns(UserWarning, match="exhausted generator"):
        h = m.fit(once(), epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1


def test_evaluate_and_predict_on_batches_match_arrays() -> None:
    m = model()
    m.fit(X, Y, epochs=2, verbose=0)
    expected = m.evaluate(X, Y, return_dict=True)
    got = m.evaluate(Batches(X, Y, 30), return_dict=True)
    assert got.keys() == expected.keys()
    for k in got:
        assert got[k] == pytest.approx(expected[k], rel=1e-6)
    np.testing.assert_allclose(m.predict(xb for xb in np.split(X, 4)), m.predict(X), rtol=1e-6)
    np.testing.assert_allclose(m.predict(Batches(X, Y, 30), steps=2), m.predict(X[:60]), rtol=1e-6)
    first = m.evaluate(Batches(X, Y, 30), steps=1, return_dict=True)
    assert first["loss"] == pytest.approx(m.evaluate(X[:30], Y[:30], return_dict=True)["loss"], rel=1e-6)


def test_workers_load_ahead_and_change_nothing() -> None:
    a, b = model(seed=2), model(seed=2)
    a.fit(Batches(X, Y, 10), epochs=2, verbose=0)
    threaded = Batches(X, Y, 10, workers=3, max_queue_size=4)
    b.fit(threaded, epochs=2, verbose=0)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(wa, wb)
    assert sorted(threaded.asked) == sorted(list(range(10)) * 2)


def test_progress_without_a_known_length() -> None:
    stream = io.StringIO()

    def batches():
        for i in range(0, 100, 20):
            yield X[i:i + 20], Y[i:i + 20]

    bar = nn.ProgressBar(stream=stream, interactive=True, refresh_seconds=0.0)
    model().fit(batches(), epochs=1, verbose=0, callbacks=[bar])
    text = stream.getvalue()
    assert "Epoch 1/1 5 - loss" in text and "ETA" not in text.split("\r")[-2]


def test_divergence_names_the_batch() -> None:
    def linear() -> nn.Sequential:
        m = nn.Sequential([nn.Input((4,)), nn.Dense(1)], seed=0)
        m.compile(loss="mse", optimizer=nn.SGD(lr=1e30))
        return m

    with pytest.raises(TrainingDivergedError, match=r"at epoch 1, batch \d+ of 10;"):
        linear().fit(Batches(X, Y, 10), epochs=2, verbose=0)
    with pytest.raises(TrainingDivergedError, match=r"at epoch 1, batch \d+;"):  # a generator: no count known
        linear().fit((b for b in Batches(X, Y, 10)), epochs=2, verbose=0)


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.fit(Batches(X, Y, 10), Y), InvalidValueError, "fit got y= with x a Batches"),
    (lambda m: m.fit(Batches(X, Y, 10), sample_weight=W), InvalidValueError, "sample_weight="),
    (lambda m: m.fit(Batches(X, Y, 10), validation_split=0.2), InvalidValueError, "validation_split="),
    (lambda m: m.fit(iter([(X, Y)]), resume_from="ckpt"), InvalidValueError,
     r"resume_from= with x \(generator\): a generator cannot be taken back"),
    (lambda m: m.fit(Batches(X, Y, 10), steps_per_epoch=4, resume_from="ckpt"), InvalidValueError,
     r"steps_per_epoch=4 for x \(Batches\) of 10 batches: .*resume with whole passes"),
    (lambda m: m.fit(Batches(X, Y, 10), initial_epoch=1, resume_from="ckpt"), InvalidValueError,
     "either initial_epoch or resume_from"),
    (lambda m: m.fit(X, Y, steps_per_epoch=3), InvalidValueError, "steps_per_epoch= with arrays"),
    (lambda m: m.evaluate(X, Y, steps=3), InvalidValueError, "steps= with arrays"),
    (lambda m: m.fit(Batches(X, Y, 10), steps=3), InvalidValueError, "steps= with a Batches"),
    (lambda m: m.fit(Batches(X, Y, 10), workers=2), InvalidValueError, "PyDataset's constructor"),
    (lambda m: m.fit(Batches(X, Y, 10), validation_data=(X, Y), validation_steps=2), InvalidValueError,
     "validation_steps is for"),
    (lambda m: m.fit(iter([X[:5]])), InvalidValueError, r"batch 0 of x \(generator\) has no targets"),
    (lambda m: m.fit(iter([(X[:5], Y[:5]), (X[:5], Y[:5] + 3)])), InvalidValueError,
     r"targets of batch 1 of x \(generator\)"),
    (lambda m: m.fit(iter([(X[:5, :3], Y[:5])])), ShapeError, r"inputs of batch 0 of x \(generator\) has shape"),
    (lambda m: m.fit(iter([(X[:5] * np.nan, Y[:5])])), InvalidValueError, "contains nan"),
    (lambda m: m.fit(iter([(X[:5], Y[:5], W[:5], W[:5])])), InvalidTypeError, "a tuple of length 4"),
    (lambda m: m.fit(iter([{"x": X[:5]}])), InvalidTypeError, "is dict; expected x, "),
    (lambda m: m.fit(Batches(X[:0], Y[:0], 10)), InvalidValueError, "has no batches"),
    (lambda m: m.predict(iter([]), steps=None), InvalidValueError, "yielded no batches"),
    (lambda m: m.evaluate(X), InvalidValueError, "evaluate needs targets"),
])
def test_bad_batches_get_one_clear_error(call, error, message) -> None:
    m = model(built=False) if "yielded no batches" in message else model()
    before = weights(m) if m.built else None
    with pytest.raises(error, match=message):
        call(m)
    if before is not None and "batch 1" not in message:  # nothing trained before the bad batch
        for wa, wb in zip(before, weights(m)):
            np.testing.assert_array_equal(wa, wb)


def test_a_pydataset_without_len_says_what_is_missing() -> None:
    class Partial(nn.PyDataset):
        def __getitem__(self, i: int):
            return X[:5], Y[:5]

    with pytest.raises(NotImplementedError, match="Partial must define __len__"):
        model().fit(Partial(), epochs=1)


def test_an_endless_pydataset_needs_steps_and_a_subclass_may_skip_super_init() -> None:
    class Endless(nn.PyDataset):
        def __init__(self) -> None:  # no super().__init__(): the defaults apply (one worker), as Keras allows
            self.asked: list[int] = []

        @property
        def num_batches(self):
            return None

        def __getitem__(self, i: int):
            self.asked.append(i)
            rows = slice(i % 10 * 10, i % 10 * 10 + 10)
            return X[rows], Y[rows]

    data = Endless()
    h = model().fit(data, epochs=3, steps_per_epoch=4, verbose=0)
    assert data.asked == list(range(12)) and len(h.history["loss"]) == 3
    with pytest.raises(InvalidValueError, match=r"x \(Endless\) is endless \(num_batches is None\): give steps_per_epoch"):
        model().fit(Endless(), epochs=1, verbose=0)


def test_a_pydataset_run_resumes_as_if_uninterrupted(tmp_path) -> None:
    """Shuffled batches and dropout: the order and masks after the checkpoint come from the restored generators."""
    def net(compiled: bool = True) -> nn.Sequential:
        m = nn.Sequential([nn.Input((4,)), nn.Dense(8, activation="tanh"), nn.Dropout(0.3),
                           nn.Dense(1, activation="sigmoid")], seed=5)
        return m.compile(loss="binary_crossentropy", optimizer=nn.Adam(lr=0.02), metrics=["accuracy"]) if compiled \
            else m

    straight = net()
    full = straight.fit(Batches(X, Y, 16), epochs=4, validation_data=Batches(X[:40], Y[:40], 20), verbose=0)
    net().fit(Batches(X, Y, 16), epochs=2, validation_data=Batches(X[:40], Y[:40], 20), verbose=0,
              callbacks=[nn.Checkpoint(tmp_path)])
    for compiled in (True, False):
        resumed = net(compiled)
        history = resumed.fit(Batches(X, Y, 16), epochs=4, validation_data=Batches(X[:40], Y[:40], 20), verbose=0,
                              resume_from=tmp_path / "last.npz")
        for a, b in zip(weights(resumed), weights(straight)):
            np.testing.assert_array_equal(a, b)
        assert history.to_dict() == full.to_dict()
