"""FISTA: accelerated proximal gradient with backtracking and adaptive restart.

Minimizes F(x) = f(x) + h(x) with f smooth and convex (given through its value
and gradient) and h convex with a cheap proximal operator. Each iteration
takes a proximal gradient step from an extrapolated point y,

    x_k = prox_{h / L}(y - grad f(y) / L),
    y_{k+1} = x_k + (t_k - 1) / t_{k+1} (x_k - x_{k-1}),
    t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2,

with the Lipschitz estimate L found by backtracking (Beck and Teboulle, 2009),
and restarts the momentum (t = 1, y = x_k) whenever the step
x_k - x_{k-1} points uphill, (y_k - x_k) . (x_k - x_{k-1}) > 0: the
gradient-based adaptive restart of O'Donoghue and Candes (2015).

References
----------
A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding algorithm
for linear inverse problems", SIAM J. Imaging Sciences 2(1), 183-202, 2009.
B. O'Donoghue and E. Candes, "Adaptive restart for accelerated gradient
schemes", Foundations of Computational Mathematics 15(3), 715-732, 2015.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from fastopt.linear_model._result import SolverResult
from fastopt.linear_model._stopping import (
    add_l2_gradient,
    dot,
    optimality_violation,
    penalty_value,
)
from fastopt.optim._checks import check_number
from fastopt.prox import elastic_net

#: L is multiplied by this after a rejected trial step.
BACKTRACK_FACTOR = 2.0
#: L is multiplied by this before each iteration's line search, so the step
#: can grow again where the curvature is lower than at earlier iterates.
DECREASE_FACTOR = 0.9
#: Rejected trials allowed in one line search; the value_grad callable is
#: broken (NaN, or not the gradient of its value) long before this many.
MAX_BACKTRACKS = 100
#: A sufficient-decrease test whose two sides differ by less than this many
#: float64 units of the objective is decided on the gradient instead, because
#: the function values no longer resolve the difference.
ROUNDING_UNITS = 100.0


@dataclass
class FistaResult(SolverResult):
    """A :class:`SolverResult` with FISTA's counters.

    Attributes
    ----------
    n_restarts : int
        Momentum restarts taken.
    n_backtracks : int
        Trial steps rejected by the line search (each one evaluation).
    n_evaluations : int
        Calls of ``value_grad``.
    lipschitz : float
        The Lipschitz estimate in use at the end.
    """

    n_restarts: int = 0
    n_backtracks: int = 0
    n_evaluations: int = 0
    lipschitz: float = math.nan


def _norm(v):
    """Return the Euclidean norm of v without BLAS, whose threads compete with fastopt's."""
    return math.sqrt(dot(v, v))


def _initial_lipschitz(value_grad, x, g):
    """Return ||grad f(x') - grad f(x)|| / ||x' - x|| for a short step x' along -g."""
    g_norm = _norm(g)
    if g_norm == 0.0 or not math.isfinite(g_norm):
        return 1.0
    scale = 1e-3 * max(1.0, _norm(x))
    x_trial = x - (scale / g_norm) * g
    _, g_trial = value_grad(x_trial)
    ratio = _norm(np.asarray(g_trial) - g) / _norm(x_trial - x)
    return ratio if ratio > 0.0 and math.isfinite(ratio) else 1.0


def _accept(f_y, g_y, f_new, g_new, d, dd, lipschitz):
    """Return whether x_new = y + d passes the sufficient-decrease test at L.

    The test is f(x_new) <= f(y) + g_y . d + L / 2 ||d||^2. Near the optimum both
    sides agree to rounding, so when they differ by less than ROUNDING_UNITS
    float64 units the curvature along d, (g_new - g_y) . d / ||d||^2, is
    compared with L instead.
    """
    lhs = f_new - f_y
    rhs = dot(g_y, d) + 0.5 * lipschitz * dd
    if lhs <= rhs:
        return True
    noise = ROUNDING_UNITS * np.finfo(np.float64).eps * max(abs(f_y), abs(f_new))
    if abs(lhs - rhs) <= noise:
        return dot(g_new - g_y, d) <= lipschitz * dd
    return False


