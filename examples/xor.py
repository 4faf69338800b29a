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
from pathlib import Path

import numpy as np

import nnscratch as nn
from nnscratch.training import checkpoint
from nnscratch.io.atomic import write_json

try:
    from _cli import run
except ImportError:  # imported as examples.xor
    from examples._cli import run

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


class StopWhenPerfect(nn.Callback):
    """Stop training at the end of the first epoch after which all four points are classified right."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.model.evaluate(X, Y, return_dict=True)["accuracy"] == 1.0:
            self.model.stop_training = True


def train(model: nn.Sequential, args: argparse.Namespace, name: str, **fit_kwargs) -> tuple[nn.History, float]:
    """Fit on the four XOR points, with checkpoints in ``--checkpoint-dir``/``name`` when asked."""
    folder = Path(args.checkpoint_dir, name) if args.checkpoint_dir else None
    resume = args.resume and (folder is None or checkpoint.latest_checkpoint(folder) is not None)
    start = time.perf_counter()
    history = checkpoint.fit_with_checkpoints(model, X, Y, checkpoint_dir=folder, resume=resume, epochs=1000,
                                              verbose=0, **fit_kwargs)
    if history.interrupted:  # Ctrl-C: fit already said where it stopped
        raise KeyboardInterrupt
    return history, time.perf_counter() - start


def classic(args: argparse.Namespace) -> tuple[nn.Sequential, nn.History, float]:
    model = nn.Sequential([nn.Dense(3, activation="tanh"), nn.Dense(1, activation="tanh")], seed=args.seed)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.1), metrics=["accuracy"])
    return model, *train(model, args, "classic", batch_size=1)


def fast(args: argparse.Namespace) -> tuple[nn.Sequential, nn.History, float]:
    model = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(1, activation="tanh")], seed=args.seed)
    model.compile(loss="mse", optimizer=nn.Adam(lr=0.05), metrics=["accuracy"])
    return model, *train(model, args, "fast", batch_size=None, callbacks=[StopWhenPerfect()])


def main(args: argparse.Namespace) -> None:
    results = {}
    for name, recipe in (("classic", classic), ("fast", fast)):
        model, history, seconds = recipe(args)
        pred = model.predict(X).ravel()
        accuracy = model.evaluate(X, Y, return_dict=True)["accuracy"]
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
    checkpoint.add_arguments(parser)
    run(main, parser)
