"""Losses and metrics on sequence outputs ``(N, T, C)`` and on masked outputs, as Keras 3 computes them.

Keras's ``sum_over_batch_size`` averages the per-step losses over the ``N * T`` steps; a mask ``(N, T)`` on the
output (``Embedding(mask_zero=True)`` upstream) gives ``sum(loss_t * mask_t * w) / sum(mask)`` (``losses/loss.py``
``apply_mask``), and the metrics take the mask as sample weights (``MeanMetricWrapper``). Checked here: float64
finite differences of every loss's backward, formulas in NumPy and PyTorch's ``cross_entropy`` with
``ignore_index``, a whole tagger, padding that changes nothing, the logs of ``fit``/``evaluate``, and the
``(N, C)`` losses bit for bit against a copy of their formulas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.autodiff.gradcheck import numeric_gradient, relative_error
from nnscratch.core.call import Call
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.keras import layers
from nnscratch.training import elementwise_losses as el
from nnscratch.training import losses, metrics
from nnscratch.training.huber import Huber
from nnscratch.training.loop import compute_gradients
from nnscratch.training.parallel import DataParallel
from nnscratch.training.regularization import weighted_value
from nnscratch.training.row_losses import CategoricalHinge, CosineSimilarity
from nnscratch.utils.gradcheck import check_loss

rng = np.random.default_rng(0)
N, T, C = 4, 5, 3
MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)  # one sample all padding
NONE = np.zeros((N, T), bool)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


LOGITS = rng.standard_normal((N, T, C))
PROBS = softmax(LOGITS)
LABELS = rng.integers(0, C, (N, T))
ONEHOT = np.eye(C)[LABELS]
SOFT = rng.dirichlet(np.ones(C), (N, T))
U = rng.uniform(0.1, 0.9, (N, T, C))  # away from the clips and kinks, where finite differences hold
V = rng.uniform(0.1, 0.9, (N, T, C))
BITS = (rng.random((N, T, C)) > 0.5).astype(float)
SIGNS = np.where(rng.random((N, T, C)) > 0.5, 1.0, -1.0)
SCORES = rng.uniform(-0.8, 0.8, (N, T, C)) + 0.1 * np.sign(rng.normal(size=(N, T, C)))


def step_mse(y_true: Any, y_pred: Any) -> Any:
    """A custom loss of one value per step (N, T), Keras's way."""
    return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1)


CCE = losses.CategoricalCrossEntropy
LOSSES = {  # name: (make, pred, target)
    "cce probs, labels": (lambda: CCE(), PROBS, LABELS),
    "cce probs, labels (N, T, 1)": (lambda: CCE(), PROBS, LABELS[..., None]),
    "cce probs, one-hot": (lambda: CCE(), PROBS, ONEHOT),
    "cce probs, soft": (lambda: CCE(), PROBS, SOFT),
    "cce logits, labels": (lambda: CCE(from_logits=True), LOGITS, LABELS),
    "cce logits, soft": (lambda: CCE(from_logits=True), LOGITS, SOFT),
    "cce logits, smoothed labels": (lambda: CCE(from_logits=True, label_smoothing=0.1), LOGITS, LABELS),
    "bce probs": (lambda: losses.BinaryCrossEntropy(), U, BITS),
    "bce logits, smoothed": (lambda: losses.BinaryCrossEntropy(from_logits=True, label_smoothing=0.2), LOGITS, BITS),
    "mse": (lambda: losses.MeanSquaredError(), U, V),
    "mae": (lambda: losses.MeanAbsoluteError(), U, V),
    "huber": (lambda: Huber(delta=0.3), U, V),
    "log_cosh": (lambda: el.LogCosh(), U, V),
    "poisson": (lambda: el.Poisson(), U, V),
    "kld": (lambda: el.KLDivergence(), U, V),
    "squared_hinge": (lambda: el.SquaredHinge(), SCORES, SIGNS),
    "cosine_similarity": (lambda: CosineSimilarity(), U, V),
    "categorical_hinge": (lambda: CategoricalHinge(), U, ONEHOT),
    "function loss (N, T)": (lambda: losses.FunctionLoss(step_mse), U, V),
}


