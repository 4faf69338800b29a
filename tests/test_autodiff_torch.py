"""Values and gradients of composed expressions agree with PyTorch autograd (skipped without torch)."""

import numpy as np
import pytest

from nnscratch import ops
from nnscratch.autodiff import vjp

torch = pytest.importorskip("torch")

R = np.random.default_rng(7)
X, W1, B1, W2 = R.standard_normal((5, 4)), R.standard_normal((4, 6)), R.standard_normal(6), R.standard_normal((6, 3))
LABELS = np.array([0, 2, 1, 2, 0])
A, B = R.standard_normal((5, 3)), R.standard_normal((5, 3))
SAME = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
Q, K, V = R.standard_normal((2, 4, 3)), R.standard_normal((2, 5, 3)), R.standard_normal((2, 5, 3))
TABLE, IDS = R.standard_normal((6, 3)), np.array([[1, 4, 1], [0, 1, 5]])


def mlp_cross_entropy(np_, x, w1, b1, w2):
    if np_:
        logits = ops.relu(x @ w1 + b1) @ w2
        return ops.mean(-ops.sum(ops.one_hot(LABELS, 3, dtype="float64") * ops.log_softmax(logits), axis=-1))
    logits = torch.relu(x @ w1 + b1) @ w2
    return torch.nn.functional.cross_entropy(logits, torch.as_tensor(LABELS))


def contrastive(np_, a, b):
    if np_:
        d = ops.sqrt(ops.sum(ops.square(a - b), axis=1) + 1e-9)
        return ops.mean(SAME * ops.square(d) + (1 - SAME) * ops.square(ops.maximum(1.5 - d, 0.0)))
    same = torch.as_tensor(SAME)
    d = torch.sqrt(torch.sum((a - b) ** 2, dim=1) + 1e-9)
    return torch.mean(same * d**2 + (1 - same) * torch.clamp(1.5 - d, min=0.0) ** 2)


def attention(np_, q, k, v):
    if np_:
        w = ops.softmax(ops.einsum("bqd,bkd->bqk", q, k) / np.sqrt(3.0), axis=-1)
        return ops.einsum("bqk,bkd->bqd", w, v)
    w = torch.softmax(torch.einsum("bqd,bkd->bqk", q, k) / np.sqrt(3.0), dim=-1)
    return torch.einsum("bqk,bkd->bqd", w, v)


def layer_norm(np_, x, gamma):
    if np_:
        mu, var = ops.mean(x, axis=-1, keepdims=True), ops.var(x, axis=-1, keepdims=True)
        return (x - mu) / ops.sqrt(var + 1e-5) * gamma + ops.tanh(gamma)
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), weight=gamma, eps=1e-5) + torch.tanh(gamma)


def embedding_logsumexp(np_, table, w):
    if np_:
        e = ops.take(table, IDS, axis=0) * w
        return ops.logsumexp(e, axis=(1, 2)) + ops.max(e, axis=1)[:, 0] + ops.std(e)
    e = table[torch.as_tensor(IDS)] * w
    return torch.logsumexp(e, dim=(1, 2)) + torch.amax(e, dim=1)[:, 0] + torch.std(e, unbiased=False)


def cosine_clip_where(np_, a, b):
    if np_:
        cos = ops.sum(a * b, axis=1) / (ops.norm(a, axis=1) * ops.norm(b, axis=1))
        return ops.where(cos > 0, ops.clip(cos, -0.5, 0.5), ops.exp(cos)) * ops.sigmoid(ops.sum(a, axis=1))
    cos = torch.sum(a * b, dim=1) / (torch.linalg.norm(a, dim=1) * torch.linalg.norm(b, dim=1))
    return torch.where(cos > 0, torch.clamp(cos, -0.5, 0.5), torch.exp(cos)) * torch.sigmoid(torch.sum(a, dim=1))


def shapes_mix(np_, a, b):
    if np_:
        c = ops.concatenate([a[:, :2], ops.tile(b[:1], (2, 1))[:, ::2]], axis=0)
        s = ops.stack([c, c * 2], axis=-1)
        p = ops.pad(ops.repeat(a, 2, axis=1), ((1, 0), (0, 2)))
        return ops.sum(s ** 2) + ops.prod(ops.tanh(p[1:4, 2:5]), axis=0) + ops.cumsum(ops.transpose(a), axis=1)[:, -1]
    c = torch.cat([a[:, :2], torch.tile(b[:1], (2, 1))[:, ::2]], dim=0)
    s = torch.stack([c, c * 2], dim=-1)
    p = torch.nn.functional.pad(torch.repeat_interleave(a, 2, dim=1), (0, 2, 1, 0))
    return torch.sum(s**2) + torch.prod(torch.tanh(p[1:4, 2:5]), dim=0) + torch.cumsum(a.T, dim=1)[:, -1]


def gather_softplus(np_, x, w2):
    if np_:
        z = ops.softplus(x @ w2[:4]) - ops.log_sigmoid(x[:, :3]) * ops.arctan(w2[0])
        picked = ops.take_along_axis(z, LABELS[:, None], axis=1)
        return ops.sum(picked * ops.minimum(z, 1.0), axis=0) + ops.power(ops.abs(x[0, :3]) + 1.0, w2[1])
    z = torch.nn.functional.softplus(x @ w2[:4]) - torch.nn.functional.logsigmoid(x[:, :3]) * torch.arctan(w2[0])
    picked = torch.gather(z, 1, torch.as_tensor(LABELS[:, None]))
    return torch.sum(picked * torch.minimum(z, torch.tensor(1.0, dtype=z.dtype)), dim=0) \
        + torch.pow(torch.abs(x[0, :3]) + 1.0, w2[1])


CASES = {
    "mlp_cross_entropy": (mlp_cross_entropy, (X, W1, B1, W2)),
    "contrastive": (contrastive, (A, B)),
    "attention": (attention, (Q, K, V)),
    "layer_norm": (layer_norm, (X, R.standard_normal(4))),
    "embedding_logsumexp": (embedding_logsumexp, (TABLE, R.standard_normal(3))),
    "cosine_clip_where": (cosine_clip_where, (A, B)),
    "shapes_mix": (shapes_mix, (A, B)),
    "gather_softplus": (gather_softplus, (X, W2)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_autograd(name):
    fn, args = CASES[name]
    out, backward = vjp(lambda *xs: fn(True, *xs), *args)
    g = np.random.default_rng(0).standard_normal(np.shape(out))
    grads = backward(g)

    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    t_out = fn(False, *tensors)
    t_grads = torch.autograd.grad(t_out, tensors, grad_outputs=torch.as_tensor(g))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-9, atol=1e-10)
    for mine, theirs in zip(grads, t_grads):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-8, atol=1e-10)
