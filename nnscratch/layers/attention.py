"""``MultiHeadAttention``: Keras's scaled dot-product attention with ``num_heads`` heads.

For a query sequence ``(N, Tq, Dq)`` and a value sequence ``(N, Tv, Dv)`` (the keys default to the values)::

    Q = query @ Wq + bq        (N, Tq, H, key_dim)       K = key @ Wk + bk      (N, Tv, H, key_dim)
    V = value @ Wv + bv        (N, Tv, H, value_dim)
    P = softmax(Q K^T / sqrt(key_dim)) per head (over the Tv keys; ``use_causal_mask``: query step i sees
        key steps <= i), then dropout on P in training
    out = (P V) @ Wo + bo      (N, Tq, output_dim = Dq unless ``output_shape``)

Weights in Keras's layout and order (``get_weights``): query, key, value kernels ``(D, H, dim)`` with biases
``(H, dim)``, the output kernel ``(H, value_dim, output_dim)`` and bias. Every product is a batched matrix
product over (sample, head); backward is written by hand (softmax's Jacobian applied row by row).

Called as Keras calls it: ``mha(query, value)``, ``mha(query, value, key)``; inside a graph the inputs are a
list ``[query, value(, key)]``. ``attention_mask`` and ``return_attention_scores`` are not supported.

Keras masks (``Embedding(mask_zero=True)``, ``Masking``) come with the inputs through the graph (``ctx.mask``):
query step i attends to key step j only where ``query_mask[i] & value_mask[j] & key_mask[j]`` (and j <= i with
the causal mask); the other scores become -1e9 and their weights 0, so a query step that may attend to no key
(a padding query) gets zero weights and the output bias (``attention_masks``). The output keeps the query's mask.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.functional import softmax
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.shapes import fits
from ..core.validation import positive_int, real_number
from .attention_masks import attention_allowed, call_masks, masked_softmax, query_mask


def weights_dropout(rng: Any, p: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Attention weights ``p`` after dropout at ``rate`` (0: none) and the scaled keep mask backward multiplies
    by (None without dropout)."""
    if rate <= 0:
        return p, None
    mask = (rng.random(p.shape) >= rate).astype(p.dtype)
    mask *= p.dtype.type(1.0 / (1.0 - rate))
    return p * mask, mask


