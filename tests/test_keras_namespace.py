"""``nnscratch.keras``: Keras 3's names for nnscratch's own objects, and the names it refuses."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError, NNScratchError


def test_every_import_form_works_and_is_nnscratch_itself() -> None:
    import nnscratch.keras as k
    from nnscratch.keras import (  # noqa: F401
        activations,
        callbacks,
        datasets,
        initializers,
        layers,
        losses,
        metrics,
        models,
        ops,
        optimizers,
        regularizers,
        utils,
    )
    assert k is keras and ops is nn.ops and importlib.import_module("nnscratch.keras.ops") is nn.ops
    assert keras.layers.Dense is nn.Dense and keras.Model is nn.Model and keras.Sequential is nn.Sequential
    assert keras.layers.MaxPooling2D is nn.MaxPool2D and keras.layers.BatchNormalization is nn.BatchNorm
    assert keras.layers.GlobalAveragePooling2D is nn.GlobalAvgPool2D and keras.Input is nn.Input
    assert keras.optimizers.Adam is nn.Adam and keras.callbacks.EarlyStopping is nn.EarlyStopping
    assert keras.models.load_model is nn.load_model and keras.utils.set_random_seed is nn.set_random_seed


@pytest.mark.parametrize("name", ["layers.Sequential", "layers.StringLookup", "layers.TextVectorization", "mixed_precision",
                                  "distribution", "optimizers.Adadelta", "callbacks.TensorBoard", "utils.plot_model",
                                  "datasets.cifar10", "utils.text_dataset_from_directory", "losses.Dice"])
def test_names_nnscratch_cannot_run_raise_its_error_with_a_reason(name: str) -> None:
    module, attr = (f"keras.{name}".rsplit(".", 1))
    owner = eval(module, {"keras": keras})
    with pytest.raises(NNScratchError, match=f"{attr} is (not available in nnscratch|not a name)") as info:
        getattr(owner, attr)
    assert "docs/keras.md" in str(info.value)


def test_every_refused_layer_is_really_missing_and_the_added_ones_resolve() -> None:
    """The refusal list names no layer nnscratch has (a layer added later is found under Keras's name)."""
    from nnscratch.keras.layers import REFUSED

    for name in REFUSED:
        with pytest.raises(NNScratchError):
            getattr(keras.layers, name)
    for name in ["Conv1D", "Conv2DTranspose", "Embedding", "LayerNormalization", "UpSampling2D", "Lambda",
                 "GlobalMaxPooling2D", "MaxPooling1D", "ZeroPadding2D", "Cropping2D"]:
        assert getattr(keras.layers, name).__module__.startswith("nnscratch.layers")


def test_a_misspelt_name_gets_a_suggestion_and_hasattr_still_answers() -> None:
    with pytest.raises(NNScratchError, match="did you mean keras.layers.Dense"):
        keras.layers.Dens  # noqa: B018
    assert not hasattr(keras.layers, "NoSuchLayer") and hasattr(keras.layers, "Conv2D")


def test_text_layers_name_the_reason() -> None:
    with pytest.raises(NNScratchError, match="text preprocessing is outside nnscratch"):
        keras.layers.StringLookup  # noqa: B018


def test_to_categorical_follows_keras() -> None:
    out = keras.utils.to_categorical(np.array([[1], [0], [2]]), 4)
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_array_equal(out.argmax(axis=1), [1, 0, 2])
    assert keras.utils.to_categorical([0, 3]).shape == (2, 4)
    with pytest.raises(InvalidValueError):
        keras.utils.to_categorical([0, 5], 3)


def test_mnist_load_data_has_keras_shapes_and_dtypes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    fake = nn.datasets.MnistData(rng.integers(0, 255, (6, 28, 28), dtype=np.uint8), np.arange(6) % 10,
                                 rng.integers(0, 255, (2, 28, 28), dtype=np.uint8), np.array([3, 4]))
    monkeypatch.setattr("nnscratch.keras.datasets.mnist.load_mnist", lambda path: fake)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (2, 28, 28)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(y_test, [3, 4])


def test_keras_schedules_follow_keras_formulas() -> None:
    s = keras.optimizers.schedules
    exp = s.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert exp(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    stairs = s.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert stairs(9) == pytest.approx(0.1) and stairs(10) == pytest.approx(0.05)
    cos = s.CosineDecay(1.0, decay_steps=10, alpha=0.1)
    assert cos(0) == pytest.approx(1.0) and cos(10) == pytest.approx(0.1) and cos(5) == pytest.approx(0.55)
    piece = s.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert [piece(i) for i in range(6)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]
    inv = s.InverseTimeDecay(1.0, decay_steps=2, decay_rate=1.0)
    assert inv(2) == pytest.approx(0.5)
    opt = keras.optimizers.SGD(learning_rate=piece)  # a schedule is evaluated at the optimizer's step count
    assert opt.learning_rate == 1.0
    assert nn.optimizers.from_config(opt.get_config()).lr == 1.0


def test_keras_loss_and_metric_functions_take_y_true_first() -> None:
    y_true = np.array([0, 2])
    y_pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    np.testing.assert_allclose(keras.losses.sparse_categorical_crossentropy(y_true, y_pred), -np.log([0.7, 0.8]),
                               rtol=1e-6)
    np.testing.assert_array_equal(keras.metrics.sparse_categorical_accuracy(y_true, y_pred), [1, 1])
    np.testing.assert_allclose(keras.losses.mse(np.zeros((2, 2)), np.ones((2, 2), np.float32)), [1, 1])


def test_activation_functions_work_as_activation_arguments() -> None:
    layer = keras.layers.Dense(2, activation=keras.activations.relu)
    assert type(layer.activation) is nn.ReLU
    np.testing.assert_array_equal(keras.activations.relu(np.array([-1.0, 2.0])), [0, 2])


def test_regularizers_and_initializers() -> None:
    assert keras.regularizers.l2(0.1)(np.ones(3)) == pytest.approx(0.3)
    assert keras.regularizers.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    layer = keras.layers.Dense(3, kernel_initializer=keras.initializers.HeNormal())
    assert layer.kernel_initializer.name == "he_normal"


@pytest.mark.parametrize("make", [lambda: keras.initializers.GlorotUniform(seed=1),
                                  lambda: keras.initializers.HeNormal(seed=1),
                                  lambda: keras.initializers.RandomNormal(stddev=0.1, seed=1),
                                  lambda: keras.initializers.RandomUniform(seed=1),
                                  lambda: keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
                                  lambda: keras.initializers.TruncatedNormal(stddev=0.1, seed=1),
                                  lambda: keras.initializers.LecunUniform(seed=1),
                                  lambda: keras.initializers.Orthogonal(gain=1.5, seed=1)])
def test_a_seeded_initializer_draws_the_same_values_every_time(make) -> None:
    init = make()
    first = init((4, 3), np.random.default_rng(0))
    np.testing.assert_array_equal(first, init((4, 3), np.random.default_rng(99)))  # its seed, not the layer's
    assert not np.array_equal(first, make().__class__(**{k: v for k, v in init.get_config().items()
                                                         if k not in ("name", "seed")})((4, 3), np.random.default_rng(0)))
    def build() -> np.ndarray:
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, kernel_initializer=make())]).get_weights()[0]
    keras.utils.set_random_seed(1)
    a = build()
    keras.utils.set_random_seed(2)
    np.testing.assert_array_equal(a, build())
    copy = nn.core.initializers.get(init.get_config())
    np.testing.assert_array_equal(copy((4, 3)), first)
    with pytest.raises(InvalidValueError, match="seed must be a non-negative integer"):
        type(init)(seed=-1) if not hasattr(init, "mean") else keras.initializers.RandomNormal(seed="x")


