r"""The "lbfgs" and "owlqn" solvers: ``fastopt.minimize`` on a regularized GLM objective.

Both minimize

.. math:: F(w) = f(w) + \alpha \rho \|coef\|_1 + \tfrac{\alpha (1 - \rho)}{2} \|coef\|_2^2

with ``f`` the data term of a :class:`GLMObjective` and :math:`\rho` = ``l1_ratio``. The L2 part
is added to ``f`` and its gradient, so L-BFGS minimizes a smooth function. OWL-QN (Andrew & Gao, 2007)
takes the L1 part as a per-coordinate strength: :math:`\alpha \rho` on coefficients and 0 on
intercepts. ``fastopt.minimize``'s own tests are switched off (``gtol = ftol = 0``); the run stops
through its callback on the optimality violation of ``_stopping.optimality_violation`` relative
to its value at ``w = 0``, the rule every linear-model solver shares.
"""

from __future__ import annotations

import numpy as np

from fastopt.linear_model._result import SolverResult
from fastopt.minimize._device import array_module
from fastopt.linear_model._stopping import (
    add_l2_gradient,
    optimality_violation,
    penalty_value,
)
from fastopt.minimize._minimize import DEFAULT_OPTIONS
from fastopt.minimize._minimize import minimize as _minimize

HISTORY_SIZE = 10


def lbfgs(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None):
    """Minimize the data term of ``obj`` plus an L2 penalty with L-BFGS.

    Parameters
    ----------
    obj : GLMObjective
    alpha : float
        Penalty strength, >= 0.
    l1_ratio : float
        Must be 0 unless ``alpha`` is 0: L-BFGS needs a smooth objective.
    tol : float
        Stop when the optimality violation is at most ``tol`` times its value at ``w = 0``.
    max_iter : int
        Maximum number of L-BFGS iterations.
    w0 : ndarray of shape (obj.n_params,), optional
        Starting point (warm start); zeros by default.
    callback : callable, optional
        ``callback(w) -> bool`` after every iteration; True stops the run.

    Returns
    -------
    SolverResult
    """
    if l1_ratio != 0.0 and alpha != 0.0:
        raise ValueError(f"l1_ratio: solver 'lbfgs' minimizes smooth objectives only, got "
                         f"l1_ratio={l1_ratio!r} with alpha={alpha!r}; use solver 'owlqn'")
    return _run(obj, "lbfgs", alpha, 0.0, tol, max_iter, w0, callback)


def owlqn(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None):
    """Minimize the data term of ``obj`` plus an elastic-net penalty with OWL-QN.

    The parameters and result are those of :func:`lbfgs`; ``l1_ratio`` may be any value in
    [0, 1]. Coordinates that the orthant projection sets to zero are exactly 0.0.
    """
    return _run(obj, "owlqn", alpha, l1_ratio, tol, max_iter, w0, callback)


def _run(obj, method, alpha, l1_ratio, tol, max_iter, w0, callback):
    p, k = obj.n_features, obj.n_outputs
    n_coef = p * k
    a1 = alpha * l1_ratio

    def smooth(w):
        f, g = obj.value_grad(w)
        f += penalty_value(w, alpha * (1.0 - l1_ratio), 0.0, p, k)
        add_l2_gradient(g, w, alpha, l1_ratio, p, k)
        return f, g

    def violation_at(w, g_smooth):
        return optimality_violation(g_smooth, w, alpha, l1_ratio, p, k)

    def full_objective(w, f_smooth):
        return f_smooth + a1 * float(np.abs(w[:n_coef]).sum())

    # A GPUGLMObjective keeps w and the gradient on its device; the penalty and stopping
    # helpers are NumPy calls that CuPy arrays dispatch to CuPy.
    xp = array_module(obj.y)
    zero = xp.zeros(obj.n_params)
    f_zero, g_zero = smooth(zero)
    violation0 = violation_at(zero, g_zero)
    if w0 is None:
        w, f, g = zero, f_zero, g_zero
    else:
        w = xp.array(w0, dtype=np.float64)
        f, g = smooth(w)
    violation = violation_at(w, g)
    threshold = tol * violation0
    if violation <= threshold or max_iter == 0:
        return SolverResult(w=w, n_iter=0, violation=violation, violation0=violation0,
                            converged=violation <= threshold,
                            objective=full_objective(w, f), solver=method)

    # The last iterate seen by the callback: the driver returns it unless a line search ran
    # out of budget, and then its violation is computed again below.
    last = {"x": None, "violation": np.inf}

    def on_iteration(intermediate_result):
        x = intermediate_result.x
        last["x"] = x
        last["violation"] = violation_at(x, intermediate_result.jac)
        if last["violation"] <= threshold:
            return True
        return callback is not None and bool(callback(x.copy()))

    options = {"history_size": HISTORY_SIZE, "gtol": 0.0, "ftol": 0.0, "maxiter": max_iter,
               "maxfun": DEFAULT_OPTIONS["max_linesearch"] * (max_iter + 1) + 1}
    if method == "owlqn":
        l1 = xp.zeros(obj.n_params)
        l1[:n_coef] = a1
        options["l1"] = l1
    result = _minimize(smooth, w, jac=True, method=method, options=options,
                       callback=on_iteration)
    w = result.x
    if last["x"] is not None and bool(xp.array_equal(last["x"], w)):
        # With method "owlqn" result.fun already includes the L1 term.
        violation, objective = last["violation"], float(result.fun)
    else:
        f, g = smooth(w)
        violation, objective = violation_at(w, g), full_objective(w, f)
    return SolverResult(w=w, n_iter=int(result.nit), violation=float(violation),
                        violation0=float(violation0), converged=bool(violation <= threshold),
                        objective=float(objective), solver=method)
