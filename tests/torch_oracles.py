"""PyTorch twins of nnscratch layers, with the weights copied over (for oracle tests; PyTorch is optional)."""

from __future__ import annotations

from typing import Any

import numpy as np


def torch_multihead_attention(torch: Any, layer: Any) -> Any:
    """A float64 ``torch.nn.MultiheadAttention`` (batch first) computing what the built nnscratch
    ``MultiHeadAttention`` ``layer`` computes for self-attention of width ``num_heads * key_dim``."""
    width = layer.num_heads * layer.key_dim
    ref = torch.nn.MultiheadAttention(width, layer.num_heads, batch_first=True).double()
    w = [layer.query_kernel, layer.key_kernel, layer.value_kernel]
    b = [layer.query_bias, layer.key_bias, layer.value_bias]
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.from_numpy(np.concatenate([p.data.reshape(width, width).T for p in w])))
        ref.in_proj_bias.copy_(torch.from_numpy(np.concatenate([p.data.reshape(width) for p in b])))
        ref.out_proj.weight.copy_(torch.from_numpy(layer.output_kernel.data.reshape(width, width).T.copy()))
        ref.out_proj.bias.copy_(torch.from_numpy(layer.output_bias.data.copy()))
    return ref
