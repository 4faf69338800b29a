"""``model.losses``: Keras's list of a model's current weight penalties (a mixin of ``Model``)."""

from __future__ import annotations

from ..training.regularization import penalized


class RegularizationLosses:
    """Gives a model Keras's ``losses`` property."""

    @property
    def losses(self) -> list[float]:
        """The current penalty of each penalized weight of the model's layers (Keras's ``model.losses``):
        nested models included, a shared layer once, in the order ``fit`` adds them to the loss, so
        ``sum(model.losses)`` is the penalty of a training step. As in Keras, which takes them from
        ``trainable_weights``, the weights of a frozen layer (``trainable = False``) are left out. The
        values a layer adds with ``add_loss`` (``ActivityRegularization``) belong to one call: they are on
        ``model.last_call.losses`` after an eager call, not here."""
        return [regularizer(p.data) for p, regularizer in penalized(self)]