def test_orthogonal_and_identity_kernels_in_keras_layout() -> None:
    """Keras's kernel is (inputs, units): Identity gives eye(inputs, units); Orthogonal orthonormal columns."""
    square = keras.layers.Dense(4, kernel_initializer="identity", use_bias=False)
    np.testing.assert_array_equal(square(np.eye(4, dtype=np.float32)), np.eye(4))
    wide = keras.layers.Dense(3, kernel_initializer=keras.initializers.Identity(gain=2.0))
    wide.build((None, 5))
    np.testing.assert_array_equal(wide.get_weights()[0], 2.0 * np.eye(5, 3))
    tall = keras.layers.Dense(6, kernel_initializer=keras.initializers.Orthogonal())
    tall.build((None, 10))
    kernel = tall.get_weights()[0]
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(6), atol=1e-6)


def test_clone_model_has_the_architecture_and_fresh_weights() -> None:
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, name="hidden"), keras.layers.Dense(1)])
    clone = keras.models.clone_model(model)
    assert clone.built and [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])


def test_backend_clear_session_restarts_layer_names() -> None:
    keras.backend.clear_session()
    assert keras.layers.Dense(1).name == "dense" and keras.layers.Dense(1).name == "dense_1"
    assert keras.layers.Conv2D(1, 1).name == "conv2d" and keras.layers.BatchNormalization().name == "batch_norm"


