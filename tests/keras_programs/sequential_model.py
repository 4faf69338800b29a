"""The Sequential model the way keras-io's guide uses it (synthetic data): named layers, calling a model on an
array, add/pop, weights created on first call, input_shape= on the first layer, summary, freezing all but
the last layer, a feature extractor from an intermediate layer's output."""

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(5)
model = keras.Sequential([layers.Dense(2, activation="relu", name="layer1"),
                          layers.Dense(3, activation="relu", name="layer2"),
                          layers.Dense(4, name="layer3")])
x = np.ones((3, 3))
y = model(x)
assert y.shape == (3, 4) and len(model.layers) == 3

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))
model.pop()
assert len(model.layers) == 2

layer = layers.Dense(3)
assert layer.weights == []
layer(np.ones((1, 4)))
assert len(layer.weights) == 2

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))
summary = model.summary()
assert len(model.layers) == 1

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu", input_shape=(4,)))
assert model.built and model.count_params() == 10

model = keras.Sequential()
model.add(keras.Input(shape=(36, 36, 3)))
model.add(layers.Conv2D(8, 5, strides=2, activation="relu"))
model.add(layers.Conv2D(8, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
model.add(layers.Conv2D(8, 3, activation="relu", name="my_intermediate_layer"))
model.add(layers.GlobalAveragePooling2D())
model.add(layers.Dense(10))

feature_extractor = keras.Model(inputs=model.inputs,
                                outputs=model.get_layer(name="my_intermediate_layer").output)
images = np.random.rand(2, 36, 36, 3).astype("float32")
features = feature_extractor(images)
all_features = keras.Model(inputs=model.inputs, outputs=[lay.output for lay in model.layers])(images)

for lay in model.layers[:-1]:
    lay.trainable = False
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
frozen_before = [w.copy() for w in model.layers[0].get_weights()]
head_before = [w.copy() for w in model.layers[-1].get_weights()]
model.fit(np.random.rand(16, 36, 36, 3).astype("float32"), np.arange(16) % 10, epochs=1, verbose=0)
