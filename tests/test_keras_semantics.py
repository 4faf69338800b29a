"""The native API agrees with Keras where it differed only in a name or a default (the old spellings still work)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.core.errors import InvalidValueError
from nnscratch.training import metrics as metrics_mod


def small_model(seed: int = 0, **dense: object) -> nn.Sequential:
    nn.set_random_seed(seed)
    return nn.Sequential([nn.Input(shape=(4,)), nn.Dense(5, activation="tanh", **dense), nn.Dense(3, **dense),
                          nn.Softmax()])


def data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)


def test_optimizers_take_keras_argument_names_and_a_positional_learning_rate() -> None:
    adam = nn.Adam(1e-2, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps) == (1e-2, 0.8, 0.99, 1e-6)
    assert nn.SGD(learning_rate=0.5, momentum=0.9).learning_rate == 0.5 and nn.RMSprop(lr=0.2).lr == 0.2
    with pytest.raises(InvalidValueError, match="not both"):
        nn.Adam(lr=1e-3, learning_rate=1e-3)
    with pytest.raises(InvalidValueError, match="amsgrad"):
        nn.Adam(amsgrad=True)


@pytest.mark.parametrize("setting, expected", [
    ({"clipvalue": 1.0}, [-1.0, 1.0, 0.5]),
    ({"clipnorm": 1.0}, np.array([-3.0, 4.0, 0.5]) / math.sqrt(25.25)),
    ({"global_clipnorm": 1.0}, np.array([-3.0, 4.0, 0.5]) / math.sqrt(25.25 + 144)),
])
def test_gradient_clipping_follows_keras(setting: dict, expected: object) -> None:
    p, q = nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros(1))
    p.grad[...], q.grad[...] = [-3.0, 4.0, 0.5], [12.0]
    nn.SGD([p, q], learning_rate=1.0, **setting).step()
    np.testing.assert_allclose(-p.data, expected, rtol=1e-12)
    np.testing.assert_array_equal(p.grad, [-3.0, 4.0, 0.5])  # the gradients themselves are not overwritten


def test_label_smoothing_follows_keras() -> None:
    pred = np.array([[0.6, 0.3, 0.1]])
    smoothed = nn.CategoricalCrossEntropy(label_smoothing=0.3)(pred, np.array([0]))
    target = np.array([0.7 + 0.1, 0.1, 0.1])  # y (1 - 0.3) + 0.3 / 3
    assert smoothed == pytest.approx(-np.sum(target * np.log(pred[0])))
    bce = nn.BinaryCrossEntropy(label_smoothing=0.2)(np.array([[0.9]]), np.array([[1.0]]))
    assert bce == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)))
    model = small_model()
    model.compile(loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), optimizer="adam")
    assert model.trainer.loss.get_config()["label_smoothing"] == 0.1


def test_huber_and_keras_loss_names() -> None:
    h = nn.losses.get("huber")
    d = np.array([[0.5, -3.0]])
    assert h(d, np.zeros((1, 2))) == pytest.approx((0.125 + (3 - 0.5)) / 2)
    np.testing.assert_allclose(h.backward(), [[0.25, -0.5]])
    assert type(nn.losses.get("sparse_categorical_crossentropy")) is nn.CategoricalCrossEntropy


def test_regularizer_and_sample_weight_gradients_match_finite_differences() -> None:
    x, y = data()
    nn.set_random_seed(1)
    model = nn.Sequential([nn.Dense(5, activation="tanh", kernel_regularizer=keras.regularizers.l1_l2(0.01, 0.02),
                                    bias_regularizer="l2"), nn.Dense(3), nn.Softmax()], dtype="float64")
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    x = x.astype(np.float64)
    model.build((4,))
    model.layers[0].bias.data[...] = 0.3
    weights = np.linspace(0.5, 2.0, len(x))
    model.trainer.sample_weight = weights
    value, grads = model.compute_gradients(x, y)
    layer = model.layers[0]
    assert layer.losses[0] == pytest.approx(0.01 * np.abs(layer.weight.data).sum() + 0.02 * np.square(layer.weight.data).sum())
    for name, param in model.named_parameters():
        flat = param.data.reshape(-1)
        for i in (0, flat.size - 1):
            saved = flat[i]
            flat[i] = saved + 1e-6
            up, _ = model.trainer.forward_loss(model.trainer.eval_ctx, [x], [y])
            flat[i] = saved - 1e-6
            down, _ = model.trainer.forward_loss(model.trainer.eval_ctx, [x], [y])
            flat[i] = saved
            assert grads[name].reshape(-1)[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-9), name


def test_class_weight_equals_the_matching_sample_weight() -> None:
    x, y = data()
    runs = []
    for kwargs in ({"class_weight": {0: 1.0, 1: 3.0, 2: 0.5}}, {"sample_weight": np.array([1.0, 3.0, 0.5])[y]}):
        model = small_model(3)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.SGD(0.1))
        runs.append(model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, **kwargs)["loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6)
    plain = small_model(3)
    plain.compile(loss="sparse_categorical_crossentropy", optimizer=nn.SGD(0.1))
    assert plain.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)["loss"] != pytest.approx(runs[0])


def test_stateful_metrics_accumulate_over_batches_as_keras_does() -> None:
    y_true = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.6, 0.4, 0.8, 0.2, 0.7, 0.3, 0.1])
    p, r, auc = keras.metrics.Precision(), keras.metrics.Recall(), keras.metrics.AUC()
    for m in (p, r, auc):
        m.update_state(y_true[:3], scores[:3])
        m.update_state(y_true[3:], scores[3:])
    assert p.result() == pytest.approx(2 / 4) and r.result() == pytest.approx(2 / 4)
    pairs = [(s1, s0) for s1, t1 in zip(scores, y_true) if t1 for s0, t0 in zip(scores, y_true) if not t0]
    assert auc.result() == pytest.approx(np.mean([s1 > s0 for s1, s0 in pairs]), abs=0.01)  # ROC AUC, 200 thresholds
    p.reset_state()
    assert p.result() == 0.0
    f1 = keras.metrics.F1Score(average="macro")
    f1.update_state(np.eye(3)[[0, 1, 2, 2]], np.eye(3)[[0, 1, 1, 2]])
    assert f1.result() == pytest.approx(np.mean([1.0, 2 / 3, 2 / 3]))


def test_fit_logs_stateful_metrics_over_the_epoch_and_validation_apart() -> None:
    x, y = data(64)
    yb = (y > 0).astype(np.float32)
    nn.set_random_seed(0)
    model = nn.Sequential([nn.Input(shape=(4,)), nn.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=nn.SGD(), metrics=["precision", "accuracy"])
    model.optimizer.lr = 0.0
    history = model.fit(x, yb, epochs=1, batch_size=8, validation_data=(x[:32], yb[:32]), verbose=0)
    whole = metrics_mod.Precision()(yb, model.predict(x))
    assert history["precision"][0] == pytest.approx(whole)  # lr 0: the same predictions throughout
    assert history["val_precision"][0] == pytest.approx(metrics_mod.Precision()(yb[:32], model.predict(x[:32])))


def test_evaluate_returns_what_keras_returns() -> None:
    x, y = data()
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    assert isinstance(model.evaluate(x, y), float)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y)
    assert model.evaluate(x, y, return_dict=True) == {"loss": loss, "accuracy": acc}


def test_reduce_lr_on_plateau_and_csv_logger(tmp_path: object) -> None:
    x, y = data()
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer=nn.SGD(learning_rate=0.01))
    path = tmp_path / "log.csv"  # min_delta=10: no epoch counts as an improvement
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10, min_lr=0.003)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[plateau, keras.callbacks.CSVLogger(path)])
    assert history["learning_rate"] == [0.01, 0.01, 0.005, 0.003]  # each epoch's rate: halved after each flat one
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "learning_rate", "loss"] and [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]


def test_model_checkpoint_keras_template_writes_the_exact_file_names(tmp_path: object) -> None:
    x, y = data()
    model = small_model()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.keras"), monitor="val_loss")
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[ckpt])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0].startswith("m-01-") and all(n.endswith(".keras") for n in names)
    assert model.save(tmp_path / "final.keras").name == "final.keras"
    np.testing.assert_array_equal(nn.load_model(tmp_path / "final.keras").predict(x), model.predict(x))


def test_layer_arguments_with_keras_names_and_defaults() -> None:
    conv = nn.Conv2D(2, 3, dilation_rate=2)
    assert conv.dilation == (2, 2) and conv.kernel_initializer.name == "glorot_uniform"
    bn = nn.BatchNorm()
    assert (bn.momentum, bn.eps) == (0.99, 1e-3) and nn.BatchNorm(epsilon=1e-5).eps == 1e-5
    act = nn.Activation("relu", name="act")
    assert type(act) is nn.ReLU and act.name == "act"
    model = nn.Sequential([nn.Dense(3, input_dim=4), nn.BatchNorm(), nn.Dense(1)])
    assert model.built and [w.shape for w in model.layers[1].get_weights()] == [(3,)] * 4
    assert model.layers[1].trainable_weights == model.layers[1].weights[:2]  # gamma, beta, then moving mean/var
    text = model.summary(print_fn=None)
    assert "(BatchNorm)" in text and "Non-trainable params: 6 (24.00 B)" in text
    assert model.get_layer(model.layers[0].name) is model.layers[0]


class Scale(nn.Layer):
    """A user's layer in nnscratch's contract, with Keras's get_config."""

    def __init__(self, factor: float = 2.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def forward_call(self, ctx: nn.Call, x: np.ndarray) -> np.ndarray:
        return x * x.dtype.type(self.factor)

    def backward_call(self, ctx: nn.Call, dy: np.ndarray) -> np.ndarray:
        return dy * dy.dtype.type(self.factor)

    def get_config(self) -> dict:
        return {"factor": self.factor}


def test_custom_layer_round_trips_through_save_and_load_model_with_custom_objects(tmp_path: object) -> None:
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(Scale(3.0, name="scale")(inputs)))
    x, _ = data(5)
    path = model.save(tmp_path / "custom.keras")
    loaded = keras.models.load_model(path, custom_objects={"Scale": Scale})
    assert loaded.get_layer("scale").factor == 3.0
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_acc_is_logged_as_acc_so_keras_monitors_find_it() -> None:
    x, y = data()
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    stop = keras.callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=1)
    history = model.fit(x, y, epochs=3, validation_split=0.25, callbacks=[stop], verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert set(model.fit(x, y, epochs=1, verbose=0).history) == {"loss", "accuracy"}


def test_leaky_relu_takes_keras_3s_negative_slope() -> None:
    x = np.array([[-2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(nn.LeakyReLU(negative_slope=0.25).forward(x), [[-0.5, 3.0]])
    assert nn.LeakyReLU(negative_slope=0.25).get_config() == nn.LeakyReLU(alpha=0.25).get_config()
    with pytest.raises(InvalidValueError, match="alpha or negative_slope"):
        nn.LeakyReLU(alpha=0.2, negative_slope=0.3)


def test_dropout_seed_is_the_layers_own_and_checked() -> None:
    layer = keras.layers.Dropout(0.5, seed=1)
    assert layer.seed == 1
    with pytest.raises(InvalidValueError, match=r"Dropout seed must be None or a non-negative int, got -1"):
        keras.layers.Dropout(0.5, seed=-1)


def test_summary_takes_keras_line_length_and_positions() -> None:
    model = small_model()
    lines = model.summary(line_length=60, print_fn=None).splitlines()
    assert {len(line) for line in lines if set(line) <= {"=", "_"}} == {60}
    header = model.summary(line_length=70, positions=[0.5, 0.8, 1.0], print_fn=None).splitlines()[2]
    assert header.index("Output Shape") == 35 and len(header) == 70
    assert model.summary(print_fn=None) == model.summary(90, print_fn=None)
    with pytest.raises(InvalidValueError, match="three increasing column ends"):
        model.summary(positions=[0.8, 0.5, 1.0], print_fn=None)


def test_weights_answer_to_keras_variable_names() -> None:
    model = nn.Sequential([nn.Input(shape=(4,)), nn.Dense(3), nn.BatchNorm()])
    dense, bn = model.layers
    assert dense.kernel is dense.weight and bn.moving_mean is bn.running_mean and bn.moving_variance is bn.running_var
    assert model.variables == model.weights and model.trainable_variables == model.trainable_weights
    assert model.non_trainable_variables == [bn.running_mean, bn.running_var]
    kernel = dense.kernel.numpy()
    kernel[0, 0] = 99.0  # a copy
    assert dense.weight.data[0, 0] != 99.0 and np.asarray(dense.kernel) is dense.weight.data
    data = dense.weight.data
    assert dense.kernel.assign(np.ones((4, 3))) is dense.kernel and dense.weight.data is data  # in place
    np.testing.assert_array_equal(dense.kernel.value, 1.0)
    with pytest.raises(nn.ShapeError, match=r"assign: the parameter has shape \(4, 3\), got a value of shape \(3,\)"):
        dense.kernel.assign(np.ones(3))


def test_add_weight_keeps_its_name() -> None:
    class Linear(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), name="kernel")

        def call(self, x):
            return keras.ops.matmul(x, self.w)

    layer = Linear()
    layer(np.zeros((1, 3), np.float32))
    assert [w.name for w in layer.weights] == ["kernel"]


def test_a_layer_called_on_a_list_of_arrays_casts_each_to_its_dtype() -> None:
    """Keras's autocast, for several inputs as for one: float64 and integer arrays become the layer's float32."""
    a, b = np.ones((2, 3), np.float64), np.arange(6).reshape(2, 3)
    out = keras.layers.Add()([a, b])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, a + b)
    lstm = keras.layers.LSTM(4)
    h, c = np.zeros((2, 4)), np.ones((2, 4))  # float64 states, as np.zeros makes them
    y = lstm(np.ones((2, 5, 3)), initial_state=[h, c])
    assert y.dtype == np.float32 and y.shape == (2, 4)
