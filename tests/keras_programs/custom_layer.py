"""A custom layer the way keras-io's guides write one: add_weight in build, call with keras.ops, get_config,
used in a functional model, trained, saved and reloaded with custom_objects (the layer has no backward:
nnscratch differentiates its call through keras.ops)."""

import os
import tempfile

import numpy as np

from nnscratch import keras
from nnscratch.keras import ops


class CustomDense(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


keras.utils.set_random_seed(7)
x = np.random.rand(256, 4).astype("float32")
y = (x.sum(axis=1) > 2).astype("float32")
inputs = keras.Input((4,))
outputs = keras.layers.Dense(1, activation="sigmoid")(CustomDense(10)(inputs))
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=30, batch_size=32, verbose=0)
accuracy = model.evaluate(x, y, verbose=0)[1]

path = os.path.join(tempfile.mkdtemp(), "custom.keras")
model.save(path)
reloaded = keras.models.load_model(path, custom_objects={"CustomDense": CustomDense})
np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
