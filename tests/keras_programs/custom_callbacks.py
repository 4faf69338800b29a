"""Custom callbacks the way keras-io's "Writing your own callbacks" guide writes them: every hook recorded with
its logs keys, loss printing per batch, early stopping at the minimum loss with get/set_weights and
stop_training, and a learning-rate schedule that reads and sets optimizer.learning_rate."""

import numpy as np

from nnscratch import keras

keras.utils.set_random_seed(4)


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
x_train, y_train = x_train[:1000], y_train[:1000]
x_test, y_test = x_test[:1000], y_test[:1000]

calls = []


class CustomCallback(keras.callbacks.Callback):
    def _record(self, hook, logs):
        calls.append((hook, sorted((logs or {}).keys())))

    def on_train_begin(self, logs=None):
        self._record("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._record("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("on_epoch_begin", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record("on_epoch_end", logs)

    def on_test_begin(self, logs=None):
        self._record("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._record("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._record("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._record("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("on_train_batch_begin", logs)

    def on_train_batch_end(self, batch, logs=None):
        self._record("on_train_batch_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._record("on_test_batch_begin", logs)

    def on_test_batch_end(self, batch, logs=None):
        self._record("on_test_batch_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._record("on_predict_batch_begin", logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._record("on_predict_batch_end", logs)


model = get_model()
model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5, callbacks=[CustomCallback()])
res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()])
res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])

batch_losses = []


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        batch_losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        print(f"The average loss for epoch {epoch} is {logs['loss']:7.2f} and mean absolute error is "
              f"{logs['mean_absolute_error']:7.2f}.")


model = get_model()
model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0, callbacks=[LossAndErrorPrintingCallback()])


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best = 0, 0, np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best, self.wait = current, 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


model = get_model()
stopper = EarlyStoppingAtMinLoss()
history = model.fit(x_train, y_train, batch_size=64, epochs=30, verbose=0, callbacks=[stopper])


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = float(np.array(self.model.optimizer.learning_rate))
        self.model.optimizer.learning_rate = self.schedule(epoch, lr)


LR_SCHEDULE = [(1, 0.05), (2, 0.01)]


def lr_schedule(epoch, lr):
    for start, value in LR_SCHEDULE:
        if epoch == start:
            return value
    return lr


model = get_model()
model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0, callbacks=[CustomLearningRateScheduler(lr_schedule)])
final_lr = float(model.optimizer.learning_rate)
