"""A single sigmoid neuron with two inputs learns to add two numbers in [0, 0.5).

The classic 3-parameter perceptron (two weights and a bias): sum ~ sigmoid(w1 a + w2 b + c), trained
with per-sample gradient descent (learning rate 0.1, 10,000 epochs) on squared error.

    python examples/perceptron_addition.py [--seed 0] [--json result.json]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nnscratch as nn
from nnscratch.io.atomic import write_json
from nnscratch.training import checkpoint

try:
    from _cli import run
except ImportError:  # imported as examples.perceptron_addition
    from examples._cli import run


def main(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    x_train = rng.uniform(0, 0.5, size=(args.samples, 2))
    y_train = x_train.sum(axis=1, keepdims=True)
    grid = np.linspace(0.1, 0.4, 5)  # 5 x 5 = 25 test pairs on a grid inside [0, 0.5)^2
    x_test = np.array([(a, b) for a in grid for b in grid])
    fine = np.linspace(0, 0.5, 51)[:-1]  # every pair on a 0.01 grid, edges included
    x_full = np.array([(a, b) for a in fine for b in fine])

    model = nn.Sequential([nn.Dense(1, activation="sigmoid", kernel_initializer="normal")], seed=args.seed)
    model.compile(loss="mse", optimizer=nn.SGD(lr=0.1))
    start = time.perf_counter()
    history = checkpoint.fit_with_checkpoints(model, x_train, y_train, checkpoint_dir=args.checkpoint_dir,
                                              resume=args.resume, epochs=args.epochs, batch_size=1, verbose=0)
    if history.interrupted:  # Ctrl-C: fit already said where it stopped
        raise KeyboardInterrupt
    seconds = time.perf_counter() - start

    pred = model.predict(x_test).ravel()
    truth = x_test.sum(axis=1)
    print(f"{'input':>14}  {'prediction':>10}  {'true sum':>8}")
    for (a, b), p, t in zip(x_test, pred, truth):
        print(f"{a:6.2f} + {b:5.2f}  {p:10.4f}  {t:8.4f}")
    max_err = float(np.max(np.abs(pred - truth)))
    full_err = float(np.max(np.abs(model.predict(x_full).ravel() - x_full.sum(axis=1))))
    w = model.layers[0].weight.data.ravel()
    print(f"weights {w[0]:.3f}, {w[1]:.3f}, bias {model.layers[0].bias.data[0]:.3f}; "
          f"final training MSE {history['loss'][-1]:.2e}; max |error| on the test pairs {max_err:.4f}; {seconds:.1f} s")
    print(f"over all of [0, 0.5)^2 the max |error| is {full_err:.4f}: a sigmoid never reaches 0 or 1, so sums "
          "near 0 or 1 are where one neuron is least accurate")
    if args.json:
        write_json(args.json, {"max_abs_error": max_err, "max_abs_error_full_range": full_err,
                               "final_loss": history["loss"][-1], "train_seconds": seconds, "epochs": args.epochs,
                               "seed": args.seed})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="perceptron_addition.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--epochs", type=int, default=10_000, help="passes over the training pairs (default 10000)")
    parser.add_argument("--samples", type=int, default=10, help="training pairs (default 10)")
    parser.add_argument("--json", metavar="PATH", help="write the final metrics as JSON")
    checkpoint.add_arguments(parser)
    run(main, parser)
