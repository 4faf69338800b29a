"""A random layer's own ``seed=`` (Keras's ``Dropout(0.5, seed=3)``): the layer draws from a generator of its own,
seeded with it, whatever the model's generator; the seed survives saving, and checkpoints resume its draws."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.models.loading import model_from_json
from nnscratch.utils.gradcheck import check_module

X = np.ones((4, 50), np.float32)


def draws(layer: nn.Layer, model_seed: int, calls: int = 3) -> list[np.ndarray]:
    model = nn.Sequential([layer], seed=model_seed).build((50,))
    return [model.forward(X, training=True) for _ in range(calls)]


def test_a_seeded_dropout_draws_from_its_own_generator() -> None:
    ours = draws(nn.Dropout(0.5, seed=3), model_seed=0)
    expected = np.random.default_rng(3)
    for out in ours:
        keep = expected.random(X.shape) < 0.5
        np.testing.assert_array_equal(out, np.where(keep, 2.0, 0.0))
    assert not np.array_equal(ours[0], ours[1])  # a stream of masks, not one mask


def test_the_model_seed_and_the_global_seed_leave_a_seeded_layer_alone() -> None:
    first = draws(nn.Dropout(0.5, seed=3), model_seed=0)
    nn.set_random_seed(11)
    try:
        other = draws(nn.Dropout(0.5, seed=3), model_seed=1)
    finally:
        nn.set_random_seed(None)
    for a, b in zip(first, other):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(draws(nn.Dropout(0.5, seed=4), 0)[0], first[0])
    unseeded = [draws(nn.Dropout(0.5), model_seed=s)[0] for s in (0, 1)]
    assert not np.array_equal(*unseeded)  # without a layer seed the model's generator decides


def test_a_functional_model_keeps_the_layer_generator() -> None:
    inputs = nn.Input(shape=(8, 8, 1))
    flip = nn.RandomFlip("horizontal", seed=5)
    model = nn.Model(inputs, nn.Flatten()(flip(inputs)), seed=0)
    assert flip.rng is not model.rng
    x = np.arange(2 * 64, dtype=np.float32).reshape(2, 8, 8, 1)
    inputs2 = nn.Input(shape=(8, 8, 1))
    twin = nn.Model(inputs2, nn.Flatten()(nn.RandomFlip("horizontal", seed=5)(inputs2)), seed=1)
    for _ in range(3):
        np.testing.assert_array_equal(model.forward(x, training=True), twin.forward(x, training=True))


@pytest.mark.parametrize("make", [
    lambda: nn.Dropout(0.3, seed=2),
    lambda: nn.SpatialDropout2D(0.3, seed=2),
    lambda: nn.GaussianNoise(0.5, seed=2),
    lambda: nn.RandomRotation(0.2, seed=2),
    lambda: nn.RandomContrast(0.3, seed=2),
], ids=["Dropout", "SpatialDropout2D", "GaussianNoise", "RandomRotation", "RandomContrast"])
def test_the_seed_survives_json_and_files(make, tmp_path) -> None:
    layer = make()
    model = nn.Sequential([layer], seed=0).build((6, 6, 2))
    x = np.random.default_rng(0).random((3, 6, 6, 2)).astype(np.float32)
    copy = model_from_json(model.to_json())
    assert copy.layers[0].seed == 2
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    assert loaded.layers[0].seed == 2
    reference = nn.Sequential([make()], seed=5).build((6, 6, 2)).forward(x, training=True)
    for other in (copy, loaded):
        np.testing.assert_array_equal(other.forward(x, training=True), reference)


@pytest.mark.parametrize("make", [lambda: nn.Dropout(0.4, seed=9), lambda: nn.GaussianDropout(0.4, seed=9),
                                  lambda: nn.AlphaDropout(0.2, seed=9)], ids=["dropout", "gaussian", "alpha"])
def test_a_resumed_run_continues_the_layer_draws(make, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)

    def model() -> nn.Sequential:
        net = nn.Sequential([nn.Dense(16, activation="relu"), make(), nn.Dense(3), nn.Softmax()], seed=1)
        return net.compile("categorical_crossentropy", nn.Adam(lr=0.01))

    straight = model()
    straight.fit(x, y, epochs=4, batch_size=16, verbose=0)
    model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[nn.Checkpoint(tmp_path)])
    resumed = model()
    resumed.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[nn.Checkpoint(tmp_path)], resume_from=tmp_path)
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value, err_msg=name)


def test_gradient_checks_reseed_seeded_layers() -> None:
    layer = nn.Dropout(0.5, seed=1)
    x = np.random.default_rng(2).standard_normal((3, 7))
    errors = check_module(nn.Sequential([nn.Dense(4), layer], seed=0), x, training=True)
    assert max(errors.values()) < 1e-7
    own = layer.rng
    nn.Sequential([layer], seed=3)  # a model's generator does not replace the layer's
    assert layer.rng is own
    layer.set_rng(np.random.default_rng(0), seeded=True)
    assert layer.rng is not own
