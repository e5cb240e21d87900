r"""Least-squares regressors: LinearRegression, Ridge, Lasso and ElasticNet.

All four minimize

.. math:: \frac{1}{n} \sum_i s_i \tfrac12 (x_i \cdot coef + intercept - y_i)^2
          + \alpha \Big(\rho \|coef\|_1 + \frac{1 - \rho}{2} \|coef\|_2^2\Big)

with sample weights :math:`s_i` rescaled to sum to ``n`` and the intercept not penalized;
they differ in the penalty: none, :math:`\rho = 0`, :math:`\rho = 1` and :math:`\rho` =
``l1_ratio``.
"""

from __future__ import annotations

import numpy as np

from fastopt._exclusive import exclusive
from fastopt.linear_model._base import (
    LinearModelBase,
    check_real,
    check_sample_weight,
    check_X,
    check_y,
)
from fastopt.linear_model._docstrings import fill_doc

_COMMON_PARAMETERS = """
    fit_intercept : bool, default True
        Fit an unpenalized intercept.
    solver : str, default "auto"
        One of "auto", "lbfgs", "owlqn", "fista", "newton-cd", "newton-cg" and "newton".
        "auto" uses newton without an L1 term when ``n_features + fit_intercept <= 2000`` and
        there are at least twice as many samples, lbfgs for the other problems without an L1
        term, and newton-cd with one. "newton" solves with the dense Hessian (a Cholesky
        solve); newton-cd uses coordinate descent on that dense Hessian under the same shape
        condition. "newton-cg" is truncated Newton with preconditioned conjugate gradients.
        "lbfgs", "newton-cg" and "newton" reject an L1 term (ValueError).
    tol : float, default 1e-6
        Stop when the optimality violation (infinity norm of the minimum-norm subgradient)
        falls to ``tol`` times its value at ``coef = 0, intercept = 0``.
    max_iter : int, default 1000
        Maximum number of solver iterations.
    warm_start : bool, default False
        Start from the previous fit's ``coef_`` and ``intercept_`` when their shapes match.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the samples, stop when their squared error has
        not improved by a relative ``tol`` for ``n_iter_no_change`` iterations, and keep the
        iterate with the lowest validation error.
    validation_fraction : float, default 0.1
        Share of the samples held out with ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default 5
        Iterations without improvement of the validation error before stopping.
    random_state : int, RandomState or None, default None
        Seeds the validation split.
    verbose : int, default 0
        Above 0, write the solver's progress (iterations, objective, elapsed time) to stderr,
        at most once a second, or redrawn in place on a terminal.
    callbacks : Callback or list of Callback, default None
        :mod:`fastopt.callbacks` objects run after each solver iteration, with the logs
        described in :class:`LogisticRegression` (``w`` ends with the intercept).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        0.0 when ``fit_intercept`` is False.
    n_iter_ : int
        Solver iterations of the last fit.
    n_features_in_ : int
    solver_ : str
        The solver that ran ("auto" resolved).

    Warns
    -----
    fastopt.exceptions.ConvergenceWarning
        When the solver stops at ``max_iter`` above the tolerance; the best iterate is kept.
"""
# The solvers' papers, listed under each estimator after its parameters.
_REFERENCES = """
    References
    ----------
    Liu, D. C. and Nocedal, J. "On the limited memory BFGS method for large scale
    optimization", Math. Programming 45, 1989 (solver "lbfgs").
    Beck, A. and Teboulle, M. "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci. 2(1), 2009 (solver "fista").
    Yuan, G.-X., Ho, C.-H. and Lin, C.-J. "An improved GLMNET for L1-regularized logistic
    regression", JMLR 13, 2012 (solver "newton-cd").
"""


