"""Training from image files with a PyDataset (the keras.utils.PyDataset docstring's pattern: file paths in,
batches of decoded images out, loaded ahead by worker threads) and from a generator of augmented batches
with steps_per_epoch."""

import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(7)
rng = np.random.default_rng(7)
folder = Path(tempfile.mkdtemp())
paths, labels = [], []
for i in range(360):  # 16x16 grey pictures: class 1 has a bright vertical bar, class 0 a horizontal one
    label = i % 2
    image = rng.uniform(0, 60, size=(16, 16))
    k = rng.integers(2, 14)
    if label:
        image[:, k - 1:k + 1] += 180
    else:
        image[k - 1:k + 1, :] += 180
    path = folder / f"{i:03d}.png"
    Image.fromarray(image.astype(np.uint8)).save(path)
    paths.append(path)
    labels.append(label)
labels = np.array(labels)


class ImageFiles(keras.utils.PyDataset):
    def __init__(self, paths, labels, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.paths, self.labels, self.batch_size = paths, labels, batch_size

    def __len__(self):
        return math.ceil(len(self.paths) / self.batch_size)

    def __getitem__(self, idx):
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.paths))
        images = np.array([np.asarray(Image.open(p), dtype="float32") / 255.0 for p in self.paths[low:high]])
        return images[..., None], self.labels[low:high]


train = ImageFiles(paths[:240], labels[:240], batch_size=24, workers=2)
val = ImageFiles(paths[240:300], labels[240:300], batch_size=30)
test = ImageFiles(paths[300:], labels[300:], batch_size=30)

model = keras.Sequential([
    keras.Input(shape=(16, 16, 1)),
    layers.Conv2D(8, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train, epochs=8, validation_data=val, verbose=0)
loss, accuracy = model.evaluate(test, verbose=0)
predictions = model.predict(test, verbose=0)


def flipped_batches(dataset):
    """Endless batches with random left-right flips (a generator, so fit needs steps_per_epoch)."""
    while True:
        for idx in np.random.permutation(len(dataset)):
            x, y = dataset[idx]
            flip = np.random.uniform(size=len(x)) < 0.5
            x[flip] = x[flip, :, ::-1]
            yield x, y


more = model.fit(flipped_batches(train), steps_per_epoch=5, epochs=2, verbose=0)
loss_after, accuracy_after = model.evaluate(test, verbose=0)
shutil.rmtree(folder)
