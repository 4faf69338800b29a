"""Reverse-mode automatic differentiation over NumPy: the ``Tensor`` type, the tape, and the ops.

Every op (``nnscratch.ops``) computes with NumPy. Given plain arrays it returns plain arrays, with nothing
recorded. Given a ``Tensor`` that requires grad it returns a ``Tensor`` linked to its inputs, and the
gradient of any result can then be asked for::

    from nnscratch import ops
    from nnscratch.autodiff import Tensor, record, vjp

    w = Tensor(np.zeros((3, 1), "float32"), requires_grad=True)     # PyTorch style
    loss = ops.mean(ops.square(x @ w - y))
    loss.backward()                      # w.grad = dloss/dw (accumulates, as in PyTorch)

    with record() as tape:               # Keras/TensorFlow style
        w = tape.watch(w_array)
        loss = ops.mean(ops.square(x @ w - y))
    dw = tape.gradient(loss, w)          # or tape.gradient(loss, [a, b]) -> [da, db]

API for layers (code written with ops, no hand-written backward)::

    out, backward = vjp(fn, *args)       # runs fn(*args) once, recording it
    grads = backward(grad_out)           # one entry per argument: dLoss/darg, None where there is none

``args`` may nest tuples/lists/dicts, so the parameters travel next to the inputs and get their
gradients back in the same nesting: ``out, back = vjp(lambda x, p: ops.relu(x @ p[0] + p[1]), x, [w, b])``,
then ``dx, (dw, db) = back(g)``. Floating-point arrays in ``args`` are watched; integer arrays, Python
numbers and None pass through unchanged (their gradient is None), as does any output that does not
depend on a watched array.

Rules of the game: gradients are summed where a value is used twice and summed over broadcast axes;
``stop_gradient``, comparisons, ``argmax``, ``sign``, rounding, ``one_hot`` and casts to integers pass no
gradient; ``no_grad()`` turns recording off. The graph holds references to the arrays it used: do not
modify them in place between the forward pass and ``backward``. Rules compute with NumPy, so the
gradient is not itself differentiable (no second derivatives). ``docs/ops.md`` explains the design.
"""

from . import (
    layer_calls,  # noqa: F401  (installs Layer.call_engine)
    operation,  # noqa: F401  (installs SymbolicTensor.operation_hook: ops on symbolic tensors make graph nodes)
    operators,
)
from .gradients import GradientTape, Tape, record, vjp
from .tape import Tensor, enable_grad, is_grad_enabled, no_grad

operators.install()

__all__ = ["GradientTape", "Tape", "Tensor", "enable_grad", "is_grad_enabled", "no_grad", "record", "vjp"]
