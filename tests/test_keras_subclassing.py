"""Keras's subclassing API on nnscratch: Model subclasses with call(), layers composed of layers, pinned
training= on graph nodes, Metric subclasses with state variables, Mean/Sum, weighted validation data."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import NNScratchError, keras
from nnscratch.keras import layers, ops
from nnscratch.utils.gradcheck import check_module


class Twice(keras.Model):
    """One Dense called twice, layers in a list, BatchNorm following the training argument."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.shared = layers.Dense(4, activation="tanh")
        self.blocks = [layers.Dense(4), layers.Dense(2)]
        self.norm = layers.BatchNormalization()
        self.modes: list = []

    def call(self, inputs, training=None):
        self.modes.append(training)
        h = self.shared(inputs)
        h = self.shared(h) + h
        h = self.norm(h, training=training)
        for block in self.blocks:
            h = block(h)
        return ops.sin(h)


class Composite(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(4)

    def call(self, inputs):
        return ops.tanh(self.inner(ops.tanh(self.inner(inputs))))


def data(n=64, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


@pytest.mark.parametrize("training", [False, True])
def test_subclassed_model_gradients_with_a_layer_called_twice(training: bool) -> None:
    model = Twice()
    model.set_dtype("float64")
    x = np.random.default_rng(1).standard_normal((5, 4))
    errors = check_module(model, x, training=training)
    assert set(errors) >= {"input", "shared.weight", "blocks.1.bias", "norm.gamma"}
    assert max(errors.values()) < 1e-6, errors


def test_composite_layer_gradients_and_training_as_first_layer() -> None:
    layer = Composite()
    layer.set_dtype("float64")
    errors = check_module(layer, np.random.default_rng(2).standard_normal((3, 4)))
    assert max(errors.values()) < 1e-6, errors
    inputs = keras.Input((4,))
    composite = Composite()
    model = keras.Model(inputs, layers.Dense(1)(composite(inputs)))  # nothing before it needs dL/dx
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    before = composite.get_weights()
    model.fit(x, y.astype("float32"), epochs=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, composite.get_weights()))


def test_subclassed_model_tracks_layers_trains_and_reports_training_mode() -> None:
    keras.utils.set_random_seed(0)
    model = Twice()
    assert [layer.name for layer in model.layers] == [model.shared.name, model.blocks[0].name,
                                                      model.blocks[1].name, model.norm.name]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(True),
                  metrics=["accuracy"])
    x, y = data(256)
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9 and history.history["loss"][-1] < history.history["loss"][0]
    model.modes.clear()
    model.predict(x[:3])
    assert model.modes == [False]
    model.fit(x[:8], y[:8], verbose=0)
    assert True in model.modes
    assert len(model.weights) == 10 and len(model.trainable_weights) == 8
    assert model.get_weights()[0].shape == (4, 4)  # the shared Dense's kernel first, in assignment order
    text = model.summary(print_fn=None)
    assert "blocks" not in text and f"{model.norm.name} (BatchNorm)" in text
    model.trainable = False
    assert model.trainable_weights == [] and not model.shared.trainable


def test_subclassed_model_weights_files_and_load_model(tmp_path) -> None:
    keras.utils.set_random_seed(1)
    model = Twice()
    x, _ = data(8)
    expected = model.predict(x)
    model.save_weights(tmp_path / "w.weights.h5")
    twin = Twice()
    twin.build((None, 4))
    twin.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(twin.predict(x), expected, rtol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", custom_objects={"Twice": Twice})
    assert type(loaded) is Twice
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6)


def test_subclassed_model_inside_a_functional_model_gradients() -> None:
    inputs = keras.Input((4,), dtype="float64")
    inner = Twice()
    outputs = inner(layers.Dense(4, activation="tanh")(inputs))
    assert outputs.shape == (None, 2)
    model = keras.Model(inputs, outputs)
    assert model.count_params() == layers.Dense(4).count_params() + 0 + sum(w.size for w in inner.get_weights()) + 20
    errors = check_module(model, np.random.default_rng(3).standard_normal((5, 4)), training=True)
    assert max(errors.values()) < 1e-6, errors


def test_add_loss_in_a_subclassed_model_is_part_of_the_loss() -> None:
    class Penalized(keras.Model):
        def __init__(self, weight):
            super().__init__()
            self.dense = layers.Dense(2)
            self.weight = weight

        def call(self, inputs):
            out = self.dense(inputs)
            self.add_loss(self.weight * ops.sum(ops.square(out)))
            return out

    x, _ = data(16)
    y = np.zeros((16, 2), "float32")
    plain, penalized = Penalized(0.0), Penalized(0.5)
    penalized.build((None, 4))
    plain.build((None, 4))
    penalized.set_weights(plain.get_weights())
    for m in (plain, penalized):
        m.compile(optimizer="sgd", loss="mse")
    mse = plain.evaluate(x, y)
    squares = float(np.sum(plain.predict(x) ** 2))
    assert penalized.evaluate(x, y, batch_size=16) == pytest.approx(mse + 0.5 * squares, rel=1e-5)
    layer_free = Penalized(0.5)
    layer_free.set_dtype("float64")
    errors = check_module(layer_free, np.random.default_rng(4).standard_normal((3, 4)))
    assert max(errors.values()) < 1e-6, errors


