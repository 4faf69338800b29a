"""The mnist_resnet_epoch workload and its PyTorch network (the recipes' residual network, twice)."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import Conv2D
from nnscratch.bench import workloads
from nnscratch.bench.flops import cnn_train_flops
from nnscratch.bench.workloads import resnet_epoch
from nnscratch.recipes.mnist_resnet import build_resnet


def test_convolutions_listed_are_the_recipe_networks() -> None:
    model = build_resnet(seed=0)
    model.build((28, 28, 1))
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    listed = [(layer.output_shape[0], layer.output_shape[1], *layer.weight.shape) for layer in convs]
    assert listed == [tuple(c) for c in resnet_epoch.RESNET_CONVS]


@pytest.mark.parametrize("real", [False, True])
def test_workload_on_tiny_data(real: bool, tiny_image_context) -> None:
    (row,) = resnet_epoch.mnist_resnet_epoch(tiny_image_context(real))
    assert row["workload"] == "mnist_resnet_epoch" and row["impl"] == "nnscratch" and row["dtype"] == "float32"
    assert row["samples"] == 200 and row["steps"] == 2 and row["batch_size"] == 128 and row["full_epoch"]
    assert row["flops"] == cnn_train_flops(resnet_epoch.RESNET_CONVS, resnet_epoch.RESNET_DENSE, 200)
    assert "2 steps (200 images, a full epoch)" in row["config"] and row["memory"]["peak_rss_bytes"] > 0
    assert ("test_accuracy_after_run" in row) is real


def test_listed_but_not_in_quick() -> None:
    w = workloads.WORKLOADS["mnist_resnet_epoch"]
    assert w.uses_mnist and not w.in_quick and w.run is resnet_epoch.mnist_resnet_epoch


def test_torch_network_has_the_same_layers_and_weights() -> None:
    torch = pytest.importorskip("torch")
    from nnscratch.bench.workloads import resnet_torch

    ours = build_resnet(seed=0)
    ours.build((28, 28, 1))
    net = resnet_torch.build()
    assert sum(p.numel() for p in net.parameters()) == sum(p.data.size for p in ours.trainable_weights) == 116_602
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.in_channels, *c.kernel_size) for c in convs] == [
        (oc, c, kh, kw) for _, _, kh, kw, c, oc in resnet_epoch.RESNET_CONVS]
    x = torch.from_numpy(np.random.default_rng(0).random((3, 1, 28, 28), np.float32))
    assert net(x).shape == (3, 10)


def test_torch_shift_moves_each_image_by_at_most_two_pixels_with_zero_fill() -> None:
    torch = pytest.importorskip("torch")
    from nnscratch.bench.workloads import resnet_torch

    shift = resnet_torch.build()[0]
    images = np.random.default_rng(0).random((16, 1, 8, 9), np.float32) + 1  # no zeros of their own
    out = shift(torch.from_numpy(images)).numpy()
    moves = set()
    for image, moved in zip(images[:, 0], out[:, 0]):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(moved, np.roll(np.pad(image, 2), (dy, dx), axis=(0, 1))[2:-2, 2:-2])]
        assert len(found) == 1
        moves.add(found[0])
    assert len(moves) > 1
    shift.eval()
    np.testing.assert_array_equal(shift(torch.from_numpy(images)).numpy(), images)
