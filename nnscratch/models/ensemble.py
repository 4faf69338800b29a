"""``Ensemble``: several trained models answering as one, by averaging their outputs.

Models trained apart (other seeds, other folds of the data) make partly independent errors; the mean of
their outputs is usually better than any one of them, most of all when the training set is small. The
ensemble is a ``Model`` for inference: ``predict``, ``predict_proba``, ``predict_classes``, ``evaluate``
(after ``compile``), ``score`` and ``save``/``load`` work as for any model; it is not trained as a whole.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..training.history import History
from .model import Model
from ..core.layer import from_config, to_config


class Ensemble(Model):
    """``Ensemble([model_a, model_b, model_c])``: the mean of the members' outputs ``(batch, outputs)``.

    Members are models of the same input and output shapes and dtype, usually trained (``fit``) before.
    Members ending in a sigmoid or softmax output probabilities, so their probabilities are averaged;
    members trained on logits (``from_logits=True`` losses) have their logits averaged. When every
    member was compiled with the same loss the ensemble takes it over, so ``predict_proba`` maps the
    outputs the same way. Parameters are named ``members.<index>.<name>`` in ``state_dict``.
    """

    def __init__(self, members: Iterable[Model | dict[str, Any]], dtype: Any = None) -> None:
        if isinstance(members, (Model, str, bytes, dict)) or not isinstance(members, Iterable):
            raise InvalidTypeError(f"Ensemble takes a list of models, got {type(members).__name__}")
        members = [from_config(m) if isinstance(m, dict) else m for m in members]
        for i, member in enumerate(members):
            if not isinstance(member, Model):
                raise InvalidTypeError(f"Ensemble member {i} must be a Model (e.g. a Sequential), got {type(member).__name__}")
            if isinstance(member, Ensemble):
                raise InvalidTypeError(f"Ensemble member {i} is an Ensemble: pass its members instead")
        if not members:
            raise InvalidValueError("Ensemble needs at least one member model")
        dtypes = {m.dtype for m in members}
        if len(dtypes) > 1:
            raise InvalidValueError(f"Ensemble members must share one dtype, got {sorted(d.name for d in dtypes)}")
        shapes = {m.input_shape for m in members if m.built}
        if len(shapes) > 1:
            raise ShapeError(f"Ensemble members were built for different inputs: {sorted(shapes)}")
        self.members = members
        super().__init__(dtype=members[0].dtype if dtype is None else dtype)
        self.input_shape = shapes.pop() if shapes else None
        kinds = {(type(m.loss), getattr(m.loss, "from_logits", None)) for m in members}
        if len(kinds) == 1 and members[0].loss is not None:
            self.loss = members[0].loss

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The mean of ``member.forward(x)`` over the members, in inference mode."""
        if training:
            raise InvalidValueError("an Ensemble is not trained as a whole: fit each member, then combine them")
        if not self.built:
            self.input_shape = tuple(x.shape[1:])
        total = self.members[0].forward(x).astype(self.dtype, copy=True)
        for member in self.members[1:]:
            out = member.forward(x)
            if out.shape != total.shape:
                raise ShapeError(f"Ensemble members disagree on the output shape: {total.shape[1:]} and {out.shape[1:]}")
            total += out
        total /= len(self.members)
        return total

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise InvalidValueError("an Ensemble is not trained as a whole: fit each member, then combine them")

    def fit(self, *args: Any, **kwargs: Any) -> History:
        raise InvalidValueError("an Ensemble is not trained as a whole: fit each member, then combine them")

    def get_config(self) -> dict[str, Any]:
        return {"members": [to_config(m) for m in self.members], "dtype": self.dtype.name}
