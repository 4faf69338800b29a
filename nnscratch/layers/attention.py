"""``MultiHeadAttention``: Keras's scaled dot-product attention with ``num_heads`` heads.

For a query sequence ``(N, Tq, Dq)`` and a value sequence ``(N, Tv, Dv)`` (the keys default to the values)::

    Q = query @ Wq + bq        (N, Tq, H, key_dim)       K = key @ Wk + bk      (N, Tv, H, key_dim)
    V = value @ Wv + bv        (N, Tv, H, value_dim)
    P = softmax(Q K^T / sqrt(key_dim)) per head (over the Tv keys; ``use_causal_mask``: query step i sees
        key steps <= i; ``attention_mask``: only where it is True), then dropout on P in training
    out = (P V) @ Wo + bo      (N, Tq, output_dim = Dq unless ``output_shape``)
    with ``return_attention_scores``: (out, P), P (N, H, Tq, Tv) as the softmax gave it (before dropout)

Weights in Keras's layout and order (``get_weights``): query, key, value kernels ``(D, H, dim)`` with biases
``(H, dim)``, the output kernel ``(H, value_dim, output_dim)`` and bias. Every product is a batched matrix
product over (sample, head); backward is written by hand (softmax's Jacobian applied row by row).

Called as Keras calls it: ``mha(query, value, key=None, attention_mask=None, return_attention_scores=False,
training=None, use_causal_mask=False)``, on arrays, on traced Tensors inside a layer's ``call()`` or on symbolic
tensors. The inputs are one list ``[query, value(, key(, attention_mask))]`` (a graph node's, a model file's):
with an attention mask the key is always there (the value, when the call gave none), so a fourth input is the
mask. It is data without gradient: booleans or 0/1 numbers ``(N, Tq, Tv)`` (or a shape that broadcasts to it),
True where query step i may attend to key step j, ANDed with the masks below as Keras's
``_compute_attention_mask`` does. On arrays ``return_attention_scores`` holds for that call; a graph's layer keeps
one setting (a constructor argument too, so model files keep it).

Keras masks (``Embedding(mask_zero=True)``, ``Masking``) come with the inputs through the graph (``ctx.mask``):
query step i attends to key step j only where ``query_mask[i] & value_mask[j] & key_mask[j]`` (and j <= i with
the causal mask); the other scores become -1e9 and their weights 0, so a query step that may attend to no key
(a padding query) gets zero weights and the output bias (``attention_masks``); so does one whose
``attention_mask`` row is all False (Keras's masked softmax). The output keeps the query's mask.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.call_options import call_options, option
from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.functional import softmax
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.shapes import fits
from ..core.tensor import SymbolicTensor
from ..core.validation import positive_int, real_number
from .attention_masks import (
    attention_allowed,
    attention_mask_array,
    attention_mask_shape_error,
    call_masks,
    explicit_masks,
    masked_softmax,
    query_mask,
)


def weights_dropout(rng: Any, p: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Attention weights ``p`` after dropout at ``rate`` (0: none) and the scaled keep mask backward multiplies
    by (None without dropout)."""
    if rate <= 0:
        return p, None
    mask = (rng.random(p.shape) >= rate).astype(p.dtype)
    mask *= p.dtype.type(1.0 / (1.0 - rate))
    return p * mask, mask


def call_inputs(query: Any, value: Any, key: Any, attention_mask: Any) -> list[Any]:
    """Keras's call arguments as the layer's list of inputs ``[query, value(, key(, attention_mask))]``."""
    if value is None:
        if not isinstance(query, (list, tuple)) or not 2 <= len(query) <= 4:
            raise InvalidTypeError("MultiHeadAttention needs a value sequence: mha(query, value), or a list "
                                   "[query, value(, key(, attention_mask))]")
        if key is not None or (attention_mask is not None and len(query) == 4):
            raise InvalidValueError("MultiHeadAttention got the key or the attention mask twice: in its list of "
                                    "inputs and as an argument")
        query, value, *rest = query
        key = rest[0] if rest else None
        attention_mask = rest[1] if len(rest) == 2 else attention_mask
    if attention_mask is None:
        return [query, value] + ([] if key is None else [key])
    if isinstance(attention_mask, (list, tuple)):  # nested lists of booleans or 0/1, as Keras takes them
        try:
            attention_mask = np.asarray(attention_mask)
        except ValueError:
            raise InvalidTypeError("MultiHeadAttention attention_mask must be an array of booleans or 0/1 numbers "
                                   "(N, Tq, Tv); got ragged nested lists") from None
    return [query, value, value if key is None else key, attention_mask]


