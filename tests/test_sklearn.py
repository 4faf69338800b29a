"""The scikit-learn estimators: sklearn's own estimator checks, Pipeline, GridSearchCV, clone, partial_fit."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6", reason="the nnscratch.sklearn tests need scikit-learn >= 1.6 "
                    "(pip install 'nnscratch[sklearn]')")

from sklearn.base import clone
from sklearn.datasets import make_blobs, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import nnscratch as nn
from nnscratch.sklearn import NNClassifier, NNRegressor

SMALL = {"hidden_layer_sizes": (16,), "epochs": 20, "learning_rate": 1e-2, "random_state": 0}


def small_tanh_net(n_features, n_outputs):
    """A model_fn: one tanh hidden layer; the estimator compiles it."""
    act = None if n_outputs == 1 else "softmax"
    return nn.Sequential([nn.Dense(12, activation="tanh"), nn.Dense(n_outputs, activation=act)], seed=1)


def sigmoid_net(n_features, n_outputs):
    act = "sigmoid" if n_outputs == 1 else "softmax"
    return nn.Sequential([nn.Dense(12, activation="tanh"), nn.Dense(n_outputs, activation=act)], seed=1)


def float32_tolerance(estimator):
    """Checks that cannot pass in float32, with why (scikit-learn's ``expected_failed_checks``)."""
    return {"check_sample_weight_equivalence_on_dense_data":
            "float32 arithmetic: weighted and repeated samples give predictions equal to 2.4e-7; the check asks 1e-7"}


@parametrize_with_checks([
    NNClassifier(**SMALL),
    NNClassifier(**SMALL, early_stopping=True, patience=3),
    NNClassifier(**SMALL, model_fn=sigmoid_net),
    NNRegressor(**SMALL),
    NNRegressor(**SMALL, early_stopping=True, patience=3),
], expected_failed_checks=float32_tolerance)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def blobs(centers=3, n=240, seed=0):
    x, y = make_blobs(n_samples=n, centers=centers, n_features=4, cluster_std=1.0, random_state=seed)
    return StandardScaler().fit_transform(x), y


def test_defaults_are_stored_verbatim():
    assert NNClassifier().get_params() == NNRegressor().get_params() == {
        "hidden_layer_sizes": (100,), "activation": "relu", "optimizer": "adam", "learning_rate": 1e-3,
        "epochs": 200, "batch_size": 32, "early_stopping": False, "validation_fraction": 0.1, "patience": 10,
        "random_state": None, "model_fn": None, "verbose": 0, "warm_start": False}
    bad = NNClassifier(epochs=0, hidden_layer_sizes="x", batch_size="big")  # __init__ checks nothing
    assert bad.epochs == 0 and bad.hidden_layer_sizes == "x"


@pytest.mark.parametrize("params, message", [
    ({"epochs": 0}, "epochs"), ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
    ({"batch_size": "big"}, "batch_size"), ({"optimizer": "nope"}, "optimizer"),
    ({"early_stopping": True, "validation_fraction": 1.5}, "validation_fraction"),
    ({"model_fn": lambda n_in, n_out: "not a model"}, "model_fn"),
])
def test_bad_parameters_are_refused_at_fit_with_nnscratch_errors(params, message):
    x, y = blobs()
    with pytest.raises(nn.NNScratchError, match=message):
        NNClassifier(**{**SMALL, **params}).fit(x, y)


def test_binary_string_labels_round_trip_through_classes():
    x, y = blobs(centers=2)
    labels = np.array(["dog", "cat"])[y]
    clf = NNClassifier(**SMALL).fit(x, labels)
    assert clf.classes_.tolist() == ["cat", "dog"]
    assert clf.n_features_in_ == 4 and clf.model_.layers[-1].units == 1  # one sigmoid output
    proba = clf.predict_proba(x)
    assert proba.shape == (len(x), 2) and np.allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(x)
    assert set(predicted) <= {"cat", "dog"}
    assert np.array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    assert clf.score(x, labels) > 0.95


def test_multiclass_uses_a_softmax_output_and_learns():
    x, y = blobs(centers=4, seed=3)
    clf = NNClassifier(**SMALL).fit(x, y + 10)
    assert clf.classes_.tolist() == [10, 11, 12, 13] and clf.model_.layers[-1].units == 4
    assert clf.predict_proba(x).shape == (len(x), 4)
    assert clf.score(x, y + 10) > 0.9
    assert clf.n_iter_ == 20 and len(clf.history_["loss"]) == 20
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]


def test_regressor_handles_one_and_several_targets():
    x, y = make_regression(n_samples=200, n_features=5, n_targets=3, noise=0.1, random_state=0)
    y = y / y.std(axis=0)
    multi = NNRegressor(**SMALL).fit(x, y)
    assert multi.n_outputs_ == 3 and multi.predict(x).shape == (200, 3) and multi.predict(x).dtype == np.float64
    assert multi.score(x, y) > 0.9
    single = NNRegressor(**SMALL).fit(x, y[:, 0])
    assert single.predict(x).shape == (200,) and single.score(x, y[:, 0]) > 0.9
    column = NNRegressor(**{**SMALL, "epochs": 3, "batch_size": "auto"}).fit(x, y[:, :1])
    assert column.predict(x).shape == (200, 1) and column.n_iter_ == 3


