"""Spellings found in everyday Keras code (tutorials, answers): positional compile, the "acc" metric with a
"val_acc" monitor, summary(line_length=...), LeakyReLU(negative_slope=...), cloning with from_config,
and reading and setting weights through the variable API."""

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(4)
x = np.random.normal(size=(600, 10)).astype("float32")
y = (x[:, :3].sum(axis=1) > 0).astype("int64")

model = keras.Sequential([
    keras.Input(shape=(10,)),
    layers.Dense(16),
    layers.LeakyReLU(negative_slope=0.1),
    layers.Dense(2, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
summary_lines = []
model.summary(line_length=72, print_fn=summary_lines.append)
stop = keras.callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=3, restore_best_weights=True)
history = model.fit(x, y, epochs=30, batch_size=32, validation_split=0.2, callbacks=[stop], verbose=0)
loss, accuracy = model.evaluate(x, y, verbose=0)

clone = keras.Sequential.from_config(model.get_config())
clone.build((None, 10))
for source, target in zip(model.variables, clone.variables):
    target.assign(source.numpy())
same_predictions = np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
kernel_shape = model.layers[0].kernel.numpy().shape
