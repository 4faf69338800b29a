"""The training loop: ``fit`` (epochs of shuffled mini-batches, validation, callbacks, history, resume,
divergence and Ctrl-C guards), ``evaluate``, ``predict`` and the per-batch calls. ``Model`` delegates here.

``fit_with(make_step, ...)`` is the same loop around another training step (``Step``): data-parallel
training on worker processes (``nnscratch.distributed``) runs this loop with a step that sends each
batch's sample indices to the workers and adds up their gradients.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError
from ..core.validation import positive_int, real_number
from .callbacks import Callback
from .data import input_arrays, take, target_arrays, validation_parts
from .epochs import Step, model_step, train_batch, train_epochs
from .history import History
from .regularization import sample_weights


def as_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list of ``Callback`` objects (one callback alone is accepted too)."""
    if isinstance(callbacks, Callback):
        return [callbacks]
    try:
        items = list(callbacks or ())
    except TypeError:
        raise InvalidTypeError(f"callbacks must be a list of Callback objects, "
                               f"got {type(callbacks).__name__}") from None
    for i, cb in enumerate(items):
        if not isinstance(cb, Callback):
            raise InvalidTypeError(f"callbacks[{i}] must be a Callback (subclass nnscratch.Callback), got "
                                   f"{type(cb).__name__}")
    return items


def _batch_size(batch_size: Any, n: int, default: int) -> int:
    return min(default if batch_size is None else positive_int(batch_size, "batch_size"), n)


# make_step(model, xs, ys): the step for training ``model`` on the (checked, split) training arrays, entered
# once the model is compiled and restored and left when training ends (e.g. worker processes started/stopped).
StepMaker = Callable[[Any, list[np.ndarray], list[np.ndarray]], AbstractContextManager[Step]]


def fit(model: Any, x: Any, y: Any, epochs: int = 1, batch_size: int | None = 32, shuffle: bool = True,
        validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
        callbacks: Iterable[Callback] = (), verbose: int | str = "auto", initial_epoch: int = 0,
        resume_from: str | os.PathLike | None = None, sample_weight: Any = None, class_weight: Any = None,
        validation_batch_size: int | None = None, validation_freq: Any = 1) -> History:
    """Train ``model`` on ``x`` ``(samples, ...)`` and ``y`` until ``epochs`` epochs are done.

    ``x``/``y`` are arrays, or lists (dicts by name) of arrays for several inputs/outputs.
    ``batch_size=None`` is full-batch gradient descent; the last partial batch is kept. Data are
    reshuffled every epoch when ``shuffle``. ``validation_split`` holds out the last fraction of the
    samples (before shuffling); it is evaluated after every epoch (``validation_freq=n``: every ``n``-th; a
    list: after those epochs, counted from 1) in batches of ``validation_batch_size`` (default: the larger of
    ``batch_size`` and 256). ``sample_weight`` ``(samples,)`` and ``class_weight`` ``{class: weight}``
    weigh each sample's loss (Keras's rules: the weighted sum divided by the batch size). ``verbose``: 0 silent,
    1 progress display, 2 one line per epoch, ``"auto"`` = 1. Returns a ``History`` of per-epoch ``loss``,
    metrics and their ``val_`` counterparts.

    Everything is checked before the first step: shapes against the model and the loss, NaN/inf,
    class labels in range, argument values; errors name the argument (``docs/errors.md``).

    ``resume_from``: a checkpoint file or folder written by ``nnscratch.Checkpoint``. The weights,
    optimizer state, random generator, epoch counter, History and callback state are restored and
    training continues up to ``epochs`` (the total, not a number of extra epochs); a seeded run
    interrupted and resumed ends with the same weights, bit for bit, as one run straight through.

    Divergence: when a batch loss is NaN or inf, ``fit`` stops at once and raises
    ``TrainingDivergedError`` (epoch, batch, learning rate) after putting back the last finite weights.
    Ctrl-C (SIGINT, main thread): the current batch finishes, one line goes to stderr, and the History
    of the completed epochs comes back with ``history.interrupted = True``; a second Ctrl-C raises
    ``KeyboardInterrupt`` (the weights are then reset to those at the start of the epoch).
    """
    return fit_with(None, model, x, y, epochs, batch_size, shuffle, validation_data, validation_split, callbacks,
                    verbose, initial_epoch, resume_from, sample_weight, class_weight,
                    validation_batch_size=validation_batch_size, validation_freq=validation_freq)