def test_random_state_makes_fits_identical():
    x, y = blobs()
    a = NNClassifier(**SMALL).fit(x, y).predict_proba(x)
    b = NNClassifier(**SMALL).fit(x, y).predict_proba(x)
    c = NNClassifier(**{**SMALL, "random_state": 1}).fit(x, y).predict_proba(x)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pipeline_grid_search_and_clone():
    x, y = make_blobs(n_samples=180, centers=3, n_features=3, cluster_std=2.0, random_state=2)
    x = x * np.array([100.0, 0.01, 1.0])  # badly scaled features: the pipeline's scaler fixes them
    pipe = make_pipeline(StandardScaler(), NNClassifier(**SMALL))
    grid = GridSearchCV(pipe, {"nnclassifier__hidden_layer_sizes": [(4,), (16, 8)],
                               "nnclassifier__learning_rate": [1e-3, 1e-2]}, cv=3).fit(x, y)
    assert len(grid.cv_results_["params"]) == 4
    best = grid.best_estimator_[-1]
    assert best.get_params()["hidden_layer_sizes"] == grid.best_params_["nnclassifier__hidden_layer_sizes"]
    assert grid.score(x, y) > 0.85
    copy = clone(best)
    assert copy.get_params() == best.get_params() and not hasattr(copy, "model_")


def test_partial_fit_continues_one_epoch_at_a_time():
    x, y = blobs()
    clf = NNClassifier(**SMALL)
    with pytest.raises(nn.InvalidValueError, match="classes must be passed"):
        clf.partial_fit(x, y)
    clf.partial_fit(x[:100], y[:100], classes=[0, 1, 2])
    first_model = clf.model_
    for _ in range(9):
        clf.partial_fit(x, y)
    assert clf.model_ is first_model and clf.n_iter_ == 10 and len(clf.history_["loss"]) == 10
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    assert clf.score(x, y) > 0.9
    with pytest.raises(nn.InvalidValueError, match="not one of classes_"):
        clf.partial_fit(x[:5], np.full(5, 7))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(x[:, :2], y)
    reg = NNRegressor(**SMALL).partial_fit(x, x[:, 0] - x[:, 1]).partial_fit(x, x[:, 0] - x[:, 1])
    assert reg.n_iter_ == 2 and reg.predict(x).shape == (len(x),)
    with pytest.raises(nn.ShapeError, match="target"):
        reg.partial_fit(x, x[:, :2])


def test_early_stopping_stops_and_keeps_the_best_weights(monkeypatch):
    from nnscratch.sklearn import base

    splits, real_split = [], base.train_test_split

    def recording_split(*args, **kwargs):  # the real split, remembered so the test can score the held-out part
        splits.append(real_split(*args, **kwargs))
        return splits[-1]

    monkeypatch.setattr(base, "train_test_split", recording_split)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(120, 6)), rng.integers(0, 2, size=120)  # pure noise: validation loss soon rises
    clf = NNClassifier(hidden_layer_sizes=(64,), learning_rate=3e-2, epochs=300, early_stopping=True, patience=3,
                       validation_fraction=0.25, random_state=0).fit(x, y)
    assert clf.n_iter_ < 300 and len(clf.history_["val_loss"]) == clf.n_iter_
    val_losses = clf.history_["val_loss"]
    best = int(np.argmin(val_losses))
    assert clf.n_iter_ == best + 1 + 4  # patience 3: stopped at the 4th epoch without improvement
    _, x_val, _, y_val = splits[-1]
    assert len(x_val) == 30 and np.bincount(y_val.ravel().astype(int)).min() >= 14  # stratified
    assert val_losses[-1] > val_losses[best]
    assert clf.model_.evaluate(x_val, y_val, return_dict=True)["loss"] == pytest.approx(val_losses[best], rel=1e-5)


def test_model_fn_builds_the_model_and_compiled_models_are_kept():
    x, y = make_regression(n_samples=120, n_features=3, noise=0.1, random_state=0)
    reg = NNRegressor(model_fn=small_tanh_net, epochs=5, random_state=0).fit(x, y / y.std())
    assert isinstance(reg.model_, nn.Sequential) and reg.model_.layers[0].units == 12

    def compiled(n_features, n_outputs):
        model = nn.Sequential([nn.Dense(n_outputs)], seed=0)
        return model.compile(loss="mae", optimizer=nn.SGD(lr=0.01))

    kept = NNRegressor(model_fn=compiled, epochs=2).fit(x, y)
    assert isinstance(kept.model_.optimizer, nn.SGD) and isinstance(kept.model_.loss, nn.MeanAbsoluteError)
    wrong = NNRegressor(model_fn=lambda n_in, n_out: nn.Sequential([nn.Dense(n_out + 1)]), epochs=1)
    with pytest.raises(nn.ShapeError, match="expected \\(samples, 1\\)"):
        wrong.fit(x, y)


