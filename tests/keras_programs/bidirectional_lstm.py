"""keras-io's "Bidirectional LSTM on IMDB" model (Embedding, two Bidirectional LSTMs, a sigmoid) on generated
token sequences, with its dict-output multi-task variant from the functional-API guide: the review's label
and whether a given token occurs. The IMDB download is replaced by data made here; the code is Keras's."""

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

max_features = 40  # the vocabulary
maxlen = 24  # tokens per sequence

keras.utils.set_random_seed(3)
x_train = np.random.randint(1, max_features, size=(600, maxlen))
# "positive" when token 5 comes before token 7 (or 7 is absent): order matters, so a bag of words cannot tell
first_5 = np.where((x_train == 5).any(axis=1), (x_train == 5).argmax(axis=1), maxlen)
first_7 = np.where((x_train == 7).any(axis=1), (x_train == 7).argmax(axis=1), maxlen)
y_train = (first_5 < first_7).astype("float32")
x_val, y_val = x_train[500:], y_train[500:]
x_train, y_train = x_train[:500], y_train[:500]

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 16-dimensional vector
x = layers.Embedding(max_features, 16)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(16))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=12, validation_data=(x_val, y_val), verbose=0)

# Two heads by name: the label, and whether token 5 occurs at all
has_5 = (x_train == 5).any(axis=1).astype("float32")
tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
features = layers.GRU(16)(layers.Embedding(max_features, 16)(tokens))
multi = keras.Model(
    inputs={"tokens": tokens},
    outputs={"label": layers.Dense(1, name="label")(features), "has_5": layers.Dense(1, name="has_5")(features)},
)
multi.compile(
    optimizer=keras.optimizers.RMSprop(1e-2),
    loss={"label": keras.losses.BinaryCrossentropy(from_logits=True),
          "has_5": keras.losses.BinaryCrossentropy(from_logits=True)},
    loss_weights={"label": 1.0, "has_5": 0.5},
)
multi_history = multi.fit({"tokens": x_train}, {"label": y_train, "has_5": has_5}, epochs=8, batch_size=32,
                          verbose=0)
predictions = multi.predict({"tokens": x_val})
# Shorter sequences than the training ones: the first 12 tokens of each
short_predictions = model.predict(x_val[:, :12])
