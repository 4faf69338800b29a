"""keras-io's "Image classification from scratch", scaled down to run in seconds: a folder of JPEG images in
two class folders read with image_dataset_from_directory, augmentation and rescaling inside the model (the
guide's option 1), a small Xception-like network of SeparableConv2D blocks with residual connections,
ModelCheckpoint, and inference on one file with load_img / img_to_array. Changed from the guide: generated
images instead of the Cats vs Dogs download (and no corrupted-file filtering), a smaller image size, fewer
filters and epochs; the tf.data lines (.map, .prefetch) are left out, as option 1 needs neither."""

import os
import shutil
import tempfile

import numpy as np
from PIL import Image

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(1337)
rng = np.random.default_rng(1337)
folder = tempfile.mkdtemp()
for label, name in enumerate(["Cat", "Dog"]):  # "cats" have a bright disc, "dogs" a bright square
    os.makedirs(os.path.join(folder, "PetImages", name))
    for i in range(160):
        image = rng.uniform(0, 90, size=(40, 40, 3))
        cy, cx, r = rng.integers(12, 28, size=2).tolist() + [int(rng.integers(5, 9))]
        yy, xx = np.mgrid[0:40, 0:40]
        shape = (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r) if label else (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        image[shape] += 150
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(os.path.join(folder, "PetImages", name, f"{i}.jpg"))

image_size = (32, 32)
batch_size = 8
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    os.path.join(folder, "PetImages"),
    validation_split=0.2,
    subset="both",
    seed=1337,
    image_size=image_size,
    batch_size=batch_size,
)

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [32, 64]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


model = make_model(input_shape=image_size + (3,), num_classes=2)

epochs = 20
callbacks = [keras.callbacks.ModelCheckpoint(os.path.join(folder, "save_at_{epoch}.keras"))]
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(name="acc")],
)
history = model.fit(train_ds, epochs=epochs, callbacks=callbacks, validation_data=val_ds, verbose=0)
saved = sorted(f for f in os.listdir(folder) if f.endswith(".keras"))

img = keras.utils.load_img(os.path.join(folder, "PetImages", "Cat", "6.jpg"), target_size=image_size)
img_array = keras.utils.img_to_array(img)
img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

predictions = model.predict(img_array)
score = float(keras.ops.sigmoid(predictions[0][0]))
print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")
shutil.rmtree(folder)
