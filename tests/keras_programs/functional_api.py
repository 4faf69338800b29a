"""The Functional API as keras-io's guide uses it: Input, layers called on tensors, Model(inputs, outputs,
name), summary, a from_logits loss, evaluate(verbose=2) -> [loss, accuracy], save/load of a .keras file,
models used like layers (an ensemble averaged with layers.average) and a feature extractor from layer outputs."""

import os
import tempfile

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(2)
inputs = keras.Input(shape=(784,))
assert inputs.shape == (None, 784)
dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255

model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)
test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

folder = tempfile.mkdtemp()
path = os.path.join(folder, "my_model.keras")
model.save(path)
assert os.listdir(folder) == ["my_model.keras"]
del model
model = keras.models.load_model(path)
reloaded_predictions = model.predict(x_test[:100], verbose=0)


def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


model1, model2, model3 = get_model(), get_model(), get_model()
inputs = keras.Input(shape=(128,))
y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
outputs = layers.average([y1, y2, y3])
ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
probe = np.random.rand(4, 128).astype("float32")
ensemble_out = ensemble_model.predict(probe, verbose=0)
members_mean = (model1.predict(probe) + model2.predict(probe) + model3.predict(probe)) / 3

features_list = [layer.output for layer in model.layers]
feat_extraction_model = keras.Model(inputs=model.input, outputs=features_list)
features = feat_extraction_model(x_test[:5])
