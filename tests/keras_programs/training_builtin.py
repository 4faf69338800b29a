"""Training & evaluation with the built-in methods, the way keras-io's guide drives them: a named functional
model, RMSprop, Keras's loss and metric objects, validation_data, evaluate/predict, a custom metric function,
class_weight and sample_weight, EarlyStopping/ModelCheckpoint with a file-name template, a schedule, and the
guide's PyDataset section (batches from a keras.utils.PyDataset, with worker threads)."""

import os
import tempfile

import numpy as np

from nnscratch import keras
from nnscratch.keras import layers

keras.utils.set_random_seed(3)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255
y_train, y_test = y_train.astype("float32"), y_test.astype("float32")
x_val, y_val = x_train[-10000:], y_train[-10000:]
x_train, y_train = x_train[:-10000], y_train[:-10000]


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    return model


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.RMSprop(),
              loss=keras.losses.SparseCategoricalCrossentropy(),
              metrics=[keras.metrics.SparseCategoricalAccuracy()])
history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_data=(x_val, y_val))
results = model.evaluate(x_test, y_test, batch_size=128)
predictions = model.predict(x_test[:3])
print("test loss, test acc:", results, "predictions shape:", predictions.shape)


def mean_predicted_max(y_true, y_pred):  # a custom metric function
    return np.max(y_pred, axis=-1)


model = get_uncompiled_model()
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=keras.losses.mean_squared_error,
              metrics=[mean_predicted_max])
onehot = keras.utils.to_categorical(y_train[:5000], 10)
custom_history = model.fit(x_train[:5000], onehot, batch_size=64, epochs=1, verbose=0)

class_weight = {i: 1.0 for i in range(10)}
class_weight[5] = 2.0
model = get_compiled_model()
model.fit(x_train[:10000], y_train[:10000], class_weight=class_weight, batch_size=64, epochs=1, verbose=0)
sample_weight = np.ones(shape=(10000,))
sample_weight[y_train[:10000] == 5] = 2.0
model = get_compiled_model()
model.fit(x_train[:10000], y_train[:10000], sample_weight=sample_weight, batch_size=64, epochs=1, verbose=0)

folder = tempfile.mkdtemp()
callbacks = [
    keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=1),
    keras.callbacks.ModelCheckpoint(filepath=os.path.join(folder, "mymodel_{epoch}.keras"), save_best_only=True,
                                    monitor="val_loss", verbose=1),
]
model = get_compiled_model()
model.fit(x_train[:10000], y_train[:10000], epochs=2, batch_size=64, callbacks=callbacks, validation_split=0.2,
          verbose=0)
saved_files = sorted(os.listdir(folder))

lr_schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100000, decay_rate=0.96, staircase=True)
optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)


class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size:(idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size:(idx + 1) * self.batch_size]
        return batch_x, batch_y


train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32)
val_py_dataset = ExamplePyDataset(x_val, y_val, batch_size=32)
model = get_compiled_model()
py_dataset_history = model.fit(train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1)
py_dataset_results = model.evaluate(val_py_dataset)
train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=4)
model.fit(train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1)
train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=32, workers=4, use_multiprocessing=True)
threaded_history = model.fit(train_py_dataset, batch_size=64, validation_data=val_py_dataset, epochs=1)
