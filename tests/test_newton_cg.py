"""Tests of the newton-cg solver (truncated Newton with preconditioned CG) for smooth GLMs.

Each problem is solved by newton-cg and by lbfgs at a tight tolerance, and the full objectives,
evaluated by the NumPy oracle in float64, must agree within 1e-6 relative.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from glm_reference import value_grad

import fastopt
from fastopt import _core
from fastopt.datasets import load_svmlight
from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.linear_model._objective import GLMObjective
from fastopt.linear_model._solve import select_solver, solve
from fastopt.linear_model._stopping import penalty_value

TIGHT = 1e-10


def full_objective(X, y, w, *, loss, alpha, sample_weight=None, fit_intercept=True,
                   n_classes=None):
    k = 1 if n_classes is None else n_classes
    f, _ = value_grad(X, y, w, loss=loss, sample_weight=sample_weight,
                      fit_intercept=fit_intercept, n_outputs=k)
    return f + penalty_value(w, alpha, 0.0, X.shape[1], k)


def fit_both(X, y, *, loss, alpha, sample_weight=None, fit_intercept=True, n_classes=None):
    """Return the newton-cg and lbfgs results on the same objective."""
    obj = GLMObjective(X, y, loss=loss, sample_weight=sample_weight,
                       fit_intercept=fit_intercept, n_classes=n_classes)
    ours = solve(obj, alpha=alpha, l1_ratio=0.0, solver="newton-cg", tol=TIGHT, max_iter=200)
    ref = solve(obj, alpha=alpha, l1_ratio=0.0, solver="lbfgs", tol=TIGHT, max_iter=20_000)
    return ours, ref


def assert_same_optimum(X, y, ours, ref, **kwargs):
    assert ours.converged
    assert ours.solver == "newton-cg"
    f_ours = full_objective(X, y, ours.w, **kwargs)
    f_ref = full_objective(X, y, ref.w, **kwargs)
    assert f_ours <= f_ref * (1 + 1e-6)
    assert f_ref <= f_ours * (1 + 1e-6)


def load_binary(data_file, name, width, rows):
    X, y = load_svmlight(data_file(name), n_features=width)
    X = sp.csr_matrix(X[:rows])
    y = np.asarray(y[:rows])
    return X, np.where(y == y.max(), 1.0, -1.0)


def l2_alpha_scale(X):
    return float(sp.linalg.norm(X, "fro") ** 2) / X.shape[0] if sp.issparse(X) else float(
        (X ** 2).sum()) / X.shape[0]


@pytest.mark.parametrize("name,width", [("a9a", 123), ("w8a", 300)])
@pytest.mark.parametrize("frac", [0.1, 0.001])
def test_logistic_real_matches_lbfgs(data_file, name, width, frac):
    X, y = load_binary(data_file, name, width, 6000)
    alpha = frac * 0.25 * float(np.abs(X.T @ y).max()) / X.shape[0]
    ours, ref = fit_both(X, y, loss="logistic", alpha=alpha)
    assert_same_optimum(X, y, ours, ref, loss="logistic", alpha=alpha)


@pytest.mark.parametrize("layout", ["dense_c", "dense_f", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layouts_and_dtypes(data_file, layout, dtype):
    X, y = load_binary(data_file, "a9a", 123, 3000)
    X = X.astype(dtype)
    converted = {"dense_c": lambda A: np.ascontiguousarray(A.toarray()),
                 "dense_f": lambda A: np.asfortranarray(A.toarray()),
                 "csr": sp.csr_matrix, "csc": sp.csc_matrix}[layout](X)
    alpha = 1e-3
    ours, ref = fit_both(converted, y, loss="logistic", alpha=alpha)
    assert_same_optimum(X.astype(np.float64), y, ours, ref, loss="logistic", alpha=alpha)


def test_layouts_agree_to_rounding(data_file):
    X, y = load_binary(data_file, "a9a", 123, 3000)
    values = []
    for converted in (X, X.tocsc(), X.toarray(), np.asfortranarray(X.toarray())):
        obj = GLMObjective(converted, y, loss="logistic")
        result = solve(obj, alpha=1e-3, l1_ratio=0.0, solver="newton-cg", tol=TIGHT,
                       max_iter=200)
        values.append(result.objective)
    np.testing.assert_allclose(values, values[0], rtol=1e-10, atol=0)


def test_sample_weight_and_no_intercept(data_file):
    X, y = load_binary(data_file, "w8a", 300, 4000)
    weight = np.random.default_rng(3).uniform(0.0, 3.0, X.shape[0])
    for fit_intercept in (True, False):
        ours, ref = fit_both(X, y, loss="logistic", alpha=1e-4, sample_weight=weight,
                             fit_intercept=fit_intercept)
        assert_same_optimum(X, y, ours, ref, loss="logistic", alpha=1e-4,
                            sample_weight=weight, fit_intercept=fit_intercept)


@pytest.mark.parametrize("loss", ["squared", "huber"])
def test_regression_losses(loss):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 30))
    X[:, 0] *= 100.0  # badly scaled column: the diagonal preconditioner absorbs it
    y = X @ rng.standard_normal(30) * 0.01 + rng.standard_normal(400)
    ours, ref = fit_both(X, y, loss=loss, alpha=1e-2)
    assert_same_optimum(X, y, ours, ref, loss=loss, alpha=1e-2)


def test_multinomial_matches_lbfgs():
    rng = np.random.default_rng(1)
    X = sp.random(500, 80, density=0.1, random_state=2, format="csr")
    y = rng.integers(0, 4, 500).astype(np.float64)
    y[(X[:, 0].toarray().ravel() > 0.5)] = 3.0
    ours, ref = fit_both(X, y, loss="multinomial", alpha=1e-3, n_classes=4)
    assert_same_optimum(X, y, ours, ref, loss="multinomial", alpha=1e-3, n_classes=4)


def test_warm_start_at_optimum_takes_no_step(data_file):
    X, y = load_binary(data_file, "a9a", 123, 2000)
    obj = GLMObjective(X, y, loss="logistic")
    first = solve(obj, alpha=1e-3, l1_ratio=0.0, solver="newton-cg", tol=1e-8, max_iter=200)
    again = solve(obj, alpha=1e-3, l1_ratio=0.0, solver="newton-cg", tol=1e-8, max_iter=200,
                  w0=first.w)
    assert again.n_iter == 0
    assert again.converged
    np.testing.assert_array_equal(again.w, first.w)


def test_callback_stops_run(data_file):
    X, y = load_binary(data_file, "a9a", 123, 2000)
    obj = GLMObjective(X, y, loss="logistic")
    seen = []

    def stop_after_two(w):
        seen.append(w)
        return len(seen) == 2

    result = solve(obj, alpha=1e-4, l1_ratio=0.0, solver="newton-cg", tol=1e-14, max_iter=200,
                   callback=stop_after_two)
    assert result.n_iter == 2
    assert not result.converged


def test_max_iter_reports_not_converged(data_file):
    X, y = load_binary(data_file, "a9a", 123, 2000)
    with pytest.warns(ConvergenceWarning, match="newton-cg"):
        LogisticRegression(alpha=1e-5, solver="newton-cg", tol=1e-14, max_iter=1).fit(X, y)


def test_l1_penalty_raises():
    with pytest.raises(ValueError, match="newton-cg"):
        select_solver("newton-cg", loss="logistic", alpha=0.1, l1_ratio=1.0)
    X = np.random.default_rng(0).standard_normal((50, 4))
    y = np.where(X[:, 0] > 0, 1, 0)
    with pytest.raises(ValueError, match="newton-cg"):
        LogisticRegression(penalty="l1", alpha=0.01, solver="newton-cg").fit(X, y)


def test_l1_penalty_at_alpha_zero_is_smooth():
    assert select_solver("newton-cg", loss="logistic", alpha=0.0, l1_ratio=1.0) == "newton-cg"


def test_estimators_accept_solver(data_file):
    X, y = load_binary(data_file, "a9a", 123, 3000)
    ours = LogisticRegression(alpha=1e-3, solver="newton-cg", tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the reference's float64 floor
        ref = LogisticRegression(alpha=1e-3, solver="lbfgs", tol=1e-10,
                                 max_iter=10_000).fit(X, y)
    assert ours.solver_ == "newton-cg"
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    rng = np.random.default_rng(4)
    Xr = rng.standard_normal((200, 10))
    yr = Xr @ rng.standard_normal(10) + 0.1 * rng.standard_normal(200)
    ridge = Ridge(alpha=0.5, solver="newton-cg", tol=1e-12).fit(Xr, yr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ridge_ref = Ridge(alpha=0.5, solver="lbfgs", tol=1e-12, max_iter=10_000).fit(Xr, yr)
    np.testing.assert_allclose(ridge.coef_, ridge_ref.coef_, rtol=1e-6, atol=1e-9)


def test_thread_count_does_not_change_bits(data_file):
    if _core.max_threads() < 2:
        pytest.skip("needs OpenMP with at least 2 threads")
    # More samples than the one-thread threshold of the kernels (32768).
    X, y = load_binary(data_file, "a9a", 123, 40_000)
    before = fastopt.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            fastopt.set_num_threads(threads)
            obj = GLMObjective(X, y, loss="logistic")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                results.append(solve(obj, alpha=1e-4, l1_ratio=0.0, solver="newton-cg",
                                     tol=1e-8, max_iter=200))
    finally:
        fastopt.set_num_threads(before)
    np.testing.assert_array_equal(results[0].w, results[1].w)
    assert results[0].n_iter == results[1].n_iter