@pytest.mark.parametrize("mask", [None, MASK], ids=["unmasked", "masked"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_backward_matches_finite_differences_on_sequences(name: str, mask: np.ndarray | None) -> None:
    make, pred, target = LOSSES[name]
    assert check_loss(make(), pred, target, mask=mask) < 1e-6


@pytest.mark.parametrize("mask", [None, MASK], ids=["unmasked", "masked"])
@pytest.mark.parametrize("name", [n for n in LOSSES if not n.startswith("function")])
def test_sample_weighted_backward_matches_finite_differences(name: str, mask: np.ndarray | None) -> None:
    """The trainer's weighted loss ``mean(w * sample_losses)`` and its gradient ``backward() * w``."""
    make, pred, target = LOSSES[name]
    loss, w, pred = make(), rng.uniform(0.2, 2.0, N), pred.copy()

    def value() -> float:
        loss.forward(pred, target, mask=mask)
        return weighted_value(loss, w)

    value()
    analytic = loss.backward() * w[:, None, None]
    assert relative_error(analytic, numeric_gradient(value, pred, 1e-6)) < 1e-6


def _xent(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(p)).sum(-1)


STEP_FORMULAS = {  # name: the per-step loss (N, T) in NumPy, as Keras's loss functions give it
    "cce probs, labels": lambda: _xent(PROBS, ONEHOT),
    "cce probs, one-hot": lambda: _xent(PROBS, ONEHOT),
    "cce probs, soft": lambda: _xent(PROBS, SOFT),
    "cce logits, labels": lambda: _xent(softmax(LOGITS), ONEHOT),
    "cce logits, smoothed labels": lambda: _xent(softmax(LOGITS), ONEHOT * 0.9 + 0.1 / C),
    "bce probs": lambda: -(BITS * np.log(U) + (1 - BITS) * np.log(1 - U)).mean(-1),
    "mse": lambda: np.square(U - V).mean(-1),
    "mae": lambda: np.abs(U - V).mean(-1),
    "huber": lambda: np.where(np.abs(U - V) <= 0.3, 0.5 * (U - V) ** 2, 0.3 * (np.abs(U - V) - 0.15)).mean(-1),
    "log_cosh": lambda: np.log(np.cosh(U - V)).mean(-1),
    "cosine_similarity": lambda: -(U * V).sum(-1) / np.linalg.norm(U, axis=-1) / np.linalg.norm(V, axis=-1),
    "function loss (N, T)": lambda: np.square(U - V).mean(-1),
}


@pytest.mark.parametrize("name", list(STEP_FORMULAS))
def test_values_are_keras_means_over_the_steps(name: str) -> None:
    make, pred, target = LOSSES[name]
    steps = STEP_FORMULAS[name]()
    assert steps.shape == (N, T)
    loss = make()
    assert loss.forward(pred, target) == pytest.approx(steps.mean(), rel=1e-12)  # over all N * T steps
    if not name.startswith("function"):
        np.testing.assert_allclose(loss.sample_losses, steps.mean(axis=1), rtol=1e-12)
    assert loss.forward(pred, target, mask=MASK) == pytest.approx(steps[MASK].mean(), rel=1e-12)
    assert steps[MASK].mean() != pytest.approx(steps.mean(), rel=1e-3)  # (the mask does change it)
    if not name.startswith("function"):
        w = rng.uniform(0.2, 2.0, N)  # sample weights multiply; the denominator stays sum(mask)
        expected = (steps * MASK * w[:, None]).sum() / MASK.sum()
        assert weighted_value(loss, w) == pytest.approx(expected, rel=1e-12)
    assert loss.forward(pred, target, mask=NONE) == 0.0  # all padding: 0, as Keras's divide_no_nan
    assert not loss.backward().any()


def test_cross_entropy_matches_torch_with_ignore_index() -> None:
    torch = pytest.importorskip("torch")
    logits = torch.tensor(LOGITS, requires_grad=True)
    ignored = torch.tensor(np.where(MASK, LABELS, -100))
    for smoothing in (0.0, 0.1):
        expected = torch.nn.functional.cross_entropy(logits.permute(0, 2, 1), ignored, ignore_index=-100,
                                                     label_smoothing=smoothing)  # the mean over the real steps
        (grad,) = torch.autograd.grad(expected, logits)
        loss = CCE(from_logits=True, label_smoothing=smoothing)
        assert loss.forward(LOGITS, LABELS, mask=MASK) == pytest.approx(float(expected.detach()), rel=1e-12)
        np.testing.assert_allclose(loss.backward(), grad.numpy(), rtol=1e-10, atol=1e-15)
    whole = torch.nn.functional.cross_entropy(logits.permute(0, 2, 1), torch.tensor(LABELS))
    assert CCE(from_logits=True).forward(LOGITS, LABELS) == pytest.approx(float(whole.detach()), rel=1e-12)


# ---------------------------------------------------------------- (N, C): bit for bit as before
def _old_cce(pred: np.ndarray, target: np.ndarray, from_logits: bool, smoothing: float) -> tuple[Any, ...]:
    """The (N, C) cross-entropy as nnscratch computed it before sequences (a copy of its formula)."""
    n, classes = pred.shape
    eps = 1e-7 if pred.dtype == np.float32 else 1e-15
    labels, y = None, None
    if target.shape == (n,) or target.shape == (n, 1) and classes > 1:
        labels = target.reshape(n).astype(np.intp)
        if smoothing:
            y = np.zeros_like(pred)
            y[np.arange(n), labels] = 1
            labels = None
    else:
        y = target.astype(pred.dtype)
    if y is not None and smoothing:
        y = y * y.dtype.type(1 - smoothing) + y.dtype.type(smoothing / classes)
    if from_logits:
        shifted = pred - np.maximum.reduce(pred, axis=-1, keepdims=True)
        shifted -= np.log(np.add.reduce(np.exp(shifted), axis=-1, keepdims=True))
        logp = shifted
    else:
        logp = np.log(np.clip(pred if y is not None else pred[np.arange(n), labels], eps, 1.0))
    if y is not None:
        samples = -np.einsum("ij,ij->i", y, logp)
    else:
        samples = -(logp[np.arange(n), labels] if from_logits else logp)
    value = float(np.sum(samples) / n)
    scale, rows = pred.dtype.type(1.0 / n), np.arange(n)
    if from_logits:
        g = np.exp(logp)
        if labels is not None:
            g[rows, labels] -= 1
        else:
            g -= y
        g *= scale
    elif labels is not None:
        g = np.zeros_like(pred)
        g[rows, labels] = -scale / np.clip(pred[rows, labels], eps, 1.0)
    else:
        g = -(y / np.clip(pred, eps, 1.0)) * scale
    return value, samples, g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("form", ["labels", "labels (N, 1)", "one-hot", "soft"])
def test_two_dimensional_cross_entropy_is_bit_for_bit_as_before(dtype: Any, from_logits: bool, smoothing: float,
                                                                 form: str) -> None:
    z = (rng.standard_normal((9, 6)) * 3).astype(dtype)
    pred = z if from_logits else softmax(z).astype(dtype)
    labels = rng.integers(0, 6, 9)
    target = {"labels": labels, "labels (N, 1)": labels[:, None], "one-hot": np.eye(6, dtype=dtype)[labels],
              "soft": rng.dirichlet(np.ones(6), 9).astype(dtype)}[form]
    loss = CCE(from_logits=from_logits, label_smoothing=smoothing)
    value = loss.forward(pred, target)
    old_value, old_samples, old_grad = _old_cce(pred, target, from_logits, smoothing)
    assert value == old_value
    np.testing.assert_array_equal(loss.sample_losses, old_samples)
    grad = loss.backward()
    assert grad.dtype == old_grad.dtype
    np.testing.assert_array_equal(grad, old_grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_dimensional_mse_and_bce_are_bit_for_bit_as_before(dtype: Any) -> None:
    pred, target = rng.random((7, 3)).astype(dtype), rng.random((7, 3)).astype(dtype)
    mse = losses.MeanSquaredError()
    diff = pred - target
    assert mse.forward(pred, target) == float(np.vdot(diff, diff)) / diff.size
    np.testing.assert_array_equal(mse.backward(), diff * diff.dtype.type(2.0 / diff.size))
    np.testing.assert_array_equal(mse.sample_losses, np.square(diff).reshape(7, -1).mean(axis=1))
    bce, bits = losses.BinaryCrossEntropy(), (target > 0.5).astype(dtype)
    eps = 1e-7 if dtype == np.float32 else 1e-15
    p = np.clip(pred, eps, 1 - eps)
    per = -(bits * np.log(p) + (1 - bits) * np.log1p(-p))
    assert bce.forward(pred, bits) == float(np.mean(per))
    np.testing.assert_array_equal(bce.backward(), ((p - bits) / (p * (1 - p))) * pred.dtype.type(1.0 / pred.size))


# ---------------------------------------------------------------- targets
def test_sequence_targets_are_checked_with_one_clear_error() -> None:
    loss, shape = CCE(), (T, C)
    loss.check_targets(LABELS, shape)
    loss.check_targets(LABELS[..., None], shape)
    loss.check_targets(ONEHOT, shape)
    loss.check_targets(LABELS, (None, C))  # a variable length takes any T
    with pytest.raises(ShapeError, match=r"y has shape \(4, 6\), but the model outputs \(samples, 5, 3\) \(3 classes "
                                         r"on the last axis\); expected class indices \(samples, 5\)"):
        loss.check_targets(np.zeros((N, T + 1), int), shape)
    with pytest.raises(ShapeError, match=r"one-hot rows \(samples, 5, 3\)"):
        loss.check_targets(np.zeros((N, T, C + 1)), shape)
    bad = LABELS.copy()
    bad[1, 2] = C
    with pytest.raises(InvalidValueError, match=r"y contains label 3 at index \(1, 2\), out of range: the model has 3 "
                                                r"outputs, so labels must be 0..2"):
        loss.check_targets(bad, shape)
    with pytest.raises(InvalidValueError, match=r"y contains 0.5 at index \(0, 0\); class labels must be whole"):
        loss.check_targets(np.full((N, T), 0.5), shape)
    halved = ONEHOT.copy()
    halved[2, 4] *= 0.5
    with pytest.raises(InvalidValueError, match=r"y row \(2, 4\) sums to 0.5; one-hot"):
        loss.check_targets(halved, shape)
    with pytest.raises(ShapeError, match=r"target has shape \(4, 6\), expected \(4, 5\) class indices"):
        CCE().forward(PROBS, np.zeros((N, T + 1), int))
    with pytest.raises(InvalidValueError, match="label 3 out of range"):
        CCE().forward(PROBS, bad)
    with pytest.raises(ShapeError, match=r"mask of shape \(4, 4\) cannot weigh"):
        CCE().forward(PROBS, LABELS, mask=MASK[:, :4])


# ---------------------------------------------------------------- metrics
def test_accuracy_is_keras_per_step_mean_chosen_by_the_last_axis() -> None:
    binary, categorical = metrics.get("accuracy", 1), metrics.get("accuracy", C)
    assert type(binary) is metrics.BinaryAccuracy and type(categorical) is metrics.CategoricalAccuracy
    hits = PROBS.argmax(-1) == LABELS
    assert 0 < hits.mean() < 1
    for target in (LABELS, LABELS[..., None], ONEHOT):
        assert categorical(target, PROBS) == pytest.approx(hits.mean())
        total, count = categorical.masked_totals(target, PROBS, MASK)
        assert total / count == pytest.approx(hits[MASK].mean())
        assert count == pytest.approx(MASK.sum() / T)  # Keras's Mean: per sample the mean over the steps
    top2 = metrics.TopKCategoricalAccuracy(k=2)
    ranks = (PROBS > np.take_along_axis(PROBS, LABELS[..., None], -1)).sum(-1)
    assert top2(LABELS, PROBS) == pytest.approx((ranks < 2).mean())
    assert (ranks < 2).mean() != pytest.approx(hits.mean())
    p1, y1 = U[..., :1], BITS[..., 0]
    assert binary(y1, p1) == pytest.approx(((p1[..., 0] > 0.5) == (y1 > 0.5)).mean())


def _tagger(dense_only: bool = False, vocab: int = 12, classes: int = 4, seed: int = 0) -> nn.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(None,), dtype="int32")
    h = layers.Embedding(vocab, 8, mask_zero=True)(inputs)
    if not dense_only:
        h = layers.LSTM(16, return_sequences=True)(h)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(h))


TAG_OF = np.random.default_rng(7).integers(0, 4, 12)  # each token's tag (token 0 is padding)


def _tagging_data(n: int, steps: int = 8, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token sequences padded with 0 to ``steps``, their tags, and the mask; the padding's tags are noise."""
    g = np.random.default_rng(seed)
    lengths = g.integers(2, steps + 1, n)
    real = np.arange(steps) < lengths[:, None]
    x = np.where(real, g.integers(1, 12, (n, steps)), 0)
    y = np.where(real, TAG_OF[x], g.integers(0, 4, (n, steps)))
    return x, y, real


def test_a_masked_tagger_learns_its_tags() -> None:
    x, y, real = _tagging_data(384)
    model = _tagger()
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    hits = model.predict(x).argmax(-1) == y
    assert hits[real].mean() > 0.97  # the real steps
    assert hits[~real].mean() < 0.6  # the padding's noise was left out
    assert history.history["accuracy"][-1] > 0.95
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]


def _trained_tagger(epochs: int = 4) -> nn.Model:
    """A tagger trained a little, so that its outputs are far from uniform."""
    model = _tagger()
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    model.fit(*_tagging_data(64, seed=5)[:2], epochs=epochs, verbose=0)
    return model


def _masked_means(probs: np.ndarray, y: np.ndarray, real: np.ndarray, w: np.ndarray | None = None
                  ) -> tuple[float, float]:
    steps = -np.log(np.take_along_axis(probs, y[..., None], -1)[..., 0])
    w = np.ones(len(y)) if w is None else w
    return float((steps * real * w[:, None]).sum() / real.sum()), float((probs.argmax(-1) == y)[real].mean())


def test_evaluate_and_fit_logs_are_the_masked_means() -> None:
    x, y, real = _tagging_data(10)
    model = _trained_tagger()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    probs = model.predict(x).astype(np.float64)
    loss, acc = _masked_means(probs, y, real)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": pytest.approx(loss, rel=1e-5),
                                                                  "accuracy": pytest.approx(acc)}
    # several batches: the loss is the batch-size-weighted mean of each batch's masked mean, the accuracy the
    # share of every real step seen (Keras's loss tracker and Mean metric)
    parts = [(4, _masked_means(probs[s:s + 4], y[s:s + 4], real[s:s + 4])[0]) for s in range(0, 10, 4)]
    batched = sum(min(n, 10 - s) * v for s, (n, v) in zip(range(0, 10, 4), parts)) / 10
    assert batched != pytest.approx(loss, rel=1e-4)
    result = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    assert result == {"loss": pytest.approx(batched, rel=1e-5), "accuracy": pytest.approx(acc)}
    w = np.linspace(0.5, 2.0, 10)
    weighted = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert weighted["loss"] == pytest.approx(_masked_means(probs, y, real, w)[0], rel=1e-5)
    assert weighted["accuracy"] == pytest.approx(acc)  # metrics=[...] take no sample weights (Keras)
    history = model.fit(x, y, epochs=1, batch_size=10, verbose=0, validation_data=(x, y))  # one step
    assert history.history["loss"][0] == pytest.approx(loss, rel=1e-5)  # the outputs before the step
    assert history.history["accuracy"][0] == pytest.approx(acc)
    after = _masked_means(model.predict(x).astype(np.float64), y, real)
    assert history.history["val_loss"][0] == pytest.approx(after[0], rel=1e-5)
    assert history.history["val_loss"][0] != pytest.approx(loss, rel=1e-6)


