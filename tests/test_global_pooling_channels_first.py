"""Keras's ``data_format="channels_first"`` for ``GlobalAveragePooling1D``, ``GlobalMaxPooling1D`` and
``GlobalMaxPooling2D``: ``(N, C, *spatial)`` pooled over the axes after the channels, with ``keepdims``, the
average's Keras mask ``(N, T)`` on the steps axis 2, exact gradients, configs and files."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.autodiff.gradcheck import numeric_gradient, relative_error
from nnscratch.core.call import Call
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

TOL = 1e-7
CASES = [(nn.GlobalAveragePooling1D, (3, 4, 6)), (nn.GlobalMaxPooling1D, (3, 4, 6)),
         (nn.GlobalMaxPooling2D, (3, 4, 5, 2))]


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize(("cls", "shape"), CASES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_values_shapes_and_exact_gradients(cls, shape, keepdims):
    x = normal(*shape)
    reduce = x.max if "Max" in cls.__name__ else x.mean
    spatial = tuple(range(2, len(shape)))
    layer = cls(data_format="channels_first", keepdims=keepdims).set_dtype(np.float64)
    np.testing.assert_allclose(layer.forward(x), reduce(axis=spatial, keepdims=keepdims), rtol=1e-12)
    channels_last = cls(keepdims=False).set_dtype(np.float64)  # the same numbers as the channels-last layer
    np.testing.assert_allclose(layer.forward(x).reshape(len(x), -1),
                               channels_last.forward(np.moveaxis(x, 1, -1)), rtol=1e-12)
    errors = check_module(cls(data_format="channels_first", keepdims=keepdims), x)
    assert errors["input"] < TOL
    symbolic = cls(data_format="channels_first", keepdims=keepdims)(nn.Input(shape=shape[1:]))
    assert symbolic.sample_shape == ((shape[1], *[1] * len(spatial)) if keepdims else (shape[1],))


def test_max_routes_the_gradient_to_the_first_maximum_of_each_channel():
    x = np.zeros((1, 2, 2, 2), np.float32)
    x[0, 1, 0, 1] = x[0, 1, 1, 1] = 3  # channel 1: a tie, at (0, 1) first
    pool = nn.GlobalMaxPooling2D(data_format="channels_first")
    np.testing.assert_array_equal(pool.forward(x), [[0, 3]])
    dx = pool.backward(np.array([[5.0, 7.0]], np.float32))
    assert dx.shape == x.shape and dx[0, 0, 0, 0] == 5 and dx[0, 1, 0, 1] == 7 and dx.sum() == 12
    assert dx.flags.c_contiguous


def masked_mean_keras(x, mask):
    """Keras's formula: sum(where(mask, x, 0), steps) / sum(mask, steps), the steps axis 2."""
    m = mask[:, None, :].astype(x.dtype)
    return (np.where(m > 0, x, 0)).sum(axis=2) / m.sum(axis=2)


def test_average_with_a_keras_mask_on_the_steps_axis_and_its_gradient():
    x = normal(3, 4, 6)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1]], bool)
    layer = nn.GlobalAveragePooling1D(data_format="channels_first").set_dtype(np.float64)
    layer.build((4, 6))
    g = normal(3, 4, seed=1)

    def forward():
        ctx = Call()
        ctx.mask = mask
        return ctx, layer.forward_call(ctx, x)

    ctx, y = forward()
    np.testing.assert_allclose(y, masked_mean_keras(x, mask), rtol=1e-12)
    dx = layer.backward_call(ctx, g)
    assert dx.shape == x.shape and np.all(dx[0, :, 3:] == 0)  # padding steps get no gradient
    assert relative_error(dx, numeric_gradient(lambda: float(np.sum(forward()[1] * g)), x)) < TOL
    ctx = Call()
    ctx.mask = mask[:, :4]  # a mask over the channels axis is not the steps' mask
    with pytest.raises(ShapeError, match=r"mask of shape \(3, 4\).*expected \(samples, steps\) = \(3, 6\)"):
        layer.forward_call(ctx, x)


class StepsLast(nn.Layer):
    """``(N, T, C) -> (N, C, T)``, passing the mask ``(N, T)`` on (as Keras's layers before a channels-first pool)."""

    supports_masking = True

    def forward_call(self, ctx, x):
        return np.ascontiguousarray(x.transpose(0, 2, 1))

    def backward_call(self, ctx, grad_out):
        return np.ascontiguousarray(grad_out.transpose(0, 2, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[1], input_shape[0])


def test_a_masked_model_trains_through_a_channels_first_average():
    inputs = nn.Input(shape=(5, 3), dtype="float64")
    pooled = nn.GlobalAveragePooling1D(data_format="channels_first")(StepsLast()(nn.Masking(0.0)(inputs)))
    assert not pooled.masked
    model = nn.Model(inputs, nn.Dense(1)(pooled), seed=0)
    x = normal(4, 5, 3)
    x[0, 3:] = 0.0  # padding steps
    x[2, 1] = 0.0
    keep = np.any(x != 0, axis=-1)
    want = masked_mean_keras(x.transpose(0, 2, 1), keep)
    np.testing.assert_allclose(model.layers[-2].forward(x.transpose(0, 2, 1)), x.mean(axis=1), rtol=1e-12)
    dense = model.layers[-1]
    np.testing.assert_allclose(model.predict(x), want @ dense.weight.data + dense.bias.data, rtol=1e-12)
    errors = check_module(model, x)  # (not the input's: a step of zeros moved by the differences is no padding)
    assert max(e for name, e in errors.items() if name != "input") < TOL


@pytest.mark.parametrize(("cls", "shape"), CASES)
def test_config_files_and_errors(cls, shape, tmp_path):
    layer = cls(data_format="channels_first", keepdims=True)
    config = layer.get_config()
    assert config["data_format"] == "channels_first" and config["keepdims"] is True
    copy = cls.from_config(config)
    assert copy.data_format == "channels_first" and copy.keepdims
    assert cls().get_config()["data_format"] == "channels_last"
    assert cls.from_config({"keepdims": False}).data_format == "channels_last"  # configs without it (older files)
    model = nn.Sequential([nn.Input(shape=shape[1:], dtype="float64"), layer])
    again = nn.load_model(model.save(tmp_path / "m.npz"))
    assert again.layers[-1].data_format == "channels_first"
    x = normal(*shape)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    with pytest.raises(InvalidValueError, match="data_format must be 'channels_last' or 'channels_first'"):
        cls(data_format="NCHW")
    wrong = (2, *shape[1:], 1)
    with pytest.raises(ShapeError, match=r"expects inputs of shape \(batch, channels, "):
        cls(data_format="channels_first").forward(np.zeros(wrong, np.float32))


def test_an_empty_batch_gives_the_shapes_of_one_sample():
    for cls, shape in CASES:
        layer = cls(data_format="channels_first")
        assert layer.forward(np.zeros((0, *shape[1:]), np.float32)).shape == (0, shape[1])
