"""The MNIST residual network recipe: its graph (fast) and its >= 99.4% test accuracy on real MNIST (slow)."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.recipes import mnist_resnet as rn


def expected_trainable_params(widths, blocks) -> int:
    """3x3 convolutions without bias, BatchNorm gamma/beta, the final Dense(10): counted by hand."""
    total, channels = 0, 1
    for width, n_blocks in zip(widths, blocks):
        total += 9 * channels * width + 2 * width  # the stage's conv-bn-relu
        total += n_blocks * 2 * (9 * width * width + 2 * width)  # two conv-bn per residual block
        channels = width
    return total + channels * 10 + 10


def layer_types(model: nn.Model) -> list[str]:
    return [type(node.layer).__name__ for node in model.graph.nodes]


def test_default_network_shapes_params_and_skip_connections():
    model = rn.build_resnet(seed=0)
    widths, blocks = rn.DEFAULTS["widths"], rn.DEFAULTS["blocks"]
    assert sum(p.data.size for p in model.trainable_weights) == expected_trainable_params(widths, blocks)
    types = layer_types(model)
    assert types.count("Add") == sum(blocks) > 0
    assert types.count("Conv2D") == len(widths) + 2 * sum(blocks)
    assert types.count("BatchNorm") == types.count("Conv2D")
    assert types.count("MaxPool2D") == len(widths) - 1 and "GlobalAvgPool2D" in types
    # every Add joins a block's input (the identity shortcut) with the end of its conv branch
    producer = {id(t): node for node in model.graph.nodes for t in node.outputs}
    for node in model.graph.nodes:
        if type(node.layer).__name__ != "Add":
            continue
        shortcut, branch = node.inputs
        assert type(producer[id(branch)].layer).__name__ == "BatchNorm"
        readers = [type(n.layer).__name__ for n in model.graph.nodes if any(t is shortcut for t in n.inputs)]
        assert sorted(readers) == ["Add", "Conv2D"]
        assert shortcut.sample_shape == branch.sample_shape
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probs = model.predict(x)
    assert probs.shape == (3, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_custom_widths_and_blocks():
    model = rn.build_resnet(widths=(8, 16), blocks=(1, 2), shift=0, seed=1)
    assert sum(p.data.size for p in model.trainable_weights) == expected_trainable_params((8, 16), (1, 2))
    assert layer_types(model).count("Add") == 3 and "RandomShift" not in layer_types(model)
    with pytest.raises(nn.NNScratchError, match="one block count per width"):
        rn.build_resnet(widths=(8, 16), blocks=(1,))


def test_seed_gives_identical_weights():
    a, b, c = rn.build_resnet(seed=3), rn.build_resnet(seed=3), rn.build_resnet(seed=4)
    wa, wb, wc = ([p.data for p in m.trainable_weights] for m in (a, b, c))
    assert all(np.array_equal(u, v) for u, v in zip(wa, wb))
    assert not all(np.array_equal(u, v) for u, v in zip(wa, wc))


def test_train_on_batch_moves_every_weight_and_running_statistics():
    model = rn.build_resnet(seed=0)
    model.compile(loss="categorical_crossentropy", optimizer=nn.Adam(lr=1e-3), metrics=["accuracy"])
    rng = np.random.default_rng(0)
    images = (rng.random((8, 28, 28)) * 255).astype(np.uint8)
    x, y = rn.prepare_images(images), rng.integers(0, 10, 8)
    assert x.shape == (8, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    before = {p: p.data.copy() for p in model.weights}
    logs = model.train_on_batch(x, y)
    assert np.isfinite(logs["loss"]) and logs["loss"] > 0
    assert all(not np.array_equal(p.data, before[p]) for p in model.trainable_weights)
    assert all(not np.array_equal(p.data, before[p]) for p in model.non_trainable_weights)  # BN running stats


def test_prepare_images_rejects_other_shapes():
    with pytest.raises(nn.ShapeError, match="28, 28"):
        rn.prepare_images(np.zeros((2, 32, 32), np.uint8))


# ----------------------------------------------------------------------------- the real thing (slow)
@pytest.mark.slow
def test_recipe_reaches_99_4_percent_on_real_mnist():
    from nnscratch.data.errors import MissingFileError
    from nnscratch.datasets import load_mnist

    try:
        data = load_mnist()
    except MissingFileError as exc:
        pytest.skip(f"real MNIST needed (set NNSCRATCH_DATA to the folder with the four MNIST .gz files): {exc}")
    from nnscratch.recipes.mnist import train_mnist

    # what `python examples/train_mnist.py --model resnet` (and `nnscratch train-mnist --model resnet`) runs
    result = train_mnist(model="resnet", data=data, seed=0).summary
    assert result["train_samples"] == 60000 and result["test_samples"] == 10000
    assert result["epochs"] == rn.DEFAULTS["epochs"]
    assert result["test_accuracy"] >= 0.994, result["test_accuracy"]
