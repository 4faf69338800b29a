"""The error types of nnscratch: every error the library raises on purpose derives from ``NNScratchError``.

Each subclass also derives from the built-in exception a Python user would expect (``ValueError``,
``TypeError``, ``OSError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class NNScratchError(Exception):
    """Base class of every error nnscratch raises on purpose."""


class ShapeError(NNScratchError, ValueError):
    """An array has the wrong rank or shape (message names the argument, expected and actual shape)."""


class DTypeError(NNScratchError, TypeError):
    """An array has a dtype that cannot be used (object, string, or a mix the model does not allow)."""


class InvalidValueError(NNScratchError, ValueError):
    """A value is out of range: NaN/inf in data, a label out of range, batch size < 1, an unknown name..."""


class NotBuiltError(NNScratchError, RuntimeError):
    """A model or layer was used before its parameters exist (call it on data or ``build`` it first)."""


class ModelFileError(NNScratchError, ValueError):
    """A model or checkpoint file cannot be loaded: missing, not a model, truncated, or for another architecture."""


class DatasetError(NNScratchError, OSError):
    """A dataset file is missing, corrupt, truncated or not of the expected format."""


class ImageError(NNScratchError, ValueError):
    """A file is not an image Pillow can read, or cannot be converted for the model."""


class TrainingDivergedError(NNScratchError, FloatingPointError):
    """The training loss became NaN or infinite."""
