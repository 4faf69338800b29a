"""``RecurrentLayer``: what a layer that runs over the steps of a sequence offers ``Bidirectional``.

``SimpleRNN``, ``LSTM``, ``GRU`` (``recurrent.Recurrent``) and ``RNN`` (a cell or a stack of cells) share it: the
flags ``return_sequences``, ``return_state``, ``go_backwards`` and ``stateful``, the widths and names of the states
a call may start from and ``return_state`` gives back (``state_widths``, ``state_labels``), the states carried
between calls (``states``, ``reset_states``), and a ``get_config`` whose ``go_backwards`` flipped makes the backward
half. ``Bidirectional`` wraps any such layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.layer import Layer
from .recurrent_states import given_states


class RecurrentLayer(Layer):
    """Base of the layers ``Bidirectional`` takes; ``(N, T, F) -> (N, units)`` or ``(N, T, units)``."""

    abstract = True
    return_sequences: bool
    return_state: bool
    go_backwards: bool
    stateful: bool
    states: list[np.ndarray] | None  # carried into the next call (stateful), or None: a zero start

    def state_widths(self) -> list[int]:
        """The width of each state (what ``initial_state`` takes and ``return_state`` gives), in order."""
        raise NotImplementedError

    def state_labels(self) -> list[str]:
        """The names of the states, for messages (``h``, ``c``, ...)."""
        raise NotImplementedError

    def reset_states(self, states: Any = None) -> None:
        """Keras's: the next call of a stateful layer starts from zero states (and may have any batch size), or
        from ``states`` (one array ``(batch, units)`` per state: ``[h]``, an LSTM's ``[h, c]``). A layer that is
        not stateful carries nothing: a no-op (``states`` is refused)."""
        self.states = given_states(self, states)

    def reset_state(self, states: Any = None) -> None:
        """Keras 3's name of ``reset_states``."""
        self.reset_states(states)
