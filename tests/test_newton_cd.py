"""Tests of the newton-cd solver for L1 / elastic-net penalized GLMs."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from glm_reference import value_grad

import fastopt
from fastopt import _core
from fastopt.datasets import load_svmlight
from fastopt.linear_model._design import as_design
from fastopt.linear_model._newton_cd import _column_matrix, _to_csc, newton_cd
from fastopt.linear_model._stopping import (
    add_l2_gradient,
    optimality_violation,
    penalty_value,
)

sklm = pytest.importorskip("sklearn.linear_model")


def objective(X, y, w, *, loss, alpha, l1_ratio, fit_intercept=True, sample_weight=None,
              huber_delta=1.0):
    """Full objective from the NumPy oracle: data term plus penalty."""
    f, _ = value_grad(X, y, w, loss=loss, sample_weight=sample_weight,
                      fit_intercept=fit_intercept, huber_delta=huber_delta)
    return f + penalty_value(w, alpha, l1_ratio, X.shape[1], 1)


def reference_violation(X, y, w, *, loss, alpha, l1_ratio, fit_intercept=True,
                        sample_weight=None, huber_delta=1.0):
    _, g = value_grad(X, y, w, loss=loss, sample_weight=sample_weight,
                      fit_intercept=fit_intercept, huber_delta=huber_delta)
    add_l2_gradient(g, w, alpha, l1_ratio, X.shape[1], 1)
    return optimality_violation(g, w, alpha, l1_ratio, X.shape[1], 1)


def alpha_max(X, y, *, loss, l1_ratio=1.0):
    """Smallest alpha with coef = 0 optimal (the intercept fitted)."""
    if loss == "logistic":
        share = np.mean(y == 1.0)
        b0 = np.log(share / (1.0 - share))
        d1 = -y / (1.0 + np.exp(y * b0))
    else:
        d1 = np.mean(y) - y
    return float(np.abs(X.T @ d1).max()) / X.shape[0] / l1_ratio


def regression_problem(n=120, p=40, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.2, format="csc", random_state=seed, dtype=np.float64)
        X.data = rng.standard_normal(X.data.size)
    else:
        X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    k = min(6, p)
    coef[:k] = rng.standard_normal(k) * 3.0
    y = X @ coef + 0.5 + 0.3 * rng.standard_normal(n)
    return X, y


def classification_problem(n=300, p=30, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    k = min(5, p)
    coef[:k] = rng.standard_normal(k) * 2.0
    y = np.where(X @ coef + 0.3 + rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


def load_binary(path, n_rows=None):
    X, y = load_svmlight(path)
    labels = np.unique(y)
    y = np.where(y == labels[-1], 1.0, -1.0)
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    return X.tocsc(), y


def sklearn_coef(model):
    return np.append(np.ravel(model.coef_), np.ravel(model.intercept_))


# --- the shared stopping measure -------------------------------------------------------------


@pytest.mark.parametrize("l1_ratio", [0.0, 0.4, 1.0])
def test_violation_formula_matches_python(l1_ratio):
    rng = np.random.default_rng(3)
    for trial in range(20):
        g = rng.standard_normal(31) * rng.choice([1e-3, 1.0, 10.0])
        w = rng.standard_normal(31)
        w[rng.random(31) < 0.5] = 0.0
        alpha = float(rng.choice([0.0, 0.1, 1.0, 5.0]))
        expected = optimality_violation(g, w, alpha, l1_ratio, 30, 1)
        got = _core.newton_cd_violation(g, w, alpha, l1_ratio, 30)
        assert got == expected, (trial, got, expected)


def test_violation_without_intercept_matches_python():
    rng = np.random.default_rng(4)
    g = rng.standard_normal(12)
    w = np.where(rng.random(12) < 0.5, 0.0, rng.standard_normal(12))
    assert _core.newton_cd_violation(g, w, 0.7, 0.5, 12) == optimality_violation(
        g, w, 0.7, 0.5, 12, 1)


@pytest.mark.parametrize("loss", ["squared", "logistic", "huber"])
def test_reported_violation_matches_reference(loss):
    X, y = classification_problem() if loss == "logistic" else regression_problem()
    alpha = 0.1 * alpha_max(X, y, loss="squared" if loss == "huber" else loss)
    res = newton_cd(X, y, loss=loss, alpha=alpha, l1_ratio=0.8, tol=1e-3)
    expected = reference_violation(X, y, res.w, loss=loss, alpha=alpha, l1_ratio=0.8)
    assert res.violation == pytest.approx(expected, rel=1e-8, abs=1e-14)
    zero = np.zeros_like(res.w)
    expected0 = reference_violation(X, y, zero, loss=loss, alpha=alpha, l1_ratio=0.8)
    assert res.violation0 == pytest.approx(expected0, rel=1e-10)
    assert res.objective == pytest.approx(
        objective(X, y, res.w, loss=loss, alpha=alpha, l1_ratio=0.8), rel=1e-12)


# --- squared loss against scikit-learn ---------------------------------------------------------


def check_against_sklearn_regression(X, y, alpha, l1_ratio, fit_intercept=True):
    res = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=l1_ratio,
                    fit_intercept=fit_intercept, tol=1e-10, max_iter=1000)
    assert res.converged
    if l1_ratio == 1.0:
        model = sklm.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000,
                           fit_intercept=fit_intercept)
    else:
        model = sklm.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000,
                                fit_intercept=fit_intercept)
    model.fit(X, y)
    ref = sklearn_coef(model) if fit_intercept else np.ravel(model.coef_)
    ours = objective(X, y, res.w, loss="squared", alpha=alpha, l1_ratio=l1_ratio,
                     fit_intercept=fit_intercept)
    theirs = objective(X, y, ref, loss="squared", alpha=alpha, l1_ratio=l1_ratio,
                       fit_intercept=fit_intercept)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert ours <= theirs * (1.0 + 1e-9)
    p = X.shape[1]
    np.testing.assert_array_equal(res.w[:p] != 0.0, ref[:p] != 0.0)
    return res


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_squared_matches_sklearn_random(sparse, l1_ratio):
    X, y = regression_problem(sparse=sparse)
    for frac in (0.3, 0.05):
        alpha = frac * alpha_max(X, y, loss="squared", l1_ratio=l1_ratio)
        res = check_against_sklearn_regression(X, y, alpha, l1_ratio)
        assert np.count_nonzero(res.w[:-1] == 0.0) > 0


def test_squared_matches_sklearn_no_intercept():
    X, y = regression_problem(seed=5)
    alpha = 0.05 * alpha_max(X, y, loss="squared")
    check_against_sklearn_regression(X, y, alpha, 1.0, fit_intercept=False)


@pytest.mark.parametrize("name", ["abalone_scale.bz2", "heart_scale"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_squared_matches_sklearn_real_data(data_file, name, l1_ratio):
    X, y = load_svmlight(data_file(name))
    X = X.tocsc()
    for frac in (0.1, 0.001):
        alpha = frac * alpha_max(X, y, loss="squared", l1_ratio=l1_ratio)
        check_against_sklearn_regression(X, y, alpha, l1_ratio)


# --- L1 logistic against liblinear -------------------------------------------------------------


def liblinear_l1(X, y, alpha, fit_intercept, intercept_scaling=1.0):
    n = X.shape[0]
    model = sklm.LogisticRegression(C=1.0 / (alpha * n), l1_ratio=1.0, solver="liblinear",
                                    tol=1e-10, max_iter=100_000, fit_intercept=fit_intercept,
                                    intercept_scaling=intercept_scaling)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return sklearn_coef(model) if fit_intercept else np.ravel(model.coef_)


def check_l1_logistic_against_liblinear(X, y, alpha, w):
    """Assert that w (no intercept) is as good as liblinear's L1 logistic fit."""
    ref = liblinear_l1(X, y, alpha, fit_intercept=False)
    ours = objective(X, y, w, loss="logistic", alpha=alpha, l1_ratio=1.0, fit_intercept=False)
    theirs = objective(X, y, ref, loss="logistic", alpha=alpha, l1_ratio=1.0,
                       fit_intercept=False)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert ours <= theirs * (1.0 + 1e-9)


