r"""Dual coordinate descent for L2-regularized binary logistic regression ("dual-cd").

For the objective without an intercept,

.. math:: F(w) = \sum_i s_i \log(1 + e^{-y_i x_i \cdot w}) + \frac{\alpha}{2} \|w\|^2,

with the normalized sample weights :math:`s_i` of :class:`GLMObjective` (summing to 1),
:math:`F = \alpha P` for LIBLINEAR's primal :math:`P(w) = \tfrac12 \|w\|^2 + \sum_i C_i
\log(1 + e^{-y_i x_i \cdot w})` with :math:`C_i = s_i / \alpha`. The kernel
(``GlmProblem.dual_cd_epochs``, see ``csrc/cpu/dual_cd.hpp``) minimizes the dual of P one
sample at a time and keeps :math:`w = \sum_i a_i y_i x_i`, so an epoch costs two sparse
passes over the rows and no line search. The method suits wide data and strong
regularization, where few epochs reach a tight tolerance.

The stopping rule is the one every solver shares (``_stopping``): the primal optimality
violation :math:`\|\nabla F(w)\|_\infty` relative to its value at zero. One primal check
costs a fused pass over X, so the driver does not check after every epoch. The kernel
reports the estimate :math:`e = \sum_i |\Delta a_i| \, \|x_i\|`, a bound on how far w
moved in the last epoch, which near the optimum falls at the rate of the gradient. The
driver checks the violation when the estimate, scaled by the ratio of violation to estimate
at the previous check, reaches the target, or when the linear rate between the last two
checks predicts that the violation has.

Rows are read one at a time, so CSC and Fortran-ordered X are converted to CSR or C order
once per fit (a copy of X).

References
----------
H.-F. Yu, F.-L. Huang and C.-J. Lin, "Dual coordinate descent methods for logistic
regression and maximum entropy models", Machine Learning 85, 2011.
C.-J. Hsieh, K.-W. Chang, C.-J. Lin, S. S. Keerthi and S. Sundararajan, "A dual coordinate
descent method for large-scale linear SVM", ICML 2008.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from fastopt import _core
from fastopt.linear_model._design import as_design
from fastopt.linear_model._result import SolverResult
from fastopt.linear_model._stopping import dot, optimality_violation

#: Starting dual value, as a fraction of C_i (LIBLINEAR starts at min(1e-3 C_i, 1e-8)).
START_FRACTION = 1e-3
START_MAX = 1e-8
#: The subproblem tolerance starts here and shrinks to INNER_TOL_MIN (the kernel's rule).
INNER_TOL = 1e-2
INNER_TOL_MIN = 1e-13
WARM_INNER_TOL = 1e-8
#: Epochs before the first primal check.
FIRST_CHECK = 1
#: Epochs before the second check, and whenever the violation did not fall.
SECOND_CHECK = 2
#: Maximum epochs between two checks.
MAX_EPOCHS_BETWEEN_CHECKS = 50
#: The estimate must fall this far below the extrapolated target before a check, so that
#: most checks pass.
CHECK_MARGIN = 0.5
SEED = 0x5EED


def unsupported_reason(loss, alpha, l1_ratio, fit_intercept, n_outputs=1):
    """Return why dual-cd cannot solve this problem, or None when it can."""
    if loss != "logistic" or n_outputs != 1:
        return f"loss {loss!r} (dual-cd solves binary logistic regression only)"
    if not alpha > 0.0:
        return f"alpha={alpha!r} (dual-cd needs alpha > 0)"
    if l1_ratio != 0.0:
        return f"l1_ratio={l1_ratio!r} (dual-cd solves the L2 penalty only)"
    if fit_intercept:
        return ("fit_intercept=True (the unpenalized intercept adds an equality constraint "
                "to the dual, which dual-cd does not handle)")
    return None


def _row_design(obj, data):
    """Return (problem, design, X) on a row layout: obj's own, or a CSR / C-order copy."""
    design = obj.design
    if design.layout in ("csr", "dense_c"):
        return obj._problem, design, data
    X = data
    if X is None:
        raise ValueError("data: solver 'dual-cd' reads rows of X; pass data=(X, y, "
                         "sample_weight) when X is CSC or Fortran-ordered")
    X = X.tocsr() if sp.issparse(X) else np.ascontiguousarray(X)
    design = as_design(X)
    problem = _core.GlmProblem(design.native, obj.y, obj.sample_weight, "logistic", 1, False,
                               1.0)
    return problem, design, X


def _row_sqnorm(design):
    """Return ||x_i||^2 for every row of a CSR or C-ordered design."""
    values = design.data
    if design.layout == "dense_c":
        values = np.asarray(values, dtype=np.float64)
        return np.einsum("ij,ij->i", values, values)
    squares = np.square(values, dtype=np.float64)
    sums = np.zeros(design.n_samples)
    counts = np.diff(design.indptr)
    nonempty = counts > 0
    if squares.size:
        starts = np.asarray(design.indptr[:-1][nonempty], dtype=np.int64)
        sums[nonempty] = np.add.reduceat(squares, starts)
    return sums


