"""Data-parallel training steps (nnscratch.parallel): the batch split across threads gives the batch's gradient."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError
from nnscratch.training import parallel


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    nn.set_num_threads(None)


def cnn(dtype="float64", seed=0):
    return nn.Sequential([nn.Conv2D(4, 3, padding="same", activation="relu"), nn.MaxPool2D(2),
                          nn.Conv2D(6, 3, strides=2, padding=1), nn.ReLU(), nn.AvgPool2D(2), nn.Flatten(),
                          nn.Dense(5, activation="tanh"), nn.Dense(3), nn.Softmax()], seed=seed, dtype=dtype)


def data(n=50, dtype="float64"):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 12, 12, 2)).astype(dtype), rng.integers(0, 3, n)


def gradients(threads: int, n: int) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
    """Loss, output and gradients of one step on ``n`` samples with ``threads`` threads."""
    nn.set_num_threads(threads)
    model = cnn().compile("categorical_crossentropy", nn.SGD(lr=0.1))  # the step leaves the gradients as they are
    x, y = data(n)
    model.build(x.shape[1:])
    model.trainer.prepare(training=True)
    value = model.train_step(x, y)["loss"]
    out = model.trainer.last_outputs[0]
    return value, out.copy(), {name: p.grad.copy() for name, p in model.named_parameters()}


@pytest.mark.parametrize("threads,n", [(2, 50), (3, 25), (4, 37)])
def test_split_step_gives_the_whole_batch_gradient(threads, n):
    value, out, grads = gradients(1, n)
    value_t, out_t, grads_t = gradients(threads, n)
    assert value_t == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(out_t, out, rtol=1e-12, atol=1e-14)
    for name, g in grads.items():
        np.testing.assert_allclose(grads_t[name], g, rtol=1e-10, atol=1e-13, err_msg=name)


def test_chunks_cover_the_batch():
    assert parallel.chunk_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert parallel.chunk_bounds(4, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def train(threads: int, epochs: int = 2) -> nn.Sequential:
    nn.set_num_threads(threads)
    model = cnn("float32", seed=3).compile("categorical_crossentropy", nn.Adam(lr=1e-2), metrics=["accuracy"])
    x, y = data(96, "float32")
    model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.25, verbose=0)
    return model


def test_seeded_threaded_training_is_reproducible_and_matches_one_thread():
    a, b, one = train(2), train(2), train(1)
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), one.parameters()):
        assert np.array_equal(p.data, q.data), name  # same thread count: the same numbers
        np.testing.assert_allclose(p.data, r.data, rtol=1e-4, atol=1e-5, err_msg=name)  # to rounding
    assert a.history.to_dict()["accuracy"] == b.history.to_dict()["accuracy"]


def test_models_with_random_or_batch_dependent_layers_or_only_dense_layers_stay_on_one_thread():
    nn.set_num_threads(2)
    x, y = data(32, "float32")
    for extra in (nn.Dropout(0.5), nn.BatchNorm(), nn.RandomFlip()):
        model = nn.Sequential([nn.Conv2D(2, 3), extra, nn.Flatten(), nn.Dense(3), nn.Softmax()], seed=0)
        model.compile("categorical_crossentropy", "sgd").fit(x, y, epochs=1, batch_size=16, verbose=0)
        assert model.trainer.parallel is None, type(extra).__name__
    mlp = nn.Sequential([nn.Flatten(), nn.Dense(8, activation="relu"), nn.Dense(3), nn.Softmax()], seed=0)
    mlp.compile("categorical_crossentropy", "sgd").fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert mlp.trainer.parallel is None  # matrix products only: the BLAS already uses the cores
    model = cnn("float32").compile("categorical_crossentropy", "sgd")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert model.trainer.parallel is not None and model.trainer.parallel.threads_for(16) == 2
    assert model.trainer.parallel.threads_for(15) == 1  # chunks of fewer than MIN_CHUNK samples: no split


def test_replaced_weight_arrays_rebuild_the_replicas():
    nn.set_num_threads(2)
    model = train(2, epochs=1)
    weight = model.layers[0].weight
    weight.data = weight.data.copy()  # not in place (optimizers and load_state_dict never do this)
    parallel_step = model.trainer.parallel
    x, y = data(32, "float32")
    parallel_step.step([x], [y], 2)
    replica, copies = parallel_step.replicas[0]
    assert copies[0].data is weight.data and replica.model.layers[0].weight is copies[0]


def test_thread_count_settings(monkeypatch):
    monkeypatch.setenv("NNSCRATCH_NUM_THREADS", "3")
    assert nn.get_num_threads() == 3
    nn.set_num_threads(1)
    assert nn.get_num_threads() == 1
    nn.set_num_threads(None)
    monkeypatch.delenv("NNSCRATCH_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert nn.get_num_threads() == 2
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(InvalidValueError, match="positive integer"):
            nn.set_num_threads(bad)


class FailsOnLargeInput(nn.Module):
    """An identity layer that raises for inputs above 100 (to make one chunk fail)."""

    per_sample = True
    gains_from_threads = True

    def forward(self, x, training=False):
        self._ensure_built(x)
        if (x > 100).any():
            raise ValueError("input above 100")
        return x

    def backward(self, grad_out):
        return grad_out


def test_an_error_in_a_worker_chunk_reaches_the_caller():
    nn.set_num_threads(2)
    model = nn.Sequential([FailsOnLargeInput(), nn.Flatten(), nn.Dense(3), nn.Softmax()], seed=0)
    model.compile("categorical_crossentropy", "sgd")
    x, y = data(32, "float32")
    model.build(x.shape[1:])
    model.trainer.prepare(training=True)
    before = model.layers[2].weight.data.copy()
    x[-1] = 1000  # in the second chunk, which a worker thread runs
    with pytest.raises(ValueError, match="above 100"):
        model.train_step(x, y)
    assert np.array_equal(model.layers[2].weight.data, before)  # no step was taken


def residual_cnn() -> nn.Model:
    """A graph model (a skip connection around two convolutions), no BatchNorm: eligible for threads."""
    x_in = nn.Input(shape=(12, 12, 2), dtype="float64")
    h = nn.Conv2D(4, 3, padding="same", activation="relu")(x_in)
    h = nn.Add()([nn.Conv2D(4, 3, padding="same")(nn.ReLU()(nn.Conv2D(4, 3, padding="same")(h))), h])
    out = nn.Dense(3, activation="softmax")(nn.GlobalAvgPool2D()(nn.MaxPool2D()(nn.ReLU()(h))))
    return nn.Model(x_in, out)


def test_a_graph_model_splits_batches_across_threads_with_the_same_gradient():
    results = []
    x, y = data(40)
    for threads in (1, 2):
        nn.set_num_threads(threads)
        nn.set_random_seed(0)
        model = residual_cnn().compile("categorical_crossentropy", nn.SGD(lr=0.1))
        model.trainer.prepare(training=True)
        assert (model.trainer.parallel is not None) and model.trainer.parallel.threads_for(40) == threads
        value = model.train_step(x, y)["loss"]
        results.append((value, {name: p.grad.copy() for name, p in model.named_parameters()}))
    nn.set_random_seed(None)
    (v1, g1), (v2, g2) = results
    assert v2 == pytest.approx(v1, rel=1e-12)
    for name in g1:
        np.testing.assert_allclose(g2[name], g1[name], rtol=1e-10, atol=1e-13, err_msg=name)
