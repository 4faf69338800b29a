"""Useful FLOPs of the benchmark networks: the matrix products of a training pass, nothing element-wise."""

from __future__ import annotations


def mlp_train_flops(sizes: list[int], samples: int, skip_first_input_grad: bool = True) -> int:
    """Useful matmul FLOPs of training an MLP with layer widths ``sizes`` on ``samples`` samples (one pass).

    Per layer of ``a`` inputs and ``b`` outputs and per sample: forward ``x @ W`` (2ab), weight gradient
    ``g.T @ x`` (2ab) and input gradient ``g @ W`` (2ab), i.e. 3 products of 2ab FLOPs; the first
    layer's input gradient is not needed and not counted. Element-wise work (activations, the loss,
    the optimizer) is ignored.
    """
    per_sample = sum(3 * 2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if skip_first_input_grad and len(sizes) > 1:
        per_sample -= 2 * sizes[0] * sizes[1]
    return per_sample * samples


def conv_forward_flops(oh: int, ow: int, kh: int, kw: int, c: int, oc: int, samples: int = 1) -> int:
    """FLOPs of one convolution's forward pass: ``2 * N * OH * OW * KH * KW * C * OC`` (one multiply-add each)."""
    return 2 * samples * oh * ow * kh * kw * c * oc


def cnn_train_flops(convs: list[tuple[int, int, int, int, int, int]], dense_sizes: list[int], samples: int,
                    skip_first_input_grad: bool = True) -> int:
    """Useful FLOPs of training a CNN on ``samples`` samples (one pass).

    ``convs``: ``(OH, OW, KH, KW, C, OC)`` per convolution, in order; ``dense_sizes``: the widths of the
    dense layers after the flattening (``[7*7*16, 10]``). Each convolution costs 3 times its forward
    FLOPs (forward, weight gradient, input gradient: the same ``(N*OH*OW) x (KH*KW*C) x OC`` product
    shape each), each dense layer 3 products of ``2ab``; the first convolution's input gradient is not
    needed and not counted. Pooling, activations, the loss and the optimizer are ignored.
    """
    per_sample = 3 * sum(conv_forward_flops(*conv) for conv in convs)
    per_sample += mlp_train_flops(dense_sizes, 1, skip_first_input_grad=False)
    if skip_first_input_grad and convs:
        per_sample -= conv_forward_flops(*convs[0])
    return per_sample * samples
