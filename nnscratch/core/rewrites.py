"""Fusions: explicit, named rewrites of a graph for speed, with the same outputs and gradients.

A graph never names a concrete layer type. Layers register the pairs they can fuse:

- ``register_fusion(First, Second, make, when)``: where a node of type ``First`` feeds only a node of
  type ``Second``, the plan runs ``make(first_layer, second_layer)`` (a layer sharing their weights) as
  one step instead of the two (``nnscratch.layers.fusions``: ReLU -> max-pool).
- ``register_loss_fusion(Activation, Loss, make)``: where a model output comes from an activation of
  that type and the loss is of that type, training computes ``make(loss)`` from the activation's input
  (the logits) and starts backward there (softmax or sigmoid + cross-entropy: exact for any logits).

Each rewrite has a test that the fused graph's outputs and gradients equal the unfused graph's; a model
with ``rewrites = False`` runs every node as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fusion:
    name: str
    first: type
    second: type
    make: Callable[[Any, Any], Any]
    when: Callable[[Any, Any], bool]


_fusions: dict[tuple[type, type], list[Fusion]] = {}
_loss_fusions: dict[tuple[type, type], Callable[[Any], Any]] = {}


def register_fusion(first: type, second: type, make: Callable[[Any, Any], Any],
                    when: Callable[[Any, Any], bool] = lambda a, b: True, name: str | None = None) -> Fusion:
    """Fuse a ``first`` node feeding only a ``second`` node into the layer ``make(first, second)``."""
    fusion = Fusion(name or f"{first.__name__}+{second.__name__}", first, second, make, when)
    _fusions.setdefault((first, second), []).append(fusion)
    return fusion


def find_fusion(first: Any, second: Any) -> Fusion | None:
    """The registered fusion of these two layers (matched by exact type), or None."""
    for fusion in _fusions.get((type(first), type(second)), ()):
        if fusion.when(first, second):
            return fusion
    return None


def register_loss_fusion(activation: type, loss: type, make: Callable[[Any], Any]) -> None:
    """Train an output of activation ``activation`` with loss ``loss`` as ``make(loss)`` on the logits."""
    _loss_fusions[(activation, loss)] = make


def find_loss_fusion(activation: Any, loss: Any) -> Any | None:
    """The loss to apply to the logits instead of ``loss`` after ``activation``, or None."""
    make = _loss_fusions.get((type(activation), type(loss)))
    return None if make is None else make(loss)


def fusions() -> list[Fusion]:
    """Every registered layer fusion."""
    return [f for group in _fusions.values() for f in group]