@pytest.mark.parametrize("name,n_rows", [("mushrooms", None), ("a9a", 8000)])
@pytest.mark.parametrize("frac", [0.1, 0.01])
def test_logistic_matches_liblinear(data_file, name, n_rows, frac):
    X, y = load_binary(data_file(name), n_rows)
    alpha = frac * alpha_max(X, y, loss="logistic")
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, fit_intercept=False,
                    tol=1e-10, max_iter=500)
    assert res.converged
    check_l1_logistic_against_liblinear(X, y, alpha, res.w)


def test_logistic_separable_matches_liblinear():
    # Separable sparse data with a small alpha: some columns touch only samples with large
    # margins, their Newton steps are far too long, and the step bound has to shorten them.
    rng = np.random.default_rng(0)
    X = sp.random(200, 2000, density=0.01, format="csc", random_state=0,
                  data_rvs=lambda k: np.abs(rng.standard_normal(k)))
    y = np.where(X @ rng.standard_normal(2000) >= 0, 1.0, -1.0)
    alpha = 1e-3 * float(np.abs(X.T @ y).max()) / (2 * X.shape[0])
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, fit_intercept=False,
                    tol=1e-8, max_iter=1000)
    assert res.converged
    violation = reference_violation(X, y, res.w, loss="logistic", alpha=alpha, l1_ratio=1.0,
                                    fit_intercept=False)
    assert violation <= 1e-8 * res.violation0 * (1.0 + 1e-6)
    check_l1_logistic_against_liblinear(X, y, alpha, res.w)


