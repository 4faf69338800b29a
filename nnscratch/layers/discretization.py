"""``Discretization`` (Keras's layer): continuous values bucketed by ranges, ``bin_boundaries`` given or learned.

``bin_boundaries=[0., 1., 2.]`` makes the bins ``(-inf, 0)``, ``[0, 1)``, ``[1, 2)`` and ``[2, inf)``: a value's
bin is the number of boundaries ``<=`` it (``np.digitize``; NaN falls in the last bin), compared in the input's
dtype (the boundaries rounded to it, as TensorFlow's ``Bucketize``). With ``num_bins`` instead, ``adapt(data)``
learns the boundaries from approximate quantiles: Keras's own algorithm (weighted summaries of at most
``1 / epsilon`` points per batch, merged and compressed), so the boundaries are Keras's for the same data and
batches. They are saved in the configuration, so a saved model needs no separate preprocessing record.

``output_mode``: ``"int"`` (the default; the bin index, a whole number in the layer's float dtype where Keras
gives int32: what nnscratch models carry, and what ``Embedding`` and ``CategoryEncoding`` take), or
``"one_hot"``, ``"multi_hot"``, ``"count"`` over ``len(bin_boundaries) + 1`` bins (``CategoryEncoding``'s
encodings). The output is piecewise constant: its gradient is zero.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core.call import Call
from ..core.errors import InvalidTypeError, InvalidValueError, NotBuiltError
from ..core.layer import Layer
from ..core.validation import positive_int
from .category_encoding import check_encoded_rank, check_not_sparse, check_output_mode, encode

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def _boundaries(value: Any) -> list[float]:
    """``value`` as a list of non-decreasing numbers (not NaN), else one clear error."""
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if values is None or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and not math.isnan(v)
                                 for v in values):
        raise InvalidValueError(f"Discretization bin_boundaries must be a list of numbers, got {value!r}")
    if any(b < a for a, b in zip(values, values[1:])):
        raise InvalidValueError(f"Discretization bin_boundaries must be in increasing order, got {values}")
    return [float(v) for v in values]


# ---------------------------------------------------------------- Keras's approximate quantiles (its NumPy code)
def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """``(2, k)``: about ``1 / epsilon`` evenly spaced values of ``values`` sorted, and the count each stands for."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    """The two summaries merged by value, compressed to ``epsilon``."""
    merged = np.concatenate((first, second), axis=1)
    return compress_summary(np.take(merged, np.argsort(merged[0]), axis=1), epsilon)


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """At most ``1 / epsilon`` points, interpolated at evenly spaced cumulative weights (unchanged if fewer)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


class Discretization(Layer):
    """Values ``(N, ...)`` -> their bin indices ``(N, ...)``, or their encoding over the bins (module docstring).

    Give ``bin_boundaries`` (a sorted list) or ``num_bins`` and call ``adapt(data)`` before using the layer;
    ``epsilon`` is ``adapt``'s error tolerance (smaller: more exact quantiles, more memory). ``sparse=True`` is
    refused (NumPy has no sparse arrays).
    """

    per_sample = True
    checks_dtype = False  # any float dtype is compared as it is

    def __init__(self, bin_boundaries: Any = None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_mode = check_output_mode("Discretization", output_mode, OUTPUT_MODES)
        check_not_sparse("Discretization", sparse)
        self.sparse = False
        if num_bins is not None and bin_boundaries is not None:
            raise InvalidValueError(f"Discretization takes bin_boundaries or num_bins (then adapt), not both; got "
                                    f"bin_boundaries={bin_boundaries!r} and num_bins={num_bins!r}")
        if num_bins is None and bin_boundaries is None:
            raise InvalidValueError("Discretization needs bin_boundaries (a sorted list), or num_bins and then "
                                    "adapt(data) to learn them")
        self.num_bins = None if num_bins is None else positive_int(num_bins, "Discretization num_bins")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not 0 < epsilon <= 1:
            raise InvalidValueError(f"Discretization epsilon must be a number in (0, 1], got {epsilon!r}")
        self.epsilon: float = float(epsilon)
        self.bin_boundaries: list[float] | None = None if bin_boundaries is None else _boundaries(bin_boundaries)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Discretization:
        """As Keras: an adapted layer's config has both ``num_bins`` and its learned ``bin_boundaries``."""
        config = dict(config)
        learned = config.pop("bin_boundaries", None) if config.get("num_bins") is not None else None
        layer = cls(**config)
        if learned is not None:
            layer.bin_boundaries = _boundaries(learned)
        return layer

    def adapt(self, data: Any, steps: int | None = None) -> Discretization:
        """Learn ``num_bins - 1`` boundaries (fewer for data of fewer distinct points) from ``data``: an array (one
        batch), or an iterable of batches (at most ``steps`` of them). Every value counts, whatever its axis."""
        if self.num_bins is None:
            raise InvalidValueError("Discretization was given bin_boundaries; only a layer made with num_bins can "
                                    "adapt")
        if steps is not None:
            steps = positive_int(steps, "Discretization.adapt steps")
        batches: Iterable[Any] = [data] if isinstance(data, np.ndarray) or not hasattr(data, "__iter__") else data
        summary = np.array([[], []], dtype="float32")
        seen = 0
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            try:
                values = np.array(batch).astype("float32")
            except (TypeError, ValueError):
                raise InvalidTypeError(f"Discretization.adapt takes arrays of numbers, got a batch of "
                                       f"{type(batch).__name__}") from None
            if not np.all(np.isfinite(values)):
                raise InvalidValueError(f"Discretization.adapt batch {i} holds NaN or infinite values; expected "
                                        f"finite numbers")
            if values.size:
                summary, seen = merge_summaries(summarize(values, self.epsilon), summary, self.epsilon), seen + 1
        if not seen:
            raise InvalidValueError("Discretization.adapt got no values to learn the bin boundaries from")
        self.bin_boundaries = compress_summary(summary, 1.0 / self.num_bins)[0, :-1].tolist()
        return self

    @property
    def depth(self) -> int:
        """The number of bins (what ``"one_hot"``, ``"multi_hot"`` and ``"count"`` encode over)."""
        if self.bin_boundaries is None:
            raise NotBuiltError(f"Discretization(num_bins={self.num_bins}) has no bin boundaries yet: call "
                                f"adapt(data) (or pass bin_boundaries) before using it")
        return len(self.bin_boundaries) + 1

    def build(self, input_shape: Any) -> None:
        check_encoded_rank("Discretization", self.output_mode, tuple(input_shape))
        super().build(input_shape)

    def forward_call(self, ctx: Call, x: np.ndarray) -> np.ndarray:
        depth = self.depth
        self._ensure_built(x)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        ctx.shape = x.shape
        bins = np.searchsorted(np.asarray(self.bin_boundaries, x.dtype), x, side="right")  # = np.digitize
        if self.output_mode == "int":
            return bins.astype(self.dtype)
        return encode(bins, depth, self.output_mode, self.dtype)

    def backward_call(self, ctx: Call, grad_out: np.ndarray) -> np.ndarray:
        return np.zeros(ctx.shape, grad_out.dtype)  # piecewise constant

    def get_config(self) -> dict[str, Any]:
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse}
