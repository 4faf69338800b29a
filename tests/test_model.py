"""The trainer: fit/evaluate/predict, batching, shuffling, validation, history, callbacks, determinism."""

import io

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import DTypeError, InvalidValueError, NotBuiltError, ShapeError


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 4)) + np.eye(3, 4)[y] * 3
    return x, y


def mlp(seed=0, dtype="float32"):
    model = nn.Sequential([nn.Dense(16, activation="relu"), nn.Dense(3), nn.Softmax()], seed=seed, dtype=dtype)
    return model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=0.01), metrics=["accuracy"])


def test_fit_learns_and_reports_history():
    x, y = blobs()
    model = mlp()
    history = model.fit(x, y, epochs=15, batch_size=32, validation_split=0.25, verbose=0)
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 15 and history.epoch == list(range(15))
    assert history["loss"][-1] < history["loss"][0] / 3
    assert history["val_accuracy"][-1] > 0.9
    result = model.evaluate(x, y, return_dict=True)
    assert result["accuracy"] > 0.9 and model.score(x, y) == pytest.approx(result["accuracy"])
    probs = model.predict(x)
    assert probs.shape == (200, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(model.predict_classes(x), probs.argmax(1))


def test_compile_metrics_none_means_no_metrics():
    x, y = blobs(40)
    model = nn.Sequential([nn.Dense(3), nn.Softmax()], seed=0)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=None)  # Keras's default
    assert set(model.fit(x, y, epochs=1, verbose=0).history) == {"loss"}


def test_predict_in_batches_equals_one_pass():
    x, y = blobs(50)
    model = mlp(dtype="float64")
    model.fit(x, y, epochs=1, verbose=0)
    # BLAS may order the sums differently for other batch sizes: equal up to rounding
    np.testing.assert_allclose(model.predict(x, batch_size=7), model.predict(x, batch_size=1000), rtol=1e-12)


def test_batches_cover_every_sample_once_and_last_partial_batch_is_kept():
    sizes, seen = [], []

    class Spy(nn.Identity):
        def forward(self, x, training=False):
            if training:
                sizes.append(len(x))
                seen.extend(x[:, 0].tolist())
            return x

    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    model = nn.Sequential([Spy(), nn.Dense(1)], seed=0).compile("mse", nn.SGD(lr=1e-9))
    model.fit(x, x, epochs=2, batch_size=4, verbose=0)
    assert sizes == [4, 4, 2, 4, 4, 2]
    first, second = seen[:10], seen[10:]
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second, "the data should be reshuffled every epoch"
    sizes.clear(), seen.clear()
    model.fit(x, x, epochs=1, batch_size=None, shuffle=False, verbose=0)
    assert sizes == [10] and seen == list(range(10))


def test_seeded_runs_are_bit_identical():
    x, y = blobs()
    runs = []
    for _ in range(2):
        model = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dropout(0.3), nn.Dense(3), nn.Softmax()], seed=42)
        model.compile("categorical_crossentropy", nn.Adam(lr=0.01))
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        runs.append((history["loss"], model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for name in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][name], runs[1][1][name])
    other = nn.Sequential([nn.Dense(8)], seed=43).build((4,))
    assert not np.array_equal(other.layers[0].weight.data, runs[0][1]["layers.0.weight"])


def test_float64_model_keeps_float64_everywhere():
    x, y = blobs(40)
    model = mlp(dtype="float64")
    model.fit(x.astype(np.float32), y, epochs=1, verbose=0)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.predict(x).dtype == np.float64
    with pytest.raises(DTypeError, match="float64"):
        model.layers[0].forward(x.astype(np.float32))


def test_layers_infer_input_size_and_reject_another():
    model = nn.Sequential([nn.Dense(5), nn.Dense(2)], seed=0)
    model.build((7,))
    assert model.layers[0].weight.shape == (7, 5) and model.layers[1].weight.shape == (5, 2)
    with pytest.raises(ShapeError, match=r"built for inputs of shape \(batch, 7\)"):
        model.predict(np.zeros((3, 6)))


def test_parameters_are_found_by_walking_attributes():
    model = nn.Sequential([nn.Dense(3), nn.ReLU(), nn.Dense(2, use_bias=False)], seed=0).build((4,))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight"]
    assert model.parameters()[0] is model.layers[0].weight


def test_binary_classifier_with_sigmoid_output():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = nn.Sequential([nn.Dense(16, activation="tanh"), nn.Dense(1, activation="sigmoid")], seed=0)
    model.compile("binary_crossentropy", nn.Adam(lr=0.05), metrics=["accuracy"])
    history = model.fit(x, y, epochs=60, batch_size=64, verbose=0)
    assert history["accuracy"][-1] > 0.9
    assert set(np.unique(model.predict_classes(x))) <= {0, 1}


def test_early_stopping_restores_best_weights():
    x, y = blobs()
    model = mlp()
    model.compile("categorical_crossentropy", nn.SGD(lr=3.0))  # too large: validation loss gets worse
    stop = nn.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=30, validation_split=0.3, callbacks=[stop], verbose=0)
    assert len(history["loss"]) < 30
    best = int(np.argmin(history["val_loss"]))
    assert stop.best_epoch == best
    assert model.evaluate(x[140:], y[140:], return_dict=True)["loss"] == pytest.approx(history["val_loss"][best], rel=1e-5)


def test_model_checkpoint_and_lr_scheduler(tmp_path):
    x, y = blobs(60)
    model = mlp()
    ckpt = nn.ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.npz", monitor="loss", save_best_only=False)
    sched = nn.LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)
    history = model.fit(x, y, epochs=3, callbacks=[ckpt, sched], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01.npz", "ckpt-02.npz", "ckpt-03.npz"]
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    np.testing.assert_array_equal(nn.load_model(tmp_path / "ckpt-03.npz").predict(x), model.predict(x))


def test_progress_display_quiet_off_terminal_and_live_on_terminal():
    x, y = blobs(64)
    log = io.StringIO()
    mlp().fit(x, y, epochs=2, batch_size=16, callbacks=[nn.ProgressBar(log)], verbose=0)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2") and "loss:" in lines[0] and "accuracy:" in lines[0]
    tty = io.StringIO()
    mlp().fit(x, y, epochs=1, batch_size=16, callbacks=[nn.ProgressBar(tty, interactive=True, refresh_seconds=0)], verbose=0)
    out = tty.getvalue()
    assert "4/4" in out and "ETA" in out and "\r" in out


def test_bad_arguments_are_named():
    x, y = blobs(20)
    model = mlp()
    with pytest.raises(ShapeError, match="expected 20"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(InvalidValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(InvalidValueError, match="epochs"):
        model.fit(x, y, epochs=-1, verbose=0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidValueError, match=r"nan at index \(3, 1\)"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(DTypeError):
        model.fit(np.array([["a", "b"]] * 20), y, verbose=0)
    with pytest.raises(NotBuiltError, match="compile"):
        nn.Sequential([nn.Dense(1)]).fit(x, y, verbose=0)
    with pytest.raises(InvalidValueError, match="did you mean 'relu'"):
        nn.Dense(3, activation="relus")


def test_diverging_training_stops_with_a_clear_message():
    x, y = blobs(50)
    model = nn.Sequential([nn.Dense(1)], seed=0).compile("mse", nn.SGD(lr=1e3))
    with pytest.raises(nn.TrainingDivergedError, match=r"epoch \d+, batch \d+.*learning rate"):
        model.fit(x, y.astype(float) * 1e3, epochs=50, verbose=0)