class MultiHeadAttention(Layer):
    """``[query (N, Tq, Dq), value (N, Tv, Dv)(, key (N, Tv, Dk)(, attention_mask (N, Tq, Tv)))] -> (N, Tq,
    output_dim)`` (and the attention scores ``(N, H, Tq, Tv)`` with ``return_attention_scores``)."""

    per_sample = False  # may draw dropout masks on the attention weights: no data-parallel split
    supports_masking = True  # Keras's: the inputs' masks hide keys (and padding queries); the query's passes on

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: Any = None, attention_axes: Any = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 use_causal_mask: bool = False, seed: Any = None, return_attention_scores: bool = False,
                 **kwargs: Any) -> None:
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
        self.return_attention_scores = bool(return_attention_scores)
        self._graph_calls = 0  # nodes recorded: from then on return_attention_scores is fixed
        self.use_seed(seed)

    def __call__(self, query: Any, value: Any = None, key: Any = None,  # type: ignore[override]  # Keras's call
                 query_mask: Any = None, value_mask: Any = None, key_mask: Any = None, attention_mask: Any = None,
                 return_attention_scores: bool | None = None, training: bool | None = None,
                 use_causal_mask: bool | None = None) -> Any:
        """Keras 3's call: ``mha(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
        attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False)``; ``(output,
        scores)`` with the scores (a list on symbolic tensors). ``return_attention_scores`` left out keeps the
        layer's setting. The ``(N, T)`` masks join the attention mask as Keras's ``_compute_attention_mask``."""
        attention_mask = explicit_masks(query_mask, value_mask, key_mask, attention_mask)
        if use_causal_mask is not None and bool(use_causal_mask) != self.use_causal_mask:
            if self.built:
                raise InvalidValueError(f"MultiHeadAttention '{self.name}' was called with use_causal_mask="
                                        f"{self.use_causal_mask}; one layer keeps one setting")
            self.use_causal_mask = bool(use_causal_mask)
        inputs = call_inputs(query, value, key, attention_mask)
        scores = self.return_attention_scores if return_attention_scores is None else bool(return_attention_scores)
        if any(isinstance(t, SymbolicTensor) for t in inputs):
            return self._connect(inputs, scores, training)
        with call_options(self, {"return_attention_scores": scores}):  # on arrays (and traced Tensors): this call's
            out = super().__call__(inputs, training)
        return tuple(out) if isinstance(out, list) else out

    def _connect(self, inputs: list[Any], scores: bool, training: bool | None) -> Any:
        """A graph node for symbolic ``inputs``; the layer keeps ``return_attention_scores`` from its first node."""
        if self._graph_calls and scores != self.return_attention_scores:
            raise InvalidValueError(f"MultiHeadAttention '{self.name}' is in a graph with return_attention_scores="
                                    f"{self.return_attention_scores}; one layer keeps one setting there (make "
                                    f"another layer)")
        if len(inputs) == 4:
            mask = inputs[3]
            if not isinstance(mask, SymbolicTensor):
                raise InvalidTypeError(f"MultiHeadAttention attention_mask in a graph must be a symbolic tensor (an "
                                       f"nn.Input, or computed from one) as the query is, got a {type(mask).__name__}")
            sequences: list[tuple[int | None, ...]] = [getattr(t, "sample_shape", ()) for t in inputs[:2]]
            if all(len(s) == 2 for s in sequences):  # (else build names what is wrong with them)
                problem = attention_mask_shape_error(str(mask.shape), mask.shape, (None, *(s[0] for s in sequences)))
                if problem is not None:
                    raise ShapeError(problem)
        kept, self.return_attention_scores = self.return_attention_scores, scores
        try:
            out = super().__call__(inputs, training)
        except BaseException:
            self.return_attention_scores = kept
            raise
        self._graph_calls += 1
        return out

    # ------------------------------------------------------------------ weights
    def build(self, input_shape: Any) -> None:
        shapes = [tuple(s) for s in input_shape][:3]  # (a fourth, the attention mask's, has no weights)
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
        if not isinstance(xs, (list, tuple)) or not 2 <= len(xs) <= 4 or not all(hasattr(x, "shape") for x in xs):
            raise InvalidTypeError("MultiHeadAttention takes a list [query, value(, key(, attention_mask))] of arrays")
        data = xs[:3]
        shapes = [tuple(x.shape[1:]) for x in data]
        if self.input_shape is None:
            self.build(shapes)
        elif shapes != list(self.input_shape) and not self._fits(shapes):
            raise ShapeError(f"MultiHeadAttention was built for inputs {self.input_shape}, got {shapes}")
        if len({x.shape[0] for x in data}) > 1:
            raise ShapeError(f"MultiHeadAttention inputs have different batch sizes: {[x.shape for x in data]}")
        if len(data) == 3 and xs[1].shape[1] != xs[2].shape[1]:
            raise ShapeError(f"MultiHeadAttention key has {xs[2].shape[1]} steps, value {xs[1].shape[1]}; they must "
                             "match")

    def _fits(self, shapes: list[tuple[int, ...]]) -> bool:
        """Whether inputs of per-sample ``shapes`` fit the built ones (the key is the value when left out)."""
        built = list(self.input_shape)
        if len(shapes) != len(built):
            shapes, built = [*shapes[:3], *shapes[1:2]][:3], [*built[:3], *built[1:2]][:3]
        return all(map(fits, shapes, built))

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
        flat = d.transpose(0, 2, 1, 3).reshape(n * t, d.shape[1] * d.shape[3])
        kernel.grad += (x.reshape(n * t, dim).T @ flat).reshape(kernel.shape)
        if bias is not None:
            bias.grad += flat.sum(axis=0).reshape(bias.shape)
        return (flat @ kernel.data.reshape(dim, -1).T).reshape(n, t, dim) if input_grad else None

    def forward_call(self, ctx: Call, xs: Any) -> Any:
        self._ensure_built(xs)
        query, value = xs[0], xs[1]
        key = xs[2] if len(xs) >= 3 else value
        q = self._project(query, self.query_kernel, self.query_bias)
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= scores.dtype.type(1.0 / math.sqrt(self.key_dim))
        tq, tv = scores.shape[2:]
        if len(xs) == 4:  # an attention mask: Keras's _compute_attention_mask, its masked softmax
            given = attention_mask_array(xs[3], len(query), tq, tv)
            masks = call_masks(ctx, xs[:3], "MultiHeadAttention", extra=1)
            p = masked_softmax(scores, attention_allowed(masks, tq, tv, self.use_causal_mask, given)[:, None])
        elif (masks := call_masks(ctx, xs, "MultiHeadAttention")) is not None:  # the inputs' Keras masks
            p = masked_softmax(scores, attention_allowed(masks, tq, tv, self.use_causal_mask)[:, None])
        else:
            if self.use_causal_mask:
                scores[..., np.triu(np.ones((tq, tv), bool), k=1)] = -np.inf  # key j > query i, as Keras
            p = softmax(scores)
        pd, mask = weights_dropout(self.rng, p, self.dropout if ctx.training else 0.0)
        context = (pd @ v).transpose(0, 2, 1, 3)  # (N, Tq, H, value_dim)
        n, tq = context.shape[:2]
        flat = context.reshape(n * tq, self.num_heads * self.value_dim)  # (explicit sizes: a batch may be empty)
        out = flat @ self.output_kernel.data.reshape(flat.shape[1], -1)
        if self.output_bias is not None:
            out += self.output_bias.data
        with_scores = option(self, "return_attention_scores")
        ctx.saved = (xs, q, k, v, p, mask, pd, flat, with_scores)
        out = out.reshape(n, tq, out.shape[-1])
        return [out, p] if with_scores else out

    def backward_call(self, ctx: Call, grad_out: Any) -> list[np.ndarray | None]:
        """dL/d[query, value(, key(, attention_mask: None))] from dL/d(output), or from [dL/d(output), dL/d(scores)]
        (either may be None) with the attention scores."""
        xs, q, k, v, p, mask, pd, flat, with_scores = ctx.saved
        d_out, d_scores = grad_out if with_scores else (grad_out, None)
        if d_out is not None:
            n, tq, out_dim = d_out.shape
            g = d_out.reshape(n * tq, out_dim)
            self.output_kernel.grad += (flat.T @ g).reshape(self.output_kernel.shape)
            if self.output_bias is not None:
                self.output_bias.grad += g.sum(axis=0)
            d_context = (g @ self.output_kernel.data.reshape(flat.shape[1], -1).T)
            d_context = d_context.reshape(n, tq, self.num_heads, self.value_dim).transpose(0, 2, 1, 3)
            dv = pd.transpose(0, 1, 3, 2) @ d_context
            dp = d_context @ v.transpose(0, 1, 3, 2)
            if mask is not None:
                dp *= mask
            if d_scores is not None:
                dp += d_scores
        else:  # only the scores get a gradient
            dv = np.zeros_like(v)
            dp = np.zeros_like(p) if d_scores is None else d_scores
        ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
        ds *= ds.dtype.type(1.0 / math.sqrt(self.key_dim))
        dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
        query, value = xs[0], xs[1]
        key = xs[2] if len(xs) >= 3 else value
        want = ctx.input_grad
        dquery = self._project_back(query, dq, self.query_kernel, self.query_bias, want)
        dkey = self._project_back(key, dk, self.key_kernel, self.key_bias, want)
        dvalue = self._project_back(value, dv, self.value_kernel, self.value_bias, want)
        if not want:
            return [None] * len(xs)
        assert dvalue is not None and dkey is not None
        if len(xs) == 2:
            return [dquery, dvalue + dkey]
        return [dquery, dvalue, dkey] + [None] * (len(xs) - 3)  # (the attention mask gets none)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The output's mask ``(N, Tq)``: the query's (Keras sets it on the output), or None; ``[that, None]``
        with the attention scores."""
        out = query_mask(mask[:3] if isinstance(mask, (list, tuple)) else mask, "MultiHeadAttention")
        return [out, None] if option(self, "return_attention_scores") else out

    def get_config(self) -> dict[str, Any]:
        return {"num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
                "dropout": self.dropout, "use_bias": self.use_bias, "output_shape": self.output_dim,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "use_causal_mask": self.use_causal_mask,
                **({"return_attention_scores": True} if self.return_attention_scores else {})}
