"""A sequence tagger as keras-io's token-classification examples build one: token ids padded with 0 under
Embedding(mask_zero=True), a bidirectional LSTM returning every step, a softmax per step, sparse categorical
cross-entropy; the padding is left out of the loss and the accuracy. Data made here: each token's tag depends on
the token and the one before it, so the model has to read the sequence."""

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

vocab_size, num_tags, maxlen = 20, 3, 12

keras.utils.set_random_seed(4)
lengths = np.random.randint(3, maxlen + 1, size=800)
tokens = np.random.randint(1, vocab_size, size=(800, maxlen))
tokens[np.arange(maxlen) >= lengths[:, None]] = 0  # padding at the end
previous = np.concatenate([np.zeros((800, 1), int), tokens[:, :-1]], axis=1)
tags = (tokens + previous) % num_tags
tags[tokens == 0] = 0  # what the padding's targets hold does not matter
x_train, y_train, x_val, y_val = tokens[:700], tags[:700], tokens[700:], tags[700:]

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(vocab_size, 32, mask_zero=True)(inputs)
x = layers.Bidirectional(layers.LSTM(32, return_sequences=True))(x)
outputs = layers.Dense(num_tags, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=12, validation_data=(x_val, y_val), verbose=0)
predicted = model.predict(x_val).argmax(axis=-1)
real = x_val != 0
real_step_accuracy = float((predicted == y_val)[real].mean())
