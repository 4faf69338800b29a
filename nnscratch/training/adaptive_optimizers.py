"""``Adagrad``, ``Adamax`` and ``Nadam``, with Keras's formulas and defaults (``g`` = gradient, ``t`` = the step
number from 1)::

    Adagrad:  a = a + g**2 (a starts at initial_accumulator_value);  data -= lr * g / sqrt(a + eps)
    Adamax:   m = b1 * m + (1 - b1) * g;  u = max(b2 * u, |g|);  data -= lr / (1 - b1**t) * m / (u + eps)
    Nadam:    m, v as Adam's;  mu_t = b1 * (1 - 0.5 * 0.96**(0.004 t)),  P_t = mu_1 ... mu_t
              m_hat = mu_(t+1) * m / (1 - P_(t+1)) + (1 - mu_t) * g / (1 - P_t);  v_hat = v / (1 - b2**t)
              data -= lr * m_hat / (sqrt(v_hat) + eps)

Like the others they take Keras's argument names, and their update is element-wise (one pass over the
packed parameters when they can be packed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core.parameter import Parameter
from . import optimizers
from .optimizer_args import keras_arguments
from .optimizer_base import Optimizer, _check
from .optimizers import Adam
from .schedules import Schedule


class Adagrad(Optimizer):
    """Adagrad: steps shrink with the sum of squared gradients seen; slot ``accumulator``."""

    name = "adagrad"
    elementwise = True

    @keras_arguments
    def __init__(self, params: Iterable[Parameter] | None = None, lr: float | Schedule = 0.001,
                 initial_accumulator_value: float = 0.1, eps: float = 1e-7, weight_decay: float = 0.0,
                 **clipping: Any) -> None:
        self.initial_accumulator_value = _check("initial_accumulator_value", initial_accumulator_value, ">= 0",
                                                lambda v: v >= 0)
        self.eps = _check("eps", eps, "> 0", lambda v: v > 0)
        super().__init__(params, lr, weight_decay, **clipping)

    @property
    def slots(self) -> tuple[str, ...]:
        return ("accumulator",)

    def attach(self, params: Iterable[Parameter]) -> None:
        before = self.state
        super().attach(params)
        if self.state is not before:  # new state (zeros): the accumulators start at their initial value
            for state in self.state:
                state["accumulator"][...] = self.initial_accumulator_value

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        a = state["accumulator"]
        np.multiply(g, g, out=tmp)
        a += tmp
        np.add(a, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        data -= tmp

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps}


class Adamax(Adam):
    """Adam with the infinity norm in place of the second moment; slots ``m`` and ``u``."""

    name = "adamax"

    @keras_arguments
    def __init__(self, params: Iterable[Parameter] | None = None, lr: float | Schedule = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7, weight_decay: float = 0.0, **clipping: Any) -> None:
        super().__init__(params, lr, beta1, beta2, eps, weight_decay, **clipping)

    @property
    def slots(self) -> tuple[str, ...]:
        return ("m", "u")

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        m, u = self.first_moment(state, g, tmp), state["u"]
        u *= self.beta2
        np.maximum(u, np.abs(g, out=tmp), out=u)
        np.add(u, self.eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - self.beta1**self.iterations)
        data -= tmp


class Nadam(Adam):
    """Adam with Nesterov momentum and Keras's momentum schedule; slots ``m`` and ``v``."""

    name = "nadam"

    @keras_arguments
    def __init__(self, params: Iterable[Parameter] | None = None, lr: float | Schedule = 0.001, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7, weight_decay: float = 0.0, **clipping: Any) -> None:
        self._product: tuple[int, float] = (0, 1.0)  # (t, mu_1 ... mu_t): a function of t, kept between steps
        super().__init__(params, lr, beta1, beta2, eps, weight_decay, **clipping)

    def _mu(self, t: int) -> float:
        return self.beta1 * (1.0 - 0.5 * 0.96 ** (0.004 * t))

    def _mu_product(self, t: int) -> float:
        done, product = self._product
        if done > t:  # (after loading an older state)
            done, product = 0, 1.0
        for s in range(done + 1, t + 1):
            product *= self._mu(s)
        self._product = (t, product)
        return product

    def _update(self, data: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], tmp: np.ndarray,
                lr: float) -> None:
        t = self.iterations
        m = self.first_moment(state, g, tmp)
        root_c2 = self.second_moment_root(state, g, tmp)  # lr * m_hat / (sqrt(v / c2) + eps)
        mu, mu_next, product = self._mu(t), self._mu(t + 1), self._mu_product(t)
        m_hat = m * (mu_next / (1.0 - product * mu_next)) + g * ((1.0 - mu) / (1.0 - product))
        data -= m_hat / tmp * (lr * root_c2)


optimizers.OPTIMIZERS.update({"adagrad": Adagrad, "adamax": Adamax, "nadam": Nadam})
