"""Evaluation of the user's objective: counting, the evaluation budget and output checks."""

from __future__ import annotations

import math

import numpy as np

from fastopt import _gpu
from fastopt.minimize import _device


class BudgetExhausted(Exception):
    """Raised instead of an evaluation that would exceed ``maxfun``."""


class Objective:
    """Call ``fun`` (and ``jac``) at points of one dtype and copy the gradient into a buffer.

    ``jac=True`` means ``fun`` returns ``(f, g)``; a callable ``jac`` is called after
    ``fun`` at the same point. Evaluations past ``maxfun`` raise :class:`BudgetExhausted`
    before calling anything, so the budget is a hard limit. Returns ``f`` as a Python float;
    a value or gradient that is not finite is returned as ``nan``/``inf`` for the caller to
    reject, while a wrong type or shape raises ValueError naming it.
    """

    def __init__(self, fun, jac, n: int, dtype, maxfun: int):
        if not callable(fun):
            raise ValueError(f"fun: expected a callable, got {type(fun).__name__}")
        if jac is None or jac is False:
            raise ValueError(
                "jac: fastopt.minimize needs the gradient: pass jac=True when fun returns "
                "(f, g), or a callable jac(x) returning g; it does not estimate gradients by "
                "finite differences")
        if jac is not True and not callable(jac):
            raise ValueError(f"jac: expected True or a callable, got {jac!r}")
        self.fun = fun
        self.jac = jac
        self.n = n
        self.dtype = np.dtype(dtype)
        self.maxfun = maxfun
        self.nfev = 0
        self.njev = 0
        #: From the last evaluation: g'd when a direction was passed (else 0.0), and
        #: max |g_i| (NaN when the gradient is not finite).
        self.last_slope = 0.0
        self.last_inf_norm = 0.0

    def __call__(self, x: np.ndarray, g_out: np.ndarray, d: np.ndarray | None = None
                 ) -> tuple[float, bool]:
        """Evaluate at ``x``, write the gradient into ``g_out``; return (f, all finite).

        The copy into ``g_out``, the finiteness test and, with a direction ``d``, the slope
        :math:`g^\top d` are one pass over the gradient; the slope and the gradient's inf-norm
        are left in ``last_slope`` and ``last_inf_norm``.
        """
        if self.nfev >= self.maxfun:
            raise BudgetExhausted
        self.nfev += 1
        if self.jac is True:
            out = self.fun(x)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise ValueError(
                    "fun: with jac=True, expected fun(x) to return a pair (f, g), got "
                    f"{type(out).__name__}")
            f, g = out
        else:
            f = self.fun(x)
            g = self.jac(x)
        self.njev += 1
        f = self._scalar(f)
        source = self._checked_gradient(g, g_out)
        slope, inf_norm, finite_g = _device.gradient_pass(source, g_out, d)
        self.last_slope = slope
        self.last_inf_norm = inf_norm
        return f, math.isfinite(f) and finite_g

    @staticmethod
    def _scalar(f) -> float:
        if _gpu.is_gpu_array(f):
            # A 0-d CuPy array (the usual result of a reduction): one copy to the host.
            f = _gpu.as_cupy(f)
            if f.ndim != 0:
                raise ValueError(
                    f"fun: expected a scalar objective value, got an array of shape {f.shape}")
            f = f.get()
        if np.ndim(f) != 0:
            raise ValueError(
                f"fun: expected a scalar objective value, got an array of shape {np.shape(f)}")
        if np.iscomplexobj(f):
            raise ValueError(f"fun: expected a real scalar objective value, got complex {f!r}")
        try:
            return float(f)
        except (TypeError, ValueError):
            raise ValueError(
                f"fun: expected a real scalar objective value, got {type(f).__name__} {f!r}"
            ) from None

    def _checked_gradient(self, g, g_out: np.ndarray) -> np.ndarray:
        """Return the array the kernel copies into ``g_out``, after checking ``g``.

        A C-contiguous gradient of the run's dtype is read directly; any other is first
        converted into ``g_out`` by NumPy (CuPy on the GPU), and the kernel then checks it in
        place. A gradient on another device than ``x`` raises TypeError naming both.
        """
        on_gpu = _gpu.is_gpu_array(g_out)
        if on_gpu or _gpu.is_gpu_array(g):
            _gpu.check_one_device(x=g_out, jac=g)
        xp = _device.array_module(g_out)
        g = _gpu.as_cupy(g) if on_gpu else np.asarray(g)
        if g.shape != (self.n,):
            raise ValueError(
                f"jac: expected a gradient of shape ({self.n},), got shape {g.shape}")
        if g.dtype.kind not in "fiu":
            raise ValueError(f"jac: expected a real gradient, got dtype {g.dtype}")
        if (g.dtype == g_out.dtype and g.flags.c_contiguous
                and not xp.may_share_memory(g, g_out)):
            return g
        xp.copyto(g_out, g, casting="unsafe")
        return g_out
