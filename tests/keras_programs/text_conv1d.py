"""Embedding, Conv1D and GlobalMaxPooling1D with LayerNormalization on integer sequences, in the style of
keras-io's functional-API guide, on sequences of variable length as keras-io's "text classification from
scratch" declares them (``Input(shape=(None,))``)."""

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(9)
tokens = np.random.randint(0, 50, size=(512, 20))
labels = (tokens[:, :10].mean(axis=1) > tokens[:, 10:].mean(axis=1)).astype("float32")
inputs = keras.Input(shape=(None,), dtype="int64")
x = layers.Embedding(50, 16)(inputs)
x = layers.Conv1D(16, 3, activation="relu")(x)
x = layers.LayerNormalization()(x)
x = layers.GlobalMaxPooling1D()(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(tokens, labels, epochs=10, batch_size=32, verbose=0)
accuracy = model.evaluate(tokens, labels, verbose=0)[1]
