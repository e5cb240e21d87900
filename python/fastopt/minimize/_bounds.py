"""Feasible sets for the quasi-Newton driver: the whole space, or a box with L-BFGS-B semantics.

A feasible set decides which gradient the direction strategy uses, the search path
``x(alpha)`` that every trial point lies on, the slope ``phi'(alpha)`` along that path, and the
stationarity measure used by the ``gtol`` test.
"""

from __future__ import annotations

import numpy as np

from fastopt import _core
from fastopt.minimize import _device

# Largest step a line search may try when the path never leaves the box.
STEP_MAX = 1e10

# Largest relative distance to a bound at which a variable can count as active.
EPS_ACTIVE = 1e-6


class Unconstrained:
    """The whole space: trial points ``x + alpha d`` and stationarity ``||g||_inf``.

    Every pass is a compiled kernel with no temporary array, and every inner product is
    summed in an order that does not depend on the thread count.
    """

    bounded = False

    def project(self, x: np.ndarray) -> None:
        pass

    def stationarity(self, x: np.ndarray, g: np.ndarray) -> float:
        # The in-place form of the gradient pass only reads g; a NaN there propagates.
        return _device.gradient_pass(g, g)[1]

    def direction_gradient(self, x, g, stationarity: float):
        """Return the gradient the direction strategy uses, and the active mask (None)."""
        return g, None

    def finish_direction(self, d, g, active, gamma: float) -> None:
        pass

    def initial_slope(self, x, d, g) -> float:
        return _device.dot(g, d)

    def step_max(self, x, d) -> float:
        return STEP_MAX

    def trial(self, x, d, alpha: float, out: np.ndarray) -> None:
        _device.trial(x, d, alpha, out)

    def slope(self, x, d, alpha: float, g_trial) -> float:
        return _device.dot(g_trial, d)


class Box:
    r"""Bounds ``lower <= x <= upper`` handled by a projected (two-metric) L-BFGS step.

    Trial points are ``P(x + alpha d)``, the projection of a step onto the box, so every
    evaluated point is feasible. The direction follows Bertsekas (1982), "Projected Newton
    methods for optimization problems with simple constraints", SIAM J. Control Optim. 20(2):
    variables within :math:`\epsilon = \min(\|x - P(x - g)\|_2, 10^{-6})` (relative to
    ``max(1, |bound|)``) of a bound with the gradient pointing out of the box form the active
    set :math:`A`; the L-BFGS matrix acts on the
    other variables (:math:`d_F = -(H g_F)_F` with :math:`g_A` set to zero) and the active
    ones take a scaled steepest descent step :math:`d_A = -\gamma g_A` that the projection
    stops at the bound. Stationarity is the inf-norm of the projected gradient
    :math:`P(x - g) - x`, as in L-BFGS-B.
    """

    bounded = True

    def __init__(self, lower: np.ndarray, upper: np.ndarray):
        self.lower = lower
        self.upper = upper
        # Distances to a bound are relative to max(1, |bound|); infinite bounds get scale 1
        # so that -inf + eps * scale stays -inf.
        self._low_scale = np.where(np.isfinite(lower), np.maximum(1.0, np.abs(lower)), 1.0)
        self._high_scale = np.where(np.isfinite(upper), np.maximum(1.0, np.abs(upper)), 1.0)
        self._work = np.empty_like(lower)

    def project(self, x: np.ndarray) -> None:
        np.clip(x, self.lower, self.upper, out=x)

    def stationarity(self, x, g) -> float:
        if not x.size:
            return 0.0
        pg = np.clip(x - g, self.lower, self.upper) - x
        return float(np.max(np.abs(pg)))

    def direction_gradient(self, x, g, stationarity: float):
        pg = np.clip(x - g, self.lower, self.upper) - x
        # Bertsekas's eps shrinks with the projected gradient; the relative cap keeps
        # variables that are merely heading toward a bound in the quasi-Newton part.
        eps = min(float(np.linalg.norm(pg)), EPS_ACTIVE)
        near_low = x <= self.lower + eps * self._low_scale
        near_high = x >= self.upper - eps * self._high_scale
        active = (near_low & (g > 0)) | (near_high & (g < 0))
        if not active.any():
            return g, None
        masked = self._work
        np.copyto(masked, g)
        masked[active] = 0
        return masked, active

    def finish_direction(self, d, g, active, gamma: float) -> None:
        if active is not None:
            d[active] = -d.dtype.type(gamma) * g[active]

    def _moving(self, x, d, alpha: float):
        t = x + d * x.dtype.type(alpha)
        return (t > self.lower) & (t < self.upper)

    def initial_slope(self, x, d, g) -> float:
        blocked = ((x <= self.lower) & (d < 0)) | ((x >= self.upper) & (d > 0))
        return _core.lbfgs_dot(np.where(blocked, g.dtype.type(0), g), d)

    def step_max(self, x, d) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(d > 0, (self.upper - x) / d, np.where(d < 0, (self.lower - x) / d, 0))
        room = room[d != 0]
        if room.size == 0:
            return 0.0
        largest = float(np.max(room))
        return STEP_MAX if not np.isfinite(largest) else min(largest, STEP_MAX)

    def trial(self, x, d, alpha: float, out: np.ndarray) -> None:
        _core.lbfgs_trial(x, d, alpha, out, self.lower, self.upper)

    def slope(self, x, d, alpha: float, g_trial) -> float:
        moving = self._moving(x, d, alpha)
        return _core.lbfgs_dot(np.where(moving, g_trial, g_trial.dtype.type(0)), d)


