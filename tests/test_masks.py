"""Masks (Keras's convention): ``Embedding(mask_zero=True)`` and ``Masking`` mark padding steps; layers that support
masking pass the mask on or use it, the others drop it with Keras's warning, and those whose Keras use of it
nnscratch lacks refuse it when the model is put together."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.autodiff.gradcheck import numeric_gradient, relative_error
from nnscratch.core.errors import InvalidValueError
from nnscratch.keras import layers

TOKENS = np.array([[3, 1, 4, 0, 0], [5, 0, 0, 0, 0], [2, 7, 1, 8, 2]])


def _pooled_tokens(dtype: str = "float32", mask_zero: bool = True) -> nn.Model:
    inputs = keras.Input(shape=(None,), dtype=dtype)  # (indices as whole floats)
    x = layers.Embedding(10, 4, mask_zero=mask_zero)(inputs)
    x = layers.Dense(3, activation="tanh")(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(2)(x))


def test_padding_does_not_change_a_masked_average() -> None:
    keras.utils.set_random_seed(0)
    model = _pooled_tokens()
    padded = np.concatenate([TOKENS, np.zeros((3, 6), int)], axis=1)
    np.testing.assert_allclose(model.predict(TOKENS), model.predict(padded), rtol=0, atol=1e-6)
    # the formula: the Dense(3) outputs averaged over the real steps only
    table = model.layers[1].embeddings.data  # (layers[0]: the InputLayer, as in Keras)
    dense = model.layers[2]
    h = np.tanh(table[TOKENS] @ dense.weight.data + dense.bias.data)
    real = (TOKENS != 0)[:, :, None]
    mean = (h * real).sum(axis=1) / real.sum(axis=1)
    head = model.layers[-1]
    np.testing.assert_allclose(model.predict(TOKENS), mean @ head.weight.data + head.bias.data, rtol=1e-5, atol=1e-6)
    # the same weights without the mask: the padding steps count
    unmasked = _pooled_tokens(mask_zero=False)
    unmasked.set_weights(model.get_weights())
    assert np.abs(unmasked.predict(padded) - model.predict(padded)).max() > 1e-3


def _parameter_gradient_errors(model: nn.Model, x: Any) -> dict[str, float]:
    """Finite differences of L = sum(model(x) * G) against backward, for every parameter (float64)."""
    rng = np.random.default_rng(1)
    out = model.forward(x, False)
    g = rng.standard_normal(out.shape)
    params = dict(model.named_parameters())
    for p in params.values():
        p.zero_grad()
    model.forward(x, False)
    model.backward(g.copy())
    analytic = {name: p.grad.copy() for name, p in params.items()}

    def f() -> float:
        return float(np.sum(model.forward(x, False) * g))
    return {name: relative_error(analytic[name], numeric_gradient(f, p.data)) for name, p in params.items()}


def test_masked_gradients_match_finite_differences() -> None:
    keras.utils.set_random_seed(1)
    errors = _parameter_gradient_errors(_pooled_tokens("float64"), TOKENS.astype("float64"))
    assert set(errors) >= {"layers.0.embeddings", "layers.1.weight", "layers.3.weight"}
    assert max(errors.values()) < 1e-7, errors
    inputs = keras.Input(shape=(4, 3), dtype="float64")
    x = layers.Dense(2)(layers.Masking(mask_value=0.0)(inputs))
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(x))
    data = np.random.default_rng(2).standard_normal((3, 4, 3))
    data[0, 2:] = 0.0
    data[1, 0] = 0.0
    errors = _parameter_gradient_errors(model, data)
    assert max(errors.values()) < 1e-7, errors


def test_masking_layer_marks_and_zeroes_padding_steps() -> None:
    layer = layers.Masking(mask_value=-1.0)
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [-1.0, 3.0]]], dtype="float32")
    np.testing.assert_array_equal(layer.compute_mask(x, None), [[True, False, True]])
    np.testing.assert_array_equal(layer(x), [[[1.0, 2.0], [0.0, 0.0], [-1.0, 3.0]]])
    inputs = keras.Input(shape=(3, 2))
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(layers.Masking(-1.0)(inputs)))
    np.testing.assert_allclose(model.predict(x), [[0.0, 2.5]])


def test_layers_without_masking_drop_the_mask_with_keras_warning() -> None:
    embedded = layers.Embedding(10, 4, mask_zero=True)(keras.Input(shape=(None,), dtype="int32"))
    assert embedded.masked
    with pytest.warns(UserWarning, match=r"Layer 'conv_drop' \(Conv1D\) does not support masking.*drops the mask"):
        convolved = layers.Conv1D(2, 2, name="conv_drop")(embedded)
    assert not convolved.masked
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning where the mask passes on or is used
        assert layers.Dropout(0.5)(layers.Dense(2)(embedded)).masked
        assert not layers.GlobalAveragePooling1D()(embedded).masked
        assert not layers.Conv1D(2, 2)(layers.Embedding(10, 4)(keras.Input(shape=(5,)))).masked


@pytest.mark.parametrize("make, match", [
    (lambda t: layers.BatchNormalization()(t), r"BatchNorm\) got an input with a mask .*BatchNormalization leaves"),
    (lambda t: layers.Softmax()(t), r"Softmax\) got an input with a mask .*takes the mask out"),
    (lambda t: layers.Add()([t, t]), r"Add\) got an input with a mask .*merges the masks"),
    (lambda t: layers.Concatenate()([t, t]), r"Concatenate\) got an input with a mask"),
])
def test_layers_that_would_use_the_mask_differently_refuse_it(make, match) -> None:
    embedded = layers.Embedding(10, 4, mask_zero=True)(keras.Input(shape=(None,), dtype="int32"))
    with pytest.raises(InvalidValueError, match=match):
        make(embedded)


def test_a_masked_output_leaves_the_padding_out_of_fit_and_predict_keeps_it() -> None:
    inputs = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model(inputs, layers.Dense(2)(layers.Embedding(10, 4, mask_zero=True)(inputs)))
    pred = model.predict(TOKENS)
    assert pred.shape == (3, 5, 2)  # predict gives every step, padding included
    model.compile(optimizer="adam", loss="mse")
    real = TOKENS != 0
    step_losses = np.square(pred).mean(axis=-1)  # against zero targets
    assert model.evaluate(TOKENS, np.zeros((3, 5, 2)), verbose=0) == pytest.approx(
        step_losses[real].mean(), rel=1e-6)  # Keras: the mean over the real steps
    assert step_losses[real].mean() != pytest.approx(step_losses.mean(), rel=1e-3)  # (the padding would change it)


def test_a_masked_output_refuses_a_loss_that_takes_no_mask() -> None:
    class Plain(nn.training.losses.Loss):
        def forward(self, pred: Any, target: Any) -> float:
            return 0.0

    inputs = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model(inputs, layers.Dense(2)(layers.Embedding(10, 4, mask_zero=True)(inputs)))
    model.compile(optimizer="adam", loss=Plain())
    with pytest.raises(InvalidValueError, match=r"model output 'dense\w*' carries a mask .*leaves the padding steps "
                                                r"out of the loss, and loss 'loss' \(Plain\) takes no mask"):
        model.fit(TOKENS, np.zeros((3, 5, 2)), verbose=0)


class _MaskedSum(keras.layers.Layer):
    """A Keras-style layer whose call takes the mask, as Keras passes it."""

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return keras.ops.sum(inputs, axis=1)
        return keras.ops.sum(inputs * keras.ops.expand_dims(keras.ops.cast(mask, inputs.dtype), -1), axis=1)


def test_a_custom_layer_gets_the_mask_in_call() -> None:
    inputs = keras.Input(shape=(None,), dtype="int32")
    embedding = layers.Embedding(10, 4, mask_zero=True)
    with pytest.warns(UserWarning, match="does not support masking"):  # (its output has no mask: Keras warns too)
        model = keras.Model(inputs, _MaskedSum()(embedding(inputs)))
    table = embedding.embeddings.data
    np.testing.assert_allclose(model.predict(TOKENS), (table[TOKENS] * (TOKENS != 0)[:, :, None]).sum(axis=1),
                               rtol=1e-6)


def test_training_and_saving_with_masks(tmp_path) -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, 400)
    tokens = np.where(np.arange(8) < lengths[:, None], rng.integers(1, 10, (400, 8)), 0)
    labels = ((tokens == 3).sum(axis=1) > 0).astype("float32")  # token 3 occurs
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(10, 8, mask_zero=True)(inputs)
    x = layers.Dropout(0.1)(layers.Dense(8, activation="relu")(x))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(layers.GlobalAveragePooling1D()(x)))
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(tokens, labels, epochs=20, batch_size=32, verbose=0)
    assert model.evaluate(tokens, labels, return_dict=True, verbose=0)["accuracy"] > 0.9
    model.save(tmp_path / "masked.keras")
    loaded = nn.load_model(tmp_path / "masked.keras")
    assert loaded.layers[1].mask_zero and loaded.layers[1].get_config()["mask_zero"]
    np.testing.assert_array_equal(loaded.predict(tokens[:20]), model.predict(tokens[:20]))


def test_onnx_export_refuses_masks(tmp_path) -> None:
    pytest.importorskip("onnx")
    inputs = keras.Input(shape=(5,), dtype="int32")
    model = keras.Model(inputs, layers.GlobalAveragePooling1D()(layers.Embedding(10, 4, mask_zero=True)(inputs)))
    with pytest.raises(InvalidValueError, match=r"ONNX export of a model with masks .* is not supported"):
        model.export(tmp_path / "masked.onnx")
    assert not (tmp_path / "masked.onnx").exists()
