r"""The "newton" solver: (proximal) Newton steps with the exact Hessian, one job per point.

It minimizes

.. math:: F(w) = f(w) + \alpha \rho \|coef\|_1 + \tfrac{\alpha (1 - \rho)}{2} \|coef\|_2^2

for the binary logistic and squared losses, with the intercept unpenalized. One Spark job
returns f, its gradient g and its dense Hessian H at a point (``value_grad_hess``), so each
iteration

1. finds the step d on the driver. Without an L1 term (:math:`\rho = 0`) it solves
   :math:`(H + \alpha I_{coef})\, d = -g` by a Cholesky factorization (least squares when the
   matrix is singular, as for an unused feature). With one, it minimizes the quadratic model
   plus the L1 term by coordinate descent, the proximal Newton step of newGLMNET;
2. tries t = 1, 1/2, 1/4, ... until F decreases by at least :math:`10^{-4}\, t` times the
   model's predicted decrease (Armijo). Every trial point costs one job, which also returns
   the next g and H.

Newton's method converges quadratically near the optimum, so a fit takes a handful of jobs
where L-BFGS and OWL-QN take one per function evaluation, usually over a hundred. Each job
costs O(nnz per row squared) per row for the Hessian and sends ``n_params ** 2`` floats per
partition, which is why the estimators use this solver only up to ``NEWTON_MAX_PARAMS``
parameters. The run stops on the rule every linear-model solver shares
(``fastopt.linear_model._stopping``): the optimality violation at most ``tol`` times its value
at w = 0.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.linalg

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # the factorization then runs on the BLAS library's own threads
    threadpool_limits = None

from fastopt import _core
from fastopt.linear_model._result import SolverResult
from fastopt.linear_model._stopping import dot, optimality_violation, penalty_value

__all__ = ["NEWTON_MAX_PARAMS", "newton"]

# A Hessian of 1024 x 1024 float64 is 8 MiB per partition result.
NEWTON_MAX_PARAMS = 1024
ARMIJO = 1e-4
MAX_BACKTRACKS = 30
MAX_PASSES = 1000


def _one_blas_thread():
    """Return a context that runs BLAS and LAPACK calls on one thread.

    The driver factors a matrix of at most ``NEWTON_MAX_PARAMS`` rows right after each job,
    while the JVM's threads are still busy. In a local[2] fit on two cores, a 301 x 301
    Cholesky took 78 ms on two OpenBLAS threads and under 10 ms on one.
    """
    if threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _newton_direction(hess, grad):
    """Return the solution d of ``hess d = -grad``, least squares when hess is singular."""
    with _one_blas_thread():
        return _solve_newton_system(hess, grad)


def _solve_newton_system(hess, grad):
    try:
        factor = scipy.linalg.cho_factor(hess, check_finite=False)
        direction = scipy.linalg.cho_solve(factor, -grad, check_finite=False)
        if np.all(np.isfinite(direction)):
            return direction
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(hess, -grad, rcond=None)[0]


def _subproblem_direction(hess, grad, w, a1, n_coef, tolerance):
    """Return the d that minimizes ``grad . d + d^T hess d / 2 + a1 ||coef + d_coef||_1``.

    The L2 term is already in ``hess`` and ``grad``. The intercept, if any, is the entry after
    the coefficients and carries no penalty. Its best step for a given coefficient step has a
    closed form, so it is eliminated: the coefficients see the Schur complement of the
    intercept's diagonal entry. Coordinate descent then runs on that dense model until the
    model's optimality violation is at most ``tolerance``. The kernel is ``_core.gram_cd``, the
    inner solver of newGLMNET (Yuan, Ho & Lin, "An improved GLMNET for L1-regularized logistic
    regression", JMLR 13, 2012).
    """
    n = grad.shape[0]
    q = np.array(grad[:n_coef], dtype=np.float64)
    Hc = np.array(hess[:n_coef, :n_coef], dtype=np.float64, order="C")
    hb, hbb = None, 0.0
    if n > n_coef and hess[n_coef, n_coef] > 0.0:
        hb = np.array(hess[:n_coef, n_coef], dtype=np.float64)
        hbb = float(hess[n_coef, n_coef])
        Hc -= np.outer(hb, hb / hbb)
        # The kernel reads both triangles, which rounding would make differ.
        Hc = np.ascontiguousarray(0.5 * (Hc + Hc.T))
        q -= hb * (grad[n_coef] / hbb)
    d_coef = np.zeros(n_coef)
    hd = np.zeros(n_coef)
    _core.gram_cd(Hc, q, np.ascontiguousarray(w[:n_coef], dtype=np.float64), d_coef, hd,
                  a1=a1, a2=0.0, tol=tolerance, max_passes=MAX_PASSES)
    d = np.zeros(n)
    d[:n_coef] = d_coef
    if hb is not None:
        d[n_coef] = -(grad[n_coef] + float(hb @ d_coef)) / hbb
    return d


def newton(objective, *, alpha, l1_ratio, tol, max_iter):
    """Minimize the data term of ``objective`` plus an elastic-net penalty with Newton steps.

    Without an L1 term each step solves the Newton system by Cholesky. With one, each step
    minimizes the quadratic model plus the L1 term by coordinate descent (proximal Newton).

    Parameters
    ----------
    objective : DistributedGLMObjective
        With the binary logistic or the squared loss.
    alpha, l1_ratio : float
        Penalty strength (>= 0) and its L1 share in [0, 1].
    tol : float
        Stop when the optimality violation (``_stopping.optimality_violation``) is at most
        ``tol`` times its value at ``w = 0``.
    max_iter : int
        Maximum number of Newton iterations.

    Returns
    -------
    SolverResult
    """
    p, k = objective.n_features, objective.n_outputs
    n_coef = p * k
    a1, a2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    diagonal = np.arange(n_coef)

    def evaluate(w):
        """Return F(w), the gradient and Hessian of its smooth part, and the violation."""
        f, g, hess = objective.value_grad_hess(w)
        coef = w[:n_coef]
        f += penalty_value(w, alpha, l1_ratio, p, k)
        g[:n_coef] += a2 * coef
        hess[diagonal, diagonal] += a2
        return f, g, hess, optimality_violation(g, w, alpha, l1_ratio, p, k)

    w = np.zeros(objective.n_params)
    f, g, hess, violation = evaluate(w)
    violation0 = violation
    threshold = tol * violation0
    n_iter = 0
    while violation > threshold and n_iter < max_iter:
        n_iter += 1
        if a1 == 0.0:
            d = _newton_direction(hess, g)
        else:
            # A forcing term that shrinks with the violation keeps the outer convergence
            # superlinear, as in truncated Newton methods.
            forcing = min(0.1, np.sqrt(violation / violation0)) if violation0 > 0 else 0.1
            d = _subproblem_direction(hess, g, w, a1, n_coef, forcing * violation)
        coef, step_coef = w[:n_coef], d[:n_coef]
        decrease = dot(g, d) + a1 * float(np.abs(coef + step_coef).sum() - np.abs(coef).sum())
        if not decrease < 0.0:
            break
        t = 1.0
        for _ in range(MAX_BACKTRACKS):
            trial = w + t * d
            f_t, g_t, hess_t, violation_t = evaluate(trial)
            if f_t <= f + ARMIJO * t * decrease:
                break
            # Near the optimum the decrease of F falls below its rounding error and Armijo
            # cannot tell a good step from a bad one. A step that keeps F within that
            # rounding error and brings the violation closer to zero is taken.
            if violation_t < violation and f_t <= f + 8.0 * np.finfo(float).eps * abs(f):
                break
            t *= 0.5
        else:
            break
        w, f, g, hess, violation = trial, f_t, g_t, hess_t, violation_t
    return SolverResult(w=w, n_iter=n_iter, violation=violation, violation0=violation0,
                        converged=bool(violation <= threshold), objective=float(f),
                        solver="newton")