def parse_bounds(bounds, n: int, dtype) -> Box | Unconstrained:
    """Return the feasible set for ``bounds`` or raise ValueError naming the bad entry.

    ``bounds`` is an ``(n, 2)`` array or a sequence of ``n`` pairs ``(low, high)``, where
    ``None`` or an infinity leaves that side unbounded. In float32 a bound that is not
    representable is rounded inward, so feasible float32 points satisfy the given bound.
    """
    if bounds is None:
        return Unconstrained()
    try:
        rows = [tuple(b) for b in bounds]
    except TypeError:
        raise ValueError(
            f"bounds: expected an (n, 2) array or a sequence of (low, high) pairs, got "
            f"{type(bounds).__name__}") from None
    if len(rows) != n:
        raise ValueError(f"bounds: expected {n} (low, high) pairs to match x0, got {len(rows)}")
    lower = np.empty(n)
    upper = np.empty(n)
    for i, row in enumerate(rows):
        if len(row) != 2:
            raise ValueError(f"bounds[{i}]: expected a pair (low, high), got {row!r}")
        low, high = row
        try:
            lower[i] = -np.inf if low is None else float(low)
            upper[i] = np.inf if high is None else float(high)
        except (TypeError, ValueError):
            raise ValueError(f"bounds[{i}]: expected numbers or None, got {row!r}") from None
        if np.isnan(lower[i]) or np.isnan(upper[i]):
            raise ValueError(f"bounds[{i}]: expected numbers or None, got {row!r}")
        if lower[i] > upper[i]:
            raise ValueError(
                f"bounds[{i}]: lower bound {float(lower[i])!r} > upper bound {float(upper[i])!r}")
        if lower[i] == np.inf or upper[i] == -np.inf:
            raise ValueError(f"bounds[{i}]: expected a non-empty interval, got {row!r}")
    if np.all(np.isinf(lower)) and np.all(np.isinf(upper)):
        return Unconstrained()
    lower_t = lower.astype(dtype)
    upper_t = upper.astype(dtype)
    up = lower_t.astype(np.float64) < lower
    lower_t[up] = np.nextafter(lower_t[up], dtype.type(np.inf))
    down = upper_t.astype(np.float64) > upper
    upper_t[down] = np.nextafter(upper_t[down], dtype.type(-np.inf))
    return Box(lower_t, upper_t)