def test_unchecked_input_gives_the_same_fit():
    X, y = classification_problem()
    alpha = 0.05 * alpha_max(X, y, loss="logistic")
    checked = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-8)
    unchecked = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-8,
                          check_input=False)
    np.testing.assert_array_equal(unchecked.w, checked.w)
    with pytest.raises(TypeError, match="check_input: expected a bool, got str"):
        newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, check_input="no")


def test_logistic_intercept_matches_liblinear(data_file):
    # A large intercept_scaling makes liblinear's penalty on the intercept negligible.
    X, y = load_binary(data_file("heart_scale"))
    alpha = 0.05 * alpha_max(X, y, loss="logistic")
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-10)
    assert res.converged
    ref = liblinear_l1(X, y, alpha, fit_intercept=True, intercept_scaling=1e4)
    ours = objective(X, y, res.w, loss="logistic", alpha=alpha, l1_ratio=1.0)
    theirs = objective(X, y, ref, loss="logistic", alpha=alpha, l1_ratio=1.0)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert ours <= theirs * (1.0 + 1e-9)


def test_logistic_elastic_net_kkt():
    X, y = classification_problem()
    alpha = 0.05 * alpha_max(X, y, loss="logistic")
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=0.3, tol=1e-10)
    assert res.converged
    v = reference_violation(X, y, res.w, loss="logistic", alpha=alpha, l1_ratio=0.3)
    assert v <= 1e-9 * res.violation0


# --- Huber against the oracle's optimality conditions -----------------------------------------


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("delta", [0.1, 1.0])
def test_huber_kkt(l1_ratio, delta):
    X, y = regression_problem(n=200, p=30, seed=7)
    rng = np.random.default_rng(8)
    y[rng.random(y.size) < 0.1] += 20.0  # outliers on the linear part of the loss
    alpha = 0.05 * alpha_max(X, y, loss="squared", l1_ratio=max(l1_ratio, 0.5))
    res = newton_cd(X, y, loss="huber", huber_delta=delta, alpha=alpha, l1_ratio=l1_ratio,
                    tol=1e-10, max_iter=500)
    assert res.converged
    v = reference_violation(X, y, res.w, loss="huber", huber_delta=delta, alpha=alpha,
                            l1_ratio=l1_ratio)
    assert v <= 1e-9 * res.violation0


