"""Solver choice and dispatch for regularized GLM objectives.

Every solver minimizes ``f(w) + alpha * (l1_ratio ||coef||_1 + (1 - l1_ratio)/2 ||coef||^2)``
for the data term ``f`` of a :class:`GLMObjective`, stops on the shared optimality rule of
``_stopping`` and returns a :class:`SolverResult`.

========== ============================================ =====================================
solver     penalties                                    losses
========== ============================================ =====================================
lbfgs      smooth only (``l1_ratio == 0`` or no penalty) all
newton-cg  smooth only (``l1_ratio == 0`` or no penalty) all
newton     smooth only (``l1_ratio == 0`` or no penalty) logistic, squared, huber
owlqn      any                                          all
fista      any                                          all
newton-cd  any                                          logistic, squared, huber
dual-cd    L2 only (``l1_ratio == 0``, ``alpha > 0``)   logistic without an intercept
========== ============================================ =====================================

"newton" forms the dense Hessian with the Gram kernel and solves each Newton system by
Cholesky (``_gram``). newton-cd runs on that dense Hessian too, with O(p) coordinate steps,
when ``_gram.gram_suitable`` holds (n_features + fit_intercept <= 2000 and at least twice as
many samples) and, for losses other than squared error, forming the Hessian costs at most
``_gram.GRAM_MAX_FORMATION_SWEEPS`` column sweeps; otherwise it runs the column-wise C++
kernel.

"auto" picks newton-cd for an L1 term on a binary or regression loss, owlqn for an L1 term
on the multinomial loss, "newton" for smooth objectives where ``_gram.gram_pays`` holds (the
shape condition and, except for squared error, the same bound on the cost of forming the
Hessian), and lbfgs for the other smooth objectives.
"""

from __future__ import annotations

import numbers

import numpy as np

from fastopt.linear_model import _dual_cd as _dual_cd_module
from fastopt.linear_model import _fista as _fista_module
from fastopt.linear_model import _gram
from fastopt.linear_model import _newton_cd as _newton_cd_module
from fastopt.linear_model import _newton_cg as _newton_cg_module
from fastopt.linear_model import _quasi_newton

SOLVERS = ("auto", "lbfgs", "owlqn", "fista", "newton-cd", "newton-cg", "newton", "dual-cd")


def _newton_cd(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None, data=None):
    # Unless the loss is squared, the Hessian changes at every outer iteration, so
    # gram_pays also requires that it be cheap to form again.
    if _gram.gram_pays(obj.n_samples, obj.n_features, obj.fit_intercept, obj.loss, obj.design):
        # Few features and many samples: coordinate descent on the dense Hessian, O(p) per
        # coordinate step instead of a pass over the column.
        return _gram.newton_cd_gram(obj, alpha=alpha, l1_ratio=l1_ratio, tol=tol,
                                    max_iter=max_iter, w0=w0, callback=callback)
    if data is None:
        raise ValueError("data: solver 'newton-cd' works on the design matrix itself; pass "
                         "data=(X, y, sample_weight) as used to build the objective")
    X, y, sample_weight = data
    if obj.design.layout in ("csc", "dense_f"):
        # The objective's design is X itself, or its copy with duplicate entries summed:
        # reading it avoids a second deduplicated copy of X.
        X = obj.design
    return _newton_cd_module.newton_cd(X, y, loss=obj.loss, alpha=alpha, l1_ratio=l1_ratio,
                            sample_weight=sample_weight, fit_intercept=obj.fit_intercept,
                            w0=w0, tol=tol, max_iter=max_iter, callback=callback,
                            # obj was built from these arrays and has checked them.
                            check_input=False)


def _fista(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None, data=None):
    return _fista_module.fista_glm(obj, alpha=alpha, l1_ratio=l1_ratio, tol=tol, max_iter=max_iter,
                            w0=w0, callback=callback)


def _lbfgs(obj, *, data=None, **kwargs):
    return _quasi_newton.lbfgs(obj, **kwargs)


def _owlqn(obj, *, data=None, **kwargs):
    return _quasi_newton.owlqn(obj, **kwargs)


def _newton_cg(obj, *, data=None, **kwargs):
    return _newton_cg_module.newton_cg(obj, **kwargs)


def _newton(obj, *, data=None, **kwargs):
    return _gram.newton(obj, **kwargs)


def _dual_cd(obj, *, data=None, **kwargs):
    return _dual_cd_module.dual_cd(obj, data=data, **kwargs)


#: Solver name -> function(obj, *, alpha, l1_ratio, tol, max_iter, w0, callback, data).
REGISTRY = {
    "lbfgs": _lbfgs,
    "owlqn": _owlqn,
    "fista": _fista,
    "newton-cd": _newton_cd,
    "newton-cg": _newton_cg,
    "newton": _newton,
    "dual-cd": _dual_cd,
}


