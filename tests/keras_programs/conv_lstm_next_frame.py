"""keras-io's "Next-Frame Video Prediction with Convolutional LSTMs" (Keras 3 version): three ConvLSTM2D layers with
BatchNormalization and a Conv3D read a sequence of frames and predict each next frame; then the model extends a
sequence frame by frame from its own predictions, as the original does.

The original trains on Moving MNIST (a download, 64x64 frames, 64 filters, GPU); here the frames are synthetic moving
squares of 16x16 pixels and the layers have 8 filters, so it trains in seconds on a CPU. The rest is as written:
shifted frames as targets, binary cross-entropy, Adam, EarlyStopping and ReduceLROnPlateau on the validation loss.
"""

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

rng = np.random.default_rng(0)
frames_per_movie, size = 10, 16


def movie():
    """(T, 16, 16) frames of one or two 3x3 squares moving one pixel a frame, bouncing off the borders."""
    frames = np.zeros((frames_per_movie, size, size), "float32")
    for _ in range(rng.integers(1, 3)):
        y, x = rng.integers(0, size - 3, 2)
        dy, dx = rng.choice([-1, 1], 2)
        for t in range(frames_per_movie):
            frames[t, y:y + 3, x:x + 3] = 1.0
            if not 0 <= y + dy <= size - 3:
                dy = -dy
            if not 0 <= x + dx <= size - 3:
                dx = -dx
            y, x = y + dy, x + dx
    return frames


dataset = np.expand_dims(np.stack([movie() for _ in range(100)]), axis=-1)
indexes = np.arange(dataset.shape[0])
rng.shuffle(indexes)
train_index = indexes[: int(0.9 * dataset.shape[0])]
val_index = indexes[int(0.9 * dataset.shape[0]):]
train_dataset = dataset[train_index]
val_dataset = dataset[val_index]


def create_shifted_frames(data):
    x = data[:, 0 : data.shape[1] - 1, :, :]
    y = data[:, 1 : data.shape[1], :, :]
    return x, y


x_train, y_train = create_shifted_frames(train_dataset)
x_val, y_val = create_shifted_frames(val_dataset)

keras.utils.set_random_seed(3)
inp = layers.Input(shape=(None, *x_train.shape[2:]))
x = layers.ConvLSTM2D(filters=8, kernel_size=(5, 5), padding="same", return_sequences=True, activation="relu")(inp)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(filters=8, kernel_size=(3, 3), padding="same", return_sequences=True, activation="relu")(x)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(filters=8, kernel_size=(1, 1), padding="same", return_sequences=True, activation="relu")(x)
x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)

model = keras.models.Model(inp, x)
model.compile(loss=keras.losses.binary_crossentropy, optimizer=keras.optimizers.Adam(learning_rate=0.01))

early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)
history = model.fit(x_train, y_train, batch_size=5, epochs=15, validation_data=(x_val, y_val),
                    callbacks=[early_stopping, reduce_lr], verbose=0)

# Extend a validation movie from its first 5 frames, one predicted frame at a time (the original's loop).
example = val_dataset[0]
frames = example[:5, ...]
original_frames = example[5:, ...]
for _ in range(5):
    new_prediction = model.predict(np.expand_dims(frames, axis=0), verbose=0)
    new_prediction = np.squeeze(new_prediction, axis=0)
    predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)
    frames = np.concatenate((frames, predicted_frame), axis=0)

# Next-frame error on the validation movies: the model's predictions against repeating the frame before.
one_step = model.predict(x_val, verbose=0)
model_error = float(np.abs(one_step - y_val).mean())
copy_error = float(np.abs(x_val - y_val).mean())
print(f"val_loss {history.history['val_loss'][-1]:.4f}; next-frame mean absolute error {model_error:.4f} "
      f"(the frame before repeated: {copy_error:.4f}); 5 frames extended: {frames.shape}")