def _nll(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -np.log(np.take_along_axis(p, y[..., None], -1))[..., 0]


def _bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = np.eye(4)[y]
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


@pytest.mark.parametrize("loss, target, per_step", [  # Keras's names, targets (N, T, C), (N, T, 1) and (N, T)
    ("categorical_crossentropy", lambda y: np.eye(4)[y], _nll),
    ("sparse_categorical_crossentropy", lambda y: y[..., None], _nll),
    ("sparse_categorical_crossentropy", lambda y: y, _nll),
    ("mse", lambda y: np.eye(4)[y], lambda p, y: np.square(p - np.eye(4)[y]).mean(-1)),
    ("binary_crossentropy", lambda y: np.eye(4)[y], _bce),
])
def test_keras_losses_on_a_masked_output(loss: str, target: Any, per_step: Any) -> None:
    x, y, real = _tagging_data(12)
    model = _tagger()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    probs = model.predict(x).astype(np.float64)
    result = model.evaluate(x, target(y), verbose=0, return_dict=True)
    steps = per_step(probs, y)
    assert result["loss"] == pytest.approx(steps[real].mean(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((probs.argmax(-1) == y)[real].mean())
    assert np.isfinite(model.fit(x, target(y), epochs=2, verbose=0).history["loss"]).all()


def test_a_binary_tagger_on_a_sequence_of_one_output() -> None:
    x, y, real = _tagging_data(12)
    bits = (y % 2).astype(float)
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    h = layers.LSTM(6, return_sequences=True)(layers.Embedding(12, 4, mask_zero=True)(inputs))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(h))  # (N, T, 1), targets (N, T)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.trainer.prepare(training=False)
    assert type(model.trainer.metrics[0][0]) is metrics.BinaryAccuracy  # by the last axis, as Keras picks it
    p = model.predict(x)[..., 0].astype(np.float64)
    steps = -(bits * np.log(p) + (1 - bits) * np.log(1 - p))
    result = model.evaluate(x, bits, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(steps[real].mean(), rel=1e-5)
    assert result["accuracy"] == pytest.approx(((p > 0.5) == (bits > 0.5))[real].mean())


# ---------------------------------------------------------------- padding changes nothing
def test_targets_at_padding_change_neither_loss_nor_step() -> None:
    x, y, real = _tagging_data(16)
    noise = np.where(real, y, (y + 1) % 4)
    assert (noise != y).any()
    runs = []
    for target in (y, noise):
        model = _tagger()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        logs = model.train_on_batch(x, target)
        runs.append((logs, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    unmasked = _tagger()  # (without the mask the noise would count)
    unmasked.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    probs = unmasked.predict(x).astype(np.float64)
    assert _masked_means(probs, y, np.ones_like(real))[0] != pytest.approx(_masked_means(probs, noise,
                                                                                        np.ones_like(real))[0])


def test_predictions_at_padding_change_neither_loss_nor_gradients() -> None:
    x, y, real = _tagging_data(16)
    models = [_tagger(dense_only=True) for _ in range(2)]
    models[1].set_weights(models[0].get_weights())
    table = next(layer for layer in models[1].layers if isinstance(layer, layers.Embedding)).embeddings.data
    table[0] = rng.standard_normal(table.shape[1])  # the padding token's vector: only the padding's outputs move
    p0, p1 = models[0].predict(x), models[1].predict(x)
    np.testing.assert_array_equal(p0[real], p1[real])
    assert np.abs(p0[~real] - p1[~real]).max() > 1e-3
    results = []
    for model in models:
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        loss, grads = compute_gradients(model, x, y)
        results.append((loss, grads))
    assert results[0][0] == results[1][0]
    for name, g in results[0][1].items():
        np.testing.assert_array_equal(g, results[1][1][name])
    assert not any(g[0].any() for name, g in results[0][1].items() if "embeddings" in name)  # padding row: no grad


def test_fused_softmax_and_rewrites_off_agree_on_a_masked_output() -> None:
    x, y, _ = _tagging_data(8)
    grads = []
    for rewrites in (True, False):
        model = _tagger()
        model.rewrites = rewrites
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        value, g = compute_gradients(model, x, y)
        grads.append((value, g, model.trainer.fused))
    assert grads[0][2] == {0} and grads[1][2] == set()  # the softmax fused with the loss, or not
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-5)
    for name, g in grads[0][1].items():
        np.testing.assert_allclose(g, grads[1][1][name], rtol=1e-4, atol=1e-7)


# ---------------------------------------------------------------- the plumbing
def test_a_forward_leaves_the_output_masks_on_its_record() -> None:
    x, _, real = _tagging_data(5)
    model, ctx = _tagger(), Call(training=False, input_grad=False)
    model.run(ctx, [x])
    assert len(ctx.output_masks) == 1
    np.testing.assert_array_equal(ctx.output_masks[0], real)
    plain = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    plain.run(ctx, [np.ones((2, 3), np.float32)])
    assert ctx.output_masks is None


def test_custom_losses_and_metrics_with_a_mask() -> None:
    x, y, real = _tagging_data(6)
    onehot = np.where(real[..., None], np.eye(4)[y], 1.0)  # at padding, targets far from any output
    seen: list[Any] = []

    class Recorder(keras.metrics.Metric):  # a stateful metric: Keras gives it no mask
        def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
            seen.append(sample_weight)

        def result(self) -> float:
            return 0.0

    def per_step_error(y_true: Any, y_pred: Any) -> Any:
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)).mean(-1)

    model = _tagger()
    model.compile(optimizer="adam", loss=step_mse, metrics=[keras.metrics.MeanMetricWrapper(per_step_error, name="e"),
                                                            per_step_error, Recorder(name="rec")])
    probs = model.predict(x).astype(np.float64)
    result = model.evaluate(x, onehot, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(np.square(probs - onehot).mean(-1)[real].mean(), rel=1e-5)
    error = np.abs(onehot - probs).mean(-1)
    assert result["e"] == pytest.approx(error[real].mean(), rel=1e-5)  # the mask as sample weight
    assert result["per_step_error"] == pytest.approx(error[real].mean(), rel=1e-5)
    assert error[real].mean() != pytest.approx(error.mean(), rel=1e-3)
    assert seen and all(w is None for w in seen)

    def per_sample(y_true: Any, y_pred: Any) -> Any:
        return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=(1, 2))

    model.compile(optimizer="adam", loss=per_sample)
    with pytest.raises(ShapeError, match=r"returned shape \(6,\), but the model output carries a mask"):
        model.evaluate(x, onehot, verbose=0)

    def scalar(y_true: Any, y_pred: Any) -> Any:
        return keras.ops.mean(keras.ops.square(y_pred - y_true))

    model.compile(optimizer="adam", loss=scalar)  # Keras keeps a scalar as it is: the padding counts
    assert model.evaluate(x, onehot, verbose=0) == pytest.approx(np.square(probs - onehot).mean(), rel=1e-5)


def test_class_weight_is_refused_for_a_class_per_step() -> None:
    x, y, _ = _tagging_data(6)
    model = _tagger()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(InvalidValueError, match=r"class_weight weighs each sample by its one class, but the model "
                                                r"outputs \(samples, None, 4\)"):
        model.fit(x, y, class_weight={0: 2.0}, verbose=0)
    assert np.isfinite(model.fit(x, y, sample_weight=np.linspace(1, 2, 6), verbose=0).history["loss"][0])


def test_a_masked_output_trains_on_one_thread() -> None:
    def two_outputs(masking: bool) -> nn.Model:
        inputs = keras.Input(shape=(6, 4))
        tagged = layers.Dense(3)(layers.Masking()(inputs) if masking else inputs)
        pooled = layers.Dense(2)(layers.Flatten()(layers.Conv1D(2, 3)(inputs)))  # a layer that gains from threads
        return keras.Model(inputs, [tagged, pooled])

    assert DataParallel.eligible(two_outputs(masking=False))
    masked = two_outputs(masking=True)
    assert masked.graph.outputs[0].masked
    assert not DataParallel.eligible(masked)


def test_ray_training_refuses_a_masked_output() -> None:
    pytest.importorskip("ray")
    from nnscratch.distributed.ray_trainer import RayTrainer

    x, y, _ = _tagging_data(6)
    model = _tagger()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(InvalidValueError, match=r"model output '\w+' carries a mask: its loss is the mean over the "
                                                r"real steps of the whole batch"):
        RayTrainer(model, [x], [y])
