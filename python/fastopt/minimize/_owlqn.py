r"""OWL-QN (Andrew & Gao, 2007): L-BFGS for :math:`f(x) + \sum_i \lambda_i |x_i|`.

The quasi-Newton driver runs OWL-QN unchanged through two parts. :class:`L1Objective` adds the
L1 term to ``f``. :class:`Orthant`, in the place of a feasible set, uses the pseudo-gradient for
the direction and the stopping test, projects the direction onto the orthant of the negative
pseudo-gradient and projects every trial point onto the orthant of the current iterate. The
curvature pairs keep the gradient of the smooth part ``f``. The per-element steps run in the
compiled kernels ``_core.owlqn_*``, which give the same bits as the NumPy code in
:func:`pseudo_gradient`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from fastopt import _core
from fastopt.minimize._bounds import STEP_MAX


def check_l1(l1, n: int) -> float | np.ndarray:
    """Return ``l1`` as a float or a float64 array of shape ``(n,)``, or raise ValueError."""
    if l1 is None:
        raise ValueError("l1: method='owlqn' needs options['l1'], the L1 strength: a number "
                         f">= 0 or an array of shape ({n},)")
    if isinstance(l1, bool):
        raise ValueError(f"l1: expected a number >= 0 or an array of shape ({n},), got {l1!r}")
    if isinstance(l1, numbers.Real):
        value = float(l1)
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"l1: expected a finite number >= 0, got {l1!r}")
        return value
    try:
        arr = np.asarray(l1)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a bad l1
        raise ValueError(f"l1: expected a number or an array of shape ({n},), got "
                         f"{type(l1).__name__} ({exc})") from None
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"l1: expected real numbers, got dtype {arr.dtype}")
    if arr.ndim == 0:
        return check_l1(float(arr), n)
    if arr.shape != (n,):
        raise ValueError(f"l1: expected a number or an array of shape ({n},) to match x0, "
                         f"got shape {arr.shape}")
    arr = np.array(arr, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0.0)))
    if bad.size:
        value = float(arr[bad[0]])
        raise ValueError(f"l1: expected finite values >= 0, got l1[{bad[0]}] = {value!r}")
    return arr


def _dot64(a, b) -> float:
    """Return a'b summed in float64 without BLAS.

    OpenBLAS splits a product of more than 10000 entries over its own threads, which keep
    spinning after the call and take the cores of the next pass over the data. On news20
    (62061 coefficients, 2 cores) that made OWL-QN 5.7 times slower.
    """
    return float(np.einsum("i,i->", a, b, dtype=np.float64))


def l1_penalty(x: np.ndarray, l1) -> float:
    r"""Return :math:`\sum_i \lambda_i |x_i|`, accumulated in float64."""
    if isinstance(l1, float):
        return l1 * float(np.sum(np.abs(x), dtype=np.float64))
    return _dot64(l1, np.abs(x))


def pseudo_gradient(x: np.ndarray, g: np.ndarray, l1, out: np.ndarray | None = None):
    r"""Return the pseudo-gradient of :math:`F(x) = f(x) + \sum_i \lambda_i |x_i|`.

    Component :math:`i` is :math:`g_i + \lambda_i \operatorname{sign}(x_i)` when
    :math:`x_i \ne 0`. At :math:`x_i = 0` it is the one-sided derivative that points downhill:
    :math:`g_i + \lambda_i` if that is negative, :math:`g_i - \lambda_i` if that is positive,
    and 0 when :math:`|g_i| \le \lambda_i` (0 is optimal in that coordinate). ``F`` is at a
    minimum exactly where the pseudo-gradient is zero (for convex ``f``).

    Parameters
    ----------
    x : numpy.ndarray of shape (n,)
        The point.
    g : numpy.ndarray of shape (n,)
        The gradient of the smooth part ``f`` at ``x``.
    l1 : float or numpy.ndarray of shape (n,)
        The L1 weights :math:`\lambda_i \ge 0`, one for all coordinates or one each.
    out : numpy.ndarray of shape (n,), optional
        Array to write the result into.

    Returns
    -------
    numpy.ndarray of shape (n,)
        The pseudo-gradient, ``out`` when given.

    References
    ----------
    Andrew, G. and Gao, J. "Scalable training of L1-regularized log-linear models",
    ICML 2007.

    Examples
    --------
    At :math:`x_1 = 0` the gradient 0.5 is smaller than :math:`\lambda = 1`, so 0 is
    optimal there; at :math:`x_2 = 0` the gradient -2 wins and the one-sided derivative
    -1 points to positive values:

    >>> import numpy as np
    >>> from fastopt.minimize import pseudo_gradient
    >>> pseudo_gradient(np.array([0.0, 0.0, 1.0]), np.array([0.5, -2.0, 0.3]), 1.0)
    array([ 0. , -1. ,  1.3])
    """
    lam = np.asarray(l1, dtype=x.dtype) if not isinstance(l1, float) else x.dtype.type(l1)
    right = g + lam
    left = g - lam
    at_zero = np.where(right < 0, right, np.where(left > 0, left, 0))
    pg = np.where(x > 0, right, np.where(x < 0, left, at_zero))
    if out is None:
        return pg.astype(x.dtype, copy=False)
    np.copyto(out, pg, casting="unsafe")
    return out


class L1Objective:
    """The user's objective with the L1 term added to ``f``; the gradient stays that of ``f``."""

    def __init__(self, objective, l1):
        self.objective = objective
        self.l1 = l1

    @property
    def nfev(self) -> int:
        return self.objective.nfev

    @property
    def njev(self) -> int:
        return self.objective.njev

    def __call__(self, x: np.ndarray, g_out: np.ndarray) -> tuple[float, bool]:
        f, finite = self.objective(x, g_out)
        return f + l1_penalty(x, self.l1), finite


