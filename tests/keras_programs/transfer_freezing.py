"""The freezing mechanics of keras-io's "Transfer learning & fine-tuning" guide (synthetic data): weights,
trainable and non-trainable weights of Dense and BatchNormalization, a frozen layer unchanged by fit,
trainable=False applied recursively, and a frozen base model under a new head, then unfrozen to fine-tune."""

import numpy as np

from nnscratch import keras

keras.utils.set_random_seed(6)
layer = keras.layers.Dense(3)
layer.build((None, 4))
dense_counts = (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights))

layer = keras.layers.BatchNormalization()
layer.build((None, 4))
bn_counts = (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights))

layer = keras.layers.Dense(3)
layer.build((None, 4))
layer.trainable = False
frozen_counts = (len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights))

layer1 = keras.layers.Dense(3, activation="relu")
layer2 = keras.layers.Dense(3, activation="sigmoid")
model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
layer1.trainable = False
initial_layer1_weights_values = layer1.get_weights()
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)
final_layer1_weights_values = layer1.get_weights()
np.testing.assert_allclose(initial_layer1_weights_values[0], final_layer1_weights_values[0])
np.testing.assert_allclose(initial_layer1_weights_values[1], final_layer1_weights_values[1])

inner_model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3, activation="relu"),
                                keras.layers.Dense(3, activation="relu")])
model = keras.Sequential([keras.Input(shape=(3,)), inner_model, keras.layers.Dense(3, activation="sigmoid")])
model.trainable = False
assert inner_model.trainable is False
assert inner_model.layers[0].trainable is False

# A small base, pretrained here, frozen under a new head, then fine-tuned with a low learning rate.
x = np.random.rand(256, 16).astype("float32")
y = (x[:, :8].sum(axis=1) > x[:, 8:].sum(axis=1)).astype("float32")
base_model = keras.Sequential([keras.Input(shape=(16,)), keras.layers.Dense(32, activation="relu"),
                               keras.layers.BatchNormalization(), keras.layers.Dense(16, activation="relu")])
pretraining = keras.Sequential([base_model, keras.layers.Dense(1, activation="sigmoid")])
pretraining.compile(optimizer="adam", loss="binary_crossentropy")
pretraining.fit(x, y, epochs=30, batch_size=32, verbose=0)
base_model.trainable = False
inputs = keras.Input(shape=(16,))
features = base_model(inputs, training=False)
outputs = keras.layers.Dense(1)(features)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
base_before = [w.copy() for w in base_model.get_weights()]
model.fit(x, y, epochs=20, batch_size=32, verbose=0)
base_after_head_training = base_model.get_weights()
head_accuracy = model.evaluate(x, y, verbose=0)[1]

base_model.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
model.fit(x, y, epochs=1, batch_size=32, verbose=0)
base_after_fine_tuning = base_model.get_weights()