def test_huber_large_delta_equals_squared():
    X, y = regression_problem(seed=9)
    alpha = 0.1 * alpha_max(X, y, loss="squared")
    huber = newton_cd(X, y, loss="huber", huber_delta=1e6, alpha=alpha, l1_ratio=1.0,
                      tol=1e-10)
    squared = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=1.0, tol=1e-10)
    np.testing.assert_allclose(huber.w, squared.w, rtol=1e-8, atol=1e-10)


# --- sample weights ------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_integer_weights_equal_repeated_rows(loss):
    X, y = classification_problem(n=150) if loss == "logistic" else regression_problem(n=150)
    counts = np.random.default_rng(2).integers(0, 4, size=X.shape[0]).astype(np.float64)
    alpha = 0.05 * alpha_max(X, y, loss=loss)
    weighted = newton_cd(X, y, loss=loss, alpha=alpha, l1_ratio=0.9, sample_weight=counts,
                         tol=1e-11)
    rows = np.repeat(np.arange(X.shape[0]), counts.astype(int))
    repeated = newton_cd(X[rows], y[rows], loss=loss, alpha=alpha, l1_ratio=0.9, tol=1e-11)
    np.testing.assert_allclose(weighted.w, repeated.w, rtol=1e-7, atol=1e-9)
    assert weighted.objective == pytest.approx(repeated.objective, rel=1e-10)


def test_weights_are_scale_free():
    X, y = regression_problem()
    s = np.random.default_rng(6).random(X.shape[0])
    alpha = 0.1 * alpha_max(X, y, loss="squared")
    a = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=1.0, sample_weight=s, tol=1e-10)
    b = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=1.0, sample_weight=7.0 * s,
                  tol=1e-10)
    np.testing.assert_allclose(a.w, b.w, rtol=1e-9, atol=1e-12)


# --- layouts and dtypes ------------------------------------------------------------------------


def layouts(X):
    """The same float32-representable matrix in every supported layout."""
    X32 = np.asarray(X, dtype=np.float32)
    X64 = X32.astype(np.float64)
    csc = sp.csc_matrix(X64)
    csc64 = csc.copy()
    csc64.indices = csc64.indices.astype(np.int64)
    csc64.indptr = csc64.indptr.astype(np.int64)
    return {
        "dense_f64_F": np.asfortranarray(X64),
        "dense_f64_C": np.ascontiguousarray(X64),
        "dense_f32_F": np.asfortranarray(X32),
        "csc_f64_i32": csc,
        "csc_f64_i64": csc64,
        "csc_f32_i32": sp.csc_matrix(X32),
        "csc_array": sp.csc_array(X64),
        "csr_f64": sp.csr_matrix(X64),
        "coo_f64": sp.coo_matrix(X64),
    }


@pytest.mark.parametrize("loss", ["squared", "logistic", "huber"])
def test_layouts_agree(loss):
    X, y = classification_problem(n=200, p=25) if loss == "logistic" else regression_problem()
    X = np.where(np.abs(X) < 0.7, 0.0, X)  # sparse enough for CSC to differ from dense
    alpha = 0.05 * alpha_max(X, y, loss="squared" if loss == "huber" else loss)
    results = {
        name: newton_cd(M, y, loss=loss, alpha=alpha, l1_ratio=0.7, tol=1e-10)
        for name, M in layouts(X).items()
    }
    base = results["dense_f64_F"]
    for name, res in results.items():
        np.testing.assert_allclose(res.w, base.w, rtol=1e-10, atol=1e-13, err_msg=name)
        assert res.objective == pytest.approx(base.objective, rel=1e-10), name