def test_an_optimizer_instance_is_copied_not_trained():
    x, y = blobs()
    opt = nn.SGD(lr=0.05, momentum=0.9)
    clf = NNClassifier(**{**SMALL, "optimizer": opt}).fit(x, y)
    assert clf.optimizer is opt and opt.iterations == 0 and clf.model_.optimizer is not opt
    assert clf.model_.optimizer.iterations > 0 and clf.score(x, y) > 0.9


def test_one_class_is_refused():
    x, _ = blobs()
    with pytest.raises(ValueError, match="at least 2 classes"):
        NNClassifier(**SMALL).fit(x, np.zeros(len(x)))


def test_import_without_sklearn_names_the_extra():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import nnscratch\n"
            "try:\n    import nnscratch.sklearn\n"
            "except ImportError as exc:\n"
            "    assert isinstance(exc, nnscratch.NNScratchError), type(exc).__mro__\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "nnscratch[sklearn]" in out.stdout and "scikit-learn" in out.stdout


def test_sample_weight_weighs_each_samples_loss_also_through_a_pipeline():
    x, y = blobs(centers=2, n=200, seed=3)
    y = np.where(np.random.default_rng(3).random(200) < 0.3, 1 - y, y)  # noisy labels: weights decide
    weights = np.where(y == 1, 20.0, 1.0)
    plain = NNClassifier(**SMALL).fit(x, y)
    weighted = NNClassifier(**SMALL).fit(x, y, sample_weight=weights)
    assert (weighted.predict(x) == 1).mean() > (plain.predict(x) == 1).mean() + 0.1
    pipe = make_pipeline(StandardScaler(), NNClassifier(**SMALL)).fit(x, y, nnclassifier__sample_weight=weights)
    np.testing.assert_array_equal(pipe.predict(x), make_pipeline(StandardScaler(), NNClassifier(**SMALL)).fit(
        x, y, nnclassifier__sample_weight=weights).predict(x))  # seeded: the same model again
    stopped = NNRegressor(**SMALL, early_stopping=True, patience=3).fit(x, y.astype(float), sample_weight=weights)
    assert len(stopped.history_["val_loss"]) == stopped.n_iter_
    with pytest.raises(ValueError, match="sample_weight"):
        NNClassifier(**SMALL).fit(x, y, sample_weight=np.ones(5))


def test_warm_start_continues_the_fitted_model() -> None:
    """fit with warm_start: the weights, optimizer state and history go on, as one longer fit would."""
    x, y = blobs()
    warm = NNClassifier(hidden_layer_sizes=(8,), epochs=3, batch_size=16, random_state=0, warm_start=True)
    warm.fit(x, y)
    warm.fit(x, y)
    once = NNClassifier(hidden_layer_sizes=(8,), epochs=6, batch_size=16, random_state=0).fit(x, y)
    assert warm.n_iter_ == 6 and len(warm.history_["loss"]) == 6
    np.testing.assert_allclose(warm.history_["loss"][3:], once.history_["loss"][3:], rtol=1e-5)
    cold = NNClassifier(hidden_layer_sizes=(8,), epochs=3, batch_size=16, random_state=0).fit(x, y).fit(x, y)
    assert cold.n_iter_ == 3  # without warm_start every fit starts anew
    with pytest.raises(nn.InvalidValueError, match="warm_start=True: y has classes"):
        warm.fit(x[y != y.max()], y[y != y.max()])
    with pytest.raises(ValueError, match="features"):
        warm.fit(x[:, :1], y)
    reg = NNRegressor(hidden_layer_sizes=(4,), epochs=2, random_state=0, warm_start=True).fit(x, x[:, 0])
    with pytest.raises(nn.ShapeError, match="warm_start=True: y has 2 target"):
        reg.fit(x, x[:, :2])


def test_multilabel_indicator_targets() -> None:
    """y a 0/1 matrix: one sigmoid per label; predict gives the matrix, predict_proba each label's probability."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = np.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0, x[:, 3] < -0.5], axis=1).astype(np.int64)
    clf = NNClassifier(hidden_layer_sizes=(16,), epochs=60, learning_rate=1e-2, random_state=0).fit(x, y)
    assert clf.multilabel_ and clf.classes_.tolist() == [0, 1, 2]
    assert clf.model_.layers[-1].activation.__class__.__name__ == "Sigmoid"
    predicted, probs = clf.predict(x), clf.predict_proba(x)
    assert predicted.shape == probs.shape == (300, 3) and set(np.unique(predicted)) <= {0, 1}
    np.testing.assert_array_equal(predicted, (probs >= 0.5).astype(int))
    assert (predicted == y).mean() > 0.95 and clf.score(x, y) > 0.85  # score: every label of a sample right
    warm = NNClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0, warm_start=True).fit(x, y)
    warm.fit(x, y)
    assert warm.n_iter_ == 4
    with pytest.raises(nn.InvalidValueError, match="the fitted model is multilabel, y is not"):
        warm.fit(x, y[:, 0])
    with pytest.raises(nn.InvalidValueError, match="partial_fit is for binary and multiclass labels"):
        NNClassifier().partial_fit(x, y, classes=[0, 1])