class _LeastSquares(LinearModelBase):
    _estimator_type = "regressor"

    def _penalty(self):
        """Return the estimator's (alpha, l1_ratio, penalty name)."""
        raise NotImplementedError

    def _check_params(self):
        """Raise ValueError naming the first invalid hyperparameter."""
        self._penalty()
        self._check_common_params()

    @fill_doc
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and the real targets ``y``.

        Parameters
        ----------
        {fit_X}
        y : array_like of shape (n_samples,)
            Finite real targets.
        {fit_sample_weight}

        Returns
        -------
        {fit_returns}

        Raises
        ------
        ValueError
            For NaN or infinity in ``X`` or ``y``, lengths that differ, negative sample
            weights, a penalty the solver does not support or an invalid hyperparameter,
            before any fitting.
        """
        with exclusive(self, "fit"):
            alpha, l1_ratio, penalty = self._penalty()
            self._check_common_params()
            X = check_X(X)
            n, p = X.shape
            y = check_y(y, n, numeric=True)
            sample_weight = check_sample_weight(sample_weight, n)

            def unpack(estimator, w):
                estimator.n_features_in_ = p
                estimator.coef_ = w[:p].copy()
                estimator.intercept_ = float(w[p])

            w = self._fit_objective(X, y, loss="squared", alpha=alpha, l1_ratio=l1_ratio,
                                    penalty=penalty, sample_weight=sample_weight, n_classes=None,
                                    unpack=unpack)
            unpack(self, w)
            return self

    def _warm_start_params(self, k, p):
        if not self.warm_start or not hasattr(self, "coef_") or self.coef_.size != p:
            return None
        return np.concatenate([self.coef_, [self.intercept_]])

    @fill_doc
    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        {predict_X}

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted targets.
        """
        X = self._check_predict_X(X)
        return np.asarray(X @ self.coef_.astype(X.dtype, copy=False),
                          dtype=np.float64).reshape(-1) + self.intercept_

    @fill_doc
    def score(self, X, y, sample_weight=None):
        """Compute the coefficient of determination :math:`R^2` of :meth:`predict`.

        Parameters
        ----------
        {predict_X}
        y : array_like of shape (n_samples,)
            True targets.
        sample_weight : array_like of shape (n_samples,), optional
            Weights of the samples in both means; equal by default.

        Returns
        -------
        float
            :math:`1 - \\sum_i s_i r_i^2 / \\sum_i s_i (y_i - \\bar y)^2`, 1.0 for a perfect fit.
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        residual = y - self.predict(X)
        mean = np.average(y, weights=sample_weight)
        total = np.average((y - mean) ** 2, weights=sample_weight)
        error = np.average(residual ** 2, weights=sample_weight)
        if total == 0.0:
            return 1.0 if error == 0.0 else 0.0
        return float(1.0 - error / total)


class LinearRegression(_LeastSquares):
    __doc__ = r"""Ordinary least squares, fitted by an iterative solver.

    Minimizes :math:`\frac{1}{n} \sum_i s_i \tfrac12 (x_i^T coef + intercept - y_i)^2`.
    The problem is solved iteratively from ``coef = 0``, so with collinear features it
    returns one of the minimizers.

    Parameters
    ----------""" + _COMMON_PARAMETERS + _REFERENCES + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.5]) + 3.0
    >>> from fastopt.linear_model import LinearRegression
    >>> model = LinearRegression().fit(X, y)
    >>> bool(np.allclose(model.coef_, [1.5, 0.0, -2.0, 0.0, 0.5])), round(model.intercept_, 4)
    (True, 3.0)
    """

    def __init__(self, *, fit_intercept=True, solver="auto", tol=1e-6, max_iter=1000,
                 warm_start=False, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, random_state=None, verbose=0,
                 callbacks=None):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _penalty(self):
        return 0.0, 0.0, None


class Ridge(_LeastSquares):
    __doc__ = r"""Least squares with an L2 penalty ``alpha / 2 * ||coef||^2``.

    The loss is a mean, so scikit-learn's ``Ridge(alpha=a)`` (a summed loss plus
    ``a ||coef||^2``) is ``Ridge(alpha=a / n)`` here (with sample weights, ``n`` is their
    sum); scikit-learn's ``SGDRegressor(alpha=a, penalty="l2")`` and Spark's
    ``LinearRegression(regParam=a, elasticNetParam=0, standardization=False)`` are
    ``alpha=a``.

    Parameters
    ----------
    alpha : float, default 1e-4
        Penalty strength, >= 0.""" + _COMMON_PARAMETERS + _REFERENCES + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.5]) + 3.0
    >>> from fastopt.linear_model import Ridge
    >>> Ridge(alpha=0.1).fit(X, y).coef_
    array([ 1.3218,  0.0046, -1.7702, -0.0344,  0.4505])
    """

    def __init__(self, alpha=1e-4, *, fit_intercept=True, solver="auto", tol=1e-6,
                 max_iter=1000, warm_start=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, random_state=None, verbose=0,
                 callbacks=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _penalty(self):
        return check_real("alpha", self.alpha, low=0.0), 0.0, "l2"


class Lasso(_LeastSquares):
    __doc__ = r"""Least squares with an L1 penalty ``alpha * ||coef||_1``.

    ``alpha`` is the same as in scikit-learn's ``Lasso(alpha=a)`` and Spark's
    ``LinearRegression(regParam=a, elasticNetParam=1, standardization=False)``.

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty strength, >= 0.""" + _COMMON_PARAMETERS + _REFERENCES + """
    Examples
    --------
    The L1 penalty sets the coefficients of the two unused features to exactly zero:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.5]) + 3.0
    >>> from fastopt.linear_model import Lasso
    >>> model = Lasso(alpha=0.1).fit(X, y)
    >>> model.coef_, model.solver_
    (array([ 1.3734,  0.    , -1.8668,  0.    ,  0.4075]), 'newton-cd')
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, solver="auto", tol=1e-6,
                 max_iter=1000, warm_start=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, random_state=None, verbose=0,
                 callbacks=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _penalty(self):
        return check_real("alpha", self.alpha, low=0.0), 1.0, "l1"


class ElasticNet(_LeastSquares):
    __doc__ = r"""Least squares with an elastic-net penalty, a mix of L1 and L2.

    The penalty is ``alpha * (l1_ratio ||coef||_1 + (1 - l1_ratio) / 2 ||coef||^2)``.

    ``alpha`` and ``l1_ratio`` are the same as in scikit-learn's ``ElasticNet`` and Spark's
    ``LinearRegression(regParam=alpha, elasticNetParam=l1_ratio, standardization=False)``.

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty strength, >= 0.
    l1_ratio : float, default 0.5
        L1 share of the penalty, in [0, 1].""" + _COMMON_PARAMETERS + _REFERENCES + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.5]) + 3.0
    >>> from fastopt.linear_model import ElasticNet
    >>> ElasticNet(alpha=0.1, l1_ratio=0.5).fit(X, y).coef_
    array([ 1.3513,  0.    , -1.8157,  0.    ,  0.4305])
    """

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, solver="auto",
                 tol=1e-6, max_iter=1000, warm_start=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, random_state=None, verbose=0,
                 callbacks=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _penalty(self):
        alpha = check_real("alpha", self.alpha, low=0.0)
        return alpha, check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0), "elasticnet"
