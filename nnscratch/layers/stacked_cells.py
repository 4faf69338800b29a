"""``StackedRNNCells(cells)``: cells stacked into one cell (Keras's), what ``RNN([cell1, cell2])`` makes.

At each step the first cell reads the step's input, each next cell the output of the one below, and the stack's
output is the last cell's; its states are every cell's, in order (``state_size`` is the nested list of the
cells' sizes, Keras's). Since cell ``k`` at step ``t`` depends only on cell ``k - 1`` at step ``t`` and on its own
states, ``RNN`` runs a stack as its cells one after the other, each over the whole sequence (each built-in cell
by its layer's vectorized loop): the same numbers. A stack of stacks is flattened the same way.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..core.errors import InvalidTypeError
from ..core.layer import Layer
from ..core.registry import from_config, to_config
from .cell_protocol import BuiltInCell, build_cell, checked_cell, output_width, state_widths


class StackedRNNCells(BuiltInCell):
    """A list of cells as one cell: input ``(N, F)`` -> the last cell's output; states: all the cells'."""

    per_sample = False

    def __init__(self, cells: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise InvalidTypeError(f"StackedRNNCells takes a non-empty list of cells, got {cells!r:.100}")
        self.cells = [checked_cell(from_config(c) if isinstance(c, dict) else c, "StackedRNNCells") for c in cells]

    @property
    def state_size(self) -> list[Any]:
        """Each cell's ``state_size``, in order (Keras's nested list)."""
        return [cast(Any, c).state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        """The last cell's output width."""
        return output_width(self.cells[-1])

    def build(self, input_shape: Any) -> None:
        """Each cell for the output of the one below (``input_shape``: ``(F,)``, or Keras's ``(batch, F)``)."""
        features = int(tuple(input_shape)[-1])
        super().build((features,))
        for cell in self.cells:
            build_cell(cell, features)
            features = output_width(cell)

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        """Keras's: each cell's initial states (its ``get_initial_state``, else zeros), one list per cell with
        several states."""
        states: list[Any] = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            if make is not None:
                states.append(make(batch_size=batch_size))
            else:
                zeros = [np.zeros((int(batch_size or 0), w), self.dtype) for w in state_widths(cell)]
                states.append(zeros if isinstance(cast(Any, cell).state_size, (list, tuple)) else zeros[0])
        return states

    def get_config(self) -> dict[str, Any]:
        return {"cells": [to_config(c) for c in self.cells]}


def leaf_cells(cell: Layer) -> list[Layer]:
    """The cells a (possibly nested) stack runs, bottom to top; ``[cell]`` for a single cell."""
    if isinstance(cell, StackedRNNCells):
        return [leaf for c in cell.cells for leaf in leaf_cells(c)]
    return [cell]
