"""``nnscratch.ops``: NumPy-like functions on whole arrays, differentiable on ``Tensor``s (Keras-style names).

On NumPy arrays and Python numbers each op simply computes (arrays in, arrays out); on Tensors that require
grad it also records itself for ``nnscratch.autodiff`` (see there and ``docs/ops.md``). On symbolic tensors
(``keras.Input`` and the layers' outputs in a functional model) it adds an ``Operation`` node to the graph,
as Keras 3's ops do on KerasTensors (``nnscratch.autodiff.operation``).

The functions are listed in ``nnscratch.autodiff.catalog``; each is exported here behind a cheap test of its
arguments for symbolic tensors (``nnscratch.autodiff.symbolic_dispatch``), with the same name, signature and
docstring.
"""

import sys as _sys
from types import ModuleType as _ModuleType

from .autodiff.catalog import *  # noqa: F403  (the names, for type checkers and readers)
from .autodiff.catalog import __all__
from .autodiff.symbolic_dispatch import dispatching as _dispatching

globals().update(_dispatching((_name, globals()[_name]) for _name in __all__))


def _namespace(name: str, names: list[str]) -> _ModuleType:
    """``nnscratch.ops.<name>``: Keras's ``keras.ops.nn`` / ``keras.ops.numpy`` groups of the same functions."""
    module = _ModuleType(f"{__name__}.{name}", f"Keras's keras.ops.{name}: the same functions as nnscratch.ops")
    for key in names:
        setattr(module, key, globals()[key])
    _sys.modules[module.__name__] = module
    return module


_NN = {"relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "log_sigmoid", "leaky_relu",
       "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "celu", "gelu", "glu", "softmax", "log_softmax",
       "one_hot", "multi_hot", "moments", "sparse_categorical_crossentropy", "categorical_crossentropy",
       "binary_crossentropy", "logsumexp", "dot_product_attention", "normalize", "mish"}
nn = _namespace("nn", sorted(_NN & set(__all__)))
numpy = _namespace("numpy", sorted(set(__all__) - _NN))
