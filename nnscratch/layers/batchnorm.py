"""``BatchNorm``: batch normalization over the channel (last) axis, for dense and image inputs."""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.parameter import Parameter
from ..core.workspace import Workspace


class BatchNorm(Layer):
    """``y = gamma * (x - mean) / sqrt(var + eps) + beta`` per channel, for ``(N, C)`` or ``(N, H, W, C)``.

    Statistics are taken over every axis but the last (channels-last). ``training=True`` normalizes with
    the batch mean and biased variance and updates ``running = momentum * running + (1 - momentum) * batch``
    (the running variance from the unbiased batch variance, as in PyTorch); ``training=False`` uses the
    running statistics. ``gamma``/``beta`` ``(C,)`` are trained; ``running_mean``/``running_var`` ``(C,)``
    are non-trainable state, saved with the model. Defaults are Keras's (momentum 0.99, epsilon 1e-3;
    PyTorch's are 0.9 and 1e-5); ``epsilon`` is Keras's name of ``eps``.

    Speed: three passes over ``x`` forward (``sum(x)``, ``sum(x * x)``, ``y = x * scale + offset``) and
    three backward, with no full-size temporary; the training output and ``dx`` are buffers of the call
    (``ctx.ws``), reused from step to step.
    """

    mask_refused = "Keras's BatchNormalization leaves the padding out of its statistics, which nnscratch does not"

    def __init__(self, momentum: float = 0.99, eps: float = 1e-3, axis: int = -1, epsilon: float | None = None,
                 center: bool = True, scale: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if epsilon is not None:
            eps = epsilon
        if center is not True or scale is not True:
            raise InvalidValueError("BatchNorm always learns gamma and beta (center=True, scale=True)")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0.0 <= momentum < 1.0:
            raise InvalidValueError(f"BatchNorm momentum must be in [0, 1), got {momentum!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0:
            raise InvalidValueError(f"BatchNorm eps must be > 0, got {eps!r}")
        if axis != -1:
            raise InvalidValueError(f"BatchNorm normalizes the channels-last axis only (axis=-1), got axis={axis!r}")
        self.momentum: float = float(momentum)
        self.eps: float = float(eps)
        self.axis: int = axis
        self.gamma: Parameter | None = None
        self.beta: Parameter | None = None
        self.running_mean: Parameter | None = None
        self.running_var: Parameter | None = None

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) == 0:
            raise ShapeError("BatchNorm expects inputs of shape (batch, ..., channels), got (batch,)")
        super().build(input_shape)
        c = input_shape[-1]
        self.gamma = Parameter(np.ones(c, self.dtype))
        self.beta = Parameter(np.zeros(c, self.dtype))
        self.running_mean = Parameter(np.zeros(c, self.dtype), trainable=False)
        self.running_var = Parameter(np.ones(c, self.dtype), trainable=False)

    @property
    def moving_mean(self) -> Parameter | None:
        """``running_mean`` under Keras's name."""
        return self.running_mean

    @property
    def moving_variance(self) -> Parameter | None:
        """``running_var`` under Keras's name."""
        return self.running_var

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ws = ctx.ws
        ws.use(x)
        n_rows, width = wide_rows(x.shape, ROW_VALUES)
        rows, c = x.reshape(n_rows, width), x.shape[-1]
        count = ctx.count = x.size // c  # values per channel
        # Batch statistics in training, unless the layer is frozen (Keras's rule: then inference mode).
        training = ctx.batch_stats = ctx.training and self.trainable
        assert self.gamma is not None and self.beta is not None  # built
        assert self.running_mean is not None and self.running_var is not None
        if training:
            if count < 2:
                raise InvalidValueError("BatchNorm needs more than one value per channel in training; "
                                        f"got input of shape {x.shape} (use a batch size > 1)")
            mean = channel_sum(ws, rows, c) / count
            shift, var = mean, channel_dot(rows, rows, c) / count - mean * mean
            if not np.all(mean * mean <= MAX_MEAN_TO_VAR * var):  # cancellation (or NaN): subtract the mean first
                rows = np.subtract(rows, wide(ws, "mean", mean, width), out=ws.get("centered", rows.shape))
                shift, var = np.zeros_like(mean), channel_dot(rows, rows, c) / count
            self._update(self.running_mean.data, mean)
            self._update(self.running_var.data, var * (count / (count - 1)))
        else:
            shift, var = self.running_mean.data, self.running_var.data
        # y = gamma * (x - mean) * inv_std + beta = rows * scale + (beta - shift * scale), block by block.
        inv_std = ctx.inv_std = 1 / np.sqrt(var + self.dtype.type(self.eps))
        scale = self.gamma.data * inv_std
        a, b = wide(ws, "scale", scale, width), wide(ws, "offset", self.beta.data - shift * scale, width)
        y = ws.get("y", rows.shape) if ctx.training else np.empty(rows.shape, x.dtype)
        for rb in row_blocks(*rows.shape):
            yb = np.multiply(rows[rb], a, out=y[rb])
            yb += b
        ctx.rows, ctx.shift = rows, shift
        return y.reshape(x.shape)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray | None:
        assert self.gamma is not None and self.beta is not None  # built
        ws, rows, shift, inv_std = ctx.ws, ctx.rows, ctx.shift, ctx.inv_std
        c, width = inv_std.shape[0], rows.shape[1]
        dy = grad_out.reshape(rows.shape)
        dbeta = channel_sum(ws, dy, c)
        # sum(dy * xhat) = inv_std * sum(dy * (rows - shift)); |shift| <= 8 std, so no cancellation to fear
        if ctx.batch_stats or np.all(shift * shift <= MAX_MEAN_TO_VAR / (inv_std * inv_std)):
            dgamma = inv_std * (channel_dot(dy, rows, c) - shift * dbeta)
        else:  # running statistics far from this batch's: subtract first
            dgamma = inv_std * channel_dot(dy, rows - wide(ws, "mean", shift, width), c)
        self.beta.grad += dbeta
        self.gamma.grad += dgamma
        if not ctx.input_grad:  # nothing below needs dL/dx (a BatchNorm on the model's input)
            return None
        scale = wide(ws, "scale", self.gamma.data * inv_std, width)
        dx = ws.get("dx", rows.shape)
        if not ctx.batch_stats:  # the statistics were constants
            return np.multiply(dy, scale, out=dx).reshape(grad_out.shape)
        # dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)), means per channel; xhat = (rows - shift) * inv_std
        k = inv_std * dgamma / ctx.count
        kw, offset = wide(ws, "k", k, width), wide(ws, "offset", shift * k - dbeta / ctx.count, width)
        for rb in row_blocks(*rows.shape):
            db = np.multiply(rows[rb], kw, out=dx[rb])
            db -= offset
            np.subtract(dy[rb], db, out=db)
            db *= scale
        return dx.reshape(grad_out.shape)

    def _update(self, running: np.ndarray, batch: np.ndarray) -> None:
        running *= self.dtype.type(self.momentum)
        running += self.dtype.type(1 - self.momentum) * batch

    def get_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "eps": self.eps, "axis": self.axis}


