"""``BatchNorm``: batch normalization over the channel (last) axis, for dense and image inputs."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError, ShapeError
from ..core.layer import Layer
from ..core.parameter import Parameter


class BatchNorm(Layer):
    """``y = gamma * (x - mean) / sqrt(var + eps) + beta`` per channel, for ``(N, C)`` or ``(N, H, W, C)``.

    Statistics are taken over every axis but the last (channels-last). ``training=True`` normalizes with
    the batch mean and biased variance and updates ``running = momentum * running + (1 - momentum) * batch``
    (the running variance from the unbiased batch variance, as in PyTorch); ``training=False`` uses the
    running statistics. ``gamma``/``beta`` ``(C,)`` are trained; ``running_mean``/``running_var`` ``(C,)``
    are non-trainable state, saved with the model. Defaults are Keras's (momentum 0.99, epsilon 1e-3;
    PyTorch's are 0.9 and 1e-5); ``epsilon`` is Keras's name of ``eps``.
    """

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
        # Work on rows of W*C values (a tile of W channel vectors): NumPy is much faster on long rows than
        # on (N*H*W, C) with a small C.
        self._tile = input_shape[-2] if len(input_shape) > 1 else 1

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        ctx.ws.use(x)
        rows = x.reshape(-1, self._tile * x.shape[-1])
        count = ctx.count = rows.shape[0] * self._tile  # values per channel
        # Batch statistics in training, unless the layer is frozen (Keras's rule: then inference mode).
        training = ctx.batch_stats = ctx.training and self.trainable
        assert self.gamma is not None and self.beta is not None  # built
        assert self.running_mean is not None and self.running_var is not None
        if training:
            if count < 2:
                raise InvalidValueError("BatchNorm needs more than one value per channel in training; "
                                        f"got input of shape {x.shape} (use a batch size > 1)")
            mean = self._channel_sum(ctx, rows) / count
            xhat = rows - self._tiled(mean)
            var = self._channel_sum(ctx, np.square(xhat)) / count
            self._update(self.running_mean.data, mean)
            self._update(self.running_var.data, var * (count / (count - 1)))
        else:
            mean, var = self.running_mean.data, self.running_var.data
            xhat = rows - self._tiled(mean)
        ctx.inv_std = 1 / np.sqrt(var + self.dtype.type(self.eps))
        xhat *= self._tiled(ctx.inv_std)
        ctx.xhat = xhat
        y = xhat * self._tiled(self.gamma.data)
        y += self._tiled(self.beta.data)
        return y.reshape(x.shape)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        xhat = ctx.xhat
        assert self.gamma is not None and self.beta is not None  # built
        dy = grad_out.reshape(xhat.shape)
        dbeta = self._channel_sum(ctx, dy)
        dgamma = self._channel_sum(ctx, dy * xhat)
        self.beta.grad += dbeta
        self.gamma.grad += dgamma
        scale = self._tiled(self.gamma.data * ctx.inv_std)
        if not ctx.batch_stats:  # the statistics were constants
            return (dy * scale).reshape(grad_out.shape)
        # dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat)), means per channel
        dx = xhat * self._tiled(dgamma / ctx.count)
        dx += self._tiled(dbeta / ctx.count)
        np.subtract(dy, dx, out=dx)
        dx *= scale
        return dx.reshape(grad_out.shape)

    def _channel_sum(self, ctx: Call, rows: np.ndarray) -> np.ndarray:
        """Per-channel sums ``(C,)`` of ``rows`` ``(M, tile*C)`` (a BLAS product with ones, then the tile)."""
        ones = ctx.ws.get("ones", (rows.shape[0],), fill=1)
        return np.dot(ones, rows).reshape(self._tile, -1).sum(axis=0)

    def _tiled(self, v: np.ndarray) -> np.ndarray:
        """A ``(C,)`` vector repeated to match a row of ``tile*C`` values."""
        return np.tile(v, self._tile)

    def _update(self, running: np.ndarray, batch: np.ndarray) -> None:
        running *= self.dtype.type(self.momentum)
        running += self.dtype.type(1 - self.momentum) * batch

    def get_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "eps": self.eps, "axis": self.axis}