def fit_with(make_step: StepMaker | None, model: Any, x: Any, y: Any, epochs: int = 1, batch_size: int | None = 32,
             shuffle: bool = True, validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
             callbacks: Iterable[Callback] = (), verbose: int | str = "auto", initial_epoch: int = 0,
             resume_from: str | os.PathLike | None = None, sample_weight: Any = None,
             class_weight: Any = None, validation_batch_size: int | None = None, validation_freq: Any = 1) -> History:
    """``fit`` with each batch trained by the ``Step`` that ``make_step`` makes (None: ``model.train_step``)."""
    from .checkpoint import read_checkpoint

    epochs = positive_int(epochs, "epochs", minimum=0)
    initial_epoch = positive_int(initial_epoch, "initial_epoch", minimum=0)
    validation_split = real_number(validation_split, "validation_split", "a number in [0, 1)", lambda v: 0.0 <= v < 1.0)
    cbs = as_callbacks(callbacks)
    state = None
    if resume_from is not None:
        if initial_epoch:
            raise InvalidValueError("pass either initial_epoch or resume_from, not both: a checkpoint knows its epoch")
        state = read_checkpoint(resume_from)
        state.check_compatible(model)
    if y is None:
        raise InvalidValueError("fit needs targets y (or override train_step for another kind of training)")
    xs = input_arrays(model, x)
    ys = target_arrays(model, y, len(xs[0]))
    if class_weight is not None and len(ys) > 1:
        raise InvalidValueError("class_weight is for models with one output; pass sample_weight instead")
    weights = sample_weights(ys[0], len(ys[0]), sample_weight, class_weight, model.graph.outputs[0].sample_shape)
    if weights is not None:
        ys = [*ys, weights]  # travels with the targets (shuffling, validation split); the trainer takes it off
    val_weights = None
    if validation_data is not None:
        xv, yv, wv = validation_parts(validation_data)
        xvs = input_arrays(model, xv, "validation_data[0]")
        yvs = target_arrays(model, yv, len(xvs[0]), "validation_data[1]")
        if wv is not None:
            val_weights = sample_weights(yvs[0], len(xvs[0]), wv)
    elif validation_split:
        n_all = len(xs[0])
        split = n_all - int(round(n_all * validation_split))
        if split < 1 or split == n_all:
            raise InvalidValueError(f"validation_split={validation_split} of {n_all} samples leaves an empty part")
        (xs, xvs), (ys, yvs) = ((take(xs, slice(None, split)), take(xs, slice(split, None))),
                                (take(ys, slice(None, split)), take(ys, slice(split, None))))
        yvs = yvs[:len(yvs) - (weights is not None)]
        validation_data = (xvs, yvs)
    n = len(xs[0])
    bs = _batch_size(batch_size, n, n) if batch_size is None else _batch_size(batch_size, n, 32)
    steps = -(-n // bs)
    if state is not None:
        state.check_input(xs[0])
        if model.trainer is None:
            state.compile_into(model)
    trainer = model._compiled()
    trainer.prepare(training=True)
    trainer.check_targets(ys[:len(ys) - (weights is not None)])
    if validation_data is not None:
        trainer.check_targets(yvs, "validation_data[1]")

    settings = {"epochs": epochs, "batch_size": bs, "samples": n, "shuffle": bool(shuffle),
                "validation_samples": len(xvs[0]) if validation_data is not None else 0}
    val_bs = max(bs, 256) if validation_batch_size is None else positive_int(validation_batch_size,
                                                                               "validation_batch_size")
    gather = shuffle and bs < n
    buffers = [np.empty((bs, *a.shape[1:]), dtype=a.dtype) for a in xs] if gather else None
    trainer.weighted = weights is not None

    def run_epoch(step: Step, epoch: int) -> tuple[dict[str, float], int, bool]:
        order = model.rng.permutation(n) if gather else None
        logs, seen = _run_epoch(model, step, xs, ys, bs, steps, order, buffers, cbs, epoch)
        return logs, -(-seen // bs), seen >= n

    def validate(cbs: list[Callback]) -> dict[str, float]:
        return evaluate(model, xvs, yvs, batch_size=val_bs, callbacks=cbs, sample_weight=val_weights)

    def enter_step(stack: ExitStack) -> Step:
        if make_step is None:
            return model_step(model)
        return stack.enter_context(make_step(model, xs, ys))

    return train_epochs(model, run_epoch, validate if validation_data is not None else None, enter_step, cbs,
                        epochs=epochs, start_epoch=initial_epoch, steps=steps, samples=n, verbose=verbose,
                        settings=settings, state=state, validation_freq=validation_freq)


def _run_epoch(model: Any, step_fn: Step, xs: list[np.ndarray], ys: list[np.ndarray], bs: int, steps: int,
               order: np.ndarray | None, buffers: list[np.ndarray] | None, cbs: list[Callback],
               epoch: int) -> tuple[dict[str, float], int]:
    """Train one epoch; the logs are the means over its batches (metrics from the outputs before each step)."""
    trainer = model.trainer
    trainer.reset_metrics()
    n, seen = len(xs[0]), 0
    epoch_ys = ys if order is None else take(ys, order)
    for step in range(steps):
        start, stop = step * bs, min(step * bs + bs, n)
        rows: slice | np.ndarray
        if order is None:
            rows = slice(start, stop)
            xb = take(xs, rows)
        else:
            assert buffers is not None  # made by fit whenever it shuffles
            rows = order[start:stop]
            xb = [np.take(x, rows, axis=0, out=buf[: stop - start], mode="clip") for x, buf in zip(xs, buffers)]
        yb = take(epoch_ys, slice(start, stop))
        if trainer.weighted:
            trainer.sample_weight, yb = yb[-1], yb[:-1]
        train_batch(model, step_fn, xb, yb, rows, step, steps, epoch, cbs)
        seen = stop
        if model.stop_training:
            break
    return trainer.results(), seen


def evaluate(model: Any, x: Any, y: Any, batch_size: int | None = None, return_dict: bool = True,
             callbacks: Iterable[Callback] = (), sample_weight: Any = None) -> Any:
    """``{"loss": ..., metric: ...}`` averaged over all samples, in inference mode (a list of values in
    Keras's order with ``return_dict=False``: the loss alone when there are no metrics). ``sample_weight``
    ``(samples,)`` weighs each sample's loss as in ``fit``."""
    trainer = model._compiled()
    if y is None:
        raise InvalidValueError("evaluate needs targets y (or a PyDataset or generator of (x, y) batches as x)")
    xs = input_arrays(model, x)
    ys = target_arrays(model, y, len(xs[0]))
    trainer.prepare(training=False)
    trainer.check_targets(ys)
    n = len(xs[0])
    bs = _batch_size(batch_size, n, 1024)
    weights = sample_weights(ys[0], n, sample_weight)
    batches = ((take(xs, slice(s, s + bs)), take(ys, slice(s, s + bs)), None if weights is None else weights[s:s + bs])
               for s in range(0, n, bs))
    results = evaluate_batches(model, batches, as_callbacks(callbacks))
    if return_dict:
        return results
    values = list(results.values())
    return values[0] if len(values) == 1 else values


def evaluate_batches(model: Any, batches: Iterable[tuple[list[np.ndarray], list[np.ndarray], np.ndarray | None]],
                     cbs: list[Callback]) -> dict[str, float]:
    """The running means of the loss and metrics over ``(xs, ys, sample weights or None)`` batches (checked,
    trainer prepared), with the ``on_test_*`` callbacks; the trainer's training totals stay as they were."""
    trainer = model.trainer
    for cb in cbs:
        cb.set_model(model)
    saved = trainer.save_metrics()  # the training epoch's running totals stay as they were
    weight, trainer.sample_weight = trainer.sample_weight, None
    trainer.reset_metrics()
    try:
        for cb in cbs:
            cb.on_test_begin({})
        for k, (xb, yb, wb) in enumerate(batches):
            for cb in cbs:
                cb.on_test_batch_begin(k, {})
            trainer.sample_weight = wb
            trainer.test_step(xb, yb)
            for cb in cbs:
                cb.on_test_batch_end(k, trainer.results())
        results = trainer.results()
    finally:
        trainer.restore_metrics(saved)
        trainer.sample_weight = weight
    for cb in cbs:
        cb.on_test_end(results)
    return results


def predict(model: Any, x: Any, batch_size: int | None = None, callbacks: Iterable[Callback] = ()) -> Any:
    """Model outputs for ``x`` in batches, inference mode: an array (a list, or a dict by name, for several).
    ``callbacks`` get the ``on_predict_*`` hooks (batch logs ``{"outputs": ...}``)."""
    xs = input_arrays(model, x)
    n = len(xs[0])
    bs = n if batch_size is None and n <= 1024 else _batch_size(batch_size, n, 1024)
    return predict_batches(model, (take(xs, slice(s, s + bs)) for s in range(0, n, bs)), as_callbacks(callbacks))


def predict_batches(model: Any, batches: Iterable[list[np.ndarray]], cbs: list[Callback]) -> Any:
    """The outputs for checked input batches, joined: an array (a list of arrays for several outputs)."""
    from ..core.call import Call

    ctx = Call(training=False, input_grad=False)
    parts: list[list[np.ndarray]] = []
    for cb in cbs:
        cb.set_model(model)
        cb.on_predict_begin({})
    for k, xb in enumerate(batches):
        for cb in cbs:
            cb.on_predict_batch_begin(k, {})
        outs = model.run(ctx, xb)
        parts.append(outs)
        for cb in cbs:
            cb.on_predict_batch_end(k, {"outputs": model.packed_outputs(outs)})
    for cb in cbs:
        cb.on_predict_end({})
    if not parts:
        raise InvalidValueError("predict got no batches")
    # one batch: a copy, so that the result never shares memory with the input (a Reshape model, say)
    outs = [np.concatenate([p[i] for p in parts]) if len(parts) > 1 else parts[0][i].copy()
            for i in range(len(parts[0]))]
    return model.packed_outputs(outs)


def _batch(model: Any, x: Any, y: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    xs = input_arrays(model, x)
    ys = target_arrays(model, y, len(xs[0]))
    return xs, ys


def train_on_batch(model: Any, x: Any, y: Any) -> dict[str, float]:
    """One optimizer step on ``(x, y)`` (checked first); the batch's loss and metrics."""
    trainer = model._compiled()
    xs, ys = _batch(model, x, y)
    trainer.prepare(training=True)
    trainer.check_targets(ys)
    trainer.reset_metrics()
    logs = model.train_step(xs, ys)
    return trainer.results() or dict(logs)


def test_on_batch(model: Any, x: Any, y: Any) -> dict[str, float]:
    trainer = model._compiled()
    xs, ys = _batch(model, x, y)
    trainer.prepare(training=False)
    trainer.check_targets(ys)
    trainer.reset_metrics()
    model.test_step(xs, ys)
    return trainer.results()


def compute_gradients(model: Any, x: Any, y: Any) -> tuple[float, dict[str, np.ndarray]]:
    """``(loss, {weight name: dL/dweight})`` of the batch ``(x, y)`` in training mode; no weight changes
    (the layers' ``grad`` arrays are overwritten, random layers draw as in training)."""
    trainer = model._compiled()
    xs, ys = _batch(model, x, y)
    trainer.prepare(training=False)
    trainer.check_targets(ys)
    state = [(p, p.data.copy()) for p in model.non_trainable_weights]  # running statistics stay as they were
    model.zero_grad()
    try:
        value, _ = trainer.forward_backward(xs, ys)
    finally:
        for p, saved in state:
            p.data[...] = saved
    return value, {name: p.grad.copy() for name, p in model.named_parameters()}
