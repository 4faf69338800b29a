"""``GroupNormalization``: the formula per sample and group, float64 gradient checks, PyTorch's layer as an
oracle, its special cases (layer and instance norm), saving and ONNX."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, ShapeError
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5, 6)) * 3 + 1


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_the_formula(groups) -> None:
    layer = nn.GroupNormalization(groups, epsilon=1e-5).set_dtype(np.float64)
    layer.build(X.shape[1:])
    layer.set_weights([RNG.standard_normal(6), RNG.standard_normal(6)])
    out = layer.forward(X)
    size = 6 // groups
    for g in range(groups):
        part = X[..., g * size:(g + 1) * size]
        mean, var = part.mean(axis=(1, 2, 3), keepdims=True), part.var(axis=(1, 2, 3), keepdims=True)
        gamma, beta = (w[g * size:(g + 1) * size] for w in layer.get_weights())
        np.testing.assert_allclose(out[..., g * size:(g + 1) * size], (part - mean) / np.sqrt(var + 1e-5) * gamma + beta,
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.GroupNormalization(3), (2, 4, 5, 6)),
    (lambda: nn.GroupNormalization(2, center=False), (3, 7, 4)),
    (lambda: nn.GroupNormalization(4, scale=False), (3, 8)),
])
def test_gradients(make, shape) -> None:
    layer = make().set_dtype(np.float64)
    layer.build(shape[1:])
    for p in layer.parameters():  # away from the initial ones and zeros
        p.data[...] = RNG.standard_normal(p.shape)
    errors = check_module(layer, RNG.standard_normal(shape))
    assert max(errors.values()) < 1e-7, errors


def test_against_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test (optional)")
    layer = nn.GroupNormalization(3, epsilon=1e-5).set_dtype(np.float64)
    out = layer.forward(X)
    ref = torch.nn.GroupNorm(3, 6, eps=1e-5).double()  # channels first: (N, C, H, W)
    theirs = ref(torch.from_numpy(X.transpose(0, 3, 1, 2).copy())).detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, theirs, rtol=1e-10, atol=1e-12)


def test_saves_and_exports(tmp_path) -> None:
    model = nn.Sequential([nn.Input((8, 8, 4)), nn.Conv2D(6, 3), nn.GroupNormalization(3), nn.Flatten(), nn.Dense(2)],
                          seed=0)
    x = RNG.random((2, 8, 8, 4)).astype(np.float32)
    model.save(tmp_path / "g.npz")
    np.testing.assert_array_equal(nn.load_model(tmp_path / "g.npz").predict(x), model.predict(x))
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    session = ort.InferenceSession(str(model.export(tmp_path / "g.onnx")))
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0], model.predict(x),
                               rtol=1e-4, atol=1e-5)


def test_bad_arguments() -> None:
    with pytest.raises(ShapeError, match="GroupNormalization of 4 groups needs a channel count divisible by it"):
        nn.GroupNormalization(4).forward(np.ones((2, 6), np.float32))
    with pytest.raises(InvalidValueError, match="axis must be -1"):
        nn.GroupNormalization(2, axis=1)
