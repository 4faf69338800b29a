"""fit's validation_freq and validation_batch_size (Keras's arguments), with arrays and with batch sources,
and the monitoring callbacks on the epochs that were not validated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError
from nnscratch.training.plateau import ReduceLROnPlateau

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.float32)


def model() -> nn.Sequential:
    m = nn.Sequential([nn.Input((4,)), nn.Dense(1, activation="sigmoid")], seed=0)
    m.compile(loss="binary_crossentropy", optimizer=nn.SGD(lr=0.1))
    return m


class Counting(nn.Callback):
    def __init__(self) -> None:
        self.batches: list[int] = []

    def on_test_begin(self, logs=None) -> None:
        self.batches.append(0)

    def on_test_batch_end(self, batch, logs=None) -> None:
        self.batches[-1] += 1


@pytest.mark.parametrize("freq, validated", [(2, [2, 4, 6]), ([1, 5], [1, 5]), (1, [1, 2, 3, 4, 5, 6])])
def test_validation_after_the_chosen_epochs_only(freq, validated) -> None:
    counting = Counting()
    h = model().fit(X, Y, epochs=6, validation_data=(X[:20], Y[:20]), validation_freq=freq, validation_batch_size=8,
                    callbacks=[counting], verbose=0)
    assert len(h.history["val_loss"]) == len(validated) and len(h.history["loss"]) == 6
    assert counting.batches == [3] * len(validated)  # 20 samples in batches of 8
    plain = model().fit(X, Y, epochs=6, validation_data=(X[:20], Y[:20]), verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], [plain.history["val_loss"][e - 1] for e in validated], rtol=1e-6)


def test_with_a_batch_source() -> None:
    class Batches(nn.PyDataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int):
            return X[i * 20:(i + 1) * 20], Y[i * 20:(i + 1) * 20]

    h = model().fit(Batches(), epochs=4, validation_data=Batches(), validation_freq=2, verbose=0)
    assert len(h.history["val_loss"]) == 2


def test_monitoring_callbacks_skip_the_epochs_without_validation(tmp_path: Path) -> None:
    callbacks = [nn.EarlyStopping(monitor="val_loss", patience=1), ReduceLROnPlateau(monitor="val_loss"),
                 nn.ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss", save_best_only=True)]
    h = model().fit(X, Y, epochs=5, validation_split=0.25, validation_freq=2, callbacks=callbacks, verbose=0)
    assert len(h.history["loss"]) == 5 and (tmp_path / "best.npz").exists()
    with pytest.raises(InvalidValueError, match="monitors 'val_los'"):
        model().fit(X, Y, epochs=2, validation_split=0.25, validation_freq=2,
                    callbacks=[nn.EarlyStopping(monitor="val_los")], verbose=0)


@pytest.mark.parametrize("freq", [0, -1, "2", [0, 2], 1.5, True])
def test_bad_validation_freq(freq) -> None:
    with pytest.raises(InvalidValueError, match="validation_freq must be a positive integer or a list"):
        model().fit(X, Y, epochs=1, validation_split=0.25, validation_freq=freq, verbose=0)


def test_bad_validation_batch_size() -> None:
    with pytest.raises(InvalidValueError, match="validation_batch_size"):
        model().fit(X, Y, epochs=1, validation_split=0.25, validation_batch_size=0, verbose=0)
