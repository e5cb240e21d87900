"""Quasi-Newton minimization: ``fastopt.minimize(fun, x0, jac=True, ...)``.

``fastopt.minimize.minimize_batched(fun, X0, jac=True, ...)`` solves B problems of one size
with one vectorized evaluation per round.

The module itself is callable, so ``fastopt.minimize(...)`` and
``fastopt.minimize.minimize(...)`` are the same function, and ``fastopt.minimize.LBFGSState``
names the warm-start state.
"""

import sys
import types

from fastopt.minimize._batched import minimize_batched
from fastopt.minimize._driver import Status
from fastopt.minimize._gpu_state import GPULBFGSState
from fastopt.minimize._linesearch import LineSearchResult, backtracking_armijo, more_thuente
from fastopt.minimize._minimize import DEFAULT_OPTIONS, minimize
from fastopt.minimize._owlqn import pseudo_gradient
from fastopt.minimize._state import LBFGSInverseHessian, LBFGSState

__all__ = [
    "DEFAULT_OPTIONS",
    "GPULBFGSState",
    "LBFGSInverseHessian",
    "LBFGSState",
    "LineSearchResult",
    "Status",
    "backtracking_armijo",
    "minimize",
    "minimize_batched",
    "more_thuente",
    "pseudo_gradient",
]


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return minimize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
