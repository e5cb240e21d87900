"""Regularization path: solutions for a decreasing grid of alphas with warm starts."""

from __future__ import annotations

import numpy as np

from fastopt.linear_model._base import check_int, check_real, check_sample_weight, check_X
from fastopt.linear_model._objective import GLMObjective
from fastopt.linear_model._solve import select_solver, solve
from fastopt.minimize._minimize import minimize as _minimize

# An L2-only path has no alpha at which coef = 0 is exactly optimal, so alpha_max is taken
# at this L1 share, as glmnet does for ridge paths.
_MIN_L1_RATIO_FOR_ALPHA_MAX = 1e-3


def alpha_max(objective, l1_ratio):
    r"""Return the smallest alpha at which ``coef = 0`` is optimal (with the L1 term).

    At the intercept-only optimum :math:`b^*`, ``coef = 0`` minimizes the objective iff
    :math:`\|\nabla_{coef} f(0, b^*)\|_\infty \le \alpha\, l1\_ratio`. For ``l1_ratio`` below
    1e-3 the value for ``l1_ratio = 1e-3`` is returned, since an L2 penalty never zeroes
    ``coef`` exactly.

    Parameters
    ----------
    objective : GLMObjective
        The data term :math:`f`, a ``fastopt.linear_model._objective.GLMObjective``.
    l1_ratio : float
        L1 share of the penalty, in [0, 1].

    Returns
    -------
    float
        The smallest penalty strength with ``coef = 0`` at the optimum.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import Lasso, alpha_max
    >>> from fastopt.linear_model._objective import GLMObjective
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> round(alpha_max(GLMObjective(X, y, loss="logistic"), l1_ratio=1.0), 4)
    0.2527
    """
    k, p = objective.n_outputs, objective.n_features
    w = np.zeros(objective.n_params)
    if objective.fit_intercept:
        def intercept_only(b):
            w[k * p:] = b
            f, g = objective.value_grad(w)
            return f, g[k * p:]

        result = _minimize(intercept_only, np.zeros(k), jac=True, method="lbfgs",
                           options={"gtol": 1e-10, "ftol": 0.0, "maxiter": 1000})
        w[k * p:] = result.x
    _, g = objective.value_grad(w)
    return float(np.abs(g[: k * p]).max()) / max(l1_ratio, _MIN_L1_RATIO_FOR_ALPHA_MAX)


