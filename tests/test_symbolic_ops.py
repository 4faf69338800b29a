"""Operators and ``keras.ops`` on symbolic tensors (Keras 3's ops on KerasTensors): each makes an ``Operation`` node
that computes what the NumPy expression computes, trains through the tape, and saves and loads."""

import inspect
import json
import warnings

import numpy as np
import pytest

import nnscratch as nn
from nnscratch import keras
from nnscratch.autodiff import Tensor, reductions
from nnscratch.autodiff.operation import Operation
from nnscratch.autodiff.operation_args import MAX_VALUES
from nnscratch.core.errors import InvalidTypeError, InvalidValueError, ModelFileError, ShapeError
from nnscratch.keras import layers, ops
from nnscratch.utils.gradcheck import check_module

RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 5, 3))
B = RNG.standard_normal((4, 5, 3))
V = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 2))
C = RNG.standard_normal((5, 3)).astype(np.float32)


def evaluate(fn, *arrays):
    """``fn`` applied to symbolic inputs shaped like ``arrays`` (float64), run by a model; and the model."""
    inputs = [keras.Input(shape=a.shape[1:], dtype="float64") for a in arrays]
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], fn(*inputs))
    return model.predict(list(arrays) if len(arrays) > 1 else arrays[0], verbose=0), model


# (name of the last node's op, the function, what NumPy computes, the inputs)
CASES = [
    ("add", lambda x, y: x + y, lambda x, y: x + y, (A, B)),
    ("subtract", lambda x, y: x - y, lambda x, y: x - y, (A, B)),
    ("multiply", lambda x, y: x * y, lambda x, y: x * y, (A, B)),
    ("divide", lambda x, y: x / (abs(y) + 1), lambda x, y: x / (np.abs(y) + 1), (A, B)),
    ("floor_divide", lambda x: x // 0.5, lambda x: x // 0.5, (A,)),
    ("mod", lambda x: x % 0.7, lambda x: x % 0.7, (A,)),
    ("power", lambda x: abs(x) ** 1.5, lambda x: np.abs(x) ** 1.5, (A,)),
    ("power", lambda x: 2.0 ** x, lambda x: 2.0 ** x, (A,)),
    ("negative", lambda x: -x, lambda x: -x, (A,)),
    ("absolute", lambda x: abs(x), np.abs, (A,)),
    ("subtract", lambda x: 1.0 - x, lambda x: 1.0 - x, (A,)),
    ("divide", lambda x: 1.0 / (1 + x * x), lambda x: 1.0 / (1 + x * x), (A,)),
    ("multiply", lambda x: C * x, lambda x: C * x, (A,)),  # an array on the left hands over to the tensor
    ("add", lambda x, v: x + v[:, None, :], lambda x, v: x + v[:, None, :], (A, V)),  # broadcasting
    ("matmul", lambda x: x @ W, lambda x: x @ W, (A,)),
    ("matmul", lambda x, y: x @ ops.transpose(y, (0, 2, 1)), lambda x, y: x @ np.transpose(y, (0, 2, 1)), (A, B)),
    ("getitem", lambda x: x[:, 0], lambda x: x[:, 0], (A,)),
    ("getitem", lambda x: x[:, 1:4:2, ::-1], lambda x: x[:, 1:4:2, ::-1], (A,)),
    ("getitem", lambda x: x[..., None, -1], lambda x: x[..., None, -1], (A,)),
    ("getitem", lambda x: x[:, None, 0, :], lambda x: x[:, None, 0, :], (A,)),
    ("getitem", lambda x: x[:, np.array([0, 2, 2])], lambda x: x[:, np.array([0, 2, 2])], (A,)),
    ("greater", lambda x: x > 0, lambda x: (x > 0).astype(float), (A,)),
    ("logical_and", lambda x: (x > 0) & (x < 1), lambda x: ((x > 0) & (x < 1)).astype(float), (A,)),
    ("mean", lambda x: ops.mean(x, axis=1), lambda x: x.mean(axis=1), (A,)),
    ("sum", lambda x: ops.sum(x, axis=(1, 2), keepdims=True), lambda x: x.sum(axis=(1, 2), keepdims=True), (A,)),
    ("max", lambda x: ops.max(x, axis=-1), lambda x: x.max(axis=-1), (A,)),
    ("var", lambda x: ops.var(x, axis=1, keepdims=True), lambda x: x.var(axis=1, keepdims=True), (A,)),
    ("concatenate", lambda x, y: ops.concatenate([x, y * 2], axis=-1),
     lambda x, y: np.concatenate([x, y * 2], axis=-1), (A, B)),
    ("concatenate", lambda x: ops.concatenate([x, x[:, :2] * 0 + C[:2]], axis=1),
     lambda x: np.concatenate([x, x[:, :2] * 0 + C[:2]], axis=1), (A,)),
    ("stack", lambda x, y: ops.stack([x, y], axis=1), lambda x, y: np.stack([x, y], axis=1), (A, B)),
    ("reshape", lambda x: ops.reshape(x, (-1, 15)), lambda x: x.reshape(-1, 15), (A,)),
    ("expand_dims", lambda x: ops.expand_dims(x, -1), lambda x: x[..., None], (A,)),
    ("transpose", lambda x: ops.transpose(x, (0, 2, 1)), lambda x: x.transpose(0, 2, 1), (A,)),
    ("where", lambda x: ops.where(x > 0, x, 0.5), lambda x: np.where(x > 0, x, 0.5), (A,)),
    ("softmax", lambda x: ops.softmax(x * 2), lambda x: np.exp(2 * x) / np.exp(2 * x).sum(-1, keepdims=True), (A,)),
    ("einsum", lambda x, y: ops.einsum("bij,bkj->bik", x, y), lambda x, y: np.einsum("bij,bkj->bik", x, y), (A, B)),
    ("add", lambda x, y: ops.add(x, y), lambda x, y: x + y, (A, B)),
    ("clip", lambda x: ops.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), (A,)),
    ("argmax", lambda x: ops.argmax(x, axis=-1), lambda x: x.argmax(axis=-1).astype(float), (A,)),
]