def dual_cd(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None, data=None):
    """Minimize the logistic data term of ``obj`` plus (alpha / 2) ||w||^2 by dual CD.

    Parameters
    ----------
    obj : GLMObjective
        Binary logistic loss without an intercept.
    alpha : float
        Penalty strength, > 0.
    l1_ratio : float
        Must be 0.
    tol : float
        Stop when the optimality violation is at most ``tol`` times its value at ``w = 0``.
    max_iter : int
        Maximum number of epochs (passes over the samples).
    w0 : ndarray of shape (obj.n_params,), optional
        Warm start: the dual starts at :math:`a_i = C_i \\sigma(-y_i x_i \\cdot w_0)`, the
        point where the dual optimality condition holds for ``w0``.
    callback : callable, optional
        ``callback(w) -> bool`` after each primal check; True stops the run.
    data : tuple (X, y, sample_weight), optional
        The arrays ``obj`` was built from; needed only when X is CSC or Fortran-ordered.

    Returns
    -------
    SolverResult
    """
    reason = unsupported_reason(obj.loss, alpha, l1_ratio, obj.fit_intercept, obj.n_outputs)
    if reason is not None:
        raise ValueError(f"solver: 'dual-cd' does not support {reason}; use solver='lbfgs', "
                         "'newton-cg' or 'auto'")
    X = None if data is None else data[0]
    problem, design, _ = _row_design(obj, X)
    n, p = obj.n_samples, obj.n_features
    weights = obj.sample_weight if obj.sample_weight is not None else np.full(n, 1.0 / n)
    upper = weights / alpha
    y = obj.y

    # 1. The violation at w = 0, the scale of the stopping rule.
    grad = np.empty(p)
    problem.value_grad(np.zeros(p), grad)
    violation0 = optimality_violation(grad, np.zeros(p), alpha, 0.0, p, 1)
    target = tol * violation0
    if violation0 == 0.0:
        # The gradient vanishes at w = 0, so w = 0 is the optimum of this strictly convex F.
        return SolverResult(w=np.zeros(p), n_iter=0, violation=0.0, violation0=0.0,
                            converged=True, objective=float(problem.value_grad(np.zeros(p))),
                            solver="dual-cd")

    # 2. A strictly feasible dual start and the w it implies.
    warm = w0 is not None and bool(np.any(w0 != 0.0))
    if warm:
        margins = np.empty(n)
        design.native.matvec(np.asarray(w0, dtype=np.float64), 1, False, margins)
        yz = y * margins
        dual = upper * expit(-yz)
        complement = upper * expit(yz)
        floor = upper * 1e-12
        low = dual <= complement
        dual = np.where(low, np.maximum(dual, floor), upper - np.maximum(complement, floor))
        complement = np.where(low, upper - dual, np.maximum(complement, floor))
    else:
        dual = np.minimum(START_FRACTION * upper, START_MAX)
        complement = upper - dual
    w = np.zeros(p)
    design.native.rmatvec(dual * y, 1, False, w)
    sqnorm = _row_sqnorm(design)

    def check():
        value = problem.value_grad(w, grad) + 0.5 * alpha * dot(w, w)
        grad[:] += alpha * w
        return value, optimality_violation(grad, w, alpha, 0.0, p, 1)

    # 3. Epochs until the primal check passes. A warm start w0 is checked first. Then the
    #    check runs at the w of its dual start, which differs from w0 by grad F(w0) / alpha,
    #    and the epochs solve the subproblems tightly from the start.
    rng_state = SEED
    inner_tol = INNER_TOL
    epochs = 0
    budget = FIRST_CHECK
    stop_estimate = 0.0
    violation = violation0
    previous = None  # (epochs, violation) at the previous check
    objective = np.nan
    converged = False
    if warm:
        start = w.copy()
        w[:] = w0
        objective, violation = check()
        converged = violation <= target
        if not converged:
            w[:] = start
            objective, violation = check()
            converged = violation <= target
        inner_tol = WARM_INNER_TOL
    while not converged and epochs < max_iter and np.isfinite(violation):
        run = min(budget, max_iter - epochs)
        ran, _, estimate, rng_state, inner_tol = problem.dual_cd_epochs(
            upper, sqnorm, dual, complement, w, rng_state=rng_state, inner_tol=inner_tol,
            inner_tol_min=INNER_TOL_MIN, max_epochs=run, stop_estimate=stop_estimate)
        epochs += ran
        objective, violation = check()
        converged = violation <= target
        if converged or not np.isfinite(violation):
            break
        if callback is not None and bool(callback(w.copy())):
            break
        # Two rules schedule the next check, whichever comes first: the estimate reaches
        # the target mapped by the last ratio of violation to estimate, or the linear rate
        # seen between the last two checks predicts that the violation has.
        ratio = violation / estimate if estimate > 0.0 else 1.0
        stop_estimate = CHECK_MARGIN * target / ratio
        budget = _predicted_epochs(previous, epochs, violation, target)
        previous = (epochs, violation)
    return SolverResult(w=w, n_iter=epochs, violation=float(violation),
                        violation0=float(violation0), converged=bool(converged),
                        objective=float(objective), solver="dual-cd")


def _predicted_epochs(previous, epochs, violation, target):
    """Return the epochs until the violation reaches the target at the last linear rate."""
    if previous is None:
        return SECOND_CHECK
    ran, before = epochs - previous[0], previous[1]
    if not (0.0 < violation < before and ran > 0):
        return SECOND_CHECK
    rate = np.log(violation / before) / ran  # < 0: log decrease per epoch
    needed = int(np.ceil(np.log(target / violation) / rate))
    return int(min(max(needed, 1), MAX_EPOCHS_BETWEEN_CHECKS))
