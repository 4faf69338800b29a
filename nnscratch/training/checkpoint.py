"""Training checkpoints: everything needed to continue an interrupted run exactly where it stopped.

A checkpoint is a model file (``nnscratch/io/model_file.py``: one ``.npz``, JSON record + arrays, never
pickle, written atomically) that also holds

- the optimizer state (``optimizer.state_dict()``: step count, learning rate, momentum/Adam moments),
- the state of every random generator the model uses (shuffling, dropout), JSON plus arrays,
- the number of completed epochs and the ``History`` so far,
- the compile configuration (loss, optimizer configuration, metrics),
- the state of callbacks that have some (``EarlyStopping``, ``ModelCheckpoint``),
- the ``fit`` settings it was written with (batch size, samples, shuffle), to warn when a resumed run
  differs.

Use it with the ``Checkpoint`` callback and ``fit(resume_from=...)``::

    model.fit(x, y, epochs=10, callbacks=[nn.Checkpoint("ckpt")])          # writes ckpt/last.npz each epoch
    model.fit(x, y, epochs=10, callbacks=[nn.Checkpoint("ckpt")], resume_from="ckpt")   # continues

or, in a script, ``fit_with_checkpoints(model, x, y, checkpoint_dir=..., resume=..., **fit_kwargs)``
with ``add_arguments(parser)`` for ``--checkpoint-dir DIR --resume``.

A seeded run interrupted (Ctrl-C, kill, crash) and resumed from its last checkpoint ends with the same
weights, bit for bit, as the same run done in one go: checkpoints are taken at epoch boundaries and the
interrupted epoch is redone from its start.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError, NNScratchError, NotBuiltError
from ..io.atomic import atomic_write, fsync_folder, remove_stale_temporaries
from ..io.model_file import save_model
from .callbacks import Callback
from .checkpoint_format import callback_key, generators, rng_state, split_arrays
from .checkpoint_state import TrainingState, latest_checkpoint, read_checkpoint, resolve  # noqa: F401
from .guards import diverged, weights_finite
from .history import History

if TYPE_CHECKING:
    from ..models.model import Model

VERSION = 1
LAST = "last.npz"
NUMBERED = "epoch-{epoch:04d}.npz"


# ----------------------------------------------------------------------------- writing
def _compile_record(model: Model) -> dict[str, Any]:
    try:
        optimizer = model.optimizer.get_config()
        json.dumps(optimizer)
    except (NNScratchError, TypeError, ValueError):
        optimizer = None  # e.g. a learning-rate schedule without get_config: resuming then needs compile() first
    assert model.trainer is not None  # a checkpoint is written by fit, after compile
    names = model.trainer.metric_names
    metrics = [m if isinstance(m, str) else getattr(m, "name", None)
               for m in (names if isinstance(names, list) else [])]
    return {"loss": model.trainer.loss_config(), "optimizer": optimizer, "metrics": [m for m in metrics if m]}


def save_checkpoint(model: Model, path: str | os.PathLike, epoch: int | None = None) -> Path:
    """Write a resumable checkpoint of ``model`` (compiled, built) to ``path``, atomically; returns the path.

    ``epoch`` is the number of completed epochs (default: one after the last epoch in ``model.history``).
    Usually written by the ``Checkpoint`` callback at the end of an epoch.
    """
    if model.optimizer is None or model.loss is None:
        raise NotBuiltError("compile the model before writing a training checkpoint")
    if not model.built:
        raise NotBuiltError("the model has no weights yet: fit it before writing a training checkpoint")
    history = model.history if model.history is not None else History()
    if epoch is None:
        epoch = history.epoch[-1] + 1 if history.epoch else 0
    arrays: dict[str, np.ndarray] = {}
    opt = model.optimizer.state_dict()
    for key, value in opt.items():
        if isinstance(value, np.ndarray):
            arrays[f"optimizer/{key}"] = value
    rngs = [split_arrays(rng_state(g), "rng", arrays) for g in generators(model)]
    callbacks: dict[str, Any] = {}
    trainer = model.trainer
    assert trainer is not None  # a checkpoint is written by fit, after compile
    for i, cb in enumerate(trainer.callbacks):
        state = cb.get_state()
        if state is None:
            continue
        config, cb_arrays = state
        key = callback_key(i, cb)
        for name, value in cb_arrays.items():
            arrays[f"callbacks/{key}/{name}"] = np.asarray(value)
        callbacks[key] = {"config": config, "arrays": sorted(cb_arrays)}
    record = {
        "version": VERSION,
        "epoch": int(epoch),
        "compile": _compile_record(model),
        "optimizer": {"iterations": int(opt["iterations"]), "lr": float(opt["lr"])},
        "rng": rngs,
        "history": history.to_dict(),
        "fit": dict(trainer.fit_settings),
        "callbacks": callbacks,
        "stop_training": bool(model.stop_training and not trainer.interrupted),
    }
    return save_model(model, path, extra=arrays, extra_config={"checkpoint": record})


# ----------------------------------------------------------------------------- the callback
class Checkpoint(Callback):
    """Write a full, resumable checkpoint to ``directory/last.npz`` every ``every`` epochs, atomically.

    The last epoch of a run and an epoch after which training stops (early stopping, Ctrl-C) are always
    written. ``keep`` > 0 also keeps numbered copies ``epoch-0007.npz`` of the last ``keep`` checkpoints
    (hard links where the file system allows). A checkpoint is never written with NaN or inf weights: the
    previous one stays and ``fit`` raises ``TrainingDivergedError``.
    Resume with ``fit(..., resume_from=directory)``.
    """

    def __init__(self, directory: str | os.PathLike, every: int = 1, keep: int = 0) -> None:
        from ..core.validation import positive_int

        if not isinstance(directory, (str, os.PathLike)) or not str(directory):
            raise InvalidTypeError(f"Checkpoint directory must be a folder path, got {directory!r}")
        self.directory = Path(directory)
        self.every = positive_int(every, "Checkpoint every")
        self.keep = positive_int(keep, "Checkpoint keep", minimum=0)
        self.last_written: tuple[Path, int] | None = None

    @property
    def path(self) -> Path:
        return self.directory / LAST

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise InvalidValueError(f"Checkpoint directory '{self.directory}' is a file, not a folder")
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)  # left by a process killed while writing
        remove_stale_temporaries(self.directory / "epoch-*.npz", pattern=True)  # ... or while keeping a copy
        self.epochs = (logs or {}).get("epochs")
        self.last_written = None

    def on_epoch_complete(self, epoch: int, logs: dict[str, float]) -> None:
        done = epoch + 1
        if done % self.every and not self.model.stop_training and done != self.epochs:
            return
        if not weights_finite(self.model, with_optimizer=True):
            assert self.model.trainer is not None  # called by fit
            diverged(self.model, self.model.trainer.snapshots, math.nan, epoch, None, 0,
                     "the weights became NaN or inf although the loss stayed "
                     f"finite (checkpoint of epoch {done} not written)")
        path = save_checkpoint(self.model, self.path, epoch=done)
        self.last_written = (path, done)
        if self.keep:
            self._keep_copy(path, done)

    def _keep_copy(self, path: Path, done: int) -> None:
        target = self.directory / NUMBERED.format(epoch=done)
        tmp = self.directory / f".{target.name}.{os.getpid()}.tmp"
        try:
            tmp.unlink(missing_ok=True)
            os.link(path, tmp)
            os.replace(tmp, target)
            fsync_folder(self.directory)
        except OSError:
            tmp.unlink(missing_ok=True)
            data = path.read_bytes()
            atomic_write(target, lambda f: f.write(data))
        numbered = sorted(p for p in self.directory.glob("epoch-*.npz") if p.name[6:-4].isdigit())
        for old in numbered[: max(0, len(numbered) - self.keep)]:
            old.unlink(missing_ok=True)
        fsync_folder(self.directory)

    def interrupt_hint(self) -> str | None:
        if self.last_written is None:
            last = latest_checkpoint(self.directory)
            return f"the checkpoint in '{self.directory}' is from before this run" if last else None
        path, done = self.last_written
        return f"checkpoint '{path}' holds {done} completed epoch{'s' if done != 1 else ''}: resume from it to continue"


# ----------------------------------------------------------------------------- for scripts
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--checkpoint-dir DIR`` and ``--resume`` to a command-line parser."""
    parser.add_argument("--checkpoint-dir", metavar="DIR",
                        help="write a resumable checkpoint to DIR/last.npz after every epoch (atomically)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run saved in --checkpoint-dir (same weights as an uninterrupted run)")


