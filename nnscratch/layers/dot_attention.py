"""``Attention`` (Luong, dot-product) and ``AdditiveAttention`` (Bahdanau): Keras's attention layers without
projections.

For a query ``q`` ``(N, Tq, D)``, a value ``v`` ``(N, Tv, Dv)`` and a key ``k`` ``(N, Tv, D)`` (the value
unless given)::

    Attention(score_mode="dot")      S = q k^T                              (times ``scale`` with use_scale)
    Attention(score_mode="concat")   S = c * sum_d tanh(s * (q_i + k_j))    (``c``: concat_score_weight)
    AdditiveAttention                S = sum_d w_d * tanh(q_i + k_j)        (``w``: scale (D,), or all ones)
    P = softmax(S) over the Tv keys (``use_causal_mask``: 1e9 taken off the scores of keys j > i, as Keras),
        dropout on P in training;  out = P v  (N, Tq, Dv);  with ``return_attention_scores``: [out, P]

Weights as Keras names and orders them (``get_weights``): ``scale`` (a scalar, or ``(D,)`` glorot-uniform for
``AdditiveAttention``), then ``concat_score_weight`` (a scalar). Every product is batched over the samples;
backward is written by hand (through softmax, dropout and tanh).

Called as Keras calls them: ``layer([query, value])``, ``layer([query, value, key])``, with the call options
``use_causal_mask``, ``return_attention_scores`` and ``training``. On arrays the options hold for that call;
in a graph a layer keeps one setting (also constructor arguments, so model files keep them).

Keras masks come with the inputs through the graph (``ctx.mask``; Keras's ``mask=[query_mask, value_mask]``, a
``mask=`` argument is refused): 1e9 is taken off the scores of the keys the value mask hides (the causal mask's
too, once), and the output rows of masked query steps are 0 (the attention scores' rows are not). The output
keeps the query's mask (``attention_masks``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers
from ..core.call import Call
from ..core.call_options import call_options, option
from ..core.errors import DTypeError, InvalidTypeError, InvalidValueError, ShapeError
from ..core.functional import softmax
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.shapes import fits
from ..core.tensor import SymbolicTensor
from ..core.validation import real_number
from .attention import weights_dropout
from .attention_masks import call_masks, query_mask

MASKED = 1e9  # what Keras takes off the score of a masked key
_OPTIONS = ("use_causal_mask", "return_attention_scores")


def scalar_weight(dtype: np.dtype, name: str) -> Parameter:
    """A trainable 0-d weight of 1 (Keras's shape ``()``, so its ``set_weights`` arrays fit)."""
    return Parameter(np.ones((), dtype), name=name)


def causal_blocked(tq: int, tv: int) -> np.ndarray:
    """``(Tq, Tv)`` booleans, True where key step j > query step i (a causal mask hides it)."""
    return np.triu(np.ones((tq, tv), bool), k=1)


class Attention(Layer):
    """``[query (N, Tq, D), value (N, Tv, Dv)(, key (N, Tv, D))] -> (N, Tq, Dv)`` (and the weights (N, Tq, Tv))."""

    supports_masking = True  # Keras's: the value's mask hides keys, the query's zeroes rows and passes on

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed: Any = None,
                 use_causal_mask: bool = False, return_attention_scores: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise InvalidValueError(f"{cls} got an invalid value for argument score_mode. Expected one of "
                                    f"{{'dot', 'concat'}}. Received: score_mode={score_mode!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = real_number(dropout, f"{cls} dropout", "a number in [0, 1)", lambda v: 0 <= v < 1)
        self.use_causal_mask = bool(use_causal_mask)
        self.return_attention_scores = bool(return_attention_scores)
        self.scale: Parameter | None = None  # Keras's weight order: scale, concat_score_weight
        self.concat_score_weight: Parameter | None = None
        self._graph_calls = 0  # nodes recorded: from then on the call options are fixed
        self.use_seed(seed)

    @property
    def per_sample(self) -> bool:  # type: ignore[override]  # an instance's: False when dropout draws masks
        return self.dropout == 0

    def __call__(self, inputs: Any, mask: Any = None, training: bool | None = None,  # type: ignore[override]
                 return_attention_scores: bool | None = None, use_causal_mask: bool | None = None) -> Any:
        """Keras's call: ``layer([query, value(, key)], training=None, return_attention_scores=False,
        use_causal_mask=False)``; an option left out keeps the layer's setting."""
        cls = type(self).__name__
        if mask is not None:
            raise InvalidValueError(f"{cls} mask= (Keras masks) is not supported in nnscratch as a call argument: "
                                    "the masks of the inputs (Embedding(mask_zero=True), Masking) come through "
                                    "the graph; use_causal_mask hides later steps")
        if not isinstance(inputs, (list, tuple)):
            raise InvalidTypeError(f"{cls} layer must be called on a list of inputs, namely [query, value] or "
                                   f"[query, value, key]; got a {type(inputs).__name__}")
        if not 2 <= len(inputs) <= 3:
            raise InvalidValueError(f"{cls} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                                    f"[query, value, key]; got length {len(inputs)}")
        given = {name: bool(value) for name, value in zip(_OPTIONS, (use_causal_mask, return_attention_scores))
                 if value is not None}
        items = list(inputs)
        symbolic = any(isinstance(t, SymbolicTensor) for t in items)
        if symbolic and self._graph_calls:
            for name, value in given.items():
                if value != getattr(self, name):
                    raise InvalidValueError(f"{cls} '{self.name}' is in a graph with {name}={getattr(self, name)}; "
                                            "one layer keeps one setting there (make another layer)")
        if not symbolic:  # on arrays (and traced Tensors) the options hold for this call only
            with call_options(self, given):
                out = super().__call__(items, training)
            return tuple(out) if isinstance(out, list) else out
        kept = {name: getattr(self, name) for name in given}
        try:  # a graph node keeps them
            for name, value in given.items():
                setattr(self, name, value)
            out = super().__call__(items, training)
        except BaseException:
            for name, value in kept.items():
                setattr(self, name, value)
            raise
        self._graph_calls += 1
        return out

    # ------------------------------------------------------------------ shapes and weights
    def _check_shapes(self, shapes: list[tuple[int | None, ...]]) -> None:
        """Per-sample shapes ``[(Tq, D), (Tv, Dv)(, (Tv, D))]``; ``None`` (variable) matches any size."""
        cls = type(self).__name__
        if not 2 <= len(shapes) <= 3 or any(len(s) != 2 for s in shapes):
            raise ShapeError(f"{cls} takes query and value (and key) sequences of shape (batch, steps, features), "
                             f"got per-sample shapes {shapes}")
        key = shapes[2] if len(shapes) == 3 else shapes[1]
        if None not in (shapes[0][1], key[1]) and shapes[0][1] != key[1]:
            raise ShapeError(f"{cls} query has {shapes[0][1]} features, key {key[1]}"
                             f"{'' if len(shapes) == 3 else ' (the value is the key)'}; they must match")
        if len(shapes) == 3 and None not in (key[0], shapes[1][0]) and key[0] != shapes[1][0]:
            raise ShapeError(f"{cls} key has {key[0]} steps, value {shapes[1][0]}; they must match")

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ShapeError(f"{type(self).__name__} builds for a list of shapes [query, value(, key)], "
                             f"got {input_shape!r}")
        shapes = [tuple(s) for s in input_shape]
        if all(len(s) == 3 for s in shapes):  # Keras's batch shapes (batch, steps, features)
            shapes = [s[1:] for s in shapes]
        self._check_shapes(shapes)
        super().build(shapes)
        self._make_weights(shapes)

    def _make_weights(self, shapes: list[tuple[int | None, ...]]) -> None:
        if self.use_scale:
            self.scale = scalar_weight(self.dtype, "scale")
        if self.score_mode == "concat":
            self.concat_score_weight = scalar_weight(self.dtype, "concat_score_weight")

    def _ensure_built(self, xs: Any) -> None:
        cls = type(self).__name__
        if not isinstance(xs, (list, tuple)) or not 2 <= len(xs) <= 3 or not all(
                isinstance(x, np.ndarray) for x in xs):
            raise InvalidTypeError(f"{cls} takes a list [query, value] or [query, value, key] of arrays")
        if any(x.ndim != 3 for x in xs):
            raise ShapeError(f"{cls} takes query and value (and key) sequences of shape (batch, steps, features), "
                             f"got shapes {[x.shape for x in xs]}")
        if any(x.dtype != self.dtype for x in xs):
            raise DTypeError(f"{cls} expects {self.dtype} inputs, got {[str(x.dtype) for x in xs]}; cast them with "
                             f"x.astype('{self.dtype}') or build the model with that dtype")
        shapes = [tuple(x.shape[1:]) for x in xs]
        if self.input_shape is None:
            self.build(shapes)
        elif not (len(shapes) == len(self.input_shape) and all(map(fits, shapes, self.input_shape))):
            raise ShapeError(f"{cls} was built for inputs {self.input_shape}, got {shapes}")
        self._check_shapes(shapes)
        if len({x.shape[0] for x in xs}) > 1:
            raise ShapeError(f"{cls} inputs have different batch sizes: {[x.shape for x in xs]}")

    # ------------------------------------------------------------------ scores
    def _scores(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, Any]:
        """The scores ``(N, Tq, Tv)`` (a new array) and what ``_scores_backward`` needs."""
        if self.score_mode == "dot":
            raw = q @ k.transpose(0, 2, 1)
            return (raw, None) if self.scale is None else (raw * self.scale.data, raw)
        z = q[:, :, None, :] + k[:, None, :, :]  # (N, Tq, Tv, D)
        if self.scale is not None:
            z *= self.scale.data
        t = np.tanh(z, out=z)
        u = t.sum(axis=-1)
        assert self.concat_score_weight is not None
        return u * self.concat_score_weight.data, (t, u)

    def _scores_backward(self, q: np.ndarray, k: np.ndarray, saved: Any, ds: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """dL/dq, dL/dk from dL/dS ``ds``; adds the weights' gradients."""
        if self.score_mode == "dot":
            if self.scale is not None:
                self.scale.grad += np.vdot(ds, saved)
                ds = ds * self.scale.data
            return ds @ k, ds.transpose(0, 2, 1) @ q
        t, u = saved
        c = self.concat_score_weight
        assert c is not None
        c.grad += np.vdot(ds, u)
        dz = _through_tanh(t, ds * c.data)
        dq, dk = dz.sum(axis=2), dz.sum(axis=1)
        if self.scale is None:
            return dq, dk
        self.scale.grad += np.vdot(dq, q) + np.vdot(dk, k)  # z = s (q_i + k_j)
        return dq * self.scale.data, dk * self.scale.data

    # ------------------------------------------------------------------ the call
    def forward_call(self, ctx: Call, xs: Any) -> Any:
        self._ensure_built(xs)
        query, value = xs[0], xs[1]
        key = xs[2] if len(xs) == 3 else value
        scores, saved = self._scores(query, key)
        masks = call_masks(ctx, xs, type(self).__name__)
        causal, with_scores = option(self, "use_causal_mask"), option(self, "return_attention_scores")
        q_mask, v_mask = (None, None) if masks is None else (masks[0], masks[1])  # a key's mask: unused, as Keras
        if v_mask is not None:  # Keras's scores_mask: the value's mask and the causal one
            hidden = ~v_mask[:, None, :]
            if causal:
                hidden = hidden | causal_blocked(*scores.shape[1:])
            np.subtract(scores, scores.dtype.type(MASKED), out=scores, where=hidden)
        elif causal:
            scores[:, causal_blocked(*scores.shape[1:])] -= scores.dtype.type(MASKED)
        p = softmax(scores)
        pd, mask = weights_dropout(self.rng, p, self.dropout if ctx.training else 0.0)
        out = pd @ value
        if q_mask is not None:  # Keras: where(query_mask, output, 0)
            np.copyto(out, out.dtype.type(0), where=~q_mask[:, :, None])
        ctx.saved = (xs, saved, p, mask, pd, with_scores, q_mask)
        return [out, pd] if with_scores else out

    def backward_call(self, ctx: Call, grad_out: Any) -> list[np.ndarray | None]:
        xs, saved, p, mask, pd, with_scores, q_mask = ctx.saved
        d_out, d_weights = grad_out if with_scores else (grad_out, None)
        if q_mask is not None and d_out is not None:  # the masked query rows of the output are constant 0
            d_out = np.where(q_mask[:, :, None], d_out, d_out.dtype.type(0))
        if not ctx.input_grad and self.scale is None and self.concat_score_weight is None:
            return [None] * len(xs)
        query, value = xs[0], xs[1]
        key = xs[2] if len(xs) == 3 else value
        dvalue = pd.transpose(0, 2, 1) @ d_out if d_out is not None else np.zeros_like(value)
        dpd = d_out @ value.transpose(0, 2, 1) if d_out is not None else np.zeros_like(p)
        if d_weights is not None:
            dpd += d_weights
        if mask is not None:
            dpd *= mask
        ds = p * (dpd - np.sum(dpd * p, axis=-1, keepdims=True))
        dquery, dkey = self._scores_backward(query, key, saved, ds)
        if not ctx.input_grad:
            return [None] * len(xs)
        return [dquery, dvalue, dkey] if len(xs) == 3 else [dquery, dvalue + dkey]

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The output's mask: the query's ``(N, Tq)`` or None (``[that, None]`` with the attention scores)."""
        out = query_mask(mask, type(self).__name__)
        return [out, None] if option(self, "return_attention_scores") else out

    def get_config(self) -> dict[str, Any]:
        return {"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout,
                "use_causal_mask": self.use_causal_mask, "return_attention_scores": self.return_attention_scores}


class AdditiveAttention(Attention):
    """Bahdanau attention: ``S = sum_d scale_d * tanh(q_i + k_j)``; ``scale`` ``(D,)`` with ``use_scale``."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: Any = None,
                 use_causal_mask: bool = False, return_attention_scores: bool = False, **kwargs: Any) -> None:
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, use_causal_mask=use_causal_mask,
                         return_attention_scores=return_attention_scores, **kwargs)

    def _make_weights(self, shapes: list[tuple[int | None, ...]]) -> None:
        dim = shapes[0][1]
        if dim is None:
            raise ShapeError("AdditiveAttention needs the query's number of features (its scale has one weight "
                             "per feature), got None")
        if self.use_scale:
            init = initializers.get("glorot_uniform")
            self.scale = Parameter(init((dim,), self.rng, self.dtype), name="scale")

    def _scores(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, Any]:
        t = q[:, :, None, :] + k[:, None, :, :]  # (N, Tq, Tv, D)
        np.tanh(t, out=t)
        return (t.sum(axis=-1) if self.scale is None else t @ self.scale.data), t

    def _scores_backward(self, q: np.ndarray, k: np.ndarray, saved: Any, ds: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        t = saved
        if self.scale is None:
            dz = _through_tanh(t, ds)
        else:
            self.scale.grad += np.tensordot(ds, t, axes=3)
            dz = _through_tanh(t, ds, self.scale.data)
        return dz.sum(axis=2), dz.sum(axis=1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config


def _through_tanh(t: np.ndarray, ds: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """dL/dz ``(N, Tq, Tv, D)`` of ``S = sum_d weight_d tanh(z)_d`` (weight 1 if None) from ``t = tanh(z)`` and
    ``ds = dL/dS`` ``(N, Tq, Tv)``."""
    dz = t * t
    np.subtract(1, dz, out=dz)
    dz *= ds[..., None]
    if weight is not None:
        dz *= weight
    return dz
