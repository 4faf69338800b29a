"""Graph models: shared layers, residual blocks, several inputs and outputs, nested models, freezing.

Every shape of graph gets a float64 finite-difference check of what training uses."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError, NotBuiltError, ShapeError
from nnscratch.utils.gradcheck import check_module, check_training

TOL = 1e-6


def worst(errors: dict[str, float]) -> float:
    return max(errors.values())


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def seeded():
    nn.set_random_seed(0)
    yield
    nn.set_random_seed(None)


# ----------------------------------------------------------------------------- a layer used twice
def test_a_layer_used_twice_gets_the_sum_of_its_gradients():
    d = nn.Dense(4, activation="tanh")
    model = nn.Sequential([d, d], dtype="float64")
    x = rng().standard_normal((5, 4))
    errors = check_module(model, x)
    assert worst(errors) < TOL, errors
    assert len(model.layers) == 1 and len(model.weights) == 2  # one layer, one set of weights


def test_shared_layer_gradient_is_the_sum_of_the_two_calls():
    x_in = nn.Input(shape=(3,), dtype="float64")
    d = nn.Dense(3, activation="tanh")
    model = nn.Model(x_in, d(d(x_in)))
    x = rng().standard_normal((6, 3))
    g = rng(1).standard_normal((6, 3))
    model.zero_grad()
    model.forward(x, training=True)
    model.backward(g)
    total = d.weight.grad.copy()
    # the same two calls by hand, each with its own record
    first, second = nn.Call(), nn.Call()
    h = d.forward_call(first, x)
    d.forward_call(second, h)
    d.zero_grad()
    d.backward_call(first, d.backward_call(second, g))
    np.testing.assert_allclose(total, d.weight.grad, rtol=1e-12)


def test_a_layer_keeping_its_state_on_itself_cannot_be_called_twice():
    class Old(nn.Module):  # the v1 contract: forward/backward with the call's state on the layer
        def forward(self, x, training=False):
            self.x = x
            return 2 * x

        def backward(self, grad_out):
            return 2 * grad_out

    old = Old()
    x_in = nn.Input(shape=(2,))
    once = nn.Model(x_in, old(x_in))  # once is fine
    assert once.predict(np.ones((1, 2), np.float32)).tolist() == [[2.0, 2.0]]
    with pytest.raises(InvalidValueError, match="cannot be called twice"):
        nn.Model(x_in, old(old(x_in)))


# ----------------------------------------------------------------------------- residual, multi-io, nested
def residual_model(dtype: str = "float64") -> nn.Model:
    x_in = nn.Input(shape=(6, 6, 2), dtype=dtype)
    h = nn.Conv2D(3, 3, padding="same")(x_in)
    skip = h
    h = nn.BatchNorm()(h)
    h = nn.ReLU()(h)
    h = nn.Conv2D(3, 3, padding="same")(h)
    h = nn.ReLU()(nn.Add()([h, skip]))
    h = nn.MaxPool2D()(h)
    out = nn.Dense(2)(nn.GlobalAvgPool2D()(h))
    return nn.Model(x_in, out)


def test_residual_block_gradients():
    model = residual_model()
    errors = check_module(model, rng().standard_normal((4, 6, 6, 2)), training=True)
    assert worst(errors) < TOL, errors
    assert any(isinstance(layer, nn.Add) for layer in model.layers)


def two_in_two_out() -> nn.Model:
    a = nn.Input(shape=(4,), dtype="float64", name="a")
    b = nn.Input(shape=(3,), dtype="float64", name="b")
    shared = nn.Dense(5, activation="tanh")
    h = nn.Concatenate()([shared(a), nn.Dense(5, activation="relu")(b)])
    h = nn.Dense(6, activation="gelu")(h)
    cls = nn.Dense(3, activation="softmax", name="cls")(h)
    reg = nn.Dense(2, name="reg")(nn.Multiply()([h, h]))
    return nn.Model(inputs=[a, b], outputs=[cls, reg])


def test_two_inputs_two_outputs_layer_gradients():
    model = two_in_two_out()
    r = rng()
    errors = check_module(model, [r.standard_normal((5, 4)), r.standard_normal((5, 3))])
    assert worst(errors) < TOL, errors
    assert {"input.0", "input.1"} <= set(errors)


def test_two_losses_with_weights_gradients_and_logs():
    model = two_in_two_out()
    model.compile(loss={"cls": "categorical_crossentropy", "reg": "mse"}, optimizer="sgd",
                  loss_weights=[1.0, 0.5], metrics=["accuracy"])
    r = rng()
    x = [r.standard_normal((8, 4)), r.standard_normal((8, 3))]
    y = [r.integers(0, 3, 8), r.standard_normal((8, 2))]
    errors = check_training(model, x, y)
    assert worst(errors) < TOL, errors
    assert model.trainer.fused == {0}  # softmax + cross-entropy on the logits for the first output
    logs = model.evaluate(x, y, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"])
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_accuracy"}
    by_name = model.evaluate({"a": x[0], "b": x[1]}, {"cls": y[0], "reg": y[1]}, return_dict=True)
    assert by_name == logs


def test_a_nested_model_called_twice():
    x_in = nn.Input(shape=(3,), dtype="float64")
    inner = nn.Model(x_in, nn.Dense(3, activation="tanh")(nn.Dense(4, activation="relu", bias_initializer="uniform")(x_in)))
    a = nn.Input(shape=(3,), dtype="float64")
    outer = nn.Model(a, nn.Dense(2)(nn.Add()([inner(a), inner(inner(a))])))
    errors = check_module(outer, rng().standard_normal((5, 3)))
    assert worst(errors) < TOL, errors
    assert len(outer.weights) == 6  # the inner model's weights once


# ----------------------------------------------------------------------------- freezing
def frozen_setup():
    x_in = nn.Input(shape=(4,), dtype="float64")
    base = nn.Sequential([nn.Dense(6, activation="relu"), nn.BatchNorm(), nn.Dense(5, activation="tanh")],
                         dtype="float64")
    head = nn.Dense(3, activation="softmax")
    model = nn.Model(x_in, head(base(x_in)), seed=0)
    r = rng()
    x, y = r.standard_normal((32, 4)), r.integers(0, 3, 32)
    model.compile("categorical_crossentropy", nn.Adam(lr=1e-2))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # running statistics away from their start
    return model, base, head, x, y


def test_frozen_weights_do_not_move_and_the_others_do():
    model, base, head, x, y = frozen_setup()
    base.trainable = False
    assert all(not layer.trainable for layer in base.modules())
    frozen = [w.copy() for w in base.get_weights()]
    head_before = head.get_weights()
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 8
    model.compile("categorical_crossentropy", nn.Adam(lr=1e-2))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    for before, after in zip(frozen, base.get_weights()):  # bit-identical, running statistics included
        assert np.array_equal(before, after)
    assert all(not np.array_equal(a, b) for a, b in zip(head_before, head.get_weights()))


def test_frozen_part_gradients_and_batchnorm_in_inference_mode():
    model, base, head, x, y = frozen_setup()
    base.trainable = False
    errors = check_training(model, x, y)
    assert set(errors) == {"layers.1.weight", "layers.1.bias"}  # the head's only
    assert worst(errors) < TOL, errors
    bn = base.layers[1]
    out = model.forward(x, training=True)
    np.testing.assert_allclose(out, model.forward(x, training=False), rtol=1e-12)  # frozen BN: running stats
    assert bn.trainable is False


def test_a_frozen_first_part_needs_no_input_gradient():
    model, base, head, x, y = frozen_setup()
    plan = model.graph.plan(input_grad=False)
    assert [s.input_grad for s in plan.steps] == [False, True]
    base.trainable = False
    plan = model.graph.plan(input_grad=False)
    assert [s.input_grad for s in plan.steps] == [False, False]  # nothing before the head trains
    assert model.graph.plan(input_grad=True).steps[0].input_grad  # a caller that needs dL/dx gets it


# ----------------------------------------------------------------------------- training API
def test_compute_gradients_changes_nothing_and_matches_train_on_batch():
    model, base, head, x, y = frozen_setup()
    weights = model.get_weights()
    value, grads = model.compute_gradients(x[:8], y[:8])
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    assert set(grads) == {name for name, _ in model.named_parameters()}
    assert value == pytest.approx(model.evaluate(x[:8], y[:8], return_dict=True)["loss"], rel=0.5)  # training vs inference BN
    logs = model.train_on_batch(x[:8], y[:8])
    assert logs["loss"] == pytest.approx(value, rel=1e-12)
    assert any(not np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_test_on_batch_and_predict_on_batch():
    model, base, head, x, y = frozen_setup()
    weights = model.get_weights()
    logs = model.test_on_batch(x, y)
    assert logs["loss"] == pytest.approx(model.evaluate(x, y, return_dict=True)["loss"])
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))


def test_loss_fusion_gives_the_unfused_gradients():
    results = []
    for rewrites in (True, False):
        nn.set_random_seed(1)
        x_in = nn.Input(shape=(4,), dtype="float64")
        model = nn.Model(x_in, nn.Dense(3, activation="softmax")(nn.Dense(5, activation="relu")(x_in)))
        model.rewrites = rewrites
        model.compile("categorical_crossentropy", "sgd")
        r = rng()
        value, grads = model.compute_gradients(r.standard_normal((9, 4)), r.integers(0, 3, 9))
        assert model.trainer.fused == ({0} if rewrites else set())
        results.append((value, grads))
    (v1, g1), (v2, g2) = results
    assert v1 == pytest.approx(v2, rel=1e-12)
    for name in g1:
        np.testing.assert_allclose(g1[name], g2[name], rtol=1e-9, atol=1e-12)


def test_custom_train_step_is_used_by_fit():
    class TwoHalves(nn.Model):
        """A custom loop: two half-batch steps per batch, and a log of its own."""

        def train_step(self, x, y):
            half = len(x[0]) // 2
            first = super().train_step([a[:half] for a in x], [b[:half] for b in y])
            second = super().train_step([a[half:] for a in x], [b[half:] for b in y])
            return {"loss": (first["loss"] + second["loss"]) / 2, "halves": 2.0}

    x_in = nn.Input(shape=(2,))
    model = TwoHalves(x_in, nn.Dense(1)(x_in), seed=0)
    model.compile("mse", nn.SGD(lr=0.05))
    x = rng().standard_normal((32, 2)).astype(np.float32)
    history = model.fit(x, x.sum(axis=1), epochs=3, batch_size=8, verbose=0)
    assert history["halves"] == [2.0, 2.0, 2.0]
    assert model.optimizer.iterations == 3 * 4 * 2
    assert history["loss"][-1] < history["loss"][0]


# ----------------------------------------------------------------------------- files and errors
def test_graph_models_save_and_load(tmp_path):
    model = two_in_two_out()
    r = rng()
    x = [r.standard_normal((4, 4)), r.standard_normal((4, 3))]
    path = model.save(tmp_path / "graph")
    again = nn.load_model(path)
    for a, b in zip(model.predict(x), again.predict(x)):
        np.testing.assert_array_equal(a, b)
    shared = [layer for layer in again.layers if isinstance(layer, nn.Dense)]
    assert len(shared) == len(set(map(id, shared)))
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]


def test_graph_construction_errors():
    a = nn.Input(shape=(3,))
    b = nn.Input(shape=(3,))
    y = nn.Dense(2)(nn.Add()([a, b]))
    with pytest.raises(InvalidValueError, match="not among the model's inputs"):
        nn.Model(a, y)
    with pytest.raises(ShapeError, match="one shape"):
        nn.Add()([a, nn.Input(shape=(4,))])
    with pytest.raises(ShapeError, match="positive integers"):
        nn.Input(shape=(0, 3))
    with pytest.raises(InvalidValueError, match="takes 2 input"):
        nn.Model([a, b], y).predict(np.zeros((1, 3), np.float32))
    assert "not built" in nn.Model().summary(print_fn=None)
    with pytest.raises(NotBuiltError):
        nn.Model().predict(np.zeros((1, 3), np.float32))
