"""Saving and loading: exact round trip, architecture mismatch, pickle refused, atomic writes."""

import json
import pickle

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ModelFileError


def trained(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 5))
    y = (x.sum(1) > 0).astype(int)
    model = nn.Sequential([nn.Dense(8, activation="relu", kernel_initializer="he_normal"), nn.Dropout(0.1),
                           nn.Dense(4, activation=nn.LeakyReLU(0.2)), nn.Dense(1, activation="sigmoid")], seed=seed)
    model.compile("binary_crossentropy", "adam", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model, x, y


def test_round_trip_reproduces_predictions_exactly(tmp_path):
    model, x, y = trained()
    path = model.save(tmp_path / "model")
    assert path.name == "model.npz"
    loaded = nn.load_model(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[2].activation.alpha == 0.2
    assert loaded.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(model.evaluate(x, y, return_dict=True)["loss"])
    other = trained(seed=1)[0]
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_other_architecture_names_the_first_mismatching_tensor(tmp_path):
    model, x, _ = trained()
    path = model.save(tmp_path / "m.npz")
    wider = nn.Sequential([nn.Dense(9, activation="relu"), nn.Dropout(0.1), nn.Dense(4), nn.Dense(1)], seed=0).build((5,))
    with pytest.raises(ModelFileError, match=r"'layers.0.weight' has shape \(5, 8\) in the file, the model expects \(5, 9\)"):
        wider.load_weights(path)
    shorter = nn.Sequential([nn.Dense(8), nn.Dropout(0.1), nn.Dense(4)], seed=0).build((5,))
    with pytest.raises(ModelFileError, match="'layers.3.weight' the model does not have"):
        shorter.load_weights(path)


def test_pickle_payload_is_refused_and_not_executed(tmp_path, pickle_payload):
    payload, marker = pickle_payload
    config = {"format": "nnscratch-model", "version": 1, "input_shape": [1],
              "model": {"class": "Sequential", "config": {"layers": []}}}
    path = tmp_path / "evil.npz"
    np.savez(path, __config__=np.frombuffer(json.dumps(config).encode(), np.uint8), weights=payload)
    with pytest.raises(ModelFileError, match="pickle"):
        nn.load_model(path)
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(payload[0]))
    with pytest.raises(ModelFileError):
        nn.load_model(raw)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated"])
def test_garbage_files_get_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="bad.npz"):
        nn.load_model(path)


def test_truncated_model_file(tmp_path):
    model, _, _ = trained()
    path = model.save(tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        nn.load_model(path)


def test_unknown_version_and_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no model file"):
        nn.load_model(tmp_path / "missing.npz")
    config = {"format": "nnscratch-model", "version": 99, "input_shape": [1], "model": {}}
    np.savez(tmp_path / "v99.npz", __config__=np.frombuffer(json.dumps(config).encode(), np.uint8))
    with pytest.raises(ModelFileError, match="version 99"):
        nn.load_model(tmp_path / "v99.npz")


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    model, x, _ = trained()
    path = model.save(tmp_path / "m.npz")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
