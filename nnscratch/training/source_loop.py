"""``fit``, ``evaluate`` and ``predict`` over a ``PyDataset`` or a generator of batches (``batch_source``).

The same epochs as with arrays (``epochs.train_epochs``: callbacks, History, guards); each batch is checked
as it arrives (shapes, NaN/inf, labels in range; errors name the batch), since the data are never all in
memory at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from ..core.validation import positive_int
from .batch_source import BatchSource, is_batch_source
from .callbacks import Callback
from .data import input_arrays, target_arrays, validation_parts
from .epochs import Step, model_step, train_batch, train_epochs
from .history import History
from .loop import as_callbacks, evaluate, evaluate_batches, predict_batches
from .regularization import sample_weights

Batch = tuple[list[np.ndarray], list[np.ndarray], "np.ndarray | None"]


def _build(model: Any, source: BatchSource) -> None:
    """Build an unbuilt model from the inputs of the source's first batch."""
    if not model.built:
        x = source.first_x()
        model._built_for(x)
        input_arrays(model, x, f"the inputs of batch 0 of {source.label}")


def checked(model: Any, source: BatchSource, rng: np.random.Generator | None = None,
            class_weight: Any = None) -> Iterator[Batch]:
    """The next epoch's batches of ``source`` as checked ``(xs, ys, sample weights or None)``."""
    trainer = model.trainer
    for k, x, y, sw in source.epoch(rng):
        where = f"batch {k} of {source.label}"
        if y is None:
            raise InvalidValueError(f"{where} has no targets: batches must be (x, y) or (x, y, sample_weight)")
        xs = input_arrays(model, x, f"the inputs of {where}")
        ys = target_arrays(model, y, len(xs[0]), f"the targets of {where}")
        trainer.check_targets(ys, f"the targets of {where}")
        yield xs, ys, sample_weights(ys[0], len(ys[0]), sw, class_weight, trainer.output_shapes[0])


def fit_source(model: Any, x: Any, y: Any = None, epochs: int = 1, steps_per_epoch: int | None = None,
               shuffle: bool = True, validation_data: Any = None, validation_steps: int | None = None,
               callbacks: Iterable[Callback] = (), verbose: int | str = "auto", initial_epoch: int = 0,
               class_weight: Any = None, sample_weight: Any = None, validation_split: float = 0.0,
               resume_from: Any = None, validation_batch_size: int | None = None, validation_freq: Any = 1) -> History:
    """Train on the batches of ``x`` (a ``PyDataset`` or a generator of ``(x, y)`` / ``(x, y, sample_weight)``
    batches) for ``epochs`` epochs of ``steps_per_epoch`` batches (default: ``len(x)``, or a generator's
    whole length). ``shuffle`` orders a ``PyDataset``'s batches anew each epoch (the model's random
    generator). ``validation_data``: arrays ``(x, y[, sample_weight])`` or another batch source, of which
    ``validation_steps`` batches are evaluated after each epoch (``validation_freq``: as for arrays).
    ``resume_from`` (a ``PyDataset`` whose epochs are whole passes): as for arrays; the batch order of the next
    epoch comes from the restored generator, so the run goes on as an uninterrupted one would."""
    reasons = {"y": "the batches bring the targets: (x, y)",
               "sample_weight": "each batch brings its weights: (x, y, sample_weight)",
               "validation_split": "pass validation_data (arrays, a PyDataset or a generator)"}
    given = [k for k, v in {"y": y, "sample_weight": sample_weight,
                            "validation_split": validation_split or None}.items() if v is not None]
    if given:
        raise InvalidValueError(f"fit got {given[0]}= with x a {type(x).__name__}: {reasons[given[0]]}")
    epochs = positive_int(epochs, "epochs", minimum=0)
    initial_epoch = positive_int(initial_epoch, "initial_epoch", minimum=0)
    source = BatchSource(x, steps_per_epoch, shuffle, "x")
    state = None if resume_from is None else _resume_state(source, resume_from, initial_epoch)
    val_source = (BatchSource(validation_data, validation_steps, False, "validation_data")
                  if is_batch_source(validation_data) else None)
    cbs = as_callbacks(callbacks)
    _build(model, source)
    if state is not None:
        state.check_compatible(model)
        if model.trainer is None:
            state.compile_into(model)
    trainer = model._compiled()
    trainer.prepare(training=True)

    def run_epoch(step: Step, epoch: int) -> tuple[dict[str, float] | None, int, bool]:
        trainer.reset_metrics()
        done = 0
        for xs, ys, weights in checked(model, source, model.rng, class_weight):
            trainer.sample_weight = weights
            train_batch(model, step, xs, ys, None, done, source.per_epoch, epoch, cbs)
            done += 1
            if model.stop_training:
                break
        if done == 0:
            return None, 0, False  # the data ran out (warned): no epoch
        return trainer.results(), done, source.per_epoch is None or done >= source.per_epoch

    validate = None
    if val_source is not None:
        def validate(cbs: list[Callback]) -> dict[str, float]:
            trainer.prepare(training=False)  # as evaluate does after each epoch with arrays
            return evaluate_batches(model, checked(model, val_source), cbs)
    elif validation_data is not None:
        if validation_steps is not None:
            raise InvalidValueError("validation_steps is for a PyDataset or a generator as validation_data")
        xv, yv, wv = validation_parts(validation_data)

        def validate(cbs: list[Callback]) -> dict[str, float]:
            return evaluate(model, xv, yv, batch_size=validation_batch_size, callbacks=cbs, sample_weight=wv)

    settings = {"epochs": epochs, "steps_per_epoch": source.per_epoch, "shuffle": bool(shuffle),
                "source": type(x).__name__}
    try:
        return train_epochs(model, run_epoch, validate, lambda stack: model_step(model), cbs,
                            epochs=epochs, start_epoch=initial_epoch, steps=source.per_epoch, samples=None,
                            verbose=verbose, settings=settings, state=state, validation_freq=validation_freq)
    finally:
        source.close()
        if val_source is not None:
            val_source.close()


