"""What a worker needs to rebuild the model: a JSON-able spec (architecture, losses), never a pickled model.

``replica_spec(model)`` is made on the driver from a compiled model; ``build_replica(spec)`` rebuilds an
equivalent model, compiled with the same losses and loss weights (no optimizer: the driver steps), in
any process. The weights are not part of the spec: they travel with every step (``FlatParameters``).
"""

from __future__ import annotations

import json
from typing import Any

from ..core.errors import InvalidValueError, NNScratchError
from ..core.registry import to_config
from ..models.architecture import input_shape_of
from ..models.loading import model_from_record


def replica_spec(model: Any) -> dict[str, Any]:
    """The JSON-able description of a compiled, built model that ``build_replica`` turns back into a model.

    Raises ``InvalidValueError`` when a part of it (a custom loss, a layer's configuration) has no JSON form."""
    trainer = model._compiled()
    trainer.prepare(training=False)
    try:
        losses = [loss.get_config() for loss in trainer.losses]
        spec = {"model": to_config(model), "input_shape": _shape_list(model.input_shape), "losses": losses,
                "loss_weights": list(trainer.weights), "rewrites": bool(model.rewrites),
                "weights": [name for name, _ in model.named_parameters(include_frozen=True)]}
        return json.loads(json.dumps(spec))
    except (NNScratchError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidValueError(f"the model cannot be sent to worker processes: its architecture and losses must "
                                f"have a JSON configuration (registered layers, built-in losses): {exc}") from None


def build_replica(spec: dict[str, Any]) -> Any:
    """A built, compiled (losses only) model from ``replica_spec`` output; weights as initialized (load them)."""
    model = model_from_record(spec, "the replica spec")
    model.build(input_shape_of(spec["input_shape"]))
    model.rewrites = spec["rewrites"]
    model.compile(loss=spec["losses"], optimizer=None, loss_weights=spec["loss_weights"])
    assert model.trainer is not None  # set by compile
    model.trainer.prepare(training=False)
    names = [name for name, _ in model.named_parameters(include_frozen=True)]
    if names != spec["weights"]:
        raise InvalidValueError(f"the rebuilt model's weights {names[:4]}... differ from the original's "
                                f"{spec['weights'][:4]}...: a layer's configuration does not rebuild it exactly")
    return model


def _shape_list(shape: Any) -> Any:
    return [list(s) for s in shape] if shape and isinstance(shape[0], (tuple, list)) else list(shape)
