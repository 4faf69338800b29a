"""``CategoryEncoding`` (Keras's layer): integer tokens in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

Tokens come as integers or as whole floats (what a model's float input holds). ``output_mode``:

* ``"one_hot"``: ``(N,) -> (N, num_tokens)``, ``(N, 1) -> (N, num_tokens)``, ``(N, T) -> (N, T, num_tokens)``;
* ``"multi_hot"`` (the default): ``(N, T) -> (N, num_tokens)``, 1 for each token present in the sample;
* ``"count"``: as ``"multi_hot"``, how many times each token occurs, or the sum of its ``count_weights``
  (``layer(tokens, count_weights=w)`` or ``layer([tokens, w])``, ``w`` of the tokens' shape).

The first axis is always the batch: ``(N,)`` is N samples of one token each (Keras's eager call on a 1-D array
encodes it as one sample). ``encode`` and ``token_indices`` are shared with ``Discretization``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import shapes
from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.tensor import SymbolicTensor
from ..core.validation import positive_int
from .indices import whole_indices

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def check_output_mode(layer: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed`` (Keras's ``"binary"`` is ``"multi_hot"``), else one clear error."""
    value = "multi_hot" if value == "binary" else value
    if not isinstance(value, str) or value not in allowed:
        raise InvalidValueError(f"{layer} output_mode must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_not_sparse(layer: str, sparse: Any) -> None:
    """Keras's ``sparse=True`` asks for a sparse tensor, which NumPy has not."""
    if sparse:
        raise InvalidValueError(f"{layer} sparse=True is not supported: nnscratch computes with dense NumPy arrays "
                                f"(sparse=False)")


def check_encoded_rank(layer: str, mode: str, shape: tuple[int | None, ...]) -> None:
    """``"multi_hot"`` and ``"count"`` encode ``(N,)`` or ``(N, T)`` (as Keras: up to rank 2)."""
    if mode in ("multi_hot", "count") and len(shape) > 1:
        raise ShapeError(f"{layer} output_mode={mode!r} encodes inputs of shape (batch,) or (batch, tokens), got "
                         f"(batch{''.join(f', {d}' for d in shape)}); flatten each sample's tokens first")


def token_indices(x: np.ndarray, depth: int, layer: str) -> np.ndarray:
    """``x`` as ``intp`` tokens, after checking that they are whole numbers in ``[0, depth)``."""
    return whole_indices(x, depth, layer, "num_tokens", "tokens", "token")


def encode(index: np.ndarray, depth: int, mode: str, dtype: Any, weights: np.ndarray | None = None) -> np.ndarray:
    """Keras's ``encode_categorical_inputs`` for valid tokens ``index`` ``(N, ...)`` (see the module docstring)."""
    n = len(index)
    if mode == "one_hot" or index.ndim == 1:
        if mode == "one_hot" and index.ndim == 2 and index.shape[1] == 1:
            index = index[:, 0]  # (N, 1) encodes on that axis
            weights = None if weights is None else weights[:, 0]
        out = (index[..., None] == np.arange(depth)).astype(dtype)
        return out if weights is None or mode != "count" else out * weights[..., None].astype(dtype)
    flat = (np.arange(n)[:, None] * depth + index).reshape(-1)  # (N*T,): each token's cell of (N, depth)
    if mode == "multi_hot":
        out = np.zeros(n * depth, dtype)
        out[flat] = 1
        return out.reshape(n, depth)
    counts = np.bincount(flat, weights=None if weights is None else weights.reshape(-1), minlength=n * depth)
    return counts.astype(dtype).reshape(n, depth)


class CategoryEncoding(Layer):
    """Tokens ``(N,)`` or ``(N, T)`` in ``[0, num_tokens)`` -> their ``output_mode`` encoding (module docstring).

    The tokens are not differentiable: backward returns no gradient for them (with ``count_weights``, the exact
    gradient of those weights). ``sparse=True`` is refused (NumPy has no sparse arrays).
    """

    per_sample = True
    checks_dtype = False  # the input is tokens, not values of the layer's dtype

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if num_tokens is None:
            raise InvalidValueError("CategoryEncoding needs num_tokens (the number of distinct tokens, which are "
                                    "0..num_tokens-1); if it is not known, map the values to 0..n-1 first")
        self.num_tokens = positive_int(num_tokens, "CategoryEncoding num_tokens")
        self.output_mode = check_output_mode("CategoryEncoding", output_mode, OUTPUT_MODES)
        check_not_sparse("CategoryEncoding", sparse)
        self.sparse = False

    def __call__(self, x: Any, training: bool | None = None, count_weights: Any = None) -> Any:
        """Keras's call: ``layer(tokens)`` or ``layer(tokens, count_weights=w)`` (``"count"`` mode only); a nested
        list of numbers is taken as one array of tokens."""
        if isinstance(x, (list, tuple)) and not any(isinstance(a, (np.ndarray, SymbolicTensor)) for a in x):
            x = np.asarray(x)
        if count_weights is not None:
            if isinstance(count_weights, (list, tuple)):
                count_weights = np.asarray(count_weights)
            x = [x, count_weights]
        return super().__call__(x, training)

    def _split(self, x: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The tokens and the count weights (None) of ``x`` (an array, or ``[tokens, count_weights]``)."""
        if not isinstance(x, (list, tuple)):
            return x, None
        if len(x) != 2:
            raise InvalidValueError(f"CategoryEncoding takes the tokens, or [tokens, count_weights], got a list of "
                                    f"{len(x)} inputs")
        if self.output_mode != "count":
            raise InvalidValueError(f"CategoryEncoding count_weights are used only with output_mode='count', "
                                    f"got output_mode={self.output_mode!r}")
        tokens, weights = x
        if getattr(weights, "shape", None) != getattr(tokens, "shape", ()):
            raise ShapeError(f"CategoryEncoding count_weights must have the tokens' shape "
                             f"{getattr(tokens, 'shape', None)}, got {getattr(weights, 'shape', None)}")
        return tokens, weights

    def build(self, input_shape: Any) -> None:
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        check_encoded_rank("CategoryEncoding", self.output_mode, tuple(shape))
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: Any) -> np.ndarray:
        tokens, weights = self._split(x)
        if not hasattr(tokens, "dtype") or tokens.ndim == 0:
            raise ShapeError(f"CategoryEncoding expects an array of tokens of shape (batch,) or (batch, tokens), got "
                             f"{getattr(tokens, 'shape', type(tokens).__name__)}")
        if self.input_shape is None:
            self.build(tokens.shape[1:] if weights is None else [tokens.shape[1:], weights.shape[1:]])
        built = self.input_shape[0] if isinstance(self.input_shape, list) else self.input_shape
        if not shapes.fits(tokens.shape[1:], built):
            raise ShapeError(f"CategoryEncoding was built for tokens of shape (batch{''.join(f', {d}' for d in built)})"
                             f", got {tokens.shape}")
        index = ctx.index = token_indices(tokens, self.num_tokens, "CategoryEncoding")
        ctx.weighted = weights is not None
        dtype = weights.dtype if weights is not None and weights.dtype.kind == "f" else self.dtype
        return encode(index, self.num_tokens, self.output_mode, dtype, weights)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> Any:
        if not ctx.weighted:
            return None  # integer tokens: no gradient
        index = ctx.index  # d(out[n, index[n, t]]) / d(weights[n, t]) = 1: each weight's gradient is read there
        if index.ndim == 1:
            return [None, grad_out[np.arange(len(index)), index]]
        return [None, np.take_along_axis(grad_out, index, axis=1)]

    def get_config(self) -> dict[str, Any]:
        return {"num_tokens": self.num_tokens, "output_mode": self.output_mode, "sparse": self.sparse}