def _resume_state(source: BatchSource, resume_from: Any, initial_epoch: int) -> Any:
    """The checkpoint to resume from, when ``source``'s epochs can be replayed: whole passes over a PyDataset."""
    from .checkpoint import read_checkpoint

    if source.dataset is None:
        raise InvalidValueError(f"fit got resume_from= with {source.label}: a generator cannot be taken back to "
                                "where the checkpoint stood; resume with a PyDataset (or arrays)")
    if source.size is None or source.per_epoch != source.size:
        raise InvalidValueError(f"fit got resume_from= with steps_per_epoch={source.steps} for {source.label} "
                                f"of {source.size} batches: where an epoch left a pass over it is not saved; "
                                "resume with whole passes (no steps_per_epoch)")
    if initial_epoch:
        raise InvalidValueError("pass either initial_epoch or resume_from, not both: a checkpoint knows its epoch")
    return read_checkpoint(resume_from)


def evaluate_source(model: Any, x: Any, steps: int | None = None,
                    callbacks: Iterable[Callback] = ()) -> dict[str, float]:
    """The loss and metrics over ``steps`` batches of ``x`` (default: all of them), as ``{"loss": ...}``."""
    trainer = model._compiled()
    source = BatchSource(x, steps, False, "x")
    try:
        _build(model, source)
        trainer.prepare(training=False)
        return evaluate_batches(model, checked(model, source), as_callbacks(callbacks))
    finally:
        source.close()


def predict_source(model: Any, x: Any, steps: int | None = None, callbacks: Iterable[Callback] = ()) -> Any:
    """The outputs for ``steps`` batches of ``x`` (default: all), joined; a batch's targets are ignored."""
    source = BatchSource(x, steps, False, "x")
    try:
        _build(model, source)
        batches = (input_arrays(model, xb, f"the inputs of batch {k} of {source.label}")
                   for k, xb, _, _ in source.epoch())
        return predict_batches(model, batches, as_callbacks(callbacks))
    finally:
        source.close()