@pytest.mark.parametrize("op, fn, reference, arrays", CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_ops_on_symbolic_tensors_compute_what_numpy_computes(op, fn, reference, arrays):
    out, model = evaluate(fn, *arrays)
    last = model.layers[-1]
    assert isinstance(last, Operation) and last.op == op and last.name.startswith(op)
    expected = reference(*arrays)
    assert out.dtype == np.float64 and out.shape == expected.shape
    assert model.output.shape == (None, *expected.shape[1:])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_a_node_per_operation_with_its_inputs_once_and_its_constants_in_the_config():
    x, y = keras.Input(shape=(5, 3)), keras.Input(shape=(5, 3))
    twice = x + x
    assert twice.node.inputs == [x] and not twice.node.several_inputs
    assert twice.node.layer.get_config() == {"op": "add", "args": [{"__tensor__": 0}, {"__tensor__": 0}],
                                             "kwargs": {}}
    both = ops.subtract(y, x)
    assert both.node.inputs == [y, x] and both.node.several_inputs
    assert (2 - x).node.layer.get_config()["args"] == [2, {"__tensor__": 0}]
    assert ops.mean(x, axis=1).node.layer.get_config() == {"op": "mean", "args": [{"__tensor__": 0}],
                                                           "kwargs": {"axis": 1}}  # defaults left out
    key = x[:, None, ..., 1:3].node.layer.get_config()["args"][1]
    assert key == {"__tuple__": [{"__slice__": [None, None, None]}, None, {"__ellipsis__": True},
                                 {"__slice__": [1, 3, None]}]}
    const = (x * np.float32(0.5)).node.layer.get_config()["args"][1]
    assert const == {"__array__": 0.5, "dtype": "float32", "shape": []}
    array = (x + np.arange(3, dtype=np.int64)).node.layer.get_config()["args"][1]
    assert array == {"__array__": [0, 1, 2], "dtype": "int64", "shape": [3]}
    cat = ops.concatenate([x, y], axis=-1)
    assert cat.node.inputs == [x, y] and cat.shape == (None, 5, 6)
    first, second = ops.split(x, [2], axis=1)
    assert first.node is second.node and (first.shape, second.shape) == ((None, 2, 3), (None, 3, 3))


def test_layers_are_named_after_their_op_and_numbered():
    x = keras.Input(shape=(3,))
    names = [(x + 1).node.layer.name for _ in range(3)]
    assert names[0].startswith("add") and len(set(names)) == 3
    assert all(n == "add" or n.startswith("add_") for n in names)
    assert ops.mean(x, axis=-1, keepdims=True).node.layer.name.startswith("mean")
    assert x[:, 0].node.layer.name.startswith("getitem")


def test_shape_and_convert_to_tensor_follow_keras():
    x = keras.Input(shape=(5, 3))
    assert ops.shape(x) == (None, 5, 3)
    assert ops.convert_to_tensor(x) is x
    cast = ops.convert_to_tensor(x, "float64")
    assert cast.node.layer.op == "cast"


def test_calls_on_arrays_and_tensors_are_unchanged():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    assert type(ops.add(a, 1.0)) is np.ndarray
    np.testing.assert_array_equal(ops.add(a, 1.0), a + np.float32(1.0))
    np.testing.assert_array_equal(ops.mean(a, axis=1), a.mean(axis=1))
    np.testing.assert_array_equal(ops.concatenate([a, a], axis=-1), np.concatenate([a, a], axis=-1))
    np.testing.assert_array_equal(ops.einsum("ij,kj->ik", a, a), np.einsum("ij,kj->ik", a, a))
    assert ops.shape(a) == (3, 4) and ops.mean(a).dtype == np.float32
    t = Tensor(a, requires_grad=True)
    loss = ops.sum(ops.mean(t * t, axis=1))
    loss.backward()
    np.testing.assert_allclose(t.grad, 2 * a / 4, rtol=1e-6)
    # the same function behind the test: name, docstring, signature; ``__wrapped__`` is the op itself
    assert ops.mean.__wrapped__ is reductions.mean and ops.mean.__name__ == "mean"
    assert ops.mean.__doc__ == reductions.mean.__doc__
    assert inspect.signature(ops.mean) == inspect.signature(reductions.mean)
    with pytest.raises(TypeError, match="mean"):
        ops.mean()


def test_tensor_operators_floor_divide_and_mod():
    a, b = np.array([5.5, -3.0, 7.0]), np.array([2.0, 2.0, -3.0])
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    np.testing.assert_array_equal((ta // tb).data, a // b)
    out = ta % tb
    np.testing.assert_array_equal(out.data, a % b)
    ops.sum(out).backward()
    np.testing.assert_array_equal(ta.grad, np.ones(3))
    np.testing.assert_array_equal(tb.grad, -np.floor(a / b))
    np.testing.assert_array_equal(ops.mod(a, b), np.mod(a, b))
    np.testing.assert_array_equal(ops.floor_divide(a, b), np.floor_divide(a, b))


def test_ops_that_move_the_batch_axis_are_refused_when_the_node_is_made():
    x = keras.Input(shape=(1, 3))
    for make in (lambda: ops.mean(x), lambda: ops.sum(x, axis=0), lambda: x[0], lambda: ops.squeeze(x),
                 lambda: ops.transpose(x, (1, 0, 2))):
        with pytest.raises(ShapeError, match="batch axis"):
            make()
    assert ops.squeeze(x, axis=1).shape == (None, 3)


def test_symbolic_tensors_are_not_iterable_nor_arrays():
    x = keras.Input(shape=(3,))
    with pytest.raises(InvalidTypeError, match="iterated"):
        list(x)
    with pytest.raises(InvalidTypeError, match="no values"):
        np.asarray(x)
    assert x == x and x != keras.Input(shape=(3,))  # identity, as graphs use it


def _model_float64():
    inputs = keras.Input(shape=(5, 3), dtype="float64")
    h = layers.Dense(4, activation="tanh")(inputs)
    res = h[:, :, :3] + inputs                                  # broadcasting symbolic with symbolic
    x = ops.mean(res * 0.5 - 1.0, axis=1) + ops.max(ops.exp(-abs(res)), axis=1)
    x = ops.concatenate([x, ops.sum(res ** 2, axis=(1,)) / 3.0, res[:, -1] @ W], axis=-1)
    x = ops.where(x > 0, x, x * 0.1) + ops.expand_dims(ops.var(h, axis=(1, 2)), -1)
    return keras.Model(inputs, layers.Dense(2)(x))


def test_gradients_through_operations_match_finite_differences():
    model = _model_float64()
    model.set_rng(np.random.default_rng(3), seeded=True)
    errors = check_module(model, A)
    assert len(errors) == 5 and max(errors.values()) < 1e-6, errors  # the input, two Dense layers' weights and biases


def test_gradients_with_a_split_output_that_is_not_read():
    x = keras.Input(shape=(5, 3), dtype="float64")
    head, _ = ops.split(layers.Dense(3)(x), [2], axis=1)  # the second output is read by nothing
    assert max(check_module(keras.Model(x, head * 2.0), A).values()) < 1e-6


def test_model_round_trips_through_config_json_and_files(tmp_path):
    model = _model_float64()
    expected = model.predict(A, verbose=0)
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy.predict(A, verbose=0), expected)
    assert [type(layer).__name__ for layer in copy.layers] == [type(layer).__name__ for layer in model.layers]
    assert json.loads(json.dumps(model.get_config())) == model.get_config()
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(A, verbose=0), expected)
    for name in ("m.keras", "m.npz"):
        model.save(tmp_path / name)
        loaded = keras.models.load_model(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict(A, verbose=0), expected)
        assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_summary_lists_the_operations(capsys):
    x = keras.Input(shape=(5, 3))
    keras.Model(x, ops.mean(x + 1.0, axis=1)).summary()
    out = capsys.readouterr().out
    assert "(Operation)" in out and "add" in out and "mean" in out


def _transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0.0):
    """keras-io's "Timeseries classification with a Transformer model" block, as written there."""
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(inputs, inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def _transformer_classifier(input_shape, n_classes=2):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(2):
        x = _transformer_encoder(x, head_size=4, num_heads=2, ff_dim=4, dropout=0.1)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax")(x))


def test_keras_io_transformer_classification_builds_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 8, 3)).astype(np.float32)
    y = (x[:, :, 0].mean(axis=1) > 0).astype(np.int64)  # easy: the sign of one feature's mean
    model = _transformer_classifier(x.shape[1:])
    adds = [layer for layer in model.layers if isinstance(layer, Operation)]
    assert [layer.op for layer in adds] == ["add"] * 4
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  metrics=["sparse_categorical_accuracy"])
    losses = model.fit(x, y, epochs=12, batch_size=16, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0], losses
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "transformer.keras")
    loaded = keras.models.load_model(tmp_path / "transformer.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def _with_first_operation(config, change):
    config = json.loads(json.dumps(config))
    spec = next(layer for layer in config["layers"] if layer["class"] == "Operation")
    change(spec["config"])
    return config


@pytest.mark.parametrize("op", ["system", "__import__", "os.system", "Operation", "shape", "", 3])
def test_an_unknown_op_in_a_model_record_is_one_model_file_error(op):
    x = keras.Input(shape=(3,))
    model = keras.Model(x, x + 1.0)
    bad = _with_first_operation(model.get_config(), lambda c: c.update(op=op))
    with pytest.raises(ModelFileError, match="unknown operation"):
        keras.Model.from_config(bad)


@pytest.mark.parametrize("args, message", [
    ([{"__tensor__": 0}, {"__pickle__": "x"}], "unknown argument entry"),
    ([{"__tensor__": 0}, {"__array__": [1], "dtype": "object", "shape": [1]}], "dtype"),
    ([{"__tensor__": 0}, {"__array__": ["1"], "dtype": "float32", "shape": [1]}], "numbers"),
    ([{"__tensor__": 0}, {"__array__": [1, 2], "dtype": "float32", "shape": [3]}], "numbers"),
    ([{"__tensor__": 0}, {"__array__": 0, "dtype": "float32", "shape": [300, 300]}], "65,536"),
    ([{"__tensor__": 0}, [1.0] * (MAX_VALUES + 1)], "65,536"),
    ([{"__tensor__": 0}, {"__slice__": [0.5, None, None]}], "slice"),
    ([{"__tensor__": 1}, 1.0], "input tensors 0, 1"),
    ([1.0, 2.0], "input tensors"),
    ([{"__tensor__": 0}], "missing"),
    ("x", "args must be a list"),
])
def test_a_config_whose_args_are_not_json_values_is_one_model_file_error(args, message):
    with pytest.raises(ModelFileError, match=message):
        Operation.from_config({"op": "add", "args": args, "kwargs": {}})


def test_a_tampered_model_file_is_refused(tmp_path):
    from nnscratch.io.model_file import CONFIG_KEY

    x = keras.Input(shape=(3,))
    model = keras.Model(x, ops.exp(x))
    model.save(tmp_path / "m.npz")
    arrays = dict(np.load(tmp_path / "m.npz"))
    record = json.loads(arrays[CONFIG_KEY].tobytes())
    record["model"]["config"] = _with_first_operation(record["model"]["config"], lambda c: c.update(op="eval"))
    arrays[CONFIG_KEY] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match="unknown operation 'eval'"):
        keras.models.load_model(tmp_path / "bad.npz")


