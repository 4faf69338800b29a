"""Graph models with inputs and outputs given as dicts by name (Keras's ``Model(inputs={...}, outputs={...})``):
the same numbers as the list form, dicts back from every output path, names kept by files and ONNX."""

from __future__ import annotations

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.core.errors import InvalidValueError
from nnscratch.models.loading import model_from_json
from nnscratch.utils.gradcheck import check_training

RNG = np.random.default_rng(0)
X = {"title": RNG.random((48, 6), dtype=np.float32), "body": RNG.random((48, 4), dtype=np.float32)}
Y = {"priority": RNG.integers(0, 2, (48, 1)).astype(np.float32),
     "department": np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 48)]}
LOSSES = {"priority": "binary_crossentropy", "department": "categorical_crossentropy"}


def tensors(dtype: str = "float32") -> tuple[nn.Input, nn.Input, object, object]:
    nn.set_random_seed(3)
    try:
        title, body = nn.Input(shape=(6,), name="title", dtype=dtype), nn.Input(shape=(4,), name="body", dtype=dtype)
        hidden = nn.Concatenate()([nn.Dense(8, activation="tanh")(title), body])
        return (title, body, nn.Dense(1, activation="sigmoid")(hidden),
                nn.Dense(3, activation="softmax")(nn.Dense(5, activation="relu")(hidden)))
    finally:
        nn.set_random_seed(None)


def dict_model(dtype: str = "float32") -> nn.Model:
    title, body, priority, department = tensors(dtype)
    return nn.Model(inputs={"title": title, "body": body}, outputs={"priority": priority, "department": department},
                    seed=0)


def test_dict_outputs_train_and_predict_as_the_list_form() -> None:
    ours = dict_model().compile(loss=LOSSES, optimizer="adam", loss_weights={"priority": 1.0, "department": 0.2},
                                metrics={"department": "accuracy"})
    title, body, priority, department = tensors()
    listed = nn.Model([title, body], [priority, department], seed=0)
    listed.compile(loss=list(LOSSES.values()), optimizer="adam", loss_weights=[1.0, 0.2],
                   metrics={listed.output_names[1]: "accuracy"})
    assert ours.output_names == ["priority", "department"] and ours.input_names == ["title", "body"]
    history = ours.fit(X, Y, epochs=3, batch_size=16, verbose=0)
    listed.fit([X["title"], X["body"]], [Y["priority"], Y["department"]], epochs=3, batch_size=16, verbose=0)
    assert list(history.history) == ["loss", "priority_loss", "department_loss", "department_accuracy"]
    for a, b in zip(ours.get_weights(), listed.get_weights()):
        np.testing.assert_array_equal(a, b)
    predicted = ours.predict(X)
    assert list(predicted) == ["priority", "department"]
    expected = listed.predict([X["title"], X["body"]])
    for key, value in zip(predicted, expected):
        np.testing.assert_array_equal(predicted[key], value)
    eager = ours(X)
    np.testing.assert_array_equal(eager["department"], expected[1])
    assert set(ours.evaluate(X, Y, return_dict=True)) == {"loss", "priority_loss", "department_loss",
                                                         "department_accuracy"}


def test_symbolic_calls_take_and_give_dicts() -> None:
    model = dict_model()
    assert set(model.output) == {"priority", "department"} and set(model.input) == {"title", "body"}
    title, body = nn.Input(shape=(6,)), nn.Input(shape=(4,))
    out = model({"body": body, "title": title})  # by name, in any order
    assert list(out) == ["priority", "department"]
    outer = nn.Model([title, body], out["department"])
    np.testing.assert_array_equal(outer.predict([X["title"], X["body"]]), model.predict(X)["department"])
    with pytest.raises(InvalidValueError, match=r"model inputs \['body'\] are missing"):
        model({"title": title})


def test_files_and_json_keep_the_names(tmp_path) -> None:
    model = dict_model().compile(loss={"department": "categorical_crossentropy", "priority": "mse"}, optimizer="sgd")
    before = model.evaluate(X, Y, return_dict=True)
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    assert loaded.output_names == ["priority", "department"] and loaded.input_names == ["title", "body"]
    for key, value in loaded.predict(X).items():
        np.testing.assert_array_equal(value, model.predict(X)[key])
    loaded.compile(loss=loaded.loss, optimizer="sgd")  # the losses come back per output, in output order
    assert loaded.evaluate(X, Y, return_dict=True) == pytest.approx(before)
    with pytest.raises(InvalidValueError, match="for a model with one output; this one has 2: use predict"):
        model.predict_classes(X)
    rebuilt = model_from_json(model.to_json())
    assert rebuilt.output_names == ["priority", "department"] and set(rebuilt.output) == {"priority", "department"}


def test_a_list_output_model_with_losses_by_name_saves_them_in_output_order(tmp_path) -> None:
    title, body, priority, department = tensors()
    model = nn.Model([title, body], [priority, department])
    names = model.output_names
    model.compile(loss={names[1]: "categorical_crossentropy", names[0]: "mse"}, optimizer="sgd")
    before = model.evaluate([X["title"], X["body"]], [Y["priority"], Y["department"]], return_dict=True)
    model.save(tmp_path / "m.npz")  # it raised AttributeError ('list' object has no attribute 'get_config')
    loaded = nn.load_model(tmp_path / "m.npz")
    assert [type(loss).__name__ for loss in loaded.loss] == ["MeanSquaredError", "CategoricalCrossEntropy"]
    loaded.compile(loss=loaded.loss, optimizer="sgd")
    after = loaded.evaluate([X["title"], X["body"]], [Y["priority"], Y["department"]], return_dict=True)
    assert after == pytest.approx(before)


def test_gradients_of_a_dict_model() -> None:
    model = dict_model("float64").compile(loss=LOSSES, optimizer="sgd", loss_weights={"priority": 0.5,
                                                                                      "department": 2.0})
    xs = {k: v[:5].astype(np.float64) for k, v in X.items()}
    ys = {k: v[:5].astype(np.float64) for k, v in Y.items()}
    errors = check_training(model, xs, ys)
    assert max(errors.values()) < 1e-6, errors
    model.forward(xs, training=True)
    grads = model.backward({"priority": np.ones((5, 1)), "department": np.zeros((5, 3))})
    assert [g.shape for g in grads] == [(5, 6), (5, 4)]


def test_onnx_keeps_the_output_names(tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    model = dict_model()
    path = model.export(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path))
    assert [o.name for o in session.get_outputs()] == ["priority", "department"]
    feeds = {i.name: X[name] for i, name in zip(session.get_inputs(), model.input_names)}
    got = session.run(None, feeds)
    for value, key in zip(got, ["priority", "department"]):
        np.testing.assert_allclose(value, model.predict(X)[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inputs, outputs, match", [
    ("ok", {}, "outputs is an empty dict"),
    ("ok", {1: "out"}, "outputs dict keys are the output names and must be non-empty strings, got 1"),
    ({"": "in"}, "ok", "inputs dict keys are the input names"),
])
def test_bad_dicts(inputs, outputs, match) -> None:
    title, _, priority, _ = tensors()
    inputs = title if inputs == "ok" else {k: title for k in inputs}
    outputs = priority if outputs == "ok" else {k: priority for k in outputs}
    with pytest.raises(InvalidValueError, match=match):
        nn.Model(inputs, outputs)
