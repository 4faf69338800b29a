"""Reading a checkpoint back: ``read_checkpoint`` -> ``TrainingState``, what ``fit(resume_from=...)`` restores."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import shapes
from ..core.errors import InvalidTypeError, InvalidValueError, ModelFileError, NNScratchError, NotBuiltError, ShapeError
from ..core.registry import to_config
from ..io.model_file import read_model_file, weights_of
from .callbacks import Callback
from .checkpoint_checks import check_consistent, check_finite, read_with_fallback
from .checkpoint_format import callback_key, generators, join_arrays, set_rng_state
from .history import History

if TYPE_CHECKING:
    from ..models.model import Model

VERSION = 1
LAST = "last.npz"
NUMBERED = "epoch-{epoch:04d}.npz"


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
        self.optimizer_state: dict[str, Any] = {"iterations": np.asarray(opt["iterations"]),
                                                "lr": np.asarray(opt["lr"])}
        for key, value in self.arrays.items():
            if key.startswith("optimizer/"):
                self.optimizer_state[key[len("optimizer/"):]] = value
        self.rng = [join_arrays(r, self.arrays) for r in record["rng"]]
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
            raise ModelFileError(f"'{self.path}' is a checkpoint of another architecture: "
                                 f"{_first_difference(theirs, ours)}")
        saved = tuple(self.config["input_shape"])
        if model.built and tuple(model.input_shape) != saved:
            raise ModelFileError(f"'{self.path}' was trained on inputs of shape (batch, {', '.join(map(str, saved))}), "
                                 f"the model is built for (batch, {', '.join(map(str, model.input_shape))})")
        if model.trainer is not None and model.loss is not None:
            mine, saved_loss = model.trainer.loss_config(), self.compile.get("loss")
            if saved_loss is not None and mine != saved_loss:
                raise InvalidValueError(f"'{self.path}' was trained with loss {saved_loss}, the model is compiled with "
                                        f"{mine}; compile it like the checkpointed run to resume it (or start anew "
                                        "from its weights with model.load_weights)")
        if model.optimizer is not None:
            saved_opt = self.compile.get("optimizer") or {}
            if saved_opt.get("name") not in (None, model.optimizer.name):
                raise InvalidValueError(f"'{self.path}' was trained with optimizer '{saved_opt.get('name')}', "
                                        f"the model is compiled with '{model.optimizer.name}'; compile it like the "
                                        "checkpointed run to resume it (or start anew from its weights with "
                                        "model.load_weights)")

    def check_input(self, x: np.ndarray) -> None:
        saved = tuple(self.config["input_shape"])
        if not shapes.fits(x.shape[1:], saved):
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
        gens = generators(model)
        if len(gens) != len(self.rng):
            raise ModelFileError(f"'{self.path}' holds {len(self.rng)} random generator states, the model uses "
                                 f"{len(gens)} generators")
        try:
            model.load_state_dict(self.weights)
        except ModelFileError as exc:
            raise ModelFileError(f"'{self.path}': {exc}") from None
        try:
            model.optimizer.load_state_dict(self.optimizer_state)
        except ModelFileError as exc:
            raise ModelFileError(f"'{self.path}': {exc} (was the model compiled with another optimizer?)") from None
        for g, saved in zip(gens, self.rng):
            set_rng_state(g, saved, self.path)
        for key in ("batch_size", "samples", "shuffle", "validation_samples"):
            if settings is not None and key in self.fit and key in settings and self.fit[key] != settings[key]:
                warnings.warn(f"resuming '{self.path}' with {key}={settings[key]!r}, but it was written with "
                              f"{key}={self.fit[key]!r}: the run will not match an uninterrupted one",
                              stacklevel=3)

    def restore_callbacks(self, callbacks: Iterable[Callback]) -> None:
        """Give each callback (matched by position and class) the state it had in the checkpoint."""
        for i, cb in enumerate(callbacks):
            saved = self.callbacks.get(callback_key(i, cb))
            if saved is None:
                continue
            arrays = {name: self.arrays[f"callbacks/{callback_key(i, cb)}/{name}"] for name in saved.get("arrays", [])
                      if f"callbacks/{callback_key(i, cb)}/{name}" in self.arrays}
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
    """An architecture record without the names of layers, models and inputs (made up anew for each model built)."""
    if isinstance(spec, dict):
        named = "class" in spec or "nodes" in spec or "shape" in spec
        return {k: _unnamed(v) for k, v in spec.items() if not (k == "name" and named)}
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