def fista(value_grad, prox, x0, *, penalty=None, lipschitz0=None, tol=1e-4, max_iter=1000,
          stop=None, violation0=None, callback=None, restart=True):
    r"""Minimize f(x) + h(x) by FISTA with backtracking and adaptive restart.

    Parameters
    ----------
    value_grad : callable
        ``value_grad(x) -> (f, g)``: value and gradient of the smooth part at
        ``x`` (float64). Each call must return a gradient array that later
        calls do not overwrite.
    prox : callable
        ``prox(v, step, out)``: write :math:`\mathrm{prox}_{step\, h}(v)` into
        ``out`` (``v`` is a scratch array that ``prox`` may overwrite, and
        ``out`` is never ``v``).
    x0 : array_like
        Starting point (warm start); copied to float64.
    penalty : callable, optional
        ``penalty(x) -> h(x)``, used for the objective reported and to pick
        the best iterate; 0 when not given.
    lipschitz0 : float, optional
        Initial Lipschitz estimate of ``grad f``; by default, the secant ratio
        of the gradients at ``x0`` and at a short step from it (one extra
        evaluation). Too small an estimate costs backtracks and too large one
        shrinks by ``DECREASE_FACTOR`` per iteration.
    tol : float, default 1e-4
        Stop when ``violation <= tol * violation0``.
    max_iter : int, default 1000
        Maximum number of iterations (proximal gradient steps).
    stop : callable, optional
        ``stop(x, g) -> violation``: the optimality violation at ``x`` given
        ``g = grad f(x)`` (for linear models,
        ``fastopt.linear_model._stopping.optimality_violation``). Without it
        the violation is the infinity norm of the gradient mapping
        :math:`L (y - x_k)` of the step that produced ``x_k``.
    violation0 : float, optional
        The reference of the relative test. With ``stop``, the default is
        ``stop`` at ``x = 0``, the shared rule of the linear-model solvers,
        which costs one extra evaluation unless ``x0`` is zero. Without
        ``stop``, the default is the violation of the first step.
    callback : callable, optional
        ``callback(x) -> bool`` after each iteration, with the current iterate
        (read only); returning True stops the run (early stopping).
    restart : bool, default True
        Use gradient-based adaptive restart.

    Returns
    -------
    FistaResult
        ``w`` is the last iterate when the stopping rule was met, otherwise the
        iterate with the smallest ``f + h`` seen; ``violation`` is measured at
        ``w``.

    Notes
    -----
    Each iteration costs one ``value_grad`` call at the extrapolated point
    (none after a restart, where it equals the iterate) and one per trial
    step, which also supplies the gradient that ``stop`` needs. L grows by
    ``BACKTRACK_FACTOR`` on each rejected trial and shrinks by
    ``DECREASE_FACTOR`` before each line search. The momentum sequence t_k is
    not corrected for the changes of L (Scheinberg, Goldfarb and Bai, 2014, do
    this); adaptive restart keeps the method monotone in practice.
    """
    tol = check_number("tol", tol, low=0.0)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter: expected an int >= 0, got {max_iter!r}")
    x = np.array(x0, dtype=np.float64, copy=True)
    if x.ndim != 1:
        raise ValueError(f"x0: expected a 1-D array, got shape {x.shape}")
    h = penalty if penalty is not None else (lambda _x: 0.0)

    f_x, g_x = value_grad(x)
    n_evaluations = 1
    if lipschitz0 is None:
        lipschitz = _initial_lipschitz(value_grad, x, g_x)
        n_evaluations += 1
    else:
        lipschitz = check_number("lipschitz0", lipschitz0, low=0.0, low_open=True)

    violation = math.inf
    if stop is not None:
        violation = float(stop(x, g_x))
        if violation0 is None:
            if not np.any(x):
                violation0 = violation
            else:
                zero = np.zeros_like(x)
                _, g_zero = value_grad(zero)
                n_evaluations += 1
                violation0 = float(stop(zero, g_zero))
    if violation0 is not None:
        violation0 = check_number("violation0", violation0, low=0.0)

    objective = float(f_x) + float(h(x))
    best_x, best_objective, best_violation = x.copy(), objective, violation
    x_prev = x.copy()
    y = x.copy()
    f_y, g_y = f_x, g_x
    v = np.empty_like(x)
    x_new = np.empty_like(x)
    momentum = 1.0
    n_restarts = n_backtracks = 0
    converged = violation0 is not None and violation <= tol * violation0
    n_iter = 0
    broken = False

    while not converged and n_iter < max_iter:
        if n_iter > 0:
            lipschitz *= DECREASE_FACTOR
        accepted = False
        for trial in range(MAX_BACKTRACKS):
            step = 1.0 / lipschitz
            np.multiply(g_y, -step, out=v)
            v += y
            prox(v, step, x_new)
            d = x_new - y
            dd = dot(d, d)
            if dd == 0.0:
                # On the first trial y is a fixed point of the step. After
                # rejections the step is too small to move y: the search failed.
                accepted = trial == 0
                f_new, g_new = f_y, g_y
                break
            f_new, g_new = value_grad(x_new)
            n_evaluations += 1
            if _accept(f_y, g_y, f_new, g_new, d, dd, lipschitz):
                accepted = True
                break
            lipschitz *= BACKTRACK_FACTOR
            n_backtracks += 1
        if not accepted:
            broken = True  # the objective is NaN or not smooth near y
            break
        n_iter += 1
        x_prev, x, x_new = x, x_new, x_prev
        f_x, g_x = f_new, g_new
        objective = float(f_x) + float(h(x))
        if stop is not None:
            violation = float(stop(x, g_x))
        else:
            violation = lipschitz * float(np.max(np.abs(d))) if d.size else 0.0
            if violation0 is None:
                violation0 = violation
        if objective < best_objective or not math.isfinite(best_objective):
            best_x[...] = x
            best_objective, best_violation = objective, violation
        converged = violation <= tol * violation0
        if converged or (callback is not None and callback(x)):
            break

        # Restart when the last step x - x_prev has a positive component along
        # the gradient mapping (y - x): momentum is carrying x uphill.
        if restart and -dot(d, x - x_prev) > 0.0:
            momentum = 1.0
            n_restarts += 1
            y[...] = x
            f_y, g_y = f_x, g_x
        else:
            momentum_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * momentum * momentum))
            beta = (momentum - 1.0) / momentum_next
            momentum = momentum_next
            if beta == 0.0:
                y[...] = x
                f_y, g_y = f_x, g_x
            else:
                np.subtract(x, x_prev, out=y)
                y *= beta
                y += x
                f_y, g_y = value_grad(y)
                n_evaluations += 1

    if not converged or broken:
        x, objective, violation = best_x, best_objective, best_violation
    return FistaResult(
        w=x, n_iter=n_iter, violation=violation,
        violation0=math.nan if violation0 is None else violation0, converged=converged,
        objective=objective, solver="fista", n_restarts=n_restarts, n_backtracks=n_backtracks,
        n_evaluations=n_evaluations, lipschitz=lipschitz,
    )