def select_solver(solver, *, loss, alpha, l1_ratio, penalty=None, n_samples=None,
                  n_features=None, fit_intercept=True, n_outputs=1, X=None):
    """Return the concrete solver name for ``solver``, or raise ValueError for a bad pair.

    ``penalty`` is the estimator's name for the penalty and only shapes the message. With the
    shape of X given, "auto" picks the Gram-matrix "newton" for smooth objectives with few
    features and many samples (``_gram.gram_suitable``) and, when ``X`` (a matrix or a
    :class:`Design`) is given too, a Hessian cheap enough to form (``_gram.gram_pays``);
    otherwise "lbfgs".
    """
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {SOLVERS}, got {solver!r}")
    has_l1 = l1_ratio > 0.0 and alpha > 0.0
    if penalty is None:
        penalty = f"l1_ratio={l1_ratio!r}" if l1_ratio > 0.0 else "l2"
    if solver == "auto":
        if not has_l1:
            if n_samples is not None and n_features is not None:
                gram = (_gram.gram_suitable(n_samples, n_features, fit_intercept, loss)
                        if X is None else
                        _gram.gram_pays(n_samples, n_features, fit_intercept, loss, X))
                if gram:
                    return "newton"
            return "lbfgs"
        if loss != "multinomial":
            return "newton-cd"
        return "owlqn"
    # With alpha = 0 the L1 term vanishes, so lbfgs (and "auto", which picks it) can solve
    # a Lasso or L1 logistic problem at alpha = 0, the unpenalized fit.
    if solver in ("lbfgs", "newton-cg", "newton") and has_l1:
        raise ValueError(f"solver: {solver!r} does not support penalty={penalty!r}, which has "
                         "an L1 term; use solver='owlqn', 'newton-cd', 'fista' or 'auto'")
    if solver in ("newton-cd", "newton") and loss == "multinomial":
        others = "'owlqn', 'fista' or 'auto'" if has_l1 else "'lbfgs', 'owlqn' or 'auto'"
        raise ValueError(f"solver: {solver!r} does not support loss {loss!r} (penalty="
                         f"{penalty!r}); use solver={others}")
    if solver == "dual-cd":
        reason = _dual_cd_module.unsupported_reason(loss, alpha, l1_ratio if has_l1 else 0.0,
                                                    fit_intercept, n_outputs)
        if reason is not None:
            raise ValueError(f"solver: 'dual-cd' does not support {reason} (penalty="
                             f"{penalty!r}); use solver='lbfgs', 'newton-cg' or 'auto'")
    return solver


def solve(obj, *, alpha, l1_ratio, solver, tol, max_iter, w0=None, callback=None, data=None):
    """Minimize the data term of ``obj`` plus the elastic-net penalty with ``solver``.

    Parameters
    ----------
    obj : GLMObjective
    alpha : float
        Penalty strength, >= 0.
    l1_ratio : float
        L1 share of the penalty, in [0, 1].
    solver : {"auto", "lbfgs", "owlqn", "fista", "newton-cd", "newton-cg", "newton", "dual-cd"}
    tol : float
        Stop when the optimality violation falls to ``tol`` times its value at ``w = 0``.
    max_iter : int
        Maximum number of outer iterations, >= 1.
    w0 : ndarray of shape (obj.n_params,), optional
        Warm start.
    callback : callable, optional
        ``callback(w) -> bool`` after each outer iteration; True stops the run.
    data : tuple (X, y, sample_weight), optional
        The arrays the objective was built from, for solvers that work on the design matrix
        directly ("newton-cd", and "dual-cd" when X is CSC or Fortran-ordered).

    Returns
    -------
    SolverResult
        Its ``solver`` field names the solver that ran ("auto" resolved).

    Raises
    ------
    ValueError
        For an unknown solver, a solver that does not support the penalty or loss, or bad
        ``alpha``, ``l1_ratio``, ``tol``, ``max_iter`` or ``w0``.
    """
    alpha = _check_real("alpha", alpha, low=0.0)
    l1_ratio = _check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    tol = _check_real("tol", tol, low=0.0)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter: expected an integer >= 1, got {max_iter!r}")
    name = select_solver(solver, loss=obj.loss, alpha=alpha, l1_ratio=l1_ratio,
                         n_samples=obj.n_samples, n_features=obj.n_features,
                         fit_intercept=obj.fit_intercept, n_outputs=obj.n_outputs,
                         X=obj.design)
    if w0 is not None:
        w0 = np.asarray(w0, dtype=np.float64)
        if w0.shape != (obj.n_params,):
            raise ValueError(f"w0: expected shape ({obj.n_params},), got {w0.shape}")
        bad = np.flatnonzero(~np.isfinite(w0))
        if bad.size:
            raise ValueError(f"w0: expected finite values, got w0[{bad[0]}] = {float(w0[bad[0]])!r}")
    result = REGISTRY[name](obj, alpha=alpha, l1_ratio=l1_ratio, tol=tol,
                            max_iter=int(max_iter), w0=w0, callback=callback, data=data)
    if not result.solver:
        result.solver = name
    return result


def _check_real(name, value, *, low, high=np.inf):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    x = float(value)
    if not (np.isfinite(x) and low <= x <= high):
        bounds = f">= {low:g}" if high == np.inf else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name}: expected a finite number {bounds}, got {value!r}")
    return x
