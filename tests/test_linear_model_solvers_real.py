"""Every linear-model solver on the public LIBSVM datasets against scikit-learn's optimum.

Problems are solved without an intercept where liblinear is the reference, because
liblinear penalizes its intercept and fastopt does not. Objectives are evaluated here with
SciPy in float64, the same code for fastopt and the reference.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt.datasets import load_svmlight
from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model import Lasso, LogisticRegression

sklearn_linear = pytest.importorskip("sklearn.linear_model")


def _binary(data_file, name, width, rows=None):
    X, y = load_svmlight(data_file(name), n_features=width)
    if rows is not None:
        X, y = X[:rows], y[:rows]
    # mushrooms labels its classes 1 and 2, the others -1 and +1.
    return sp.csr_matrix(X), np.where(y == y.max(), 1.0, -1.0)


def _logistic_objective(X, y, coef, alpha, penalty, intercept=0.0):
    z = X @ coef + intercept
    data = float(np.logaddexp(0.0, -y * z).mean())
    if penalty == "l1":
        return data + alpha * float(np.abs(coef).sum())
    return data + 0.5 * alpha * float(coef @ coef)


def _lasso_objective(X, y, coef, alpha):
    r = y - X @ coef
    return 0.5 * float(r @ r) / X.shape[0] + alpha * float(np.abs(coef).sum())


def _l1_alpha_max(X, y):
    return float(np.abs(X.T @ y).max()) / (2 * X.shape[0])


def _sklearn_logistic(X, y, alpha, penalty):
    ref = sklearn_linear.LogisticRegression(
        penalty=penalty, C=1.0 / (alpha * X.shape[0]), solver="liblinear",
        fit_intercept=False, tol=1e-12, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    return ref.coef_.ravel()


@pytest.mark.parametrize("solver", ["newton-cd", "owlqn", "fista"])
def test_l1_logistic_a9a_reaches_liblinear(data_file, solver):
    X, y = _binary(data_file, "a9a", 123)
    alpha = 0.05 * _l1_alpha_max(X, y)
    ref = _sklearn_logistic(X, y, alpha, "l1")
    model = LogisticRegression(penalty="l1", alpha=alpha, fit_intercept=False, solver=solver,
                               tol=1e-10, max_iter=20_000).fit(X, y)
    ours = _logistic_objective(X, y, model.coef_.ravel(), alpha, "l1")
    theirs = _logistic_objective(X, y, ref, alpha, "l1")
    assert ours <= theirs * (1 + 1e-6)


@pytest.mark.parametrize("solver", ["newton-cd", "owlqn", "fista"])
def test_l1_logistic_support_matches_liblinear(data_file, solver):
    # a9a's one-hot columns are collinear, so its L1 solution is not unique; heart_scale's
    # scaled measurements give a unique solution whose support is comparable.
    X, y = _binary(data_file, "heart_scale", 13)
    alpha = 0.1 * _l1_alpha_max(X, y)
    ref = _sklearn_logistic(X, y, alpha, "l1")
    model = LogisticRegression(penalty="l1", alpha=alpha, fit_intercept=False, solver=solver,
                               tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_array_equal(model.coef_.ravel() != 0, ref != 0)
    np.testing.assert_allclose(model.coef_.ravel(), ref, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("solver", ["newton-cd", "lbfgs", "newton-cg", "owlqn", "fista"])
def test_l2_logistic_w8a_reaches_liblinear(data_file, solver):
    X, y = _binary(data_file, "w8a", 300)
    alpha = 0.01 * _l1_alpha_max(X, y)
    ref = _sklearn_logistic(X, y, alpha, "l2")
    model = LogisticRegression(penalty="l2", alpha=alpha, fit_intercept=False, solver=solver,
                               tol=1e-10, max_iter=20_000).fit(X, y)
    ours = _logistic_objective(X, y, model.coef_.ravel(), alpha, "l2")
    theirs = _logistic_objective(X, y, ref, alpha, "l2")
    assert ours <= theirs * (1 + 1e-6)


@pytest.mark.parametrize("solver", ["newton-cd", "owlqn", "fista"])
def test_lasso_a9a_reaches_sklearn(data_file, solver):
    X, y = _binary(data_file, "a9a", 123)
    alpha = 0.05 * float(np.abs(X.T @ y).max()) / X.shape[0]
    ref = sklearn_linear.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12,
                               max_iter=100_000).fit(X, y).coef_
    model = Lasso(alpha=alpha, fit_intercept=False, solver=solver, tol=1e-10,
                  max_iter=20_000).fit(X, y)
    ours = _lasso_objective(X, y, model.coef_, alpha)
    theirs = _lasso_objective(X, y, ref, alpha)
    assert ours <= theirs * (1 + 1e-6)


def test_news20_one_vs_rest_l1_reaches_liblinear(data_file):
    X, labels = load_svmlight(data_file("news20.bz2"), n_features=62061)
    X = sp.csr_matrix(X)
    y = np.where(labels == 1, 1.0, -1.0)
    alpha = 0.05 * _l1_alpha_max(X, y)
    ref = _sklearn_logistic(X, y, alpha, "l1")
    model = LogisticRegression(penalty="l1", alpha=alpha, fit_intercept=False,
                               solver="newton-cd", tol=1e-10, max_iter=1000).fit(X, y)
    ours = _logistic_objective(X, y, model.coef_.ravel(), alpha, "l1")
    theirs = _logistic_objective(X, y, ref, alpha, "l1")
    assert ours <= theirs * (1 + 1e-6)


@pytest.mark.parametrize("solver", ["newton-cd", "lbfgs", "newton-cg", "owlqn", "fista"])
def test_layouts_agree_on_a9a(data_file, solver):
    X, y = _binary(data_file, "a9a", 123, rows=5000)
    penalty = "l2" if solver in ("lbfgs", "newton-cg") else "l1"
    alpha = 0.05 * _l1_alpha_max(X, y)
    fits = []
    for layout in (X.tocsr(), X.tocsc(), X.toarray(), np.asfortranarray(X.toarray())):
        model = LogisticRegression(penalty=penalty, alpha=alpha, solver=solver, tol=1e-12,
                                   max_iter=100_000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(layout, y)
        fits.append(_logistic_objective(X, y, model.coef_.ravel(), alpha, penalty,
                                        model.intercept_[0]))
    np.testing.assert_allclose(fits, fits[0], rtol=1e-10, atol=0)


def test_unscaled_counts_converge(data_file):
    # a9a's binary features turned into counts in the thousands: a badly scaled problem.
    X, y = _binary(data_file, "a9a", 123, rows=8000)
    scale = np.random.default_rng(0).integers(1000, 5000, X.shape[1]).astype(np.float64)
    X = sp.csr_matrix(X @ sp.diags(scale))
    alpha = 0.05 * _l1_alpha_max(X, y)
    ref = _sklearn_logistic(X, y, alpha, "l1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticRegression(penalty="l1", alpha=alpha, fit_intercept=False,
                                   tol=1e-8, max_iter=1000).fit(X, y)
    ours = _logistic_objective(X, y, model.coef_.ravel(), alpha, "l1")
    theirs = _logistic_objective(X, y, ref, alpha, "l1")
    assert ours <= theirs * (1 + 1e-6)


def test_huge_margins_give_finite_fit(data_file):
    X, y = _binary(data_file, "heart_scale", 13)
    X = X * 1e4
    model = LogisticRegression(alpha=1e-3).fit(X, y)
    proba = model.predict_proba(X)
    assert np.all(np.isfinite(model.coef_))
    assert np.all(np.isfinite(proba))