def fista_glm(obj, *, alpha, l1_ratio, w0=None, tol=1e-4, max_iter=1000, callback=None):
    r"""Fit an elastic-net regularized GLM by FISTA.

    Minimizes the data term of ``obj`` plus
    :math:`\alpha (\rho \|coef\|_1 + \frac{1 - \rho}{2} \|coef\|_2^2)`,
    :math:`\rho` = ``l1_ratio``, with the intercepts unpenalized. The whole
    penalty goes into the proximal step: the elastic-net map with
    per-coordinate strengths :math:`\alpha \rho` and :math:`\alpha (1 - \rho)`
    on the coefficients and 0 on the intercepts.

    Parameters
    ----------
    obj : GLMObjective
        The data term, with ``value_grad``, ``n_features``, ``n_outputs`` and
        ``n_params``.
    alpha : float
        Penalty strength, ``>= 0``. scikit-learn's ``Lasso(alpha)`` and
        ``ElasticNet(alpha, l1_ratio)`` use the same alpha.
    l1_ratio : float
        L1 share of the penalty, in [0, 1].
    w0 : array_like, optional
        Warm start in the flat parameter layout; zeros by default.
    tol : float, default 1e-4
        Stop when the optimality violation falls to ``tol`` times its value at
        ``w = 0`` (``fastopt.linear_model._stopping``).
    max_iter : int, default 1000
        Maximum number of iterations.
    callback : callable, optional
        ``callback(w) -> bool``; True stops the run.

    Returns
    -------
    FistaResult
    """
    alpha = check_number("alpha", alpha, low=0.0)
    l1_ratio = check_number("l1_ratio", l1_ratio, low=0.0, high=1.0)
    p, k_out = obj.n_features, obj.n_outputs
    n_coef = p * k_out
    l1 = np.zeros(obj.n_params)
    l1[:n_coef] = alpha * l1_ratio
    l2 = np.zeros(obj.n_params)
    l2[:n_coef] = alpha * (1.0 - l1_ratio)
    if w0 is None:
        w0 = np.zeros(obj.n_params)
    else:
        w0 = np.asarray(w0, dtype=np.float64)
        if w0.shape != (obj.n_params,):
            raise ValueError(f"w0: expected shape ({obj.n_params},), got {w0.shape}")

    def prox(v, step, out):
        elastic_net(v, l1, l2, step=step, out=out)

    def penalty(w):
        return penalty_value(w, alpha, l1_ratio, p, k_out)

    def stop(w, g):
        smooth = add_l2_gradient(np.array(g, dtype=np.float64), w, alpha, l1_ratio, p, k_out)
        return optimality_violation(smooth, w, alpha, l1_ratio, p, k_out)

    return fista(obj.value_grad, prox, w0, penalty=penalty, tol=tol, max_iter=max_iter,
                 stop=stop, callback=callback)
