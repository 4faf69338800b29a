"""Layers and models written by subclassing, the way keras-io's guides "Making new layers and models via
subclassing", "The Functional API" (mixing styles) and "Training & evaluation with the built-in methods"
use them: weights made in build, layers made in __init__ (also kept in a list), call with keras.ops and a
training argument, an add_loss penalty, a subclassed model trained with fit and called inside a functional
model, a functional model called inside a layer, a stateful custom metric, save_weights/load_weights."""

import os
import tempfile

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class ResidualBlock(keras.layers.Layer):
    """Uses one Linear twice (shared weights) and records a small activity penalty."""

    def __init__(self, units, rate=1e-4, **kwargs):
        super().__init__(**kwargs)
        self.inner = Linear(units)
        self.rate = rate

    def call(self, inputs):
        h = ops.relu(self.inner(inputs))
        h = ops.relu(self.inner(h)) + h
        self.add_loss(self.rate * ops.mean(ops.square(h)))
        return h


class Classifier(keras.Model):
    def __init__(self, num_classes=3, hidden=(32, 32), **kwargs):
        super().__init__(**kwargs)
        self.hidden = [layers.Dense(units, activation="relu") for units in hidden]
        self.norm = layers.BatchNormalization()
        self.block = ResidualBlock(hidden[-1])
        self.dropout = layers.Dropout(0.1)
        self.head = layers.Dense(num_classes)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        x = self.norm(x, training=training)
        x = self.block(x)
        x = self.dropout(x, training=training)
        return self.head(x)


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_weight(name="hits", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = ops.argmax(y_pred, axis=-1)
        matches = ops.cast(ops.equal(ops.reshape(ops.cast(y_true, "int32"), (-1,)), ops.cast(predicted, "int32")),
                           "float32")
        if sample_weight is not None:
            matches = matches * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.hits.assign_add(ops.sum(matches))

    def result(self):
        return self.hits

    def reset_state(self):
        self.hits.assign(0.0)


keras.utils.set_random_seed(11)
rng = np.random.default_rng(11)
x = rng.normal(size=(600, 8)).astype("float32")
y = (x[:, :3].argmax(axis=1) + (x[:, 3] > 1.5)) % 3
x_train, y_train, x_test, y_test = x[:500], y[:500], x[500:], y[500:]

model = Classifier(name="classifier")
model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["sparse_categorical_accuracy", CategoricalTruePositives()])
history = model.fit(x_train, y_train, batch_size=32, epochs=25, validation_split=0.2, verbose=0)
test_loss, test_accuracy, test_hits = model.evaluate(x_test, y_test, verbose=0)
logits = model.predict(x_test, verbose=0)
summary = model.summary(print_fn=None)
layer_names = [layer.name for layer in model.layers]
weight_count = len(model.get_weights())

path = os.path.join(tempfile.mkdtemp(), "classifier.weights.h5")
model.save_weights(path)
twin = Classifier()
twin.build((None, 8))
twin.load_weights(path)
twin_logits = twin.predict(x_test, verbose=0)

# A subclassed model inside a functional one: a feature layer in front, trained end to end.
inputs = keras.Input(shape=(8,))
features = layers.Dense(16, activation="relu")(inputs)
outputs = Classifier(hidden=(16,), name="inner")(features)
combined = keras.Model(inputs, outputs)
combined.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                 metrics=["accuracy"])
combined_history = combined.fit(x_train, y_train, batch_size=32, epochs=25, verbose=0)
combined_accuracy = combined.evaluate(x_test, y_test, verbose=0)[1]

# A functional model inside a layer: a recurrent loop over time steps written with ops and one shared Dense.
steps, dim, units = 6, 4, 8
head_in = keras.Input((steps, units))
head = keras.Model(head_in, layers.Dense(1)(layers.Flatten()(head_in)))


class TinyRNN(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.project_input = layers.Dense(units, activation="tanh")
        self.project_state = layers.Dense(units, activation="tanh")
        self.head = head

    def call(self, inputs):
        state = ops.zeros((inputs.shape[0], units))
        outputs = []
        for t in range(inputs.shape[1]):
            state = self.project_input(inputs[:, t, :]) + self.project_state(state)
            outputs.append(state)
        return self.head(ops.stack(outputs, axis=1))


rnn = TinyRNN()
eager_out = rnn(ops.zeros((2, steps, dim)))
seq = rng.normal(size=(256, steps, dim)).astype("float32")
target = seq[:, :, 0].sum(axis=1, keepdims=True)
seq_in = keras.Input((steps, dim))
rnn_model = keras.Model(seq_in, TinyRNN()(seq_in))
rnn_model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
rnn_history = rnn_model.fit(seq, target, batch_size=32, epochs=15, verbose=0)

# Metrics used standalone, as a custom loop's trackers are.
tracker = keras.metrics.Mean(name="loss")
for value in (1.0, 2.0, 6.0):
    tracker.update_state(value)
tracked_mean = float(tracker.result())
tracker.reset_state()
