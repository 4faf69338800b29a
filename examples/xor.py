"""XOR with a tiny network, two ways; a net that has learned XOR puts every output within 0.1 of its target.

1. The classic from-scratch recipe: 2-3-1 tanh network, mean squared error, 1000 epochs of per-sample
   gradient descent (learning rate 0.1).
2. A faster recipe: 2-8-1 tanh, full-batch Adam (learning rate 0.05), stopping as soon as every output
   is within 0.1 of its target (at most 1000 epochs).

    python examples/xor.py [--seed 0] [--json result.json]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import nnscratch as nn
from nnscratch.io.atomic import write_json
from nnscratch.training import checkpoint

try:
    from _cli import run
except ImportError:  # imported as examples.xor
    from examples._cli import run

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
TOLERANCE = 0.1
EPOCHS = 1000


def max_error(model: nn.Model) -> float:
    """The largest distance of an output from its target over the four points."""
    return float(np.max(np.abs(model.predict(X) - Y)))


class StopWhenLearned(nn.Callback):
    """Stop at the end of the first epoch after which every output is within ``TOLERANCE`` of its target."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if max_error(self.model) < TOLERANCE:
            self.model.stop_training = True


def train(model: nn.Sequential, name: str, checkpoint_dir: str | None = None, resume: bool = False,
          **fit_kwargs) -> tuple[nn.History, float]:
    """Fit on the four XOR points, with checkpoints in ``checkpoint_dir/name`` when asked."""
    folder = Path(checkpoint_dir, name) if checkpoint_dir else None
    resume = resume and (folder is None or checkpoint.latest_checkpoint(folder) is not None)
    start = time.perf_counter()
    history = checkpoint.fit_with_checkpoints(model, X, Y, checkpoint_dir=folder, resume=resume, epochs=EPOCHS,
                                              verbose=0, **fit_kwargs)
    if history.interrupted:  # Ctrl-C: fit already said where it stopped
        raise KeyboardInterrupt
    return history, time.perf_counter() - start


def classic(seed: int, **kwargs) -> tuple[nn.Sequential, nn.History, float]:
    model = nn.Sequential([nn.Dense(3, activation="tanh"), nn.Dense(1, activation="tanh")], seed=seed)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.1), metrics=["accuracy"])
    return model, *train(model, "classic", batch_size=1, **kwargs)


def fast(seed: int, **kwargs) -> tuple[nn.Sequential, nn.History, float]:
    model = nn.Sequential([nn.Dense(8, activation="tanh"), nn.Dense(1, activation="tanh")], seed=seed)
    model.compile(loss="mse", optimizer=nn.Adam(lr=0.05), metrics=["accuracy"])
    return model, *train(model, "fast", batch_size=None, callbacks=[StopWhenLearned()], **kwargs)


def main(args: argparse.Namespace) -> None:
    results = {}
    for name, recipe in (("classic", classic), ("fast", fast)):
        model, history, seconds = recipe(args.seed, checkpoint_dir=args.checkpoint_dir, resume=args.resume)
        pred = model.predict(X).ravel()
        accuracy = model.evaluate(X, Y, return_dict=True)["accuracy"]
        error = max_error(model)
        epochs = len(history["loss"])
        learned = "every output within" if error < TOLERANCE else "NOT every output within"
        print(f"{name}: {epochs} epochs in {seconds * 1000:.0f} ms, final loss {history['loss'][-1]:.5f}, "
              f"accuracy {accuracy:.2f}, largest error {error:.4f} ({learned} {TOLERANCE} of its target)")
        for x, p in zip(X, pred):
            print(f"  {int(x[0])} xor {int(x[1])} -> {p:.3f}")
        results[name] = {"accuracy": accuracy, "max_error": error, "learned": error < TOLERANCE,
                         "train_seconds": seconds, "epochs": epochs}
    if args.json:
        write_json(args.json, {**results["classic"], "fast": results["fast"], "seed": args.seed})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="xor.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", metavar="PATH", help="write the final metrics as JSON")
    checkpoint.add_arguments(parser)
    run(main, parser)
