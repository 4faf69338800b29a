"""keras-io's "Image Super-Resolution using an Efficient Sub-Pixel CNN" (ESPCN), Keras 3 version: a fully
convolutional model on ``Input(shape=(None, None, channels))`` whose last layer, a custom ``DepthToSpace``
written with ``keras.ops``, turns ``upscale_factor**2`` channels into an image that many times larger. Trained on
small crops, then run on whole images of other sizes, as the original does.

The original trains on BSDS500 photos (a download and tf.data); here the images are synthetic (smooth random
blobs and stripes, the Y channel in [0, 1]), low-resolution inputs are the high-resolution ones averaged over
3x3 blocks, and the PSNR callback is the original's, on one validation batch.
"""

import math

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers, ops

upscale_factor = 3
crop_size = 30
input_size = crop_size // upscale_factor
rng = np.random.default_rng(0)


def scene(height, width):
    """A smooth random image (H, W, 1) in [0, 1]: a few Gaussian blobs and a stripe pattern."""
    yy, xx = np.mgrid[0:height, 0:width].astype("float32")
    image = np.zeros((height, width), "float32")
    for _ in range(4):
        cy, cx, s = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(3, 9)
        image += rng.uniform(0.3, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 14)
    image += 0.3 * np.sin(2 * np.pi * (np.cos(angle) * xx + np.sin(angle) * yy) / period)
    image -= image.min()
    return (image / max(float(image.max()), 1e-6))[..., None]


def downscale(images):
    """Average over upscale_factor x upscale_factor blocks: (N, H, W, 1) -> (N, H/3, W/3, 1)."""
    n, h, w, c = images.shape
    return images.reshape(n, h // upscale_factor, upscale_factor, w // upscale_factor, upscale_factor, c).mean(axis=(2, 4))


train_hr = np.stack([scene(crop_size, crop_size) for _ in range(384)])
valid_hr = np.stack([scene(crop_size, crop_size) for _ in range(64)])
train_lr, valid_lr = downscale(train_hr), downscale(valid_hr)


class DepthToSpace(layers.Layer):
    def __init__(self, block_size):
        super().__init__()
        self.block_size = block_size

    def call(self, input):
        batch, height, width, depth = ops.shape(input)
        depth = depth // (self.block_size**2)

        x = ops.reshape(input, [batch, height, width, self.block_size, self.block_size, depth])
        x = ops.transpose(x, [0, 1, 3, 2, 4, 5])
        x = ops.reshape(x, [batch, height * self.block_size, width * self.block_size, depth])
        return x


def get_model(upscale_factor=3, channels=1):
    conv_args = {
        "activation": "relu",
        "kernel_initializer": "orthogonal",
        "padding": "same",
    }
    inputs = keras.Input(shape=(None, None, channels))
    x = layers.Conv2D(64, 5, **conv_args)(inputs)
    x = layers.Conv2D(64, 3, **conv_args)(x)
    x = layers.Conv2D(32, 3, **conv_args)(x)
    x = layers.Conv2D(channels * (upscale_factor**2), 3, **conv_args)(x)
    outputs = DepthToSpace(upscale_factor)(x)

    return keras.Model(inputs, outputs)


class ESPCNCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.psnr = []

    def on_epoch_begin(self, epoch, logs=None):
        self.psnr = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_psnr = np.mean(self.psnr)

    def on_test_batch_end(self, batch, logs=None):
        self.psnr.append(10 * math.log10(1 / logs["loss"]))


keras.utils.set_random_seed(1)
model = get_model(upscale_factor=upscale_factor, channels=1)
model.summary()
callback = ESPCNCallback()
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss=keras.losses.MeanSquaredError())
history = model.fit(train_lr, train_hr, epochs=40, batch_size=32, callbacks=[callback],
                    validation_data=(valid_lr, valid_hr), verbose=0)


def psnr(prediction, target):
    return 10 * math.log10(1 / float(np.mean((prediction - target) ** 2)))


# Whole images of another size than the crops, as the original's test photos; against the nearest-pixel upscaling
# of the same low-resolution input (the original compares with PIL's bicubic resize).
test_hr = np.stack([scene(48, 66) for _ in range(8)])
test_lr = downscale(test_hr)
prediction = model.predict(test_lr, verbose=0)
nearest = test_lr.repeat(upscale_factor, axis=1).repeat(upscale_factor, axis=2)
test_psnr, nearest_psnr = psnr(prediction, test_hr), psnr(nearest, test_hr)
print(f"validation PSNR {callback.epoch_psnr:.2f} dB; test images {test_hr.shape[1:3]}: model {test_psnr:.2f} dB, "
      f"nearest {nearest_psnr:.2f} dB")