def test_to_json_and_model_from_json(tmp_path) -> None:
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    functional = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    sequential = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3), keras.layers.Dropout(0.2)])
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    for model in (functional, sequential):
        text = model.to_json()
        copy = keras.models.model_from_json(text)
        assert type(copy) is type(model) and copy.built and copy.to_json() == text
        copy.set_weights(model.get_weights())
        np.testing.assert_array_equal(copy.predict(x), model.predict(x))
    with pytest.raises(nn.ModelFileError, match="takes the JSON text"):
        keras.models.model_from_json("{not json")
    with pytest.raises(nn.ModelFileError, match="holds a Dense layer, not a model"):
        keras.models.model_from_json(json.dumps(nn.core.registry.to_config(keras.layers.Dense(2))))
    with pytest.raises(nn.ModelFileError):
        keras.models.model_from_json(json.dumps({"class": "os.system", "config": {}}))
    keras.models.save_model(sequential, tmp_path / "m.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "m.keras").predict(x), sequential.predict(x))


def test_model_from_json_builds_no_more_weights_than_max_weights() -> None:
    """A 300-byte text asking for a 10**6 x 10**6 kernel: one clear error, nothing allocated."""
    hostile = json.loads(keras.Sequential([keras.Input((10**6,)), keras.layers.Dense(3)]).to_json())
    hostile["config"]["layers"][0]["config"]["units"] = 10**6
    text = json.dumps(hostile)
    assert len(text) < 400
    with pytest.raises(nn.ModelFileError, match=r"more weights than max_weights allows \(100,000,000 values\): a "
                                                 r"weight of shape \(1000000, 1000000\)"):
        keras.models.model_from_json(text)
    small = json.loads(keras.Sequential([keras.Input((50,)), keras.layers.Dense(40)]).to_json())
    with pytest.raises(nn.ModelFileError, match=r"max_weights allows \(1,000 values\)"):
        keras.models.model_from_json(json.dumps(small), max_weights=1000)
    assert keras.models.model_from_json(json.dumps(small), max_weights=2040).count_params() == 2040
    assert keras.models.model_from_json(json.dumps(small), max_weights=None).built


def test_metrics_names_and_epsilon() -> None:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.metrics_names == []
    x, y = np.ones((4, 3), "float32"), np.array([0, 1, 0, 1])
    model.fit(x, y, verbose=0)
    assert model.metrics_names == ["loss", "accuracy"]
    assert keras.backend.epsilon() == 1e-7


def test_ops_nn_and_ops_numpy_group_the_same_functions() -> None:
    from nnscratch.keras import ops

    assert ops.nn.sigmoid is ops.sigmoid and ops.nn.softmax is ops.softmax and ops.numpy.mean is ops.mean
    assert not hasattr(ops.nn, "mean") and not hasattr(ops.numpy, "relu")  # Keras's grouping
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(ops.nn.relu(x), [0.0, 0.0, 3.0])
