"""``model.reset_states()``: reset the carried states of every stateful layer of a model (tf.keras's
``Model.reset_states``; Keras 3's docs: "call ``.reset_state()`` on either a specific layer, or on your entire
model").

The model names no layer type: it walks every layer inside it (nested models' included, each once) and calls the
public ``reset_states()`` of each that says it is ``stateful`` (the recurrent layers with ``stateful=True``,
``Bidirectional`` around one, a user's layer with a ``stateful`` flag and a ``reset_states`` method).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def stateful_layers(model: Any) -> Iterator[Any]:
    """The layers inside ``model`` that carry states from call to call (``stateful`` and ``reset_states``)."""
    for layer in model.modules():
        if layer is not model and getattr(layer, "stateful", False) is True and callable(
                getattr(layer, "reset_states", None)):
            yield layer


class ResetStates:
    """``reset_states()`` / ``reset_state()`` of ``Model``, built on ``Layer.modules()``."""

    def reset_states(self) -> None:
        """Start every stateful layer inside the model from zero states at its next call (which may then have any
        batch size); layers that are not stateful are left alone."""
        for layer in stateful_layers(self):
            layer.reset_states()

    def reset_state(self) -> None:
        """Keras 3's name of ``reset_states``."""
        self.reset_states()
