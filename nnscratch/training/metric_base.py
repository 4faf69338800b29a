"""``Metric``: the base class of metrics, usable per batch (``metric(target, probs) -> float``) and, as in
Keras, with state accumulated over batches (``update_state`` / ``result`` / ``reset_state``).

A Keras-style subclass keeps its state in variables (``self.tp = self.add_weight(name="tp")``), updates them
in ``update_state(y_true, y_pred, sample_weight=None)`` with ``assign_add``/``assign`` and computes
``result()`` from them; ``fit`` resets it every epoch and for the validation pass, as Keras does."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import initializers
from ..core.errors import InvalidTypeError
from .masked_mean import metric_terms
from .metric_variable import MetricVariable


class Metric:
    """``name`` is the key in the logs and ``History`` (``val_`` prefixed for validation).

    A subclass implements ``__call__(target, probs)``: the mean of the metric over one batch. Its state
    is then the sample-weighted mean of the batch values (``fit`` keeps this running mean itself).
    A ``stateful`` metric (precision, recall, AUC, F1, any subclass defining ``update_state``) is not a
    mean of batch values: it implements ``update_state``, ``result`` and ``reset_state``, and ``fit`` calls
    them. Its state may live in variables from ``add_weight``; the default ``reset_state`` zeroes them.
    """

    name = "metric"
    stateful = False
    # A stateful metric that takes a masked output's mask (N, T) as ``update_state``'s ``sample_weight`` (Keras's
    # ``MeanMetricWrapper``). Other stateful metrics never see the mask, as in Keras (precision, recall, AUC, RMSE).
    uses_mask = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "update_state" in cls.__dict__ and "stateful" not in cls.__dict__:
            cls.stateful = True

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        if name is not None:
            if not isinstance(name, str) or not name:
                raise InvalidTypeError(f"metric name must be a non-empty string, got {name!r}")
            self.name = name
        self.dtype = np.dtype(dtype if dtype is not None else np.float32)
        self._variables: list[MetricVariable] = []
        self._sum, self._seen = 0.0, 0  # the running mean of a per-batch metric (users name variables total)
        owner = next(c for c in type(self).__mro__ if "reset_state" in c.__dict__)
        if owner.__module__.startswith("nnscratch."):  # a user's reset_state may need variables not made yet
            self.reset_state()

    def add_weight(self, name: str | None = None, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                   **kwargs: Any) -> MetricVariable:
        """A state variable of ``shape`` (a scalar by default) starting at ``initializer`` (Keras's
        ``Metric.add_weight``; ``aggregation=`` and the like are accepted and ignored)."""
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in (shape or ()))
        dtype = np.dtype(dtype) if dtype is not None else self.dtype
        init = initializers.get(initializer if initializer is not None else "zeros")
        value = np.asarray(init(shape, np.random.default_rng(0), dtype)).astype(dtype).reshape(shape)
        variable = MetricVariable(value, name)
        self._variables.append(variable)
        return variable

    add_variable = add_weight  # Keras 3's other name

    @property
    def variables(self) -> list[MetricVariable]:
        """The state variables made with ``add_weight``, in creation order."""
        return list(self._variables)

    def __call__(self, target: np.ndarray, probs: np.ndarray) -> Any:
        """A stateless per-batch value; a subclass with its own ``update_state`` updates and returns ``result()``
        (Keras's ``metric(y_true, y_pred)``)."""
        if type(self).update_state is not Metric.update_state:
            self.update_state(target, probs)
            return self.result()
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(target, probs)")

    def step_values(self, target: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """The metric at each step ``(N, T, ...)`` of an output ``(N, T, ..., C)`` (Keras's per-element values, the
        last axis reduced), which a mask on the output weighs; the built-in per-batch metrics define it."""
        raise NotImplementedError(f"{type(self).__name__} cannot leave out the padding steps of a masked model output: "
                                  "define step_values(target, probs) -> one value per step (N, T)")

    def masked_totals(self, target: np.ndarray, probs: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
        """``(total, count)`` of one batch whose output carries ``mask`` ``(N, T)``, for the running mean
        ``sum(totals) / sum(counts)`` (Keras's mask as sample weight: ``masked_mean.metric_terms``)."""
        return metric_terms(self.step_values(target, probs), mask)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch: ``y_true`` the targets, ``y_pred`` the model's outputs ``(batch, ...)``."""
        y_pred = np.asarray(y_pred)
        n = len(y_pred)
        if sample_weight is not None:
            raise InvalidTypeError(f"{type(self).__name__}.update_state does not take sample_weight in nnscratch")
        self._sum += float(self(np.asarray(y_true), y_pred)) * n
        self._seen += n

    def result(self) -> float:
        return self._sum / self._seen if self._seen else 0.0

    def reset_state(self) -> None:
        """Forget the batches seen: the running mean's totals, and every ``add_weight`` variable set to zeros."""
        self._sum, self._seen = 0.0, 0
        for variable in getattr(self, "_variables", ()):
            variable.assign(0)

    reset_states = reset_state  # the Keras 2 name

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
