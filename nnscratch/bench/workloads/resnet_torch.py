"""The recipes' residual MNIST network in PyTorch, for the ``mnist_resnet_epoch`` workload (torch optional).

The same layers, shapes and initialisation families as ``nnscratch.recipes.mnist_resnet.build_resnet``
with its defaults, channels-first (PyTorch's native layout): a random shift of up to 2 pixels (zero fill,
training only), conv-bn-relu(16), max-pool, conv-bn-relu(32) and one residual block, max-pool,
conv-bn-relu(64) and one residual block, global average pool, Linear(64, 10). Convolutions have no bias
and He-normal weights; BatchNorm uses momentum 0.1 (nnscratch's 0.9) and eps 1e-5; the Linear layer is
Glorot-uniform with a zero bias. Training is the plain loop of ``baseline_torch.train_cnn``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def build(widths: Sequence[int] = (16, 32, 64), blocks: Sequence[int] = (0, 1, 1), shift: int = 2,
          seed: int = 0) -> Any:
    """A fresh network: ``(N, 1, 28, 28)`` float32 images -> ``(N, 10)`` logits."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    def conv_bn(cin: int, cout: int, relu: bool) -> nn.Sequential:
        conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")  # N(0, 2 / fan_in)
        layers: list[nn.Module] = [conv, nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)]
        return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)

    class Residual(nn.Module):
        """``relu(h + bn(conv(relu(bn(conv(h))))))``."""

        def __init__(self, c: int) -> None:
            super().__init__()
            self.branch = nn.Sequential(conv_bn(c, c, True), conv_bn(c, c, False))

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return torch.relu(h + self.branch(h))

    class Shift(nn.Module):
        """Each image moved by its own whole-pixel offsets in ``[-s, s]``, zeros coming in; identity in eval."""

        def __init__(self, s: int) -> None:
            super().__init__()
            self.s, self.gen = s, torch.Generator().manual_seed(seed + 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.training:
                return x
            n, _, h, w = x.shape
            s = self.s
            d = torch.randint(-s, s + 1, (2, n), generator=self.gen)
            rows = torch.arange(h)[None, :] + s - d[0][:, None]  # out[i] = x[i - dy], in the padded image
            cols = torch.arange(w)[None, :] + s - d[1][:, None]
            padded = nn.functional.pad(x, (s, s, s, s)).permute(0, 2, 3, 1)
            out = padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
            return out.permute(0, 3, 1, 2)

    class GlobalAvg(nn.Module):
        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return h.mean(dim=(2, 3))

    layers: list[nn.Module] = [Shift(shift)] if shift else []
    cin = 1
    for stage, (width, n_blocks) in enumerate(zip(widths, blocks)):
        if stage:
            layers.append(nn.MaxPool2d(2))
        layers.append(conv_bn(cin, width, True))
        layers.extend(Residual(width) for _ in range(n_blocks))
        cin = width
    head = nn.Linear(cin, 10)
    nn.init.xavier_uniform_(head.weight)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers, GlobalAvg(), head)


def train(x: np.ndarray, y: np.ndarray, *, epochs: int = 1, batch_size: int = 128, lr: float = 6e-3,
          seed: int = 0) -> Any:
    """Train a fresh ``build`` network with Adam and cross-entropy on NHWC float32 images ``x`` and integer
    labels ``y`` (shuffled each epoch); returns it in eval mode."""
    import torch

    from ..baseline_torch import to_nchw

    net = build(seed=seed)
    net.train()
    X = torch.from_numpy(to_nchw(np.asarray(x, np.float32)))
    Y = torch.from_numpy(np.asarray(y, np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    gen = torch.Generator().manual_seed(seed + 1)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=gen)
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(X[idx]), Y[idx])
            loss.backward()
            opt.step()
    return net.eval()
