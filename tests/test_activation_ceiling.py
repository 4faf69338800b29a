"""While a model file or JSON text is built, one sample's activations stay within ``MAX_TENSOR_BYTES`` each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import ModelFileError
from nnscratch.core.limits import activation_ceiling, check_activation
from nnscratch.io import model_file
from nnscratch.models.loading import model_from_json


def upsampling_chain(steps: int) -> nn.Sequential:
    """(8, 1) -> each UpSampling1D(4) makes the sequence 4 times longer: 8 * 4**steps values per sample."""
    model = nn.Sequential([nn.Input((8, 1))] + [nn.UpSampling1D(4, name=f"up{i}") for i in range(steps)] + [nn.Dense(1)], seed=0)
    model.build((8, 1))
    return model


def test_a_chain_that_grows_past_the_ceiling_is_refused_at_the_layer_that_crosses_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = upsampling_chain(5).save(tmp_path / "m.npz")  # outputs 32, 128, 512, 2048, 8192 values (float32)
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 4096)  # 1024 float32 values (the input shape fits)
    with pytest.raises(ModelFileError) as info:
        nn.load_model(path)
    message = str(info.value)
    assert str(path) in message and "an output of layer 'up3'" in message  # the 4th: 2048 values
    assert "(1, 2048, 1) (8,192 bytes for one sample)" in message and "MAX_TENSOR_BYTES" in message
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 1 << 20)
    x = np.ones((2, 8, 1), np.float32)
    assert nn.load_model(path).predict(x).shape == (2, 8192, 1)


def test_model_from_json_has_the_same_ceiling_and_none_without_max_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    text = upsampling_chain(3).to_json()
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 1024)  # 256 float32 values: the third output (512) is past
    with pytest.raises(ModelFileError, match="an output of layer 'up2'"):
        model_from_json(text)
    assert model_from_json(text, max_weights=None).predict(np.ones((1, 8, 1), np.float32)).shape == (1, 512, 1)


def test_a_functional_input_shape_past_the_ceiling_is_refused_before_it_is_allocated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = nn.Input((4,))
    path = nn.Model(x, nn.Dense(2)(x)).save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    record = json.loads(arrays["__config__"].tobytes().decode())
    assert record["model"]["config"]["input_layers"][0]["shape"] == [4]
    record["model"]["config"]["input_layers"][0]["shape"] = [1000, 4]  # 4,000 values; the file's input_shape: (4,)
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 1024)  # 256 float32 values
    arrays["__config__"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ModelFileError, match=r"an input of layer .* \(1, 1000, 4\)"):
        nn.load_model(path)


def test_there_is_no_ceiling_outside_a_build_from_a_record() -> None:
    check_activation((10**6, 10**6), 4, "anything")  # nothing is allocated by the check itself
    with activation_ceiling(100, "a test"):
        check_activation((5, 5), 4, "a 100-byte array")
        with pytest.raises(ModelFileError, match=r"makes a big one of shape \(5, 6\) \(120 bytes.*100 bytes \(a test\)"):
            check_activation((5, 6), 4, "a big one")
    with activation_ceiling(100, "a test"):  # a model built directly by its user: never limited
        pass
    assert upsampling_chain(3).predict(np.ones((1, 8, 1), np.float32)).shape == (1, 512, 1)


class SamplesOnly(nn.Layer):
    """A user's layer that cannot take an empty batch (NumPy refuses ``reshape(0, -1)``): built on one sample."""

    def forward_call(self, ctx, x):
        self._ensure_built(x)
        return x.reshape(len(x), -1)

    def backward_call(self, ctx, grad_out):
        return grad_out.reshape(len(grad_out), *self.input_shape)


def test_a_layer_that_needs_samples_is_built_on_one_whose_input_is_checked_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = nn.Input((8, 1))
    model = nn.Model(x, SamplesOnly(name="mine")(nn.UpSampling1D(64, name="up")(x)))  # (512, 1) -> (512,)
    path = model.save(tmp_path / "mine.npz")
    assert nn.load_model(path, custom_objects={"SamplesOnly": SamplesOnly}).predict(np.ones((2, 8, 1))).shape == (2, 512)
    monkeypatch.setattr(model_file, "MAX_TENSOR_BYTES", 1024)  # 256 float32 values: up's output is past it
    with pytest.raises(ModelFileError, match=r"an output of layer 'up' of shape \(1, 512, 1\)"):
        nn.load_model(path, custom_objects={"SamplesOnly": SamplesOnly})
    with activation_ceiling(1024, "a test"), pytest.raises(ModelFileError, match="an input of layer 'mine'"):
        SamplesOnly(name="mine").compute_output_shape((512, 1))  # checked before one sample is allocated
