"""Keras's losses of whole rows (the last axis): ``CosineSimilarity`` and ``CategoricalHinge``. A sample's
loss is one value per row, the batch loss their mean (a mask ``(N, T)`` leaves padding rows out, ``loss_base``);
targets have the model output's shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import InvalidValueError
from . import losses
from .elementwise_losses import per_sample


class RowLoss(losses.Loss):
    """Base: subclasses compute ``rows(pred, target)`` ``(..., )`` and keep what ``row_gradient`` needs."""

    def check_targets(self, y: np.ndarray, output_shape: tuple[int, ...], name: str = "y") -> None:
        self._check_same_shape(y, output_shape, name)

    def rows(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def row_gradient(self) -> np.ndarray:
        raise NotImplementedError

    def forward(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
        target = losses._as_target(pred, target, self.name).reshape(pred.shape)
        values = self.rows(pred, target)
        self.count = values.size
        if mask is not None:
            value, self.sample_losses = self._masked_mean(values, mask)
            return value
        self.step_weights = None
        self.sample_losses = values.reshape(len(pred), -1).mean(axis=1)
        return float(np.mean(values))

    def backward(self) -> np.ndarray:
        g = self.row_gradient()
        return self._weigh((g / self.count).astype(g.dtype, copy=False))


class CosineSimilarity(RowLoss):
    """``-cos(target, pred)`` along the last axis (-1 when they point the same way); rows normalized as
    Keras's ``l2_normalize`` does (norms below 1e-6 count as 1e-6)."""

    name = "cosine_similarity"

    def __init__(self, axis: int = -1, **keras: Any) -> None:
        if axis not in (-1,):
            raise InvalidValueError("CosineSimilarity supports axis=-1 only (the last axis)")
        losses._smoothing(0.0, keras)

    def rows(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        eps = pred.dtype.type(1e-12)
        squares = np.sum(pred * pred, axis=-1, keepdims=True)
        self.norm, self.clipped = np.sqrt(np.maximum(squares, eps)), squares < eps
        self.u = pred / self.norm
        self.a = target / np.sqrt(np.maximum(np.sum(target * target, axis=-1, keepdims=True), eps))
        self.dot = np.sum(self.a * self.u, axis=-1, keepdims=True)
        return -self.dot[..., 0]

    def row_gradient(self) -> np.ndarray:
        projected = np.where(self.clipped, self.a, self.a - self.dot * self.u)
        return -projected / self.norm


class CategoricalHinge(RowLoss):
    """``max(max((1 - t) * pred) - sum(t * pred) + 1, 0)`` for one-hot targets ``t``."""

    name = "categorical_hinge"

    def rows(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        self.target = target
        negatives = (1 - target) * pred
        self.worst = negatives.argmax(axis=-1)[..., None]
        value = np.take_along_axis(negatives, self.worst, axis=-1)[..., 0] - np.sum(target * pred, axis=-1) + 1
        self.active = (value > 0)[..., None]
        return np.maximum(value, 0)

    def row_gradient(self) -> np.ndarray:
        g = -self.target.copy()
        np.put_along_axis(g, self.worst, np.take_along_axis(g, self.worst, axis=-1) + np.take_along_axis(
            1 - self.target, self.worst, axis=-1), axis=-1)
        return g * self.active


for _cls in (CosineSimilarity, CategoricalHinge):
    losses.LOSSES[_cls.name] = (_cls, {})
cosine_similarity, categorical_hinge = per_sample(CosineSimilarity), per_sample(CategoricalHinge)
