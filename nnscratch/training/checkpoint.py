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
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from .callbacks import Callback
from ..core.errors import InvalidTypeError, InvalidValueError, ModelFileError, NNScratchError, NotBuiltError, ShapeError
from .guards import diverged, weights_finite
from .history import History
from ..io.atomic import atomic_write, fsync_folder, remove_stale_temporaries
from ..core.registry import to_config
from ..io.model_file import read_model_file, save_model, weights_of
from .checkpoint_checks import check_consistent, check_finite, read_with_fallback

if TYPE_CHECKING:
    from ..models.model import Model

VERSION = 1
LAST = "last.npz"
NUMBERED = "epoch-{epoch:04d}.npz"


# ----------------------------------------------------------------------------- JSON + arrays
def _split_arrays(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """``obj`` with every ndarray moved into ``arrays`` (under ``prefix/...``) and replaced by a reference."""
    if isinstance(obj, np.ndarray):
        key = f"{prefix}/{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, dict):
        return {str(k): _split_arrays(v, prefix, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split_arrays(v, prefix, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join_arrays(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of ``_split_arrays``."""
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            key = obj["__array__"]
            if key not in arrays:
                raise ModelFileError(f"the checkpoint refers to array {key!r}, which is not in the file")
            return np.array(arrays[key])
        return {k: _join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays) for v in obj]
    return obj


# ----------------------------------------------------------------------------- random generators
def _generators(model: Model) -> list[np.random.Generator | np.random.RandomState]:
    """The distinct random generators of the model and its layers, in module order (usually just one)."""
    seen: list[Any] = []
    for m in model.modules():
        if not any(m.rng is g for g in seen):
            seen.append(m.rng)
    return seen


def _rng_state(rng: np.random.Generator | np.random.RandomState) -> dict[str, Any]:
    if isinstance(rng, np.random.Generator):
        return {"kind": "Generator", "state": rng.bit_generator.state}
    return {"kind": "RandomState", "state": rng.get_state(legacy=False)}


def _set_rng_state(rng: Any, saved: Any, where: Any) -> None:
    kind = "Generator" if isinstance(rng, np.random.Generator) else "RandomState"
    if not isinstance(saved, dict) or saved.get("kind") != kind:
        found = saved.get("kind") if isinstance(saved, dict) else saved
        raise ModelFileError(f"'{where}': the checkpoint holds a {found} random state, the model uses a numpy {kind}")
    try:
        if kind == "Generator":
            rng.bit_generator.state = saved["state"]
        else:
            rng.set_state(saved["state"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"'{where}': the checkpoint's random state does not fit the model's generator "
                             f"({type(rng.bit_generator).__name__ if kind == 'Generator' else 'MT19937'}): {exc}") from None


# ----------------------------------------------------------------------------- writing
def _callback_key(i: int, cb: Callback) -> str:
    return f"{i}.{type(cb).__name__}"


def _compile_record(model: Model) -> dict[str, Any]:
    try:
        optimizer = model.optimizer.get_config()
        json.dumps(optimizer)
    except (NNScratchError, TypeError, ValueError):
        optimizer = None  # e.g. a learning-rate schedule without get_config: resuming then needs compile() first
    names = model.trainer.metric_names
    metrics = [m if isinstance(m, str) else getattr(m, "name", None) for m in (names if isinstance(names, list) else [])]
    return {"loss": model.loss.get_config(), "optimizer": optimizer, "metrics": [m for m in metrics if m]}


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
    rngs = [_split_arrays(_rng_state(g), "rng", arrays) for g in _generators(model)]
    callbacks: dict[str, Any] = {}
    trainer = model.trainer
    for i, cb in enumerate(trainer.callbacks):
        state = cb.get_state()
        if state is None:
            continue
        config, cb_arrays = state
        key = _callback_key(i, cb)
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


# ----------------------------------------------------------------------------- reading
def resolve(path: str | os.PathLike) -> Path:
    """The checkpoint file for ``path``: the file itself, or ``<folder>/last.npz`` for a folder."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InvalidTypeError(f"resume_from must be a checkpoint file or folder, got {path!r}")
    path = Path(path)
    if path.is_dir():
        last = path / LAST
        if not last.is_file():
            raise ModelFileError(f"no checkpoint in folder '{path}' (expected '{last}'); "
                                 "start without resuming to create one")
        return last
    if not path.exists():
        raise ModelFileError(f"no checkpoint file or folder at '{path}'")
    return path


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """``<directory>/last.npz`` if it exists, else None."""
    last = Path(directory) / LAST
    return last if last.is_file() else None


class TrainingState:
    """A checkpoint read back (``read_checkpoint``): what ``fit(resume_from=...)`` restores."""

    def __init__(self, path: Path, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.path, self.config, self.arrays = path, config, arrays
        record = config.get("checkpoint")
        if record is None:
            raise ModelFileError(f"'{path}' is a model file, not a training checkpoint (no optimizer or epoch "
                                 "state); load its weights with model.load_weights() instead")
        try:
            self._parse(record)
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"'{path}' has a corrupt checkpoint record ({type(exc).__name__}: {exc})") from None

    def _parse(self, record: Any) -> None:
        path = self.path
        if not isinstance(record, dict):
            raise ModelFileError(f"'{path}' has a corrupt checkpoint record")
        if record.get("version") != VERSION:
            raise ModelFileError(f"'{path}' is a checkpoint of format version {record.get('version')!r}; "
                                 f"this nnscratch reads version {VERSION}")
        epoch = record["epoch"]
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            raise ModelFileError(f"'{path}' has a bad epoch count {epoch!r}")
        self.epoch = epoch
        hist = record["history"]
        history = History()
        history.epoch = [int(e) for e in hist["epoch"]]
        history.history = {str(k): [float(v) for v in values] for k, values in hist.items() if k != "epoch"}
        if any(len(v) != len(history.epoch) for v in history.history.values()):
            raise ModelFileError(f"'{path}' has a corrupt history (lists of different lengths)")
        self.history = history
        self.compile = record["compile"]
        if not isinstance(self.compile, dict):
            raise ModelFileError(f"'{path}' has a corrupt compile record")
        opt = record["optimizer"]
        self.optimizer_state: dict[str, Any] = {"iterations": np.asarray(opt["iterations"]), "lr": np.asarray(opt["lr"])}
        for key, value in self.arrays.items():
            if key.startswith("optimizer/"):
                self.optimizer_state[key[len("optimizer/"):]] = value
        self.rng = [_join_arrays(r, self.arrays) for r in record["rng"]]
        self.fit = dict(record.get("fit") or {})
        self.callbacks = dict(record.get("callbacks") or {})
        self.stop_training = bool(record.get("stop_training", False))
        self.weights = weights_of(self.arrays)
        check_finite(self)
        check_consistent(self)

    # ------------------------------------------------------------------ checks
    def check_compatible(self, model: Model) -> None:
        """Raise ``ModelFileError`` unless ``model`` has the checkpoint's architecture (and input shape, if built)."""
        ours = _unnamed(json.loads(json.dumps(to_config(model))))
        theirs = _unnamed(self.config["model"])
        if ours != theirs:
            raise ModelFileError(f"'{self.path}' is a checkpoint of another architecture: {_first_difference(theirs, ours)}")
        saved = tuple(self.config["input_shape"])
        if model.built and tuple(model.input_shape) != saved:
            raise ModelFileError(f"'{self.path}' was trained on inputs of shape (batch, {', '.join(map(str, saved))}), "
                                 f"the model is built for (batch, {', '.join(map(str, model.input_shape))})")
        if model.loss is not None:
            mine, saved_loss = model.loss.get_config(), self.compile.get("loss")
            if saved_loss is not None and mine != saved_loss:
                raise InvalidValueError(f"'{self.path}' was trained with loss {saved_loss}, the model is compiled with "
                                        f"{mine}; compile it like the checkpointed run to resume it (or start anew "
                                        "from its weights with model.load_weights)")
        if model.optimizer is not None:
            saved_opt = self.compile.get("optimizer") or {}
            if saved_opt.get("name") not in (None, model.optimizer.name):
                raise InvalidValueError(f"'{self.path}' was trained with optimizer '{saved_opt.get('name')}', the model "
                                        f"is compiled with '{model.optimizer.name}'; compile it like the checkpointed "
                                        "run to resume it (or start anew from its weights with model.load_weights)")

    def check_input(self, x: np.ndarray) -> None:
        saved = tuple(self.config["input_shape"])
        if x.shape[1:] != saved:
            raise ShapeError(f"x has shape {x.shape}, but the checkpoint '{self.path}' was trained on inputs of shape "
                             f"(batch, {', '.join(map(str, saved))})")

    def compile_into(self, model: Model) -> None:
        """Compile an uncompiled ``model`` as the checkpointed run was compiled."""
        if not self.compile.get("optimizer"):
            raise NotBuiltError(f"'{self.path}' does not record its optimizer (a custom learning-rate schedule?): "
                                "compile the model as in the checkpointed run before resuming")
        try:
            model.compile(loss=self.compile["loss"], optimizer=self.compile["optimizer"],
                          metrics=self.compile.get("metrics") or ())
        except NNScratchError as exc:
            raise ModelFileError(f"'{self.path}' has a compile record this nnscratch cannot use: {exc}") from None

    # ------------------------------------------------------------------ restoring
    def restore(self, model: Model, settings: dict[str, Any] | None = None) -> None:
        """Load weights, optimizer state and random state into a built, compiled ``model`` (all or nothing)."""
        generators = _generators(model)
        if len(generators) != len(self.rng):
            raise ModelFileError(f"'{self.path}' holds {len(self.rng)} random generator states, the model uses "
                                 f"{len(generators)} generators")
        try:
            model.load_state_dict(self.weights)
        except ModelFileError as exc:
            raise ModelFileError(f"'{self.path}': {exc}") from None
        try:
            model.optimizer.load_state_dict(self.optimizer_state)
        except ModelFileError as exc:
            raise ModelFileError(f"'{self.path}': {exc} (was the model compiled with another optimizer?)") from None
        for g, saved in zip(generators, self.rng):
            _set_rng_state(g, saved, self.path)
        for key in ("batch_size", "samples", "shuffle", "validation_samples"):
            if settings is not None and key in self.fit and key in settings and self.fit[key] != settings[key]:
                warnings.warn(f"resuming '{self.path}' with {key}={settings[key]!r}, but it was written with "
                              f"{key}={self.fit[key]!r}: the run will not match an uninterrupted one",
                              stacklevel=3)

    def restore_callbacks(self, callbacks: Iterable[Callback]) -> None:
        """Give each callback (matched by position and class) the state it had in the checkpoint."""
        for i, cb in enumerate(callbacks):
            saved = self.callbacks.get(_callback_key(i, cb))
            if saved is None:
                continue
            arrays = {name: self.arrays[f"callbacks/{_callback_key(i, cb)}/{name}"] for name in saved.get("arrays", [])
                      if f"callbacks/{_callback_key(i, cb)}/{name}" in self.arrays}
            try:
                cb.set_state(saved.get("config") or {}, arrays)
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelFileError(f"'{self.path}': cannot restore the state of {type(cb).__name__}: {exc}") from None


def read_checkpoint(path: str | os.PathLike) -> TrainingState:
    """Read a checkpoint file (or ``<folder>/last.npz``); ``ModelFileError`` says what is wrong with it.

    For a folder whose ``last.npz`` is damaged or missing, the newest intact kept copy (``epoch-NNNN.npz``,
    see ``Checkpoint(keep=...)``) is used instead, with a warning naming both files.
    """
    def read_one(file: Path) -> TrainingState:
        return TrainingState(file, *read_model_file(file))

    if isinstance(path, (str, os.PathLike)) and str(path) and Path(path).is_dir():
        return read_with_fallback(Path(path), LAST, lambda: read_one(resolve(path)), read_one)
    return read_one(resolve(path))


def _unnamed(spec: Any) -> Any:
    """An architecture record without the layers' names (which differ from one process to the next)."""
    if isinstance(spec, dict):
        return {k: _unnamed(v) for k, v in spec.items() if not (k == "name" and ("class" in spec or "nodes" in spec))}
    if isinstance(spec, list):
        return [_unnamed(v) for v in spec]
    return spec


def _first_difference(saved: Any, ours: Any, where: str = "") -> str:
    """A short description of the first place two architecture records differ."""
    if isinstance(saved, dict) and isinstance(ours, dict):
        for key in list(saved) + [k for k in ours if k not in saved]:
            if saved.get(key) != ours.get(key):
                step = "" if key == "config" else (f"{where}.{key}" if where else str(key))  # skip "config" levels
                return _first_difference(saved.get(key), ours.get(key), step if key != "config" else where)
    elif isinstance(saved, list) and isinstance(ours, list):
        if len(saved) != len(ours):
            return f"{where or 'the model'} has {len(saved)} entries in the checkpoint, {len(ours)} in the model"
        for i, (a, b) in enumerate(zip(saved, ours)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    text = lambda v: json.dumps(v)[:120]  # noqa: E731
    return f"{where or 'the model'} is {text(saved)} in the checkpoint, {text(ours)} in the model"


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

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise InvalidValueError(f"Checkpoint directory '{self.directory}' is a file, not a folder")
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)  # left by a process killed while writing
        remove_stale_temporaries(self.directory / "epoch-*.npz", pattern=True)  # ... or while keeping a copy
        self.epochs = logs.get("epochs")
        self.last_written = None

    def on_epoch_complete(self, epoch: int, logs: dict[str, float]) -> None:
        done = epoch + 1
        if done % self.every and not self.model.stop_training and done != self.epochs:
            return
        if not weights_finite(self.model, with_optimizer=True):
            diverged(self.model, self.model.trainer.snapshots, math.nan, epoch, None, 0, "the weights became NaN or inf although the loss stayed "
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
