"""A graph model called inside another takes the Keras masks of its inputs into its own graph (as Keras 3 does):
the same numbers as the same layers in one flat graph, forward, backward and in training; warnings and refusals
from the layers inside; masks that come out of the nested model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError

rng = np.random.default_rng(0)


def tokens(n: int = 6, steps: int = 7) -> np.ndarray:
    """Token ids ``(n, steps)`` in 1..19 with trailing padding (0) of different lengths."""
    x = rng.integers(1, 20, (n, steps)).astype(np.float64)
    for i, length in enumerate(rng.integers(2, steps, n)):
        x[i, length:] = 0
    return x


def nested_and_flat(inner_layers, head) -> tuple[nn.Model, nn.Model]:
    """``Embedding(mask_zero) -> Model(inner_layers) -> head`` and the same layers in one graph, same weights."""
    def build(nested: bool) -> nn.Model:
        nn.set_random_seed(3)
        ids = nn.Input((None,), dtype="float64")
        h = nn.Embedding(20, 8, mask_zero=True)(ids)
        layers = [make() for make in inner_layers]
        if nested:
            inner_in = nn.Input((None, 8), dtype="float64")
            t = inner_in
            for layer in layers:
                t = layer(t)
            h = nn.Model(inner_in, t)(h)
        else:
            for layer in layers:
                h = layer(h)
        return nn.Model(ids, head()(h))
    return build(True), build(False)


CASES = {
    "lstm": ([lambda: nn.Dense(8, activation="tanh"), lambda: nn.LSTM(5)], lambda: nn.Dense(1)),
    "mask out of the nested model": ([lambda: nn.Dense(6), lambda: nn.GRU(4, return_sequences=True)],
                                     nn.GlobalAveragePooling1D),
    "attention": ([lambda: nn.Dense(8), lambda: nn.GlobalAveragePooling1D()], lambda: nn.Dense(2)),
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_nested_model_gives_what_the_flat_graph_gives(case: str) -> None:
    nested, flat = nested_and_flat(*CASES[case])
    flat.set_weights(nested.get_weights())
    x = tokens()
    np.testing.assert_allclose(nested.predict(x), flat.predict(x), rtol=1e-12, atol=1e-12)
    padded = np.concatenate([x, np.zeros((len(x), 4))], axis=1)  # more padding changes nothing
    np.testing.assert_allclose(nested.predict(padded), flat.predict(x), rtol=1e-12, atol=1e-12)
    y = rng.standard_normal((len(x), nested.outputs[0].sample_shape[-1]))
    for model in (nested, flat):
        model.compile(loss="mse", optimizer=nn.SGD(lr=0.1))
        model.fit(x, y, epochs=2, batch_size=3, shuffle=False, verbose=0)
    for a, b in zip(nested.get_weights(), flat.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_finite_differences_through_a_nested_model_with_masks() -> None:
    from nnscratch.utils.gradcheck import check_module

    inner_in = nn.Input((None, 4), dtype="float64")
    inner = nn.Model(inner_in, nn.SimpleRNN(3, return_sequences=True)(nn.Dense(4)(inner_in)))
    x = nn.Input((None, 4), dtype="float64")
    model = nn.Model(x, nn.GlobalAveragePooling1D()(inner(nn.Masking(0.0)(x))))
    values = rng.standard_normal((3, 6, 4))
    values[0, 4:] = 0
    values[2, 2:] = 0
    errors = check_module(model, values)
    # (the input's own: a zero step moved by the finite difference stops being padding, so it is not checked)
    assert max(e for name, e in errors.items() if name != "input") < 1e-6, errors
    masked_out = nn.Model(x, nn.GlobalAveragePooling1D()(inner(x)))  # without the mask the padding counts
    assert not np.allclose(masked_out.predict(values), model.predict(values))


def test_a_layer_inside_that_drops_the_mask_warns_when_the_masked_input_arrives() -> None:
    inner_in = nn.Input((None, 8), dtype="float64")
    inner = nn.Model(inner_in, nn.Conv1D(4, 3, padding="same", name="inner_conv")(inner_in))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing when the nested model is built on its own
        ids = nn.Input((None,), dtype="float64")
        h = nn.Embedding(20, 8, mask_zero=True)(ids)
    with pytest.warns(UserWarning, match="inner_conv"):
        out = inner(h)
    model = nn.Model(ids, nn.GlobalAveragePooling1D()(out))
    x = tokens()
    plain = nn.Model(ids, nn.GlobalAveragePooling1D()(inner(nn.Embedding(20, 8)(ids))))
    plain.layers[1].set_weights(model.layers[1].get_weights())
    np.testing.assert_allclose(model.predict(x), plain.predict(x), rtol=1e-6)  # the mask stopped inside


def test_a_layer_inside_that_refuses_masks_raises_when_the_masked_input_arrives() -> None:
    inner_in = nn.Input((None, 8), dtype="float64")
    inner = nn.Model(inner_in, nn.BatchNorm(name="inner_bn")(inner_in))
    with pytest.raises(InvalidValueError, match="inner_bn"):
        inner(nn.Embedding(20, 8, mask_zero=True)(nn.Input((None,), dtype="float64")))


def test_a_nested_sequential_and_a_model_with_two_inputs_one_masked() -> None:
    ids, extra = nn.Input((None,), dtype="float64"), nn.Input((None, 3), dtype="float64")
    a_in, b_in = nn.Input((None, 8), dtype="float64"), nn.Input((None, 3), dtype="float64")
    lstm, pool = nn.LSTM(4), nn.GlobalAveragePooling1D()
    inner = nn.Model([a_in, b_in], [lstm(a_in), pool(b_in)])
    embedding = nn.Embedding(20, 8, mask_zero=True)
    first, second = inner([embedding(ids), extra])
    model = nn.Model([ids, extra], nn.Concatenate()([first, second]))
    flat = nn.Model([ids, extra], nn.Concatenate()([lstm(embedding(ids)), pool(extra)]))
    x, e = tokens(4, 6), rng.standard_normal((4, 6, 3))
    np.testing.assert_allclose(model.predict([x, e]), flat.predict([x, e]), rtol=1e-12)
    x_longer = np.concatenate([x, np.zeros((4, 3))], axis=1)
    np.testing.assert_allclose(model.predict([x_longer, e])[:, :4], model.predict([x, e])[:, :4], rtol=1e-12)
    seq = nn.Sequential([nn.Input((None, 8), dtype="float64"), nn.Dense(8), nn.LSTM(3)])
    nested_seq = nn.Model(ids, seq(embedding(ids)))
    np.testing.assert_allclose(nested_seq.predict(x_longer), nested_seq.predict(x), rtol=1e-12)


def test_compute_mask_of_a_model_runs_its_graph() -> None:
    inner_in = nn.Input((None, 2), dtype="float64")
    inner = nn.Model(inner_in, nn.Dense(3)(inner_in))
    inner(nn.Masking()(nn.Input((None, 2), dtype="float64")))
    x = rng.standard_normal((2, 4, 2))
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    np.testing.assert_array_equal(inner.compute_mask(x, mask), mask)
    assert inner.compute_mask(x, None) is None
