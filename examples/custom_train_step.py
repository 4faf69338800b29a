"""A custom training loop: a small GAN that learns to draw numbers from N(3, 0.5) by overriding train_step.

    python examples/custom_train_step.py [--epochs 30] [--seed 0] [--json result.json]

``fit`` runs the loop (batches, shuffling, History, callbacks); ``GAN.train_step`` decides what one batch
does: a discriminator step on real and generated numbers, then a generator step through the frozen
discriminator (``trainable = False`` takes effect at once).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import nnscratch as nn


class GAN(nn.Model):
    """The discriminator on real samples is the model's own graph; ``combined`` trains the generator."""

    def __init__(self, generator: nn.Model, discriminator: nn.Model, seed: int = 0) -> None:
        x = nn.Input(shape=discriminator.input_shape)
        super().__init__(x, discriminator(x), seed=seed)
        z = nn.Input(shape=generator.input_shape)
        self.generator, self.discriminator = generator, discriminator
        self.combined = nn.Model(z, discriminator(generator(z)))

    def compile(self, d_optimizer: nn.Optimizer, g_optimizer: nn.Optimizer) -> GAN:
        super().compile(loss="binary_crossentropy", optimizer=d_optimizer)
        self.combined.compile(loss="binary_crossentropy", optimizer=g_optimizer)
        return self

    def train_step(self, x: list[np.ndarray], y: list[np.ndarray]) -> dict[str, float]:
        real = x[0]
        n = len(real)
        z = self.rng.standard_normal((n, *self.generator.input_shape)).astype(real.dtype)
        fake = self.generator.predict_on_batch(z)
        labels = np.concatenate([np.ones((n, 1)), np.zeros((n, 1))]).astype(real.dtype)
        d_logs = super().train_step([np.concatenate([real, fake])], [labels])  # the default step: D only
        self.discriminator.trainable = False
        g_logs = self.combined.train_on_batch(z, np.ones((n, 1), real.dtype))  # G, through the frozen D
        self.discriminator.trainable = True
        return {"loss": d_logs["loss"], "d_loss": d_logs["loss"], "g_loss": g_logs["loss"]}


def build(seed: int) -> GAN:
    nn.set_random_seed(seed)
    z = nn.Input(shape=(4,))
    generator = nn.Model(z, nn.Dense(1)(nn.Dense(16, activation="relu")(z)), name="generator")
    x = nn.Input(shape=(1,))
    discriminator = nn.Model(x, nn.Dense(1, activation="sigmoid")(nn.Dense(16, activation="relu")(x)),
                             name="discriminator")
    return GAN(generator, discriminator, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the final figures to this file")
    args = parser.parse_args()
    real = np.random.default_rng(args.seed).normal(3.0, 0.5, (2048, 1)).astype(np.float32)
    gan = build(args.seed).compile(nn.Adam(lr=2e-3), nn.Adam(lr=2e-3))
    history = gan.fit(real, np.ones((len(real), 1), np.float32), epochs=args.epochs, batch_size=64, verbose=0)
    samples = gan.generator.predict(np.random.default_rng(1).standard_normal((4096, 4)).astype(np.float32))
    result = {"mean": float(samples.mean()), "std": float(samples.std()), "epochs": args.epochs,
              "d_loss": history["d_loss"][-1], "g_loss": history["g_loss"][-1]}
    print(f"generated numbers: mean {result['mean']:.3f} (target 3.0), std {result['std']:.3f} (target 0.5); "
          f"last epoch d_loss {result['d_loss']:.3f}, g_loss {result['g_loss']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