def fit_with_checkpoints(model: Model, x: Any, y: Any, *, checkpoint_dir: str | os.PathLike | None = None,
                         resume: bool = False, every: int = 1, keep: int = 0, callbacks: Iterable[Callback] = (),
                         **fit_kwargs: Any) -> History:
    """``model.fit(x, y, **fit_kwargs)`` with a ``Checkpoint(checkpoint_dir)`` and, if ``resume``, resuming from it.

    ``resume`` needs ``checkpoint_dir`` and a checkpoint in it (``ModelFileError`` otherwise, so a typo in
    the folder name does not silently start from scratch). Without ``checkpoint_dir`` it is plain ``fit``.
    """
    callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks or ())
    if resume and checkpoint_dir is None:
        raise InvalidValueError("--resume needs --checkpoint-dir: the folder holding the checkpoint to continue from")
    if checkpoint_dir is not None:
        callbacks.append(Checkpoint(checkpoint_dir, every=every, keep=keep))
        if resume:
            fit_kwargs["resume_from"] = checkpoint_dir
            state = read_checkpoint(checkpoint_dir)
            print(f"resuming from '{state.path}' after epoch {state.epoch}", file=sys.stderr, flush=True)
    return model.fit(x, y, callbacks=callbacks, **fit_kwargs)
