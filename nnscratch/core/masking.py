"""Masks: which steps of a sequence are padding, carried along a graph beside the values (Keras's convention).

A mask is a boolean array ``(N, T)`` over a tensor's sample and step axes: True for a real step, False for
padding. ``Embedding(mask_zero=True)`` and ``Masking`` make one; layers pass it on or use it:

- ``supports_masking`` (Keras's attribute, False by default): the layer takes a masked input. ``compute_mask``
  gives its output's mask, the input's by default (element-wise layers such as ``Dense`` or ``Dropout``);
  a layer that uses the mask reads it from its call record, ``ctx.mask`` (the recurrent layers keep the
  state over padding steps, ``GlobalAveragePooling1D`` averages the real steps, attention skips padding keys).
- a layer without it drops the mask, with a warning, as Keras's does (``Conv1D``, ``Flatten``, ...);
- ``mask_refused`` names a layer that Keras has use the mask in a way nnscratch does not (yet): a masked input
  is one clear error when the model is put together, rather than a silently different result.

Whether a tensor carries a mask is known when the model is put together (``output_masked``, from
``connect``), so a graph without masks runs exactly as before; the masks themselves are computed with the
values (``Graph.forward``).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from .errors import InvalidValueError
from .shapes import PROBE_SIZES


class MaskSupport:
    """What ``Layer`` knows about masks (a mixin): Keras's ``supports_masking`` and ``compute_mask``."""

    supports_masking: bool = False
    mask_refused: ClassVar[str | None] = None  # why a masked input is refused (Keras would use the mask)
    dtype: Any  # (the layer's)

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        """The output's mask ``(N, T)`` (a list for several outputs; None: no mask) for ``inputs`` as ``forward_call``
        took them and their ``mask`` (as on ``ctx.mask``): the input's when the layer supports masking."""
        return mask if self.supports_masking else None

    def outputs_masked(self, input_shape: Any, masked: Any) -> Any:
        """Whether each output carries a mask for inputs of per-sample ``input_shape`` that carry one where
        ``masked`` says (a bool or a list, as ``output_masked``): ``compute_mask`` on an empty batch of zeros (a
        model answers from its graph instead)."""
        several = isinstance(masked, list)
        shapes = input_shape if several else [input_shape]
        flags = masked if several else [masked]
        # an empty batch, as the shape probes (core.shapes): nothing the size of an activation is allocated
        xs = [np.zeros((0, *(PROBE_SIZES[0] if d is None else d for d in s)), self.dtype) for s in shapes]
        masks = [np.ones(x.shape[:2], bool) if flag and x.ndim >= 2 else None for x, flag in zip(xs, flags)]
        out = self.compute_mask(xs if several else xs[0], masks if several else masks[0])
        if isinstance(out, (list, tuple)):
            return [m is not None for m in out]
        return out is not None


def output_masked(layer: Any, input_shape: Any, masked: Any) -> Any:
    """Whether each output of ``layer`` carries a mask, for inputs of per-sample ``input_shape`` that carry one
    where ``masked`` says (a bool, or a list for several inputs); a bool, or a list for several outputs."""
    several = isinstance(masked, list)
    any_masked = any(masked) if several else bool(masked)
    if any_masked and layer.mask_refused:
        raise InvalidValueError(f"{layer.name} ({type(layer).__name__}) got an input with a mask (from "
                                f"Embedding(mask_zero=True) or Masking upstream): {layer.mask_refused}")
    if any_masked and not layer.supports_masking:
        warnings.warn(f"Layer '{layer.name}' ({type(layer).__name__}) does not support masking, but was passed an "
                      "input with a mask attached to it: it drops the mask, and downstream layers will not see it "
                      "(as in Keras)", UserWarning, stacklevel=4)
        return False
    if not any_masked and type(layer).compute_mask is MaskSupport.compute_mask:
        return False  # (nothing to pass on, and the layer makes no mask of its own)
    return layer.outputs_masked(input_shape, masked)
