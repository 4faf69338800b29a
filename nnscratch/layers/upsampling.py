"""``UpSampling2D``: repeat every pixel of channels-last images ``size`` times along height and width."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidValueError
from ..core.layer import Layer
from .checks import channels_last, sample_shape_error
from .im2col import pair


class UpSampling2D(Layer):
    """Nearest-neighbour upsampling: ``(N, H, W, C) -> (N, H*sh, W*sw, C)`` for ``size = (sh, sw)``.

    Forward is one broadcast copy; backward sums each ``sh x sw`` block of the output gradient.
    """

    per_sample = True
    gains_from_threads = True
    checks_dtype = False  # no parameters: any dtype passes through

    def __init__(self, size: int | tuple[int, int] | list[int] = (2, 2), interpolation: str = "nearest",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        channels_last(data_format, "UpSampling2D")
        self.size = pair(size, "UpSampling2D size")
        if interpolation != "nearest":
            raise InvalidValueError(f"UpSampling2D supports interpolation='nearest' only, got {interpolation!r}")
        self.interpolation = interpolation

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 3:
            raise sample_shape_error("UpSampling2D", "height, width, channels", input_shape)
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        self._ensure_built(x)
        (n, h, w, c), (sh, sw) = x.shape, self.size
        y = np.empty((n, h, sh, w, sw, c), x.dtype)
        y[...] = x[:, :, None, :, None, :]
        return y.reshape(n, h * sh, w * sw, c)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        (h, w, c), (sh, sw) = self.input_shape, self.size
        return grad_out.reshape(len(grad_out), h, sh, w, sw, c).sum(axis=(2, 4))

    def get_config(self) -> dict[str, Any]:
        return {"size": list(self.size), "interpolation": self.interpolation}