def _csr_cases():
    rng = np.random.default_rng(21)
    X = sp.random(300, 70, density=0.08, format="lil", random_state=rng)
    X[5, :] = 0.0  # an empty row
    X[:, 9] = 0.0  # an empty column
    X = X.tocsr()
    X.eliminate_zeros()
    unsorted = X.copy()
    for i in range(unsorted.shape[0]):
        lo, hi = unsorted.indptr[i], unsorted.indptr[i + 1]
        unsorted.indices[lo:hi] = unsorted.indices[lo:hi][::-1]
        unsorted.data[lo:hi] = unsorted.data[lo:hi][::-1]
    unsorted.has_sorted_indices = False
    duplicates = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([4, 4, 1]),
                                np.array([0, 2, 3])), shape=(2, 6))
    wide = X.copy()
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    return {"sorted": X, "float32": X.astype(np.float32), "int64": wide,
            "unsorted": unsorted, "duplicates": duplicates}


@pytest.mark.parametrize("case", sorted(_csr_cases()))
@pytest.mark.parametrize("threads", [1, 2])
def test_csc_conversion_matches_scipy(case, threads):
    X = _csr_cases()[case]
    expected = X.tocsc()
    saved = fastopt.get_num_threads()
    fastopt.set_num_threads(threads)
    try:
        C = _to_csc(X)
    finally:
        fastopt.set_num_threads(saved)
    assert C.format == "csc"
    assert C.dtype == X.dtype
    np.testing.assert_array_equal(C.indptr, expected.indptr)
    np.testing.assert_array_equal(C.indices, expected.indices)
    np.testing.assert_array_equal(C.data, expected.data)
    if case == "duplicates":
        assert not C.has_canonical_format


def test_csc_kernel_rejects_out_of_range_index():
    indptr = np.array([0, 2], dtype=np.int32)
    indices = np.array([0, 7], dtype=np.int32)
    assert _core.csr_to_csc(np.ones(2), indices, indptr, 5) is None


def test_duplicate_csc_entries_are_summed():
    X, y = regression_problem(n=60, p=8)
    csc = sp.csc_matrix(X)
    coo = csc.tocoo()
    # Split every entry in two halves stored separately.
    dup = sp.csc_matrix((np.concatenate([coo.data / 2, coo.data / 2]),
                         (np.concatenate([coo.row, coo.row]),
                          np.concatenate([coo.col, coo.col]))), shape=X.shape)
    dup.has_canonical_format = False
    alpha = 0.1 * alpha_max(X, y, loss="squared")
    a = newton_cd(csc, y, loss="squared", alpha=alpha, l1_ratio=1.0, tol=1e-10)
    b = newton_cd(dup, y, loss="squared", alpha=alpha, l1_ratio=1.0, tol=1e-10)
    np.testing.assert_allclose(a.w, b.w, rtol=1e-9, atol=1e-12)


# --- solver behavior ---------------------------------------------------------------------------


def test_exact_zeros_in_solution():
    X, y = regression_problem(p=60)
    alpha = 0.2 * alpha_max(X, y, loss="squared")
    res = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=1.0, tol=1e-8)
    coef = res.w[:-1]
    assert np.count_nonzero(coef) <= 10
    assert np.count_nonzero(coef == 0.0) >= 50


def test_alpha_above_alpha_max_gives_zero_coef():
    X, y = classification_problem()
    alpha = 1.01 * alpha_max(X, y, loss="logistic")
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-10)
    assert res.converged
    np.testing.assert_array_equal(res.w[:-1], 0.0)
    share = np.mean(y == 1.0)
    assert res.w[-1] == pytest.approx(np.log(share / (1.0 - share)), rel=1e-8)


@pytest.mark.parametrize("loss", ["squared", "logistic", "huber"])
def test_warm_start_from_solution(loss):
    X, y = classification_problem() if loss == "logistic" else regression_problem()
    alpha = 0.05 * alpha_max(X, y, loss="squared" if loss == "huber" else loss)
    first = newton_cd(X, y, loss=loss, alpha=alpha, l1_ratio=0.9, tol=1e-8)
    assert first.converged
    w0 = first.w.copy()
    again = newton_cd(X, y, loss=loss, alpha=alpha, l1_ratio=0.9, tol=1e-8, w0=w0)
    assert again.converged
    assert again.n_iter <= 1
    np.testing.assert_array_equal(w0, first.w)  # w0 is not written


