"""``Embedding``: a trainable lookup table from integer indices to dense vectors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core import initializers, regularizers
from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.validation import positive_int
from .indices import whole_indices


class Embedding(Layer):
    """``(N, ...)`` integer indices in ``[0, input_dim)`` -> ``(N, ..., output_dim)`` rows of ``embeddings``.

    The indices may be given as integers or as whole floats (what a model's float input holds). They are
    not differentiable: backward adds the output gradient into the rows it read (a row read twice gets
    both) and returns no input gradient. ``embeddings`` is ``(input_dim, output_dim)``. ``mask_zero=True``
    makes index 0 padding: the output carries the mask ``x != 0`` (``nnscratch.core.masking``).
    ``embeddings_regularizer`` penalizes the whole table (Keras's: every row, read in the batch or not).
    """

    per_sample = True
    checks_dtype = False  # the input is indices, not values of the layer's dtype

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 mask_zero: bool = False, embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 **kwargs: Any) -> None:
        if embeddings_constraint is not None:
            raise InvalidValueError("Embedding embeddings_constraint: weight constraints are not supported by "
                                    "nnscratch (embeddings_regularizer is)")
        if kwargs.pop("input_length", None) is not None:  # Keras 2's argument, which Keras 3 ignores too
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", UserWarning, stacklevel=2)
        super().__init__(**kwargs)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # (as Keras: its mask goes to the layers after it)
        self.input_dim = positive_int(input_dim, "Embedding input_dim")
        self.output_dim = positive_int(output_dim, "Embedding output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings: Parameter | None = None

    def build(self, input_shape: tuple[int, ...]) -> None:
        super().build(input_shape)
        table = self.embeddings_initializer((self.input_dim, self.output_dim), self.rng, self.dtype)
        self.embeddings = Parameter(table)

    def regularized_weights(self) -> list[tuple[Parameter, Any]]:
        """``(parameter, regularizer)`` pairs the trainer adds to the loss (as ``Dense``'s)."""
        reg = self.embeddings_regularizer
        return [] if reg is None or self.embeddings is None else [(self.embeddings, reg)]

    def _indices(self, x: np.ndarray) -> np.ndarray:
        """``x`` as ``intp`` indices, after checking that they are whole numbers in ``[0, input_dim)``."""
        return whole_indices(x, self.input_dim, "Embedding", "input_dim")

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        index = ctx.index = self._indices(x)
        assert self.embeddings is not None  # built
        return self.embeddings.data.take(index, axis=0)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> None:
        assert self.embeddings is not None  # built
        np.add.at(self.embeddings.grad, ctx.index.reshape(-1), grad_out.reshape(-1, self.output_dim))

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """``inputs != 0`` with ``mask_zero``, else None."""
        return np.not_equal(inputs, 0) if self.mask_zero else None

    def get_config(self) -> dict[str, Any]:
        return {"input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                **({"mask_zero": True} if self.mask_zero else {}),
                **({"embeddings_regularizer": self.embeddings_regularizer.get_config()}
                   if self.embeddings_regularizer is not None else {})}