# Batch statistics come from sum(x) and sum(x * x) in one pass each unless some channel's mean exceeds 8
# standard deviations (then E[x^2] - mean^2 would lose too many digits): x - mean is formed first.
MAX_MEAN_TO_VAR = 64.0
# Element-wise work runs on rows of about this many values (several channel vectors side by side): NumPy
# is 2-3x faster on long rows than on (N*H*W, C) with a small C.
ROW_VALUES = 16384
# and in blocks of rows of about this many values, so that the several passes of each block hit the cache.
BLOCK_VALUES = 1 << 17


@functools.lru_cache(maxsize=256)
def wide_rows(shape: tuple[int, ...], cap: int) -> tuple[int, int]:
    """``(rows, r * C)``: ``shape`` ``(..., C)`` viewed as rows of ``r`` whole channel vectors, ``r * C`` near
    ``cap`` (``r`` is a product of trailing axes, the last of them possibly split by a divisor)."""
    c = shape[-1]
    total = int(np.prod(shape[:-1], dtype=np.int64))
    if total == 0:  # an empty batch
        return 0, c
    r = 1
    for d in reversed(shape[:-1]):
        if r * d * c <= cap:
            r *= d
            continue
        r *= max((k for k in range(1, d + 1) if d % k == 0 and r * k * c <= cap), default=1)
        break
    return total // r, r * c


@functools.lru_cache(maxsize=256)
def row_blocks(rows: int, width: int) -> tuple[slice, ...]:
    """Slices of ``rows`` rows of ``width`` values, each about ``BLOCK_VALUES`` values (at least one row)."""
    step = max(1, BLOCK_VALUES // width)
    return tuple(slice(i, i + step) for i in range(0, rows, step))


def wide(ws: Workspace, name: str, v: np.ndarray, width: int) -> np.ndarray:
    """The ``(C,)`` vector ``v`` repeated to fill a row of ``width`` values, in the buffer ``name``."""
    out = ws.get(name, (width // v.shape[0], v.shape[0]))
    np.copyto(out, v)
    return out.reshape(width)


def channel_sum(ws: Workspace, rows: np.ndarray, c: int) -> np.ndarray:
    """Per-channel sums ``(C,)`` of ``rows`` ``(M, r*C)`` (a BLAS product with ones, then r channel vectors)."""
    ones = ws.get("ones", (rows.shape[0],), fill=1)
    return np.dot(ones, rows).reshape(-1, c).sum(axis=0)


def channel_dot(a: np.ndarray, b: np.ndarray, c: int) -> np.ndarray:
    """Per-channel sums ``(C,)`` of ``a * b`` for ``(M, r*C)`` rows, in one pass without a temporary."""
    return np.einsum("ij,ij->j", a, b).reshape(-1, c).sum(axis=0)
