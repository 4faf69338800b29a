"""Bad input anywhere in the public API raises one of nnscratch's errors, naming the argument, the expected
and the actual value, before any training step is taken."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core import initializers
from nnscratch.core.errors import (
    DTypeError,
    InvalidTypeError,
    InvalidValueError,
    ModelFileError,
    NNScratchError,
    NotBuiltError,
    ShapeError,
)
from nnscratch.training import losses, optimizers, schedules

RNG = np.random.default_rng(0)
X = RNG.standard_normal((20, 4))
LABELS = RNG.integers(0, 3, 20)
ONE_HOT = np.eye(3)[LABELS]
BINARY = (X[:, 0] > 0).astype(int)


def classifier(metrics=("accuracy",)):
    model = nn.Sequential([nn.Dense(5, activation="relu"), nn.Dense(3), nn.Softmax()], seed=0)
    return model.compile("categorical_crossentropy", nn.Adam(lr=0.01), metrics=metrics)


def binary():
    model = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dense(1, activation="sigmoid")], seed=0)
    return model.compile("binary_crossentropy", "adam")


def regressor(outputs=1):
    return nn.Sequential([nn.Dense(outputs)], seed=0).compile("mse", nn.SGD(lr=0.01))


def built(model, shape=(4,)):
    model.build(shape)
    return model


def with_value(array, index, value):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


def check(error, match, call):
    """``call()`` raises ``error`` matching ``match``, an NNScratchError that is a ValueError or TypeError."""
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, NNScratchError)
    assert isinstance(info.value, (ValueError, TypeError, RuntimeError))
    return info.value


# ----------------------------------------------------------------------------- data given to fit / evaluate / predict
FIT_CASES = {
    "y-length": (ShapeError, r"y has 10 rows \(shape \(10,\)\); expected 20",
                 lambda: classifier().fit(X, LABELS[:10], verbose=0)),
    "x-scalar": (ShapeError, "batch axis", lambda: classifier().fit(3.0, LABELS, verbose=0)),
    "x-empty": (InvalidValueError, r"x is empty \(shape \(0, 4\)\)", lambda: classifier().fit(np.zeros((0, 4)), [], verbose=0)),
    "y-no-columns": (InvalidValueError, r"y is empty \(shape \(20, 0\)\)", lambda: regressor().fit(X, np.zeros((20, 0)), verbose=0)),
    "x-object": (DTypeError, "x must hold numbers.*object", lambda: classifier().fit(np.array([[object()]] * 20), LABELS, verbose=0)),
    "x-strings": (DTypeError, "x must hold numbers", lambda: classifier().fit(np.array([["a", "b"]] * 20), LABELS, verbose=0)),
    "x-complex": (DTypeError, "complex", lambda: classifier().fit(X + 1j, LABELS, verbose=0)),
    "x-none": (DTypeError, "x must be a numeric array", lambda: classifier().fit(None, LABELS, verbose=0)),
    "x-ragged": (DTypeError, "NumPy cannot convert", lambda: classifier().fit([[1, 2], [3]], [0, 1], verbose=0)),
    "y-strings": (DTypeError, "y must hold numbers", lambda: classifier().fit(X, np.array(["cat"] * 20), verbose=0)),
    "x-nan": (InvalidValueError, r"x contains nan at index \(3, 1\)", lambda: classifier().fit(with_value(X, (3, 1), np.nan), LABELS, verbose=0)),
    "x-inf": (InvalidValueError, r"x contains inf at index \(0, 0\)", lambda: classifier().fit(with_value(X, (0, 0), np.inf), LABELS, verbose=0)),
    "x-beyond-float32": (InvalidValueError, "x contains inf.*beyond the float32 range",
                         lambda: classifier().fit(with_value(X, (2, 2), 1e300), LABELS, verbose=0)),
    "y-nan": (InvalidValueError, r"y contains nan at index \(5,\)", lambda: regressor().fit(X, with_value(X[:, 0], 5, np.nan), verbose=0)),
    "label-out-of-range": (InvalidValueError, r"y contains label 3 at index 19, out of range.*3 outputs.*0\.\.2",
                           lambda: classifier().fit(X, with_value(LABELS, 19, 3).astype(int), verbose=0)),
    "label-negative": (InvalidValueError, r"label -1 at index 0.*0\.\.2", lambda: classifier().fit(X, with_value(LABELS, 0, -1).astype(int), verbose=0)),
    "label-not-whole": (InvalidValueError, r"y contains 1\.5 at index 4; class labels must be whole numbers",
                        lambda: classifier().fit(X, with_value(LABELS, 4, 1.5), verbose=0)),
    "one-hot-wrong-classes": (ShapeError, r"y has shape \(20, 4\): 4 columns \(one-hot for 4 classes\), but the model outputs 3 classes",
                              lambda: classifier().fit(X, np.eye(4)[LABELS], verbose=0)),
    "one-hot-not-summing-to-1": (InvalidValueError, "y row 0 sums to 3; one-hot or probability targets must sum to 1",
                                 lambda: classifier().fit(X, with_value(ONE_HOT, (0, slice(None)), 1.0), verbose=0)),
    "one-hot-out-of-range": (InvalidValueError, r"y contains -1\.0 at index \(1, 0\)",
                             lambda: classifier().fit(X, with_value(ONE_HOT, (1, 0), -1.0), verbose=0)),
    "one-output-crossentropy": (InvalidValueError, "binary_crossentropy",
                                lambda: nn.Sequential([nn.Dense(1), nn.Softmax()]).compile("categorical_crossentropy").fit(X, BINARY, verbose=0)),
    "bce-target-above-1": (InvalidValueError, r"y contains 2\.0 at index 7; binary cross-entropy targets must be in \[0, 1\]",
                           lambda: binary().fit(X, with_value(BINARY, 7, 2), verbose=0)),
    "bce-target-negative": (InvalidValueError, r"y contains -0\.5 at index \(3, 0\)",
                            lambda: binary().fit(X, with_value(BINARY[:, None], (3, 0), -0.5), verbose=0)),
    "mse-wrong-columns": (ShapeError, r"y has shape \(20, 2\), but the model outputs \(samples, 1\)",
                          lambda: regressor().fit(X, X[:, :2], verbose=0)),
    "bce-wrong-columns": (ShapeError, r"y has shape \(20, 3\), but the model outputs \(samples, 1\)",
                          lambda: binary().fit(X, ONE_HOT, verbose=0)),
    "wrong-features": (ShapeError, r"x has shape \(20, 5\), but the model was built for inputs of shape \(batch, 4\)",
                       lambda: built(classifier()).fit(np.zeros((20, 5)), LABELS, verbose=0)),
    "val-wrong-features": (ShapeError, r"validation_data\[0\] has shape \(5, 3\).*\(batch, 4\)",
                           lambda: classifier().fit(X, LABELS, validation_data=(np.zeros((5, 3)), LABELS[:5]), verbose=0)),
    "val-wrong-length": (ShapeError, r"validation_data\[1\] has 4 rows.*expected 5",
                         lambda: classifier().fit(X, LABELS, validation_data=(X[:5], LABELS[:4]), verbose=0)),
    "val-label-out-of-range": (InvalidValueError, r"validation_data\[1\] contains label 7",
                               lambda: classifier().fit(X, LABELS, validation_data=(X[:3], [0, 7, 1]), verbose=0)),
    "val-nan": (InvalidValueError, r"validation_data\[0\] contains nan",
                lambda: classifier().fit(X, LABELS, validation_data=(with_value(X[:3], (1, 1), np.nan), LABELS[:3]), verbose=0)),
    "val-not-a-pair": (InvalidTypeError, r"validation_data must be a tuple \(x_val, y_val\) or \(x_val, y_val, sample_weight\), got ndarray",
                       lambda: classifier().fit(X, LABELS, validation_data=X, verbose=0)),
    "val-four": (InvalidTypeError, "of length 4",
                 lambda: classifier().fit(X, LABELS, validation_data=(X, LABELS, LABELS, LABELS), verbose=0)),
    "batch-size-0": (InvalidValueError, "batch_size must be an integer >= 1, got 0", lambda: classifier().fit(X, LABELS, batch_size=0, verbose=0)),
    "batch-size-float": (InvalidTypeError, r"batch_size must be an integer >= 1, got 2\.5", lambda: classifier().fit(X, LABELS, batch_size=2.5, verbose=0)),
    "batch-size-bool": (InvalidTypeError, "batch_size", lambda: classifier().fit(X, LABELS, batch_size=True, verbose=0)),
    "epochs-negative": (InvalidValueError, "epochs must be an integer >= 0, got -1", lambda: classifier().fit(X, LABELS, epochs=-1, verbose=0)),
    "epochs-string": (InvalidTypeError, "epochs must be an integer", lambda: classifier().fit(X, LABELS, epochs="3", verbose=0)),
    "initial-epoch": (InvalidValueError, "initial_epoch", lambda: classifier().fit(X, LABELS, initial_epoch=-2, verbose=0)),
    "validation-split-range": (InvalidValueError, r"validation_split must be a number in \[0, 1\), got 1\.5",
                               lambda: classifier().fit(X, LABELS, validation_split=1.5, verbose=0)),
    "validation-split-type": (InvalidTypeError, "validation_split", lambda: classifier().fit(X, LABELS, validation_split="0.2", verbose=0)),
    "validation-split-empty": (InvalidValueError, "leaves an empty part", lambda: classifier().fit(X[:2], LABELS[:2], validation_split=0.1, verbose=0)),
    "callback-not-a-callback": (InvalidTypeError, r"callbacks\[1\] must be a Callback.*got int",
                                lambda: classifier().fit(X, LABELS, callbacks=[nn.Callback(), 1], verbose=0)),
    "fit-a-generator-without-targets": (InvalidValueError, r"batch 0 of x \(generator\) has no targets",
                                        lambda: classifier().fit((X[i:i + 4] for i in range(0, 20, 4)), verbose=0)),
    "fit-steps-per-epoch": (InvalidValueError, "fit got steps_per_epoch= with arrays as x: step counts are for a "
                                               "PyDataset or a generator",
                            lambda: classifier().fit(X, LABELS, steps_per_epoch=2, verbose=0)),
    "evaluate-steps": (InvalidValueError, "evaluate got steps= with arrays",
                       lambda: classifier().evaluate(X, LABELS, steps=2)),
    "fit-workers": (InvalidValueError, "fit got workers=: pass it to your PyDataset's constructor",
                    lambda: classifier().fit(X, LABELS, workers=2, verbose=0)),
    "not-compiled": (NotBuiltError, "compile", lambda: nn.Sequential([nn.Dense(1)]).fit(X, BINARY, verbose=0)),
    "one-number-per-sample": (ShapeError, r"one number per sample.*reshape\(-1, 1\)",
                              lambda: nn.Sequential([nn.Dense(2)]).predict(np.zeros(5))),
}


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_bad_training_data_and_arguments(case):
    error, match, call = FIT_CASES[case]
    check(error, match, call)


def test_labels_are_checked_before_the_first_step():
    model = built(classifier())
    before = model.state_dict()
    bad = LABELS.copy()
    bad[-1] = 9  # in the last batch: a per-batch check would train on the first batches first
    check(InvalidValueError, "label 9", lambda: model.fit(X, bad, batch_size=4, verbose=0))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert model.optimizer.iterations == 0


INFERENCE_CASES = {
    "predict-single-sample": (ShapeError, r"x has shape \(4,\).*single sample\? add the batch axis: x\[None\]",
                              lambda m: m.predict(np.zeros(4))),
    "predict-wrong-features": (ShapeError, r"x has shape \(3, 5\), but the model was built for inputs of shape \(batch, 4\)",
                               lambda m: m.predict(np.zeros((3, 5)))),
    "predict-wrong-rank": (ShapeError, r"x has shape \(3, 2, 2\).*reshape it", lambda m: m.predict(np.zeros((3, 2, 2)))),
    "predict-nested-lists": (InvalidValueError, r"takes 1 input\(s\), got 3; a list or tuple holds one array per input.*"
                             r"np\.asarray\(x\)", lambda m: m.predict([[0.0] * 4] * 3)),
    "predict-batch-size": (InvalidValueError, "batch_size must be an integer >= 1, got 0", lambda m: m.predict(X, batch_size=0)),
    "predict-nan": (InvalidValueError, "x contains nan", lambda m: m.predict(with_value(X, (0, 0), np.nan))),
    "evaluate-wrong-features": (ShapeError, r"x has shape \(20, 3\)", lambda m: m.evaluate(X[:, :3], LABELS)),
    "evaluate-label-out-of-range": (InvalidValueError, "label 5", lambda m: m.evaluate(X, with_value(LABELS, 2, 5).astype(int))),
    "evaluate-one-hot-classes": (ShapeError, "2 columns", lambda m: m.evaluate(X, np.eye(2)[BINARY])),
    "score-length": (ShapeError, "y has 3 rows", lambda m: m.score(X, LABELS[:3])),
    "layer-other-feature-size": (ShapeError, r"Dense was built for inputs of shape \(batch, 4\), got \(2, 6\)",
                                 lambda m: m.layers[0].forward(np.zeros((2, 6), np.float32))),
    "layer-other-dtype": (DTypeError, "expects float32 input, got float64", lambda m: m.layers[0].forward(np.zeros((2, 4)))),
    "layer-given-a-list": (DTypeError, "Dense expects a numpy array of shape \\(batch, ...\\), got list",
                           lambda m: m.layers[0].forward([[1.0, 2.0, 3.0, 4.0]])),
    "build-bad-shape": (InvalidValueError, "input_shape must be a tuple of positive integers", lambda m: m.build((0, 4))),
    "load-state-not-a-dict": (InvalidTypeError, "state must be a dict", lambda m: m.load_state_dict([1, 2])),
    "load-state-strings": (ModelFileError, "dtype <U", lambda m: m.load_state_dict(
        {**m.state_dict(), "layers.0.bias": np.array(["a"] * 5)})),
}


@pytest.mark.parametrize("case", list(INFERENCE_CASES))
def test_bad_inference_input(case):
    error, match, call = INFERENCE_CASES[case]
    check(error, match, lambda: call(built(classifier())))


# ----------------------------------------------------------------------------- configuration
CONFIG_CASES = {
    "model-outputs-dict-key": (InvalidValueError, r"Model outputs dict keys are the output names and must be "
                               r"non-empty strings, got 0", lambda: (lambda x: nn.Model(x, {0: nn.Dense(1)(x)}))(
                                   nn.Input((2,)))),
    "model-inputs-dict-empty": (InvalidValueError, r"Model inputs is an empty dict; expected inputs by name",
                                lambda: (lambda x: nn.Model({}, nn.Dense(1)(x)))(nn.Input((2,)))),
    "input-shape-zero": (ShapeError, r"Input shape must be a tuple of positive integers .*got \(0, 3\)$",
                         lambda: nn.Input(shape=(0, 3))),
    "input-variable-length-flattened": (
        ShapeError, r"dense_var \(Dense\) cannot take inputs of shape \(batch, None\), with an axis of variable "
        r"size \(None\): .*Give the Input a fixed size there",
        lambda: nn.Dense(2, name="dense_var")(nn.Flatten()(nn.Input(shape=(None, 3))))),
    "loss-int": (InvalidTypeError, r"loss must be a name.*got 123 \(int\)", lambda: classifier().compile(loss=123)),
    "loss-typo": (InvalidValueError, "unknown loss 'msee'; did you mean 'mse'", lambda: classifier().compile(loss="msee")),
    "loss-config-typo": (InvalidValueError, "unknown loss 'binary_crosentropy'; did you mean 'binary_crossentropy'",
                         lambda: losses.get({"name": "binary_crosentropy"})),
    "loss-config-argument": (InvalidValueError, "bad config for loss", lambda: losses.get({"name": "mse", "alpha": 1})),
    "optimizer-typo": (InvalidValueError, "unknown optimizer 'adamm'; did you mean 'adam'", lambda: classifier().compile(optimizer="adamm")),
    "optimizer-int": (InvalidTypeError, "optimizer must be", lambda: classifier().compile(optimizer=3)),
    "metric-typo": (InvalidValueError, "unknown metric 'acuracy'; did you mean 'accuracy'",
                    lambda: classifier().compile(metrics=["acuracy"])),
    "metrics-not-a-list": (InvalidTypeError, "metrics must be a list", lambda: classifier().compile(metrics=5)),
    "activation-typo": (InvalidValueError, "unknown activation 'relus'; did you mean 'relu'", lambda: nn.Dense(3, activation="relus")),
    "activation-int": (InvalidTypeError, r"activation must be a name.*got 5", lambda: nn.Dense(3, activation=5)),
    "initializer-typo": (InvalidValueError, "unknown initializer 'glorot_unifrom'; did you mean 'glorot_uniform'",
                         lambda: nn.Dense(3, kernel_initializer="glorot_unifrom")),
    "initializer-int": (InvalidTypeError, "initializer must be", lambda: initializers.get(7)),
    "schedule-object": (InvalidTypeError, "schedule must be", lambda: schedules.get(object())),
    "schedule-typo": (InvalidValueError, "did you mean 'cosine_decay'", lambda: schedules.get("cosine_decy")),
    "dense-units-0": (InvalidValueError, "Dense units must be an integer >= 1, got 0", lambda: nn.Dense(0)),
    "dense-units-float": (InvalidTypeError, r"Dense units must be an integer >= 1, got 2\.5", lambda: nn.Dense(2.5)),
    "dense-units-string": (InvalidTypeError, "Dense units", lambda: nn.Dense("3")),
    "dense-use-bias": (InvalidTypeError, "use_bias must be True or False", lambda: nn.Dense(3, use_bias="no")),
    "dropout-1.5": (InvalidValueError, r"Dropout rate must be a number in \[0, 1\), got 1\.5", lambda: nn.Dropout(1.5)),
    "dropout-negative": (InvalidValueError, "Dropout rate", lambda: nn.Dropout(-0.1)),
    "dropout-nan": (InvalidValueError, "Dropout rate", lambda: nn.Dropout(math.nan)),
    "dropout-string": (InvalidTypeError, "Dropout rate", lambda: nn.Dropout("0.5")),
    "reshape-zero": (InvalidValueError, "Reshape target_shape must hold sizes >= 1", lambda: nn.Reshape((0, 2))),
    "reshape-two-unknown": (InvalidValueError, "at most one -1", lambda: nn.Reshape((-1, -1))),
    "reshape-float": (InvalidTypeError, "tuple of integers", lambda: nn.Reshape((2.5, 2))),
    "reshape-mismatch": (ShapeError, r"Reshape cannot turn \(batch, 6\) into \(batch, 4\)", lambda: nn.Reshape((4,)).forward(np.zeros((2, 6)))),
    "leaky-alpha": (InvalidTypeError, "LeakyReLU alpha", lambda: nn.LeakyReLU("x")),
    "elu-alpha": (InvalidValueError, "ELU alpha", lambda: nn.ELU(math.inf)),
    "sequential-non-module": (InvalidValueError, "Sequential layer 1 must be a layer, got str",
                              lambda: nn.Sequential([nn.Dense(2), "relu"])),
    "sequential-one-layer": (InvalidTypeError, "Sequential takes a list of layers, got Dense", lambda: nn.Sequential(nn.Dense(3))),
    "sequential-int": (InvalidValueError, "Sequential layer 0 must be a layer, got int", lambda: nn.Sequential([1])),
    "seed-negative": (InvalidValueError, "seed must be", lambda: nn.Sequential([nn.Dense(1)], seed=-1)),
    "dtype-int": (DTypeError, "dtype must be float32 or float64, got int32", lambda: nn.Sequential([nn.Dense(1)], dtype="int32")),
    "dtype-unknown": (DTypeError, "dtype must be float32 or float64, got 'foo'", lambda: nn.Sequential([nn.Dense(1)], dtype="foo")),
    "rng-type": (InvalidTypeError, "rng must be a numpy Generator", lambda: nn.Dense(2).set_rng(42)),
    "sgd-lr": (InvalidValueError, "lr", lambda: optimizers.SGD(lr=-1.0)),
    "adam-beta": (InvalidValueError, r"beta1 must be in \[0, 1\)", lambda: optimizers.Adam(beta1=1.0)),
    "early-stopping-patience": (InvalidValueError, "EarlyStopping patience must be an integer >= 0, got -1",
                                lambda: nn.EarlyStopping(patience=-1)),
    "early-stopping-patience-type": (InvalidTypeError, "EarlyStopping patience", lambda: nn.EarlyStopping(patience="3")),
    "early-stopping-mode": (InvalidValueError, "mode must be", lambda: nn.EarlyStopping(mode="best")),
    "checkpoint-path": (InvalidTypeError, "ModelCheckpoint filepath must be a path", lambda: nn.ModelCheckpoint(3)),
    "checkpoint-format": (InvalidValueError, "not a valid format string", lambda: nn.ModelCheckpoint("ckpt-{epoch")),
    "scheduler-not-callable": (InvalidTypeError, "LearningRateScheduler schedule must be a function", lambda: nn.LearningRateScheduler(0.1)),
    "checkpoint-every": (InvalidValueError, "Checkpoint every", lambda: nn.Checkpoint("dir", every=0)),
    "checkpoint-dir": (InvalidTypeError, "Checkpoint directory", lambda: nn.Checkpoint(None)),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_configuration(case):
    error, match, call = CONFIG_CASES[case]
    check(error, match, call)


def test_wrong_types_are_both_type_and_value_errors():
    with pytest.raises(TypeError):
        classifier().compile(loss=123)
    with pytest.raises(ValueError):
        classifier().compile(loss=123)
    with pytest.raises(InvalidValueError):
        nn.Dense(2.5)


def test_model_checkpoint_with_an_unknown_log_key_names_it(tmp_path):
    ckpt = nn.ModelCheckpoint(tmp_path / "m-{val_acc:.2f}.npz", monitor="loss")
    check(InvalidValueError, r"uses \{val_acc\}, but the logs only have \['accuracy', 'loss'\]",
          lambda: classifier().fit(X, LABELS, epochs=1, callbacks=[ckpt], verbose=0))


def test_a_single_callback_and_a_single_metric_name_are_accepted():
    model = classifier(metrics="accuracy")
    history = model.fit(X, LABELS, epochs=1, callbacks=nn.Callback(), verbose=0)
    assert "accuracy" in history


def test_losses_check_targets_when_called_directly():
    check(InvalidValueError, r"target contains 1\.5", lambda: losses.BinaryCrossEntropy()(np.full((2, 1), 0.5), [[0.0], [1.5]]))
    check(InvalidValueError, "label 4 out of range", lambda: losses.CategoricalCrossEntropy()(np.full((2, 3), 1 / 3), [0, 4]))
    check(ShapeError, r"target has shape \(3, 1\), expected \(2, 1\)", lambda: losses.MeanSquaredError()(np.zeros((2, 1)), np.zeros((3, 1))))


def test_a_users_loss_instance_is_left_untouched_by_fit():
    loss = losses.BinaryCrossEntropy()
    model = nn.Sequential([nn.Dense(1, activation="sigmoid")], seed=0).compile(loss, "adam")
    model.fit(X, BINARY, epochs=1, verbose=0)
    assert loss.validate_values
    check(InvalidValueError, "target contains", lambda: loss(np.full((1, 1), 0.5), [[3.0]]))