def test_constants_that_cannot_be_saved_are_refused_when_the_node_is_made():
    x = keras.Input(shape=(3,))
    with pytest.raises(InvalidTypeError, match="ops.add on symbolic tensors: a object cannot be kept"):
        ops.add(x, object())
    with pytest.raises(InvalidValueError, match="65,536"):
        ops.add(x, np.zeros((2, MAX_VALUES // 2 + 1, 3), np.float32))
    with pytest.raises(InvalidValueError, match="dtype"):
        ops.multiply(x, np.array([1 + 2j, 0, 0]))


def test_an_operation_drops_the_mask_as_keras_with_the_warning():
    ids = keras.Input(shape=(4,))
    embedded = layers.Embedding(10, 3, mask_zero=True)(ids)
    assert embedded.masked
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doubled = embedded * 2.0
    assert not doubled.masked and any("does not support masking" in str(w.message) for w in caught)


def test_onnx_export_of_element_wise_operations_matches_predict(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    x = keras.Input(shape=(6, 6, 2))
    conv = layers.Conv2D(3, 3, padding="same")(x)
    y = ops.maximum(1.0 - conv * 0.5 + ops.exp(-abs(conv)) / 2, 0.1) ** 2
    y = layers.Flatten()(y + np.arange(3, dtype=np.float32) - ops.sqrt(ops.relu(conv)))
    model = keras.Model(x, y)
    model.export(tmp_path / "m.onnx", format="onnx")
    data = RNG.standard_normal((2, 6, 6, 2)).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    out = session.run(None, {session.get_inputs()[0].name: data})[0]
    np.testing.assert_allclose(out, model.predict(data, verbose=0), rtol=1e-5, atol=1e-6)


def test_onnx_export_refuses_other_operations_by_name(tmp_path):
    pytest.importorskip("onnx")
    x = keras.Input(shape=(4, 3))
    model = keras.Model(x, ops.mean(x, axis=1))
    with pytest.raises(InvalidValueError, match=r"layer 'mean(_\d+)?' \(Operation, ops\.mean\) to ONNX"):
        model.export(tmp_path / "m.onnx", format="onnx")


def test_keras_layers_add_is_unchanged():
    x, y = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    out = layers.Add()([x, y])
    assert type(out.node.layer).__name__ == "Add" and nn.Add is type(out.node.layer)
