"""Local search of the derivative-free methods: bounded L-BFGS on finite differences.

The search runs as a generator in the style of the optimizers of this package: it yields
batches of points and receives their values, so every evaluation passes through the
caller's budget. A forward-difference gradient is one batch of ``n`` points, which a
vectorized objective evaluates in one call.
"""

from __future__ import annotations

import numpy as np

# Memory of the L-BFGS update: pairs (s, y) kept for the two-loop recursion.
_MEMORY = 8
# Sufficient decrease of the Armijo rule, and the backtracking factor of the step.
_ARMIJO, _BACKTRACK = 1e-4, 0.5
_MAX_BACKTRACKS = 20
# Forward differences step by sqrt(machine epsilon) times the coordinate's scale, which
# balances truncation and rounding errors for smooth functions.
_FD_STEP = np.sqrt(np.finfo(np.float64).eps)
# The search stops when an iteration lowers f by less than this fraction of max(|f|, 1).
_FTOL = 1e-12
# Default evaluations of one local search per variable: about 100 gradient steps of n + 1
# points. In dimension 10 that is enough for L-BFGS to follow Rosenbrock's valley.
LOCAL_FEV_PER_VARIABLE = 100


def _gradient(x, f, lower, upper):
    """Yield the forward-difference points around ``x``; return the gradient estimate."""
    n = x.size
    h = _FD_STEP * np.maximum(np.abs(x), 1.0)
    # At an upper bound the difference steps down, so the point stays feasible.
    h = np.where(x + h > upper, -h, h)
    points = np.repeat(x[None], n, axis=0)
    points[np.arange(n), np.arange(n)] += h
    values = yield points
    return (values - f) / h


def _direction(g, pairs):
    """L-BFGS two-loop recursion: an approximation of -H^{-1} g from the stored pairs."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * (s @ q)
        q -= a * y
        alphas.append(a)
    if pairs:
        s, y, _ = pairs[-1]
        q *= (s @ y) / (y @ y)
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        q += s * (a - rho * (y @ q))
    return -q


def local_search(x, f, lower, upper, maxfev, target=None):
    """Minimize from ``x`` (value ``f``) within [lower, upper] in at most ``maxfev``
    evaluations, as a generator of batches. The search also stops once f <= ``target``.

    Returns (x, f, nfev). The value f is never above the starting value, because the
    search only moves to points whose evaluated value passed the Armijo rule.

    Coordinates at a bound whose gradient points outward are held fixed, as in a projected
    L-BFGS step. The step length then backtracks from 1 along the projected direction
    until the Armijo rule holds.
    """
    x = np.array(x, dtype=np.float64)
    f = float(f)
    n = x.size
    nfev = 0
    pairs = []
    g = None
    while nfev + n + 1 <= maxfev and np.isfinite(f):
        if target is not None and f <= target:
            break
        if g is None:
            g = yield from _gradient(x, f, lower, upper)
            nfev += n
        free = ~(((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0)))
        d = _direction(np.where(free, g, 0.0), pairs)
        d[~free] = 0.0
        slope = g @ d
        if not slope < 0.0:
            # The curvature pairs no longer give a descent direction: restart from -g.
            pairs.clear()
            d = np.where(free, -g, 0.0)
            slope = g @ d
            if not slope < 0.0:
                break
        # Without curvature pairs, the first step moves at most a tenth of the box.
        step = 1.0 if pairs else min(1.0, 0.1 * np.max(upper - lower) / np.linalg.norm(d))
        accepted = None
        for _ in range(_MAX_BACKTRACKS):
            if nfev + 1 > maxfev:
                break
            trial = np.clip(x + step * d, lower, upper)
            value = float((yield trial[None])[0])
            nfev += 1
            # Clipping can turn the step's slope positive, so also require a decrease.
            if value <= min(f, f + _ARMIJO * (g @ (trial - x))):
                accepted = trial, value
                break
            step *= _BACKTRACK
        if accepted is None:
            break
        trial, value = accepted
        decrease = f - value
        if nfev + n > maxfev:
            x, f = trial, value
            break
        g_new = yield from _gradient(trial, value, lower, upper)
        nfev += n
        s, y = trial - x, g_new - g
        if s @ y > 1e-12 * (y @ y):
            pairs.append((s, y, 1.0 / (s @ y)))
            del pairs[:-_MEMORY]
        x, f, g = trial, value, g_new
        if decrease <= _FTOL * max(abs(f), 1.0):
            break
    return x, f, nfev


class Polish:
    """Local phase of the global methods: :func:`local_search` from a point. Each search
    gets at most ``maxfev`` evaluations and never more than ``budget`` has left, and its
    evaluations are added to ``budget``."""

    def __init__(self, budget, lower, upper, maxfev):
        self.budget, self.lower, self.upper, self.maxfev = budget, lower, upper, maxfev
        self.count = 0

    def run(self, x, f):
        """Yield the search's batches, then return its point and value. Without room in the
        budget for a gradient and a step, return (x, f) unchanged."""
        room = self.budget.room()
        cap = self.maxfev if room is None else min(self.maxfev, room)
        if cap <= self.lower.size:
            return x, f
        x, f, used = yield from local_search(x, f, self.lower, self.upper, cap,
                                             self.budget.target)
        self.budget.nfev += used
        self.count += 1
        return x, f