def regularization_path(X, y, *, loss, l1_ratio, n_alphas=100, alpha_min_ratio=1e-3,
                        alphas=None, solver="auto", sample_weight=None, fit_intercept=True,
                        n_classes=None, huber_delta=1.0, tol=1e-6, max_iter=1000):
    r"""Solve the regularized GLM for a decreasing sequence of alphas.

    Each problem minimizes
    :math:`f(w) + \alpha (\rho \|coef\|_1 + \frac{1-\rho}{2}\|coef\|_2^2)` (see
    :class:`GLMObjective` for ``f``) and starts from the previous solution. Without ``alphas``
    the grid is ``n_alphas`` values spaced evenly in log scale from :func:`alpha_max`, where
    the L1 term makes ``coef = 0`` optimal, down to ``alpha_min_ratio * alpha_max``.

    Parameters
    ----------
    X : array_like or sparse matrix of shape (n_samples, n_features)
        Training data.
    y : array_like of shape (n_samples,)
        Labels as the loss takes them: -1/+1 for "logistic", 0..K-1 for "multinomial", real
        targets for "squared" and "huber".
    loss : {"logistic", "multinomial", "squared", "huber"}
    l1_ratio : float
        L1 share of the penalty, in [0, 1].
    n_alphas : int, default 100
        Number of values in the grid, when ``alphas`` is not given.
    alpha_min_ratio : float, default 1e-3
        Smallest alpha of the grid relative to alpha_max, in (0, 1].
    alphas : array_like, optional
        The grid itself (sorted in decreasing order before solving).
    solver : str, default "auto"
        As in :class:`LogisticRegression`.
    sample_weight : array_like of shape (n_samples,), optional
        Non-negative weights, rescaled to sum to ``n_samples``.
    fit_intercept : bool, default True
        Fit unpenalized intercepts.
    n_classes : int, optional
        Number of classes K for "multinomial"; max(y) + 1 by default.
    huber_delta : float, default 1.0
        Threshold of the Huber loss.
    tol : float, default 1e-6
        Relative tolerance of each solve, as in :class:`LogisticRegression`.
    max_iter : int, default 1000
        Per alpha.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_alphas, n_features) or (n_alphas, K, n_features)
        Coefficients at each alpha; the second shape is for "multinomial".
    intercepts : ndarray of shape (n_alphas,) or (n_alphas, K)
        Intercepts at each alpha.
    n_iters : ndarray of int, shape (n_alphas,)
        Solver iterations per alpha.

    References
    ----------
    Friedman, J., Hastie, T. and Tibshirani, R. "Regularization paths for generalized
    linear models via coordinate descent", J. Stat. Softw. 33(1), 2010.

    Examples
    --------
    The number of nonzero coefficients grows as alpha decreases:

    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import regularization_path
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> alphas, coefs, intercepts, n_iters = regularization_path(
    ...     X, y, loss="logistic", l1_ratio=1.0, n_alphas=5)
    >>> alphas
    array([0.2527, 0.0449, 0.008 , 0.0014, 0.0003])
    >>> (coefs != 0).sum(axis=1)
    array([ 0,  7, 11, 13, 13])
    """
    X = check_X(X)
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    l1_ratio = check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    if loss == "multinomial" and n_classes is None:
        # Labels are class indices: a gap (labels 1..K, or {0, 2, 4}) would add classes
        # without samples, whose intercepts run off towards minus infinity.
        labels = np.asarray(y)
        if labels.size and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
            present = np.unique(labels.astype(np.int64))
            missing = np.setdiff1d(np.arange(present.max() + 1), present)
            if missing.size:
                raise ValueError(
                    f"y: multinomial labels must be the class indices 0..K-1, but class "
                    f"{int(missing[0])} has no samples (labels present: {present.tolist()[:10]}); "
                    "encode the labels with np.unique(y, return_inverse=True) or pass n_classes")
    objective = GLMObjective(X, y, loss=loss, sample_weight=sample_weight,
                             fit_intercept=fit_intercept, n_classes=n_classes,
                             huber_delta=huber_delta)
    if alphas is None:
        n_alphas = check_int("n_alphas", n_alphas, low=1)
        ratio = check_real("alpha_min_ratio", alpha_min_ratio, low=0.0, high=1.0,
                           low_open=True)
        top = alpha_max(objective, l1_ratio)
        if top == 0.0:
            raise ValueError("y: the intercept-only model is already optimal for every alpha "
                             "(the gradient in coef is zero there), so there is no path")
        grid = np.geomspace(top, top * ratio, n_alphas)
    else:
        grid = np.asarray(alphas, dtype=np.float64).reshape(-1)
        bad = np.flatnonzero(~(np.isfinite(grid) & (grid >= 0)))
        if bad.size:
            raise ValueError(f"alphas: expected finite values >= 0, got alphas[{bad[0]}] = "
                             f"{float(grid[bad[0]])!r}")
        if grid.size == 0:
            raise ValueError("alphas: expected at least one value, got an empty array")
        grid = np.sort(grid)[::-1]
    for alpha in grid:
        select_solver(solver, loss=loss, alpha=alpha, l1_ratio=l1_ratio,
                      fit_intercept=fit_intercept, n_outputs=objective.n_outputs)

    k, p = objective.n_outputs, objective.n_features
    coefs = np.empty((grid.size, k, p))
    intercepts = np.zeros((grid.size, k))
    n_iters = np.empty(grid.size, dtype=np.int64)
    w = None
    for i, alpha in enumerate(grid):
        result = solve(objective, alpha=float(alpha), l1_ratio=l1_ratio, solver=solver,
                       tol=tol, max_iter=max_iter, w0=w, data=(X, y, sample_weight))
        w = result.w
        coefs[i] = w[: k * p].reshape(k, p)
        if fit_intercept:
            intercepts[i] = w[k * p:]
        n_iters[i] = result.n_iter
    if loss != "multinomial":
        return grid, coefs[:, 0, :], intercepts[:, 0], n_iters
    return grid, coefs, intercepts, n_iters
