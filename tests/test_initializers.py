"""Initializers: fans, exact reproduction of the course init, dtypes, statistics, bounds, configs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnscratch.core import initializers as init
from nnscratch.core.errors import InvalidValueError, ShapeError

NAMES = sorted([*init.INITIALIZERS, *init.ALIASES])


def test_compute_fans() -> None:
    assert init.compute_fans(()) == (1, 1)
    assert init.compute_fans((7,)) == (7, 7)
    assert init.compute_fans((20, 12288)) == (12288, 20)  # Dense (out, in)
    assert init.compute_fans((16, 3, 5, 5)) == (3 * 25, 16 * 25)  # Conv (out_ch, in_ch, kh, kw)
    assert init.compute_fans((8, 4, 3)) == (12, 24)


def test_course_init_reproduces_legacy_randn() -> None:
    np.random.seed(1)
    expected = np.random.randn(20, 12288) / np.sqrt(12288)
    got = init.normal_fan_in((20, 12288), np.random.RandomState(1), np.float64)
    np.testing.assert_array_equal(got, expected)
    np.random.seed(1)
    np.testing.assert_array_equal(init.get("normal_fan_in")((20, 12288), dtype=np.float64), expected)
    got32 = init.lecun_normal((20, 12288), np.random.RandomState(1))
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(got32, expected.astype(np.float32))


def test_scaled_normal_reproduces_randn_times_001() -> None:
    np.random.seed(3)
    expected = np.random.randn(5, 4) * 0.01
    np.testing.assert_array_equal(init.scaled_normal(0.01)((5, 4), np.random.RandomState(3), np.float64), expected)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rng", [np.random.default_rng(0), np.random.RandomState(0)], ids=["Generator", "RandomState"])
def test_shape_dtype_contiguous(name: str, dtype: type, rng) -> None:
    shape = (6, 3) if name == "identity" else (6, 3, 2, 2)  # identity: 2-D weights only
    w = init.get(name)(shape, rng, dtype)
    assert w.shape == shape and w.dtype == dtype and w.flags.c_contiguous
    assert np.isfinite(w).all()


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_dtype_independent(name: str) -> None:
    f = init.get(name)
    a = f((30, 20), np.random.default_rng(5), np.float64)
    b = f((30, 20), np.random.default_rng(5), np.float64)
    c = f((30, 20), np.random.default_rng(5), "float32")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, a.astype(np.float32))


def test_different_seeds_differ() -> None:
    rngs = np.random.default_rng(1), np.random.default_rng(2)
    assert not np.array_equal(*(init.he_normal((10, 10), r) for r in rngs))


@pytest.mark.parametrize(
    "f, std",
    [
        (init.glorot_normal, np.sqrt(2 / (400 + 1000))),
        (init.xavier_normal, np.sqrt(2 / (400 + 1000))),
        (init.he_normal, np.sqrt(2 / 400)),
        (init.lecun_normal, np.sqrt(1 / 400)),
        (init.normal(0.5, 0.2), 0.2),
        (init.scaled_normal(0.01), 0.01),
        (init.glorot_uniform, np.sqrt(6 / 1400) / np.sqrt(3)),
        (init.he_uniform, np.sqrt(6 / 400) / np.sqrt(3)),
        (init.uniform(-1.0, 3.0), 4 / np.sqrt(12)),
        (init.lecun_uniform, np.sqrt(3 / 400) / np.sqrt(3)),
        (init.TruncatedNormal(0.0, 0.2), 0.2 * init.TRUNCATED_STD),
        (init.VarianceScaling(2.0, "fan_in", "truncated_normal"), np.sqrt(2 / 400)),
    ],
)
def test_statistics(f, std: float) -> None:
    w = f((1000, 400), np.random.default_rng(0), np.float64)
    assert w.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize(
    "f, shape, limit",
    [
        (init.glorot_uniform, (300, 200), np.sqrt(6 / 500)),
        (init.he_uniform, (300, 200), np.sqrt(6 / 200)),
        (init.he_uniform, (64, 3, 5, 5), np.sqrt(6 / 75)),  # conv: fan_in = 3 * 5 * 5
        (init.glorot_uniform, (64, 3, 5, 5), np.sqrt(6 / (75 + 1600))),
        (init.uniform(-0.2, 0.1), (300, 200), None),
    ],
)
def test_uniform_bounds(f, shape, limit) -> None:
    w = f(shape, np.random.default_rng(0), np.float64)
    low, high = (-limit, limit) if limit is not None else (-0.2, 0.1)
    assert w.min() >= low and w.max() <= high
    assert w.min() < low + 0.01 * (high - low) and w.max() > high - 0.01 * (high - low)


@pytest.mark.parametrize("rng", [np.random.default_rng(0), np.random.RandomState(0)], ids=["Generator", "RandomState"])
def test_truncated_normals_stay_within_two_deviations(rng) -> None:
    w = init.TruncatedNormal(1.0, 0.5)((300, 200), rng, np.float64)
    assert np.abs(w - 1.0).max() <= 1.0 and np.abs(w - 1.0).max() > 0.99 and w.mean() == pytest.approx(1.0, abs=0.01)
    v = init.VarianceScaling(1.0, "fan_avg", "truncated_normal")((300, 200), rng, np.float64)
    assert np.abs(v).max() <= 2 * np.sqrt(1 / 250) / init.TRUNCATED_STD
    assert init.VarianceScaling(distribution="untruncated_normal").distribution == "normal"  # Keras's name


@pytest.mark.parametrize("shape", [(300, 200), (200, 300), (8, 3, 3, 3), (50, 3, 3, 3)])
def test_orthogonal_rows_or_columns(shape) -> None:
    w = init.Orthogonal(gain=2.0)(shape, np.random.default_rng(0), np.float64).reshape(shape[0], -1)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        init.Orthogonal()((5,))


def test_identity() -> None:
    np.testing.assert_array_equal(init.get("identity")((3, 4), dtype=np.float64), np.eye(3, 4))
    np.testing.assert_array_equal(init.Identity(0.5)((2, 2)), 0.5 * np.eye(2, dtype=np.float32))
    with pytest.raises(ShapeError, match="Identity makes 2-D weights only, got shape"):
        init.Identity()((3, 3, 2))


def test_conv_fans_in_normal() -> None:
    w = init.he_normal((256, 16, 3, 3), np.random.default_rng(0), np.float64)
    assert w.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.01)


def test_constants() -> None:
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(init.ones(4, dtype=np.float64), np.ones(4))
    np.testing.assert_array_equal(init.constant(0.5)([2, 2]), np.full((2, 2), 0.5, np.float32))
    assert init.zeros(()).shape == ()


@pytest.mark.parametrize(
    "f",
    [init.get(n) for n in NAMES] + [init.constant(2.0), init.uniform(0, 1), init.VarianceScaling(3.0, "fan_out", "uniform")],
)
def test_config_roundtrip(f) -> None:
    config = json.loads(json.dumps(f.get_config()))
    clone = init.get(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(clone((4, 5), np.random.default_rng(9)), f((4, 5), np.random.default_rng(9)))


def test_get() -> None:
    assert init.get("XAVIER_uniform").get_config() == {"name": "glorot_uniform"}
    custom = lambda shape, rng=None, dtype=np.float32: np.zeros(shape, dtype)  # noqa: E731
    assert init.get(custom) is custom
    assert init.get(init.he_normal) is init.he_normal
    with pytest.raises(InvalidValueError, match="did you mean 'he_normal'"):
        init.get("he_nromal")
    with pytest.raises(InvalidValueError, match="bad config"):
        init.get({"name": "normal", "sigma": 1.0})
    with pytest.raises(InvalidValueError):
        init.get(3)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: init.normal(0.0, -1.0), "std"),
        (lambda: init.uniform(1.0, 0.0), "high"),
        (lambda: init.constant(float("nan")), "value"),
        (lambda: init.scaled_normal(-0.01), "scale"),
        (lambda: init.VarianceScaling(mode="fan_sum"), "mode"),
        (lambda: init.VarianceScaling(distribution="cauchy"), "distribution"),
        (lambda: init.VarianceScaling(scale=0.0), "scale"),
    ],
)
def test_invalid_arguments(make, name: str) -> None:
    with pytest.raises(InvalidValueError, match=name):
        make()


def test_invalid_shape() -> None:
    with pytest.raises(ShapeError):
        init.he_normal((3, -1))
    with pytest.raises(ShapeError):
        init.he_normal((3.5, 2))


def test_a_plain_function_initializer_trains_but_cannot_be_saved(tmp_path):
    import nnscratch as nn
    from nnscratch.core.errors import InvalidTypeError

    model = nn.Sequential([nn.Dense(2, kernel_initializer=lambda shape, rng, dtype: np.ones(shape, dtype))])
    assert model.predict(np.ones((1, 3), np.float32)).tolist() == [[3.0, 3.0]]
    with pytest.raises(InvalidTypeError, match="plain function, which a model file cannot hold"):
        model.save(tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())
