"""A stateful custom metric (Metric subclass with add_weight/assign_add) and a subclassed Model with ``call``,
as keras-io's training guide writes them."""

import numpy as np

from nnscratch import keras
from nnscratch.keras import ops


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        self.true_positives.assign_add(ops.sum(ops.cast(values, "float32")))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


class MLP(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense_1 = keras.layers.Dense(32, activation="relu")
        self.dense_2 = keras.layers.Dense(3)

    def call(self, inputs):
        return self.dense_2(self.dense_1(inputs))


keras.utils.set_random_seed(8)
x = np.random.rand(300, 5).astype("float32")
y = x.argmax(axis=1) % 3
model = MLP()
model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[CategoricalTruePositives()])
history = model.fit(x, y.reshape(-1, 1), batch_size=64, epochs=20, verbose=0)
