"""Ready-made training recipes: the cat classifier (dense, CNN, the course's reference) and MNIST (MLP, CNN).

    from nnscratch.recipes import train_cat, train_mnist
    result = train_cat(model="dense", seed=0)            # .model, .histories, .summary, .save(path)
    result = train_mnist(model="cnn", seed=0)

The examples and the ``nnscratch`` command line are thin layers over these functions.
"""

from .cat import CatResult, train_cat
from .mnist import MnistResult, train_mnist

__all__ = ["CatResult", "MnistResult", "train_cat", "train_mnist"]