def test_max_iter_zero_returns_start():
    X, y = regression_problem()
    w0 = np.full(X.shape[1] + 1, 0.1)
    res = newton_cd(X, y, loss="squared", alpha=0.1, l1_ratio=1.0, w0=w0, max_iter=0)
    assert res.n_iter == 0
    assert not res.converged
    np.testing.assert_array_equal(res.w, w0)
    assert res.objective == pytest.approx(
        objective(X, y, w0, loss="squared", alpha=0.1, l1_ratio=1.0), rel=1e-12)


def test_max_iter_reached_is_not_converged():
    X, y = classification_problem()
    alpha = 0.001 * alpha_max(X, y, loss="logistic")
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-14, max_iter=2)
    assert res.n_iter == 2
    assert not res.converged
    assert res.violation > 1e-14 * res.violation0


def test_objective_decreases_every_iteration():
    X, y = classification_problem()
    alpha = 0.01 * alpha_max(X, y, loss="logistic")
    values = []

    def record(w):
        values.append(objective(X, y, w, loss="logistic", alpha=alpha, l1_ratio=1.0))
        return False

    newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-10, callback=record)
    assert len(values) >= 2
    assert all(b <= a * (1.0 + 1e-12) for a, b in zip(values, values[1:]))


def test_callback_stops_after_first_iteration():
    X, y = classification_problem()
    alpha = 0.01 * alpha_max(X, y, loss="logistic")
    seen = []

    def stop(w):
        seen.append(w)
        return True

    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-12, callback=stop)
    assert res.n_iter == 1
    assert not res.converged
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], res.w)
    assert seen[0] is not res.w


def test_callback_receives_copies():
    X, y = regression_problem()
    alpha = 0.01 * alpha_max(X, y, loss="squared")
    seen = []
    res = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=1.0, tol=1e-10,
                    callback=lambda w: seen.append(w) or False)
    assert len(seen) == res.n_iter
    assert not any(np.shares_memory(s, res.w) for s in seen)


def test_callback_exception_propagates():
    X, y = regression_problem()

    def fail(w):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        newton_cd(X, y, loss="squared", alpha=0.01, l1_ratio=1.0, tol=1e-12, callback=fail)


def test_large_margins_stay_finite():
    X, y = classification_problem()
    X = X * 1e3  # margins in the thousands at the solution
    alpha = 0.01 * alpha_max(X, y, loss="logistic")
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-8, max_iter=200)
    assert np.isfinite(res.objective)
    assert np.all(np.isfinite(res.w))
    assert res.converged


def test_thread_count_does_not_change_bits():
    if _core.max_threads() < 2:
        pytest.skip("needs OpenMP with at least 2 threads")
    rng = np.random.default_rng(11)
    # More samples and stored entries than the one-thread threshold (32768).
    X = sp.random(40_000, 120, density=0.02, format="csc", random_state=11)
    X.data = rng.standard_normal(X.data.size)
    coef = np.zeros(120)
    coef[:10] = 1.0
    y = np.where(X @ coef + 0.2 * rng.standard_normal(40_000) > 0, 1.0, -1.0)
    alpha = 0.02 * alpha_max(X, y, loss="logistic")
    results = []
    for threads in (1, 2):
        fastopt.set_num_threads(threads)
        results.append(newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, tol=1e-8))
    np.testing.assert_array_equal(results[0].w, results[1].w)
    assert results[0].objective == results[1].objective
    assert results[0].n_iter == results[1].n_iter


def test_pure_ridge_matches_closed_form():
    X, y = regression_problem(n=80, p=10)
    alpha = 0.3
    res = newton_cd(X, y, loss="squared", alpha=alpha, l1_ratio=0.0, tol=1e-12, max_iter=1000)
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    coef = np.linalg.solve(Xc.T @ Xc / n + alpha * np.eye(10), Xc.T @ (y - y.mean()) / n)
    np.testing.assert_allclose(res.w[:-1], coef, rtol=1e-8, atol=1e-10)