class MultiHeadAttention(Layer):
    """``[query (N, Tq, Dq), value (N, Tv, Dv)(, key (N, Tv, Dk))] -> (N, Tq, output_dim)``."""

    per_sample = False  # may draw dropout masks on the attention weights: no data-parallel split
    supports_masking = True  # Keras's: the inputs' masks hide keys (and padding queries); the query's passes on

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: Any = None, attention_axes: Any = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 use_causal_mask: bool = False, seed: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_heads = positive_int(num_heads, "MultiHeadAttention num_heads")
        self.key_dim = positive_int(key_dim, "MultiHeadAttention key_dim")
        self.value_dim = self.key_dim if value_dim is None else positive_int(value_dim, "MultiHeadAttention value_dim")
        self.dropout = real_number(dropout, "MultiHeadAttention dropout", "a number in [0, 1)", lambda v: 0 <= v < 1)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, (tuple, list)) and len(output_shape) == 1:
            output_shape = output_shape[0]
        self.output_dim = None if output_shape is None else positive_int(output_shape,
                                                                         "MultiHeadAttention output_shape")
        if attention_axes is not None:
            raise InvalidValueError("MultiHeadAttention attention_axes is not supported: attention runs over the "
                                    "steps of (batch, steps, features) sequences")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.use_causal_mask = bool(use_causal_mask)
        self.use_seed(seed)

    def __call__(self, query: Any, value: Any = None, key: Any = None,  # type: ignore[override]  # Keras's call
                 attention_mask: Any = None, return_attention_scores: bool = False, training: bool | None = None,
                 use_causal_mask: bool | None = None) -> Any:
        """Keras's call: ``mha(query, value, key=None, training=None, use_causal_mask=False)``."""
        if attention_mask is not None or return_attention_scores:
            raise InvalidValueError("MultiHeadAttention attention_mask and return_attention_scores are not "
                                    "supported (use_causal_mask is, and the Keras masks of the inputs, from "
                                    "Embedding(mask_zero=True) or Masking, through the graph)")
        if use_causal_mask is not None and bool(use_causal_mask) != self.use_causal_mask:
            if self.built:
                raise InvalidValueError(f"MultiHeadAttention '{self.name}' was called with use_causal_mask="
                                        f"{self.use_causal_mask}; one layer keeps one setting")
            self.use_causal_mask = bool(use_causal_mask)
        if value is None:
            if not isinstance(query, (list, tuple)):
                raise InvalidTypeError("MultiHeadAttention needs a value sequence: mha(query, value)")
            inputs = list(query)
        else:
            inputs = [query, value] + ([] if key is None else [key])
        return super().__call__(inputs, training)

    # ------------------------------------------------------------------ weights
    def build(self, input_shape: Any) -> None:
        shapes = [tuple(s) for s in input_shape]
        if not 2 <= len(shapes) <= 3 or any(len(s) != 2 for s in shapes):
            raise ShapeError(f"MultiHeadAttention takes query and value (and key) sequences of shape (batch, steps, "
                             f"features), got per-sample shapes {shapes}")
        if len(shapes) == 3 and shapes[2][0] != shapes[1][0]:
            raise ShapeError(f"MultiHeadAttention key has {shapes[2][0]} steps, value {shapes[1][0]}; they must match")
        super().build(shapes)
        h, kd, vd = self.num_heads, self.key_dim, self.value_dim
        dq, dv = shapes[0][1], shapes[1][1]
        dk = shapes[2][1] if len(shapes) == 3 else dv
        out = self.output_dim or dq
        # drawn in the (out, in, *kernel) layout whose fans match Keras's for its (in, heads, dim) kernels
        self.query_kernel = self._draw((kd, h, dq))
        self.query_bias = self._bias((h, kd))
        self.key_kernel = self._draw((kd, h, dk))
        self.key_bias = self._bias((h, kd))
        self.value_kernel = self._draw((vd, h, dv))
        self.value_bias = self._bias((h, vd))
        self.output_kernel = self._draw((out, vd, h))
        self.output_bias = self._bias((out,))

    def _draw(self, shape: tuple[int, ...]) -> Parameter:
        return Parameter(np.ascontiguousarray(self.kernel_initializer(shape, self.rng, self.dtype).transpose(2, 1, 0)))

    def _bias(self, shape: tuple[int, ...]) -> Parameter | None:
        return Parameter(self.bias_initializer(shape, self.rng, self.dtype)) if self.use_bias else None

    def _ensure_built(self, xs: Any) -> None:
        if not isinstance(xs, (list, tuple)) or not all(hasattr(x, "shape") for x in xs):
            raise InvalidTypeError("MultiHeadAttention takes a list [query, value(, key)] of arrays")
        shapes = [tuple(x.shape[1:]) for x in xs]
        if self.input_shape is None:
            self.build(shapes)
        elif shapes != list(self.input_shape) and not (
                len(shapes) == len(self.input_shape) and all(map(fits, shapes, self.input_shape))):
            raise ShapeError(f"MultiHeadAttention was built for inputs {self.input_shape}, got {shapes}")
        if len({x.shape[0] for x in xs}) > 1:
            raise ShapeError(f"MultiHeadAttention inputs have different batch sizes: {[x.shape for x in xs]}")
        if len(xs) == 3 and xs[1].shape[1] != xs[2].shape[1]:
            raise ShapeError(f"MultiHeadAttention key has {xs[2].shape[1]} steps, value {xs[1].shape[1]}; they must "
                             "match")

    # ------------------------------------------------------------------ the call
    @staticmethod
    def _project(x: np.ndarray, kernel: Parameter, bias: Parameter | None) -> np.ndarray:
        """``x`` ``(N, T, D)`` through a ``(D, H, dim)`` kernel: ``(N, H, T, dim)``."""
        n, t, d = x.shape
        y = x.reshape(n * t, d) @ kernel.data.reshape(d, -1)
        if bias is not None:
            y += bias.data.reshape(-1)
        return y.reshape(n, t, kernel.shape[1], kernel.shape[2]).transpose(0, 2, 1, 3)

    @staticmethod
    def _project_back(x: np.ndarray, d: np.ndarray, kernel: Parameter, bias: Parameter | None,
                      input_grad: bool) -> np.ndarray | None:
        """Gradients of ``_project`` from ``d`` ``(N, H, T, dim)``: into the kernel and bias; dL/dx."""
        n, t, dim = x.shape
        flat = d.transpose(0, 2, 1, 3).reshape(n * t, -1)
        kernel.grad += (x.reshape(n * t, dim).T @ flat).reshape(kernel.shape)
        if bias is not None:
            bias.grad += flat.sum(axis=0).reshape(bias.shape)
        return (flat @ kernel.data.reshape(dim, -1).T).reshape(n, t, dim) if input_grad else None

    def forward_call(self, ctx: Call, xs: Any) -> np.ndarray:
        self._ensure_built(xs)
        query, value = xs[0], xs[1]
        key = xs[2] if len(xs) == 3 else value
        q = self._project(query, self.query_kernel, self.query_bias)
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= scores.dtype.type(1.0 / math.sqrt(self.key_dim))
        masks = call_masks(ctx, xs, "MultiHeadAttention")
        tq, tv = scores.shape[2:]
        if masks is not None:  # Keras's attention mask and masked softmax
            p = masked_softmax(scores, attention_allowed(masks, tq, tv, self.use_causal_mask)[:, None])
        else:
            if self.use_causal_mask:
                scores[..., np.triu(np.ones((tq, tv), bool), k=1)] = -np.inf  # key j > query i, as Keras
            p = softmax(scores)
        pd, mask = weights_dropout(self.rng, p, self.dropout if ctx.training else 0.0)
        context = (pd @ v).transpose(0, 2, 1, 3)  # (N, Tq, H, value_dim)
        n, tq = context.shape[:2]
        flat = context.reshape(n * tq, -1)
        out = flat @ self.output_kernel.data.reshape(flat.shape[1], -1)
        if self.output_bias is not None:
            out += self.output_bias.data
        ctx.saved = (xs, q, k, v, p, mask, pd, flat)
        return out.reshape(n, tq, -1)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> list[np.ndarray | None]:
        xs, q, k, v, p, mask, pd, flat = ctx.saved
        n, tq, out_dim = grad_out.shape
        g = grad_out.reshape(n * tq, out_dim)
        self.output_kernel.grad += (flat.T @ g).reshape(self.output_kernel.shape)
        if self.output_bias is not None:
            self.output_bias.grad += g.sum(axis=0)
        d_context = (g @ self.output_kernel.data.reshape(flat.shape[1], -1).T)
        d_context = d_context.reshape(n, tq, self.num_heads, self.value_dim).transpose(0, 2, 1, 3)
        dv = pd.transpose(0, 1, 3, 2) @ d_context
        dp = d_context @ v.transpose(0, 1, 3, 2)
        if mask is not None:
            dp *= mask
        ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
        ds *= ds.dtype.type(1.0 / math.sqrt(self.key_dim))
        dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
        query, value = xs[0], xs[1]
        key = xs[2] if len(xs) == 3 else value
        want = ctx.input_grad
        dquery = self._project_back(query, dq, self.query_kernel, self.query_bias, want)
        dkey = self._project_back(key, dk, self.key_kernel, self.key_bias, want)
        dvalue = self._project_back(value, dv, self.value_kernel, self.value_bias, want)
        if not want:
            return [None] * len(xs)
        assert dvalue is not None and dkey is not None
        return [dquery, dvalue, dkey] if len(xs) == 3 else [dquery, dvalue + dkey]

    def compute_mask(self, inputs: Any, mask: Any) -> np.ndarray | None:
        """The output's mask ``(N, Tq)``: the query's (Keras sets it on the output), or None."""
        return query_mask(mask, "MultiHeadAttention")

    def get_config(self) -> dict[str, Any]:
        return {"num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
                "dropout": self.dropout, "use_bias": self.use_bias, "output_shape": self.output_dim,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "use_causal_mask": self.use_causal_mask}