def test_training_pinned_on_a_functional_node(tmp_path) -> None:
    keras.utils.set_random_seed(2)
    base = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.BatchNormalization()])
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(1)(base(inputs, training=False)))
    model.compile(optimizer="adam", loss="mse")
    x, y = data(64)
    moving = [w.data.copy() for w in base.layers[1].non_trainable_weights]
    kernel = base.layers[0].get_weights()[0].copy()
    model.fit(x, y.astype("float32"), epochs=2, verbose=0)
    assert all(np.array_equal(a, b.data) for a, b in zip(moving, base.layers[1].non_trainable_weights))
    assert not np.array_equal(kernel, base.layers[0].get_weights()[0])  # trainable, but BatchNorm in inference mode
    model.save(tmp_path / "pinned.keras")
    assert [n.training for n in keras.models.load_model(tmp_path / "pinned.keras").graph.nodes] == [False, None]

    drop_in = keras.Input((4,))
    mc = keras.Model(drop_in, layers.Dropout(0.5)(drop_in, training=True))  # Monte-Carlo dropout at predict
    out = mc.predict(np.ones((100, 4), "float32"))
    assert np.any(out == 0) and np.any(out == 2)


def test_stateful_custom_metric_resets_each_epoch_and_for_validation() -> None:
    class Count(keras.metrics.Metric):
        def __init__(self, name="count", **kwargs):
            super().__init__(name=name, **kwargs)
            self.seen = self.add_weight(name="seen")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.seen.assign_add(ops.cast(ops.shape(y_pred)[0], "float32"))

        def result(self):
            return self.seen

    assert Count.stateful
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[Count()])
    x, y = data(50)
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0)
    assert history.history["count"] == [40.0] * 3 and history.history["val_count"] == [10.0] * 3
    assert model.evaluate(x, y, return_dict=True)["count"] == 50.0


def test_metric_variables_and_default_reset() -> None:
    class Both(keras.metrics.Metric):
        def __init__(self):
            super().__init__(name="both")
            self.total = self.add_weight(name="total", shape=(2,), initializer="ones")
            self.count = self.add_variable(name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.total.assign_add(ops.sum(y_pred, axis=0))
            self.count.assign_add(len(y_pred))

        def result(self):
            return ops.sum(self.total) / self.count

    metric = Both()
    assert [v.name for v in metric.variables] == ["total", "count"] and metric.total.numpy().tolist() == [1, 1]
    value = metric(None, np.array([[1.0, 2.0], [3.0, 4.0]]))  # Keras's metric(y_true, y_pred): update, then result
    assert value == pytest.approx(12.0 / 2)
    metric.reset_state()
    assert metric.total.numpy().tolist() == [0, 0] and float(metric.count) == 0.0
    assert float(metric.count + 1) == 1.0 and float(2 * metric.count) == 0.0
    with pytest.raises(NNScratchError):
        metric.total.assign(np.zeros(3))


def test_mean_sum_and_wrapper() -> None:
    mean = keras.metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])
    mean.update_state(np.array([[4.0], [8.0]]), sample_weight=[2.0, 0.0])
    assert mean.result() == pytest.approx((6.0 + 8.0) / 5.0)
    mean.reset_state()
    assert mean.result() == 0.0
    total = keras.metrics.Sum()
    total.update_state([1.0, 2.0], sample_weight=[1.0, 3.0])
    assert total.result() == pytest.approx(7.0)
    wrapped = keras.metrics.MeanMetricWrapper(keras.metrics.sparse_categorical_accuracy, name="acc")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[wrapped, "sparse_categorical_accuracy"])
    x, y = data(40)
    logs = model.evaluate(x, y, return_dict=True)
    assert logs["acc"] == pytest.approx(logs["sparse_categorical_accuracy"])


def test_validation_data_with_sample_weights() -> None:
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    x, y = data(40)
    y = y.astype("float32")
    weights = np.r_[np.ones(20), np.zeros(20)]
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, weights))
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[:20], y[:20]) / 2, rel=1e-5)
    assert model.evaluate(x, y, sample_weight=weights) == pytest.approx(history.history["val_loss"][0], rel=1e-6)
    with pytest.raises(NNScratchError, match="sample_weight"):
        model.fit(x, y, verbose=0, validation_data=(x, y, y, y))


def test_ops_constants() -> None:
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.ones(4).shape == (4,)
    np.testing.assert_array_equal(ops.full((2,), 7.0), [7.0, 7.0])
    np.testing.assert_array_equal(ops.full_like(np.zeros(3, "int32"), 2), [2, 2, 2])
    assert ops.zeros((2,), dtype="int32").dtype == np.int32
    assert ops.ones_like(ops.zeros((2, 2))).sum() == 4 and ops.zeros_like(np.ones(3)).sum() == 0
