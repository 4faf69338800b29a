"""``FlatParameters``: a model's arrays packed into flat vectors, the form they travel in between processes.

One contiguous vector per message is what Ray's object store moves fastest (one buffer, no per-array
overhead, zero-copy reads on the same machine). Three views of the same parameters:

- the weights: every parameter, frozen and non-trainable ones included (``state_dict`` order);
- the gradients: the trainable parameters (``model.parameters()`` order, what the optimizer steps);
- the state: the non-trainable arrays (running statistics), which training updates without gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _pack(arrays: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    out = np.empty(sum(a.size for a in arrays), dtype=dtype)
    offset = 0
    for a in arrays:
        out[offset: offset + a.size] = a.reshape(-1)
        offset += a.size
    return out


def _unpack(flat: np.ndarray, arrays: list[np.ndarray]) -> None:
    offset = 0
    for a in arrays:
        a[...] = flat[offset: offset + a.size].reshape(a.shape)
        offset += a.size


class FlatParameters:
    """The parameters of ``model`` as flat vectors: ``names`` (all weights, in order), sizes, dtype."""

    def __init__(self, model: Any) -> None:
        named = list(model.named_parameters(include_frozen=True))
        self.names = [name for name, _ in named]
        self.weights = [p for _, p in named]
        self.trainable = model.parameters()
        self.state = model.non_trainable_weights
        self.dtype = np.result_type(*[p.dtype for p in self.weights]) if self.weights else np.dtype(np.float32)
        self.size = sum(p.data.size for p in self.weights)
        self.grad_size = sum(p.data.size for p in self.trainable)

    def pack_weights(self) -> np.ndarray:
        """Every weight, ``(size,)``."""
        return _pack([p.data for p in self.weights], self.dtype)

    def load_weights(self, flat: np.ndarray) -> None:
        """Copy ``pack_weights`` output (of a model of the same architecture) into the weights, in place."""
        _unpack(flat, [p.data for p in self.weights])

    def pack_grads(self) -> np.ndarray:
        """The trainable parameters' gradients, ``(grad_size,)``."""
        return _pack([p.grad for p in self.trainable], self.dtype)

    def set_grads(self, flat: np.ndarray) -> None:
        """Overwrite the trainable parameters' gradients with ``flat`` ``(grad_size,)``."""
        _unpack(flat, [p.grad for p in self.trainable])

    def pack_state(self) -> np.ndarray | None:
        """The non-trainable arrays (running statistics), or None when the model has none."""
        return _pack([p.data for p in self.state], self.dtype) if self.state else None

    def load_state(self, flat: np.ndarray) -> None:
        _unpack(flat, [p.data for p in self.state])
