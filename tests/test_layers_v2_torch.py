"""The issue-12 layers agree with PyTorch's equivalents, outputs and gradients (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn

torch = pytest.importorskip("torch")
F = torch.nn.functional


def run(layer: nn.Layer, x: np.ndarray, seed: int = 0
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """Output, the random output gradient ``g``, input gradient and parameter gradients of ``sum(layer(x) * g)`` for a fixed random ``g``."""
    y = layer.forward(x)
    g = np.random.default_rng(seed).standard_normal(y.shape)
    layer.zero_grad()
    dx = layer.backward(g)
    return y, g, dx, {name: p.grad.copy() for name, p in layer.named_parameters()}


def torch_grads(out, inputs: list, g: np.ndarray) -> list[np.ndarray]:
    (out * torch.tensor(g)).sum().backward()
    return [t.grad.numpy() for t in inputs]


def close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("config", [dict(kernel_size=3), dict(kernel_size=3, strides=2, dilation_rate=2),
                                    dict(kernel_size=4, padding="same"), dict(kernel_size=3, padding="causal")], ids=str)
def test_conv1d(config: dict) -> None:
    x = np.random.default_rng(1).standard_normal((2, 11, 3))
    layer = nn.Conv1D(4, **config).set_dtype(np.float64)
    y, g, dx, grads = run(layer, x)
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    w = torch.tensor(layer.weight.data.transpose(2, 1, 0), requires_grad=True)  # (filters, C, K)
    b = torch.tensor(layer.bias.data, requires_grad=True)
    out = F.conv1d(F.pad(xt, layer.pads), w, b, stride=layer.strides, dilation=layer.dilation_rate).permute(0, 2, 1)
    close(y, out.detach().numpy())
    dxt, dw, db = torch_grads(out, [xt, w, b], g)
    close(dx, dxt.transpose(0, 2, 1))
    close(grads["weight"], dw.transpose(2, 1, 0))
    close(grads["bias"], db)


@pytest.mark.parametrize("config", [dict(), dict(strides=2), dict(strides=2, padding=1, output_padding=1),
                                    dict(strides=(2, 3), dilation_rate=(1, 2)), dict(strides=3, padding=(1, 0))], ids=str)
def test_conv2d_transpose(config: dict) -> None:
    x = np.random.default_rng(2).standard_normal((2, 4, 3, 2))
    layer = nn.Conv2DTranspose(3, 3, **config).set_dtype(np.float64)
    y, g, dx, grads = run(layer, x)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    w = torch.tensor(layer.weight.data.transpose(3, 2, 0, 1), requires_grad=True)  # (C, filters, KH, KW)
    b = torch.tensor(layer.bias.data, requires_grad=True)
    padding = config.get("padding", 0)
    out = F.conv_transpose2d(xt, w, b, stride=layer.strides, padding=padding,
                             output_padding=config.get("output_padding", 0), dilation=layer.dilation_rate)
    out = out.permute(0, 2, 3, 1)
    close(y, out.detach().numpy())
    dxt, dw, db = torch_grads(out, [xt, w, b], g)
    close(dx, dxt.transpose(0, 2, 3, 1))
    close(grads["weight"], dw.transpose(2, 3, 1, 0))
    close(grads["bias"], db)


def test_upsampling_nearest() -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 2))
    y, g, dx, _ = run(nn.UpSampling2D((2, 3)).set_dtype(np.float64), x)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    out = F.interpolate(xt, scale_factor=(2, 3), mode="nearest").permute(0, 2, 3, 1)
    close(y, out.detach().numpy())
    close(dx, torch_grads(out, [xt], g)[0].transpose(0, 2, 3, 1))


@pytest.mark.parametrize("axis", [-1, [-2, -1]])
def test_layer_norm(axis: int | list) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5)) * 2 + 1
    layer = nn.LayerNormalization(axis=axis, epsilon=1e-5).set_dtype(np.float64)
    layer.forward(x)
    layer.gamma.data[...] = rng.standard_normal(layer.gamma.shape)
    layer.beta.data[...] = rng.standard_normal(layer.beta.shape)
    y, g, dx, grads = run(layer, x)
    xt = torch.tensor(x, requires_grad=True)
    gamma = torch.tensor(layer.gamma.data, requires_grad=True)
    beta = torch.tensor(layer.beta.data, requires_grad=True)
    out = F.layer_norm(xt, layer.gamma.shape, gamma, beta, eps=1e-5)
    close(y, out.detach().numpy())
    dxt, dgamma, dbeta = torch_grads(out, [xt, gamma, beta], g)
    close(dx, dxt)
    close(grads["gamma"], dgamma)
    close(grads["beta"], dbeta)


def test_embedding() -> None:
    index = np.array([[1, 4, 1, 0], [3, 3, 3, 2]])
    layer = nn.Embedding(6, 3).set_dtype(np.float64)
    y, g, dx, grads = run(layer, index.astype(np.float64))
    w = torch.tensor(layer.embeddings.data, requires_grad=True)
    out = F.embedding(torch.tensor(index), w)
    close(y, out.detach().numpy())
    assert dx is None
    close(grads["embeddings"], torch_grads(out, [w], g)[0])


@pytest.mark.parametrize(("cls", "pool"), [(nn.MaxPool1D, F.max_pool1d), (nn.AvgPool1D, F.avg_pool1d)])
@pytest.mark.parametrize("config", [dict(pool_size=2), dict(pool_size=3, strides=1), dict(pool_size=3, strides=2, padding=1)],
                         ids=str)
def test_pooling1d(cls: type, pool, config: dict) -> None:
    x = np.random.default_rng(5).standard_normal((2, 9, 3))
    layer = cls(**config).set_dtype(np.float64)
    y, g, dx, _ = run(layer, x)
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    extra = {"count_include_pad": False} if cls is nn.AvgPool1D else {}
    out = pool(xt, layer.pool_size, layer.strides, padding=config.get("padding", 0), **extra).permute(0, 2, 1)
    close(y, out.detach().numpy())
    close(dx, torch_grads(out, [xt], g)[0].transpose(0, 2, 1))


@pytest.mark.parametrize(("layer", "shape", "reduce"), [
    (nn.GlobalMaxPool1D(), (2, 6, 3), lambda t: t.amax(dim=1)),
    (nn.GlobalMaxPool2D(), (2, 4, 5, 3), lambda t: F.adaptive_max_pool2d(t.permute(0, 3, 1, 2), 1)[:, :, 0, 0]),
    (nn.GlobalAvgPool1D(), (2, 6, 3), lambda t: t.mean(dim=1)),
], ids=["max1d", "max2d", "avg1d"])
def test_global_pooling(layer: nn.Layer, shape: tuple, reduce) -> None:
    x = np.random.default_rng(6).standard_normal(shape)
    y, g, dx, _ = run(layer.set_dtype(np.float64), x)
    xt = torch.tensor(x, requires_grad=True)
    out = reduce(xt)
    close(y, out.detach().numpy())
    close(dx, torch_grads(out, [xt], g)[0])