def test_empty_column_keeps_zero():
    X, y = regression_problem(p=10)
    X[:, 3] = 0.0
    res = newton_cd(sp.csc_matrix(X), y, loss="squared", alpha=0.01, l1_ratio=1.0, tol=1e-10)
    assert res.converged
    assert res.w[3] == 0.0
    w0 = np.zeros(11)
    w0[3] = 2.0  # a coefficient on a column of zeros only pays its penalty
    res = newton_cd(X, y, loss="squared", alpha=0.01, l1_ratio=1.0, tol=1e-10, w0=w0)
    assert res.w[3] == 0.0


# --- errors ------------------------------------------------------------------------------------


def call(X=None, y=None, **kwargs):
    Xd, yd = regression_problem(n=20, p=4)
    args = dict(loss="squared", alpha=0.1, l1_ratio=1.0)
    args.update(kwargs)
    return newton_cd(Xd if X is None else X, yd if y is None else y, **args)


@pytest.mark.parametrize("kwargs,match", [
    ({"loss": "hinge"}, "loss: expected one of .*'hinge'"),
    ({"loss": "multinomial"}, "loss: expected one of"),
    ({"alpha": -0.1}, r"alpha: expected a finite value >= 0.0, got -0.1"),
    ({"alpha": np.inf}, "alpha: expected a finite value"),
    ({"l1_ratio": 1.5}, r"l1_ratio: expected a value in \[0.0, 1.0\], got 1.5"),
    ({"l1_ratio": -0.2}, r"l1_ratio: expected a value in \[0.0, 1.0\], got -0.2"),
    ({"tol": -1.0}, "tol: expected a finite value >= 0.0, got -1.0"),
    ({"huber_delta": 0.0}, "huber_delta: expected a finite value > 0.0, got 0.0"),
    ({"max_iter": -1}, "max_iter: expected an int >= 0, got -1"),
    ({"max_iter": 2.5}, "max_iter: expected an int >= 0, got 2.5"),
    ({"sample_weight": np.ones(19)}, "sample_weight: expected 20 values"),
    ({"sample_weight": -np.ones(20)}, "sample_weight: expected values >= 0, got -1.0 at index 0"),
    ({"sample_weight": np.zeros(20)}, "sample_weight: expected a positive sum"),
    ({"sample_weight": np.r_[np.ones(19), np.nan]}, "sample_weight: expected finite values"),
    ({"w0": np.zeros(4)}, r"w0: expected shape \(5,\)"),
    ({"w0": np.r_[np.zeros(4), np.inf]}, "w0: expected finite values, got inf at index 4"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        call(**kwargs)


def test_nan_in_dense_X():
    X, y = regression_problem(n=20, p=4)
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match="X: expected finite values, got nan at row 7, column 2"):
        call(X=X, y=y)


def test_inf_in_sparse_X():
    X, y = regression_problem(n=20, p=4)
    X[5, 1] = np.inf
    with pytest.raises(ValueError, match="X: expected finite values, got inf at row 5, column 1"):
        call(X=sp.csr_matrix(X), y=y)


def test_nan_in_y():
    X, y = regression_problem(n=20, p=4)
    y[3] = np.nan
    with pytest.raises(ValueError, match="y: expected finite values, got nan at index 3"):
        call(X=X, y=y)


def test_length_mismatch():
    X, y = regression_problem(n=20, p=4)
    with pytest.raises(ValueError, match=r"y: expected 20 values \(one per row of X\), got 19"):
        call(X=X, y=y[:19])


def test_logistic_labels_outside_pm_one():
    X, y = classification_problem(n=20, p=4)
    y01 = (y > 0).astype(np.float64)
    with pytest.raises(ValueError, match=r"y: expected labels in \{-1, \+1\} .* got 0.0 at index"):
        call(X=X, y=y01, loss="logistic")


def test_non_2d_X():
    with pytest.raises(ValueError, match=r"X: expected a 2-D array, got shape \(5,\)"):
        call(X=np.ones(5), y=np.ones(5))


def test_callback_not_callable():
    with pytest.raises(TypeError, match="callback: expected a callable or None, got int"):
        call(callback=3)


def test_core_rejects_bad_csc():
    X, y = regression_problem(n=20, p=4)
    csc = sp.csc_matrix(X)
    w = np.zeros(5)
    kwargs = dict(loss="squared", alpha=0.1, l1_ratio=1.0, fit_intercept=True, huber_delta=1.0,
                  tol=1e-6, max_iter=10)
    bad_indices = csc.indices.copy()
    bad_indices[3] = 20
    with pytest.raises(ValueError, match=r"X_indices\[3\]: expected a row index in \[0, 20\)"):
        _core.newton_cd(csc.data, bad_indices, csc.indptr, 20, 4, y, None, w, **kwargs)
    bad_indptr = csc.indptr.copy()
    bad_indptr[2] = bad_indptr[3] + 1
    with pytest.raises(ValueError, match=r"X_indptr\[3\]: expected >= "):
        _core.newton_cd(csc.data, csc.indices, bad_indptr, 20, 4, y, None, w, **kwargs)
    with pytest.raises(ValueError, match="X_data: expected a Fortran-contiguous"):
        _core.newton_cd(np.ascontiguousarray(X), None, None, 20, 4, y, None, w, **kwargs)
    with pytest.raises(ValueError, match="w and y share memory"):
        _core.newton_cd(csc.data, csc.indices, csc.indptr, 20, 4, y, None, y[:5], **kwargs)
    np.testing.assert_array_equal(w, 0.0)


def test_design_columns_read_in_place():
    rng = np.random.default_rng(7)
    X = sp.random(60, 20, density=0.3, format="csc", random_state=rng)
    design = as_design(X)
    data, indices, indptr, n, p = _column_matrix(design)
    assert data is design.data
    assert indices is design.indices
    assert indptr is design.indptr
    assert (n, p) == (60, 20)


def test_design_with_row_layout_rejected():
    X = sp.random(30, 10, density=0.3, format="csr", random_state=0)
    with pytest.raises(ValueError, match="column layout 'csc' or 'dense_f', got 'csr'"):
        _column_matrix(as_design(X))


def test_estimator_sums_csc_duplicates_once():
    # Two stored entries at (row, column) mean their sum, so the fit equals the one on the
    # summed matrix bit for bit, from the objective's single deduplicated copy.
    rng = np.random.default_rng(3)
    # More features than half the samples, so newton-cd runs the column kernel, not the Gram path.
    n, p = 300, 200
    indices, values = [], []
    for _ in range(p):
        rows = rng.choice(n, 20, replace=False)
        indices.append(np.concatenate([rows, rows[:2]]))
        values.append(rng.standard_normal(22))
    indptr = np.arange(0, 22 * p + 1, 22)
    duplicated = sp.csc_matrix((np.concatenate(values), np.concatenate(indices), indptr),
                               shape=(n, p))
    assert not duplicated.has_canonical_format
    summed = duplicated.copy()
    summed.sum_duplicates()
    assert summed.nnz < duplicated.nnz
    y = np.where(rng.standard_normal(n) > 0, 1, -1)
    fits = [fastopt.linear_model.LogisticRegression(penalty="l1", alpha=0.01,
                                                    solver="newton-cd").fit(X, y)
            for X in (duplicated, summed)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)


def test_solver_reads_objective_design(monkeypatch):
    from fastopt.linear_model import _solve
    from fastopt.linear_model._objective import GLMObjective

    X = sp.random(50, 40, density=0.2, format="csc", random_state=1)
    y = np.where(np.arange(50) % 2 == 0, 1.0, -1.0)
    obj = GLMObjective(X, y, loss="logistic")
    seen = []
    real = _solve._newton_cd_module.newton_cd

    def spy(X, *args, **kwargs):
        seen.append(X)
        return real(X, *args, **kwargs)

    monkeypatch.setattr(_solve._newton_cd_module, "newton_cd", spy)
    _solve.solve(obj, alpha=0.01, l1_ratio=1.0, solver="newton-cd", tol=1e-6, max_iter=50,
                 data=(X, y, None))
    assert len(seen) == 1
    assert seen[0] is obj.design
