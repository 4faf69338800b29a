"""XOR with a tiny network, two ways.

1. The classic from-scratch recipe: 2-3-1 tanh network, mean squared error, 1000 epochs of per-sample
   gradient descent (learning rate 0.1).
2. A faster recipe: 2-8-1 tanh, full-batch Adam (learning rate 0.05), stopping as soon as all four
   points are right.

    python examples/xor.py [--seed 0] [--json result.json]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nnscratch as nn
from nnscratch.io import write_json

try:
    from _cli import run
except ImportError:  # imported as examples.xor
    from examples._cli import run

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


class StopWhenPerfect(nn.Callback):
    """Stop training at the end of the first epoch after which all four points are classified right."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.model.evaluate(X, Y)["accuracy"] == 1.0:
            self.model.stop_training = True


def classic(seed: int) -> tuple[nn.Sequential, nn.History, float]:
    model = nn.Sequential([nn.Dense(3, activation="tanh"), nn.Dense(1, activation="tanh")], seed=seed)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.1), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(X, Y, epochs=1000, batch_size=1, verbose=0)
    return model, history, time.perf_counter() - start


def fast(seed: int) -> tuple[nn.Sequential, nn.History, float]:
    model = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(1, activation="tanh")], seed=seed)
    model.compile(loss="mse", optimizer=nn.Adam(lr=0.05), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(X, Y, epochs=1000, batch_size=None, callbacks=[StopWhenPerfect()], verbose=0)
    return model, history, time.perf_counter() - start


def main(args: argparse.Namespace) -> None:
    results = {}
    for name, recipe in (("classic", classic), ("fast", fast)):
        model, history, seconds = recipe(args.seed)
        pred = model.predict(X).ravel()
        accuracy = model.evaluate(X, Y)["accuracy"]
        epochs = len(history["loss"])
        print(f"{name}: {epochs} epochs in {seconds * 1000:.0f} ms, final loss {history['loss'][-1]:.5f}, "
              f"accuracy {accuracy:.2f}")
        for x, p in zip(X, pred):
            print(f"  {int(x[0])} xor {int(x[1])} -> {p:.3f}")
        results[name] = {"accuracy": accuracy, "train_seconds": seconds, "epochs": epochs}
    if args.json:
        write_json(args.json, {**results["classic"], "fast": results["fast"], "seed": args.seed})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="xor.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", metavar="PATH", help="write the final metrics as JSON")
    run(main, parser)
