"""Options given to one call on arrays (``return_attention_scores``, ``use_causal_mask``) hold for that call
only: the layer's setting does not change, and threads calling one layer at once each see their own."""

from __future__ import annotations

import threading

import numpy as np

import nnscratch as nn
from nnscratch.core.call_options import call_options, option


def test_an_option_holds_inside_its_block_only_and_per_layer() -> None:
    a, b = nn.Attention(), nn.Attention()
    with call_options(a, {"use_causal_mask": True}):
        assert option(a, "use_causal_mask") is True and option(b, "use_causal_mask") is False
        with call_options(a, {"return_attention_scores": True}):  # nested: both hold
            assert option(a, "use_causal_mask") is True and option(a, "return_attention_scores") is True
        assert option(a, "return_attention_scores") is False
    assert option(a, "use_causal_mask") is False and a.use_causal_mask is False


def test_per_call_options_on_arrays_leave_the_layer_as_it_was() -> None:
    rng = np.random.default_rng(0)
    q, v = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 6, 8))
    mha = nn.MultiHeadAttention(num_heads=2, key_dim=4)
    plain = mha(q, v)
    out, scores = mha(q, v, return_attention_scores=True)
    np.testing.assert_array_equal(out, plain)
    assert scores.shape == (2, 2, 5, 6) and mha.return_attention_scores is False
    attention = nn.Attention()
    causal = attention([q, q], use_causal_mask=True)
    assert attention.use_causal_mask is False
    assert not np.allclose(causal, attention([q, q]))
    np.testing.assert_allclose(causal[:, 0], q[:, 0])  # the first step attends to itself only


def test_threads_calling_one_layer_each_see_their_own_option() -> None:
    rng = np.random.default_rng(1)
    q, v = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 6, 8))
    mha = nn.MultiHeadAttention(num_heads=2, key_dim=4)
    mha(q, v)  # built
    wrong: list[str] = []

    def calls(with_scores: bool) -> None:
        for _ in range(300):
            out = mha(q, v, return_attention_scores=with_scores)
            if isinstance(out, tuple) != with_scores:
                wrong.append(f"asked {with_scores}, got {type(out).__name__}")

    threads = [threading.Thread(target=calls, args=(flag,)) for flag in (True, False, True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong, wrong[:3]
    assert mha.return_attention_scores is False
