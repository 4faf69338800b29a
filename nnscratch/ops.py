"""``nnscratch.ops``: NumPy-like functions on whole arrays, differentiable on ``Tensor``s (Keras-style names).

On NumPy arrays and Python numbers each op simply computes (arrays in, arrays out); on Tensors that require
grad it also records itself for ``nnscratch.autodiff`` (see there and ``docs/ops.md``).
"""

from .autodiff.convert import cast, convert_to_numpy, convert_to_tensor, ones_like, shape, stop_gradient, zeros_like
from .autodiff.discrete import (argmax, argmin, argsort, ceil, equal, floor, greater, greater_equal, isfinite, isinf,
                                isnan, less, less_equal, logical_and, logical_not, logical_or, logical_xor, not_equal,
                                one_hot, round, sign)
from .autodiff.elementwise import (abs, absolute, add, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, clip,
                                   cos, cosh, divide, exp, expm1, log, log1p, log2, log10, maximum, minimum, multiply,
                                   negative, power, reciprocal, sin, sinh, sqrt, square, subtract, tan, tanh,
                                   true_divide, where)
from .autodiff.indexing import getitem, take, take_along_axis
from .autodiff.linalg import dot, einsum, matmul, outer, tensordot
from .autodiff.nn import elu, gelu, leaky_relu, log_sigmoid, log_softmax, logsumexp, relu, sigmoid, silu, softmax, softplus
from .autodiff.reductions import cumsum, max, mean, min, norm, prod, std, sum, var
from .autodiff.shapes import (broadcast_to, concatenate, expand_dims, moveaxis, pad, ravel, repeat, reshape, split,
                              squeeze, stack, swapaxes, tile, transpose)

__all__ = [
    "abs", "absolute", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax",
    "argmin", "argsort", "broadcast_to", "cast", "ceil", "clip", "concatenate", "convert_to_numpy",
    "convert_to_tensor", "cos", "cosh", "cumsum", "divide", "dot", "einsum", "elu", "equal", "exp", "expand_dims",
    "expm1", "floor", "gelu", "getitem", "greater", "greater_equal", "isfinite", "isinf", "isnan", "leaky_relu",
    "less", "less_equal", "log", "log10", "log1p", "log2", "log_sigmoid", "log_softmax", "logical_and",
    "logical_not", "logical_or", "logical_xor", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum",
    "moveaxis", "multiply", "negative", "norm", "not_equal", "one_hot", "ones_like", "outer", "pad", "power", "prod",
    "ravel", "reciprocal", "relu", "repeat", "reshape", "round", "shape", "sigmoid", "sign", "silu", "sin", "sinh",
    "softmax", "softplus", "split", "sqrt", "square", "squeeze", "stack", "std", "stop_gradient", "subtract", "sum",
    "swapaxes", "take", "take_along_axis", "tan", "tanh", "tensordot", "tile", "transpose", "true_divide", "var",
    "where", "zeros_like",
]