class Orthant:
    r"""The orthant-wise steps of OWL-QN for the quasi-Newton driver.

    With :math:`v = \diamond F(x)` the pseudo-gradient (:func:`pseudo_gradient`):

    - stationarity is :math:`\|v\|_\infty`, so ``gtol`` applies to the pseudo-gradient;
    - the direction strategy receives :math:`v` in place of the gradient, and its direction
      :math:`d = -Hv` is projected onto the orthant of :math:`-v`: :math:`d_i = 0` wherever
      :math:`d_i v_i \ge 0`, so :math:`d` is a descent direction of ``F``;
    - every trial point :math:`x + \alpha d` is projected onto the orthant
      :math:`\xi_i = \operatorname{sign}(x_i)`, or :math:`\operatorname{sign}(-v_i)` where
      :math:`x_i = 0`: a coordinate that would change sign is set to exactly 0.0;
    - the line search's initial slope is :math:`v^\top d`, the directional derivative of
      ``F`` along ``d`` at ``x``.

    Coordinates with :math:`\lambda_i = 0` skip both projections: there ``F`` is smooth, and
    they move as in L-BFGS, across zero if need be. With every :math:`\lambda_i = 0` the
    iterates are those of L-BFGS with the same line search.
    """

    bounded = False

    def __init__(self, l1, n: int, dtype):
        self.l1 = l1
        # Coordinates without an L1 term (None: every coordinate has one, so no masking).
        if isinstance(l1, float):
            self._free = np.ones(n, bool) if l1 == 0.0 else None
        else:
            self._free = (l1 == 0.0) if np.any(l1 == 0.0) else None
        self._pg = np.empty(n, dtype)
        self._orthant = np.empty(n, dtype)

    def project(self, x: np.ndarray) -> None:
        pass

    def stationarity(self, x: np.ndarray, g: np.ndarray) -> float:
        return _core.owlqn_pseudo_gradient(x, g, self.l1, self._pg)

    def direction_gradient(self, x, g, stationarity: float):
        _core.owlqn_pseudo_gradient(x, g, self.l1, self._pg)
        np.sign(x, out=self._orthant)
        at_zero = self._orthant == 0
        self._orthant[at_zero] = -np.sign(self._pg[at_zero])
        return self._pg, None

    def finish_direction(self, d, g, active, gamma: float) -> None:
        _core.owlqn_project_direction(self._pg, self.l1, d)

    def initial_slope(self, x, d, g) -> float:
        return _dot64(self._pg, d)

    def step_max(self, x, d) -> float:
        return STEP_MAX

    def trial(self, x, d, alpha: float, out: np.ndarray) -> None:
        _core.owlqn_trial(x, d, alpha, self._pg, self.l1, out)

    def _crossed(self, t: np.ndarray) -> np.ndarray:
        """Return the mask of penalized coordinates of ``t`` outside the orthant."""
        crossed = np.sign(t) != self._orthant
        if self._free is not None:
            crossed &= ~self._free
        return crossed

    def slope(self, x, d, alpha: float, g_trial) -> float:
        # Directional derivative of F along the projected path at the trial point: the
        # coordinates held at zero by the projection no longer move.
        t = x + d * x.dtype.type(alpha)
        t[self._crossed(t)] = 0
        moving = t != 0
        if self._free is not None:
            moving |= self._free
        lam = self.l1 if isinstance(self.l1, float) else self.l1[moving]
        return _dot64(g_trial[moving] + lam * np.sign(t[moving]), d[moving])
