"""Tests of the dual-cd solver (dual coordinate descent for L2 logistic regression).

Optima are compared with scikit-learn's liblinear at a tight tolerance on the LIBSVM data and
with SciPy's L-BFGS-B on the objective written out in NumPy, within 1e-6 relative in the
objective, evaluated here in float64.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import fastopt
from fastopt.datasets import load_svmlight
from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model import Lasso, LogisticRegression
from fastopt.linear_model._objective import GLMObjective
from fastopt.linear_model._solve import select_solver, solve


def objective(X, y, coef, alpha, sample_weight=None):
    """(sum_i s_i log(1 + exp(-y_i x_i . coef))) / sum(s) + alpha / 2 ||coef||^2."""
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    losses = np.logaddexp(0.0, -y * (X @ coef))
    return float(s @ losses) / float(s.sum()) + 0.5 * alpha * float(coef @ coef)


def load_binary(data_file, name, width, rows=None):
    X, y = load_svmlight(data_file(name), n_features=width)
    if rows is not None:
        X, y = X[:rows], y[:rows]
    X = sp.csr_matrix(X)
    return X, np.where(y == y.max(), 1.0, -1.0)


def l2_alpha(X, y, frac):
    return frac * 0.5 * float(np.abs(X.T @ y).max()) / X.shape[0]


def liblinear_coef(X, y, alpha):
    linear_model = pytest.importorskip("sklearn.linear_model")
    ref = linear_model.LogisticRegression(C=1.0 / (alpha * X.shape[0]), solver="liblinear",
                                          fit_intercept=False, tol=1e-12, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ref.fit(X, y).coef_.ravel()


def fit_dual_cd(X, y, alpha, tol=1e-10, sample_weight=None):
    model = LogisticRegression(alpha=alpha, fit_intercept=False, solver="dual-cd", tol=tol,
                               max_iter=10_000)
    return model.fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("name,width,rows", [("a9a", 123, 8000), ("w8a", 300, 8000),
                                             ("news20", 62061, 6000)])
@pytest.mark.parametrize("frac", [0.1, 0.001])
def test_real_data_matches_liblinear(data_file, name, width, rows, frac):
    X, y = load_binary(data_file, name if name != "news20" else "news20.bz2", width, rows)
    alpha = l2_alpha(X, y, frac)
    model = fit_dual_cd(X, y, alpha)
    assert model.solver_ == "dual-cd"
    ours = objective(X, y, model.coef_.ravel(), alpha)
    ref = objective(X, y, liblinear_coef(X, y, alpha), alpha)
    assert ours <= ref * (1 + 1e-6)
    assert ref <= ours * (1 + 1e-6)


def test_matches_other_solvers(data_file):
    X, y = load_binary(data_file, "w8a", 300, 8000)
    alpha = l2_alpha(X, y, 0.01)
    ours = objective(X, y, fit_dual_cd(X, y, alpha).coef_.ravel(), alpha)
    for solver in ("lbfgs", "newton-cg", "newton"):
        model = LogisticRegression(alpha=alpha, fit_intercept=False, solver=solver, tol=1e-10,
                                   max_iter=10_000)
        with warnings.catch_warnings():
            # lbfgs may stop a little above 1e-10 where float64 rounding limits its steps.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        theirs = objective(X, y, model.coef_.ravel(), alpha)
        assert abs(ours - theirs) <= 1e-6 * theirs, solver


def test_sample_weight_matches_scipy_reference():
    rng = np.random.default_rng(3)
    n, p = 300, 12
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 3.0, p)
    y = np.where(X @ rng.standard_normal(p) + rng.standard_normal(n) > 0, 1.0, -1.0)
    weight = rng.uniform(0.0, 4.0, n)
    weight[:20] = 0.0
    alpha = 0.02

    def value_grad(coef):
        z = y * (X @ coef)
        s = weight / weight.sum()
        value = float(s @ np.logaddexp(0.0, -z)) + 0.5 * alpha * float(coef @ coef)
        grad = X.T @ (-s * y * np.exp(-np.logaddexp(0.0, z))) + alpha * coef
        return value, grad

    ref = scipy.optimize.minimize(value_grad, np.zeros(p), jac=True, method="L-BFGS-B",
                                  options={"gtol": 1e-12, "ftol": 0.0, "maxiter": 10_000})
    model = fit_dual_cd(X, y, alpha, sample_weight=weight)
    ours = objective(X, y, model.coef_.ravel(), alpha, weight)
    theirs = objective(X, y, ref.x, alpha, weight)
    assert abs(ours - theirs) <= 1e-6 * theirs
    np.testing.assert_allclose(model.coef_.ravel(), ref.x, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("layout", ["csr", "csc", "dense_c", "dense_f"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layouts_and_dtypes_agree(data_file, layout, dtype):
    X, y = load_binary(data_file, "a9a", 123, 3000)
    alpha = l2_alpha(X, y, 0.01)
    base = fit_dual_cd(X, y, alpha).coef_.ravel()
    Xt = X.astype(dtype)
    converted = {"csr": sp.csr_matrix, "csc": sp.csc_matrix,
                 "dense_c": lambda A: np.ascontiguousarray(A.toarray()),
                 "dense_f": lambda A: np.asfortranarray(A.toarray())}[layout](Xt)
    coef = fit_dual_cd(converted, y, alpha).coef_.ravel()
    # a9a's values are 0 and 1, exact in float32, so every layout sums the same terms.
    f_base = objective(X, y, base, alpha)
    assert abs(objective(X, y, coef, alpha) - f_base) <= 1e-10 * f_base


def test_thread_count_does_not_change_bits(data_file):
    X, y = load_binary(data_file, "a9a", 123, 4000)
    alpha = l2_alpha(X, y, 0.01)
    before = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        one = fit_dual_cd(X, y, alpha, tol=1e-6).coef_.copy()
        fastopt.set_num_threads(2)
        two = fit_dual_cd(X, y, alpha, tol=1e-6).coef_.copy()
    finally:
        fastopt.set_num_threads(before)
    assert np.array_equal(one, two)


def test_warm_start_at_optimum_runs_no_epoch(data_file):
    X, y = load_binary(data_file, "a9a", 123, 4000)
    alpha = l2_alpha(X, y, 0.01)
    obj = GLMObjective(X, y, loss="logistic", fit_intercept=False)
    first = solve(obj, alpha=alpha, l1_ratio=0.0, solver="dual-cd", tol=1e-8, max_iter=1000)
    again = solve(obj, alpha=alpha, l1_ratio=0.0, solver="dual-cd", tol=1e-6, max_iter=1000,
                  w0=first.w)
    assert first.converged
    assert again.converged
    assert again.n_iter == 0
    f_first = objective(X, y, first.w, alpha)
    assert objective(X, y, again.w, alpha) <= f_first * (1 + 1e-9)


def test_callback_stops_run(data_file):
    X, y = load_binary(data_file, "a9a", 123, 4000)
    obj = GLMObjective(X, y, loss="logistic", fit_intercept=False)
    seen = []
    result = solve(obj, alpha=l2_alpha(X, y, 0.001), l1_ratio=0.0, solver="dual-cd",
                   tol=1e-14, max_iter=1000, callback=lambda w: seen.append(w) or True)
    assert len(seen) == 1
    assert not result.converged
    assert result.n_iter >= 1


def test_max_iter_warns_with_violation(data_file):
    X, y = load_binary(data_file, "a9a", 123, 4000)
    model = LogisticRegression(alpha=l2_alpha(X, y, 0.001), fit_intercept=False,
                               solver="dual-cd", tol=1e-14, max_iter=2)
    with pytest.warns(ConvergenceWarning, match="dual-cd.*max_iter=2"):
        model.fit(X, y)
    assert model.n_iter_ == 2


@pytest.mark.parametrize("kwargs,match", [
    ({"penalty": "l1", "fit_intercept": False}, "l1_ratio=1.0"),
    ({"penalty": "elasticnet", "l1_ratio": 0.5, "fit_intercept": False}, "l1_ratio=0.5"),
    ({"penalty": "l2", "fit_intercept": True}, "fit_intercept=True"),
    ({"penalty": "l2", "alpha": 0.0, "fit_intercept": False}, "alpha=0.0"),
    ({"penalty": None, "fit_intercept": False}, "alpha=0.0"),
])
def test_unsupported_settings_raise(kwargs, match):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 2.0]])
    y = np.array([0, 1, 1, 0])
    with pytest.raises(ValueError, match=f"solver: 'dual-cd' does not support {match}"):
        LogisticRegression(solver="dual-cd", **kwargs).fit(X, y)


def test_multinomial_and_regression_raise():
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match="does not support loss 'multinomial'"):
        LogisticRegression(solver="dual-cd", fit_intercept=False).fit(X, [0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="does not support loss 'squared'"):
        Lasso(solver="dual-cd").fit(X, np.arange(6.0))
    with pytest.raises(ValueError, match="does not support loss 'squared'"):
        select_solver("dual-cd", loss="squared", alpha=1.0, l1_ratio=0.0, fit_intercept=False)


def test_auto_never_picks_dual_cd():
    for shape in ((32561, 123), (19996, 62061)):
        chosen = select_solver("auto", loss="logistic", alpha=1e-3, l1_ratio=0.0,
                               n_samples=shape[0], n_features=shape[1], fit_intercept=False)
        assert chosen != "dual-cd"
