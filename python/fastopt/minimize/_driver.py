"""The quasi-Newton loop shared by every method: direction, line search, pair update, stops.

The loop is generic over three parts: a direction strategy (the L-BFGS history, or another
quasi-Newton matrix), a feasible set (the whole space or a box, which fixes the search path
and the stationarity measure) and a line search. It owns the stopping tests and the promise
that the returned ``x``, ``fun`` and ``jac`` are the best accepted iterate and belong together.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from scipy.optimize import OptimizeResult

from fastopt.minimize import _device
from fastopt.minimize._bounds import Unconstrained
from fastopt.minimize._linesearch import backtracking_armijo, more_thuente
from fastopt.minimize._objective import BudgetExhausted, Objective


class Status(IntEnum):
    """Reason a run stopped; ``success`` is True for the first three.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.minimize import Status, minimize
    >>> result = minimize(lambda x: (float(x @ x), 2 * x), np.ones(2), jac=True)
    >>> Status(result.status).name, result.success
    ('GTOL', True)
    """

    #: The stationarity measure (projected gradient inf-norm) fell to gtol.
    GTOL = 0
    #: The relative reduction of f in the last iteration fell to ftol.
    FTOL = 1
    #: The line search cannot decrease f any further in the working precision.
    PRECISION_FLOOR = 2
    #: maxiter iterations were done.
    MAXITER = 3
    #: The maxfun evaluation budget ran out.
    MAXFUN = 4
    #: The line search failed along the quasi-Newton and the steepest descent direction.
    LINE_SEARCH_FAILED = 5
    #: f or its gradient is not finite at the starting point.
    NOT_FINITE = 6
    #: The callback returned True or raised StopIteration.
    CALLBACK = 99


SUCCESS = {Status.GTOL, Status.FTOL, Status.PRECISION_FLOOR}


@dataclass
class Settings:
    """Validated options of one run."""

    gtol: float
    ftol: float
    maxiter: int
    maxfun: int
    max_linesearch: int
    line_search: str
    initial_step: float | None
    c1: float = 1e-4
    c2: float = 0.9


class _Point:
    """One point with its gradient, in buffers reused for the whole run."""

    def __init__(self, n: int, dtype, xp=np):
        self.x = xp.empty(n, dtype)
        self.g = xp.empty(n, dtype)
        self.f = math.nan
        # max |g_i| from the objective's pass over g, or None when unknown.
        self.inf_norm = None
        # fun gets a read-only view, so it cannot change a point the loop still uses.
        # NOTE: CuPy arrays have no read-only flag, so on the GPU fun receives x itself.
        self.x_view = self.x.view()
        if xp is np:
            self.x_view.flags.writeable = False


def _callback_wants_result(callback) -> bool:
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False
    return list(params) == ["intermediate_result"]


def run(objective, x0: np.ndarray, strategy, feasible, settings: Settings, callback=None):
    """Minimize from ``x0``; return a :class:`scipy.optimize.OptimizeResult`."""
    dtype = x0.dtype
    n = x0.size
    # The points and the direction live on x0's device: NumPy or CuPy arrays.
    xp = _device.array_module(x0)
    eps = float(np.finfo(dtype).eps)
    # Below eps a relative reduction of f is rounding, so a float32 run stops on ftol at
    # its own precision instead of waiting for a line search failure. float64 keeps the
    # caller's ftol, as SciPy does: ftol=0 must let slow but real progress continue.
    ftol = settings.ftol if dtype == np.float64 else max(settings.ftol, eps)
    points = [_Point(n, dtype, xp) for _ in range(4)]
    cur, new, trial, best = points
    d = xp.empty(n, dtype)
    xp.copyto(cur.x, x0)
    feasible.project(cur.x)

    counters = {"nit": 0, "nreset": 0}

    def finish(status: Status, message: str, point: _Point):
        return OptimizeResult(
            x=point.x.copy(), fun=point.f, jac=point.g.copy(), nit=counters["nit"],
            nfev=objective.nfev, njev=objective.njev, status=int(status),
            success=status in SUCCESS, message=message, hess_inv=strategy.hess_inv(),
            nskipped=strategy.nskipped, nreset=counters["nreset"])

    # On the whole space the stationarity measure is max |g_i|, which the objective's pass over
    # each new gradient already computes, so the loop reads it instead of passing over g again.
    inf_norm_from_gradient_pass = (isinstance(feasible, Unconstrained)
                                   and type(feasible).stationarity is Unconstrained.stationarity
                                   and isinstance(objective, Objective))
    # There the initial slope g'd is g_dir'd, which an L-BFGS direction returns from its pass
    # that writes d, with the same bits as the separate product.
    slope_from_direction_pass = type(feasible) is Unconstrained
    try:
        cur.f, finite = objective(cur.x_view, cur.g)
        cur.inf_norm = objective.last_inf_norm if inf_norm_from_gradient_pass else None
    except BudgetExhausted:
        raise ValueError(f"maxfun: expected at least 1 evaluation, got {settings.maxfun}") from None
    if not finite:
        return finish(Status.NOT_FINITE,
                      f"f or its gradient is not finite at x0 (f = {cur.f!r}); no iterate is "
                      "finite, so nothing was minimized", cur)

    wants_result = callback is not None and _callback_wants_result(callback)
    search = more_thuente if settings.line_search == "more-thuente" else backtracking_armijo
    first_step = strategy.count == 0
    retrying = False  # the current direction is the steepest descent retry after a stall

    while True:
        if cur.inf_norm is not None:
            stationarity = cur.inf_norm
        else:
            stationarity = feasible.stationarity(cur.x, cur.g)
        if stationarity <= settings.gtol:
            return finish(Status.GTOL, f"converged: the projected gradient's inf-norm "
                          f"{stationarity:.3g} <= gtol={settings.gtol:g}", cur)
        if counters["nit"] >= settings.maxiter:
            return finish(Status.MAXITER, f"stopped: reached maxiter={settings.maxiter} "
                          f"iterations (projected gradient inf-norm {stationarity:.3g})", cur)

        g_dir, active = feasible.direction_gradient(cur.x, cur.g, stationarity)
        direction_slope = strategy.direction(g_dir, d)
        feasible.finish_direction(d, cur.g, active, strategy.gamma)
        if slope_from_direction_pass and direction_slope is not None:
            dphi0 = direction_slope
        else:
            dphi0 = feasible.initial_slope(cur.x, d, cur.g)
        steepest = strategy.count == 0
        if not dphi0 < 0.0:
            if not steepest:
                strategy.reset()
                counters["nreset"] += 1
                retrying = True
                continue
            return finish(*_stall_outcome(
                "the steepest descent direction is not a descent direction (slope "
                f"{dphi0:.3g}) at the working precision", cur, None, eps, settings), cur)

        if not steepest:
            step = 1.0
        elif first_step and settings.initial_step is not None:
            step = settings.initial_step
        elif first_step or strategy.gamma == 1.0:
            # A unit move along d, as L-BFGS-B's first step: the scale of x is unknown.
            step = 1.0 / math.sqrt(_device.dot(d, d))
        else:
            step = 1.0  # steepest descent scaled by the last gamma
        step_max = feasible.step_max(cur.x, d)
        if step_max <= 0.0:
            return finish(*_stall_outcome("no feasible move along the search direction",
                                          cur, None, eps, settings), cur)
        step = min(step, step_max)

        tracker = _TrialTracker(cur, trial, best, d, feasible, objective, settings.c1, dphi0,
                                inf_norm_from_gradient_pass)
        try:
            if search is more_thuente:
                result = more_thuente(tracker, cur.f, dphi0, step, c1=settings.c1,
                                      c2=settings.c2, max_steps=settings.max_linesearch,
                                      step_max=step_max)
            else:
                result = backtracking_armijo(tracker, cur.f, dphi0, step, c1=settings.c1,
                                             max_steps=settings.max_linesearch,
                                             step_max=step_max)
        except BudgetExhausted:
            accepted = tracker.best_point()
            message = (f"stopped: reached maxfun={settings.maxfun} function evaluations "
                       "inside a line search")
            if accepted is not None:
                strategy.update(accepted.x, cur.x, accepted.g, cur.g)
                counters["nit"] += 1
                return finish(Status.MAXFUN, message + "; returning the last point with "
                              "sufficient decrease", accepted)
            return finish(Status.MAXFUN, message + "; returning the last accepted iterate", cur)

        trial, best = tracker.trial, tracker.best
        accepted = tracker.point_at(result.step) if result.step > 0.0 else None
        if accepted is None:
            if not steepest:
                # A stalled search along the quasi-Newton direction: drop the history and
                # retry once along steepest descent.
                strategy.reset()
                counters["nreset"] += 1
                retrying = True
                continue
            cause = result.reason
            if tracker.nonfinite == tracker.nsteps:
                cause = "f or its gradient was not finite at every trial point"
            if retrying:
                cause += " after a history reset and a steepest descent retry"
            return finish(*_stall_outcome(cause, cur, tracker, eps, settings), cur)

        # Accept: the pair update reads both points before the buffers rotate.
        strategy.update(accepted.x, cur.x, accepted.g, cur.g)
        f_old = cur.f
        spare = cur
        cur = accepted
        if accepted is trial:
            trial = spare
        else:
            best = spare
        counters["nit"] += 1
        first_step = False
        retrying = False

        if callback is not None and _call_callback(callback, wants_result, cur, counters):
            return finish(Status.CALLBACK, "stopped by the callback", cur)
        reduction = (f_old - cur.f) / max(abs(f_old), abs(cur.f), 1.0)
        if reduction <= ftol:
            return finish(Status.FTOL, f"converged: relative reduction of f {reduction:.3g} "
                          f"<= ftol={ftol:g}", cur)


def _call_callback(callback, wants_result: bool, cur: _Point, counters) -> bool:
    try:
        if wants_result:
            stop = callback(OptimizeResult(x=cur.x.copy(), fun=cur.f, jac=cur.g.copy(),
                                           nit=counters["nit"]))
        else:
            stop = callback(cur.x.copy())
    except StopIteration:
        return True
    return stop is True


def _stall_outcome(cause: str, cur: _Point, tracker, eps: float, settings: Settings):
    """Classify a failed search as the precision floor or a line search failure."""
    # The floor: every finite trial value is within rounding of f(x), or the trial steps
    # moved x by no more than rounding.
    floor = tracker is None
    if tracker is not None and tracker.nfinite > 0:
        scale = max(abs(cur.f), 1e-300)
        noise = 16.0 * eps * scale
        floor = tracker.max_change <= noise or tracker.min_move() <= 4.0 * eps
    if floor:
        return (Status.PRECISION_FLOOR,
                f"converged to the precision floor of {cur.x.dtype}: the line search cannot "
                f"decrease f further ({cause}); the projected gradient's inf-norm is above "
                f"gtol={settings.gtol:g}")
    return (Status.LINE_SEARCH_FAILED,
            f"stopped: line search failed ({cause}; max_linesearch="
            f"{settings.max_linesearch}, line_search={settings.line_search!r})")


class _TrialTracker:
    """The line search's phi: evaluates trial points into rotating buffers.

    Keeps the lowest point that satisfies sufficient decrease in ``best`` and the latest
    evaluated point in ``trial``, so the accepted point is never evaluated twice.
    """

    def __init__(self, cur, trial, best, d, feasible, objective, c1, dphi0,
                 inf_norm_from_gradient_pass=False):
        self.cur, self.trial, self.best = cur, trial, best
        self.d, self.feasible, self.objective = d, feasible, objective
        self.c1, self.dphi0 = c1, dphi0
        # On the whole space the slope is g'd, which the objective computes in its pass over
        # the gradient; other feasible sets (or subclasses that change the slope) get theirs.
        self.slope_from_gradient_pass = (isinstance(feasible, Unconstrained)
                                         and type(feasible).slope is Unconstrained.slope)
        self.inf_norm_from_gradient_pass = inf_norm_from_gradient_pass
        self.trial_step = None
        self.best_step = None
        self.nsteps = 0
        self.nonfinite = 0
        self.nfinite = 0
        self.max_change = 0.0
        self.min_step = math.inf

    def __call__(self, step: float):
        self.nsteps += 1
        t = self.trial
        self.feasible.trial(self.cur.x, self.d, step, t.x)
        if self.slope_from_gradient_pass:
            t.f, finite = self.objective(t.x_view, t.g, self.d)
        else:
            t.f, finite = self.objective(t.x_view, t.g)
        t.inf_norm = self.objective.last_inf_norm if self.inf_norm_from_gradient_pass else None
        self.trial_step = step
        if not finite:
            self.nonfinite += 1
            return math.nan, math.nan
        self.nfinite += 1
        if self.slope_from_gradient_pass:
            slope = self.objective.last_slope
        else:
            slope = self.feasible.slope(self.cur.x, self.d, step, t.g)
        self.max_change = max(self.max_change, abs(t.f - self.cur.f))
        self.min_step = min(self.min_step, step)
        if t.f <= self.cur.f + self.c1 * step * self.dphi0 and (
                self.best_step is None or t.f < self.best.f):
            self.trial, self.best = self.best, t
            self.best_step, self.trial_step = step, None
        return t.f, slope

    def min_move(self) -> float:
        """Return a bound on the relative move of x over the shortest finite trial step."""
        x = self.cur.x
        xp = _device.array_module(x)
        scale = xp.maximum(xp.abs(x), np.finfo(x.dtype).tiny)
        return self.min_step * float(xp.max(xp.abs(self.d) / scale)) if x.size else 0.0

    def point_at(self, step: float):
        if self.best_step is not None and step == self.best_step:
            return self.best
        if self.trial_step is not None and step == self.trial_step:
            return self.trial
        return None

    def best_point(self):
        return self.best if self.best_step is not None else None
