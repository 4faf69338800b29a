"""The error types of nnscratch: every error the library raises on purpose derives from ``NNScratchError``.

Each subclass also derives from the built-in exception a Python user would expect (``ValueError``,
``TypeError``, ``OSError``), so ``except ValueError`` keeps working. ``docs/errors.md`` lists what each
means and what to do about it.
"""

from __future__ import annotations

from typing import Any


class NNScratchError(Exception):
    """Base class of every error nnscratch raises on purpose."""


class ShapeError(NNScratchError, ValueError):
    """An array has the wrong rank or shape (message names the argument, expected and actual shape)."""


class DTypeError(NNScratchError, TypeError):
    """An array has a dtype that cannot be used (object, string, or a mix the model does not allow)."""


class InvalidValueError(NNScratchError, ValueError):
    """A value is out of range: NaN/inf in data, a label out of range, batch size < 1, an unknown name..."""


class InvalidTypeError(InvalidValueError, TypeError):
    """An argument has the wrong type (``compile(loss=123)``, ``Sequential([1, 2])``).

    It is both a ``TypeError`` and an ``InvalidValueError`` (so a ``ValueError``), so code written
    against either keeps working.
    """


class NotBuiltError(NNScratchError, RuntimeError):
    """A model or layer was used before its parameters exist (call it on data or ``build`` it first)."""


class ModelFileError(NNScratchError, ValueError):
    """A model or checkpoint file cannot be loaded: missing, not a model, truncated, or for another architecture."""


class DatasetError(NNScratchError, OSError):
    """A dataset file is missing, corrupt, truncated or not of the expected format."""


class ImageError(NNScratchError, ValueError):
    """A file is not an image Pillow can read, or cannot be converted for the model."""


class TrainingDivergedError(NNScratchError, FloatingPointError):
    """The training loss became NaN or infinite; ``fit`` stopped and put back the last finite weights.

    Attributes: ``epoch`` and ``batch`` (0-based) where the loss was not finite, ``loss`` (the value),
    ``history`` (the ``History`` of the epochs completed before), ``restored_from`` (``"current"``
    when the weights in place were all finite and kept, ``"epoch N"`` (1-based) when they were reset
    to those at the start of epoch N, ``None`` when no finite weights were available).
    """

    def __init__(self, message: str, *, epoch: int | None = None, batch: int | None = None,
                 loss: float | None = None, history: Any = None, restored_from: str | None = None) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.loss = epoch, batch, loss
        self.history, self.restored_from = history, restored_from


class MissingDependencyError(NNScratchError, ImportError):
    """An optional dependency is not installed (or too old); the message names the extra that brings it."""
