"""``Ensemble``: several models answering as one, by averaging their outputs.

Models trained apart (other seeds, other folds of the data) make partly independent errors; the mean of
their outputs is usually better than any one of them, most of all when the training set is small. The
ensemble is a graph model — one input, each member called on it, an ``Average`` of their outputs — so
``predict``, ``evaluate``, ``save``/``load`` work as for any model (and ``fit`` trains the members jointly).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core.errors import InvalidTypeError, InvalidValueError, ShapeError
from ..core.graph import Graph
from ..core.registry import from_config, to_config
from ..core.tensor import Input
from ..layers.merge import Average
from .model import Model
from .sequential import sample_shape


class Ensemble(Model):
    """``Ensemble([model_a, model_b, model_c])``: the mean of the members' outputs ``(batch, outputs)``.

    Members are models of the same input and output shapes and dtype, usually trained (``fit``) before.
    Members ending in a sigmoid or softmax output probabilities, so their probabilities are averaged;
    members trained on logits (``from_logits=True`` losses) have their logits averaged. When every
    member was compiled with the same loss the ensemble takes it over, so ``predict_proba`` maps the
    outputs the same way. Parameters are named ``members.<index>.<name>`` in ``state_dict``.
    """

    def __init__(self, members: Iterable[Model | dict[str, Any]], dtype: Any = None, name: str | None = None) -> None:
        if isinstance(members, (Model, str, bytes, dict)) or not isinstance(members, Iterable):
            raise InvalidTypeError(f"Ensemble takes a list of models, got {type(members).__name__}")
        layers = [from_config(m) if isinstance(m, dict) else m for m in members]
        models: list[Model] = []
        for i, member in enumerate(layers):
            if not isinstance(member, Model):
                raise InvalidTypeError(f"Ensemble member {i} must be a Model (e.g. a Sequential), got "
                                       f"{type(member).__name__}")
            if isinstance(member, Ensemble):
                raise InvalidTypeError(f"Ensemble member {i} is an Ensemble: pass its members instead")
            models.append(member)
        members = models
        if not members:
            raise InvalidValueError("Ensemble needs at least one member model")
        dtypes = {m.dtype for m in members}
        if len(dtypes) > 1:
            raise InvalidValueError(f"Ensemble members must share one dtype, got {sorted(d.name for d in dtypes)}")
        shapes = {tuple(m.input_shape) for m in members if m.built}
        if len(shapes) > 1:
            raise ShapeError(f"Ensemble members were built for different inputs: {sorted(shapes)}")
        super().__init__(name=name)
        self.members = members
        self.set_dtype(members[0].dtype if dtype is None else dtype)
        kinds = {(type(m.loss), getattr(m.loss, "from_logits", None)) for m in members}
        if len(kinds) == 1 and members[0].loss is not None:
            self.loss = members[0].loss
        if shapes:
            self.build(shapes.pop())

    def build(self, input_shape: Any) -> Ensemble:  # type: ignore[override]  # returns self, for chaining
        shape = sample_shape(input_shape)
        if self.graph is None:
            x = Input(shape=shape, dtype=self.dtype)
            outs = [member(x) for member in self.members]
            if len({o.sample_shape for o in outs}) > 1:
                raise ShapeError(f"Ensemble members disagree on the output shape: "
                                 f"{sorted({o.sample_shape for o in outs})}")
            y = Average()(outs) if len(outs) > 1 else outs[0]
            self._set_graph(Graph(x, y), several_inputs=False, several_outputs=False)
        return self

    def forward_call(self, ctx: Any, x: Any) -> Any:
        if self.graph is None:
            self.build(x.shape[1:])
        return super().forward_call(ctx, x)

    def children(self) -> Any:
        for i, member in enumerate(self.members):
            yield f"members.{i}", member

    def get_config(self) -> dict[str, Any]:
        return {"members": [to_config(m) for m in self.members], "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Ensemble:
        return cls(**config)  # its config holds its constructor's arguments, not a graph record
