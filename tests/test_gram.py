"""The weighted Gram kernel and the Newton solvers built on it ("newton", newton-cd for n >> p)."""

import numpy as np
import pytest
import scipy.sparse as sp

import fastopt
from fastopt.exceptions import ConvergenceWarning
from fastopt import _core
from fastopt.datasets import load_svmlight
from fastopt.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from fastopt.linear_model import _gram
from fastopt.linear_model._design import as_design
from fastopt.linear_model._newton_cd import newton_cd as column_newton_cd
from fastopt.linear_model._objective import GLMObjective
from fastopt.linear_model._solve import select_solver, solve
from fastopt.linear_model._stopping import penalty_value
from glm_reference import value_grad


def _random_csr(n, p, density, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    return X.astype(dtype)


def _reference_gram(X, d, fit_intercept):
    A = X.toarray() if sp.issparse(X) else np.asarray(X)
    A = A.astype(np.float64)
    if fit_intercept:
        A = np.hstack([A, np.ones((A.shape[0], 1))])
    return A.T @ (d[:, None] * A)


def _layouts(X):
    dense = X.toarray()
    return {"csr": X, "csc": X.tocsc(), "dense_c": np.ascontiguousarray(dense),
            "dense_f": np.asfortranarray(dense)}


# ----------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("layout", ["csr", "csc", "dense_c", "dense_f"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_matches_numpy(layout, dtype, fit_intercept):
    X = _layouts(_random_csr(3000, 30, 0.3, 0, dtype))[layout]
    d = np.random.default_rng(1).random(3000)
    design = as_design(X)
    assert design.layout == layout
    G = design.native.gram(d, fit_intercept)
    ref = _reference_gram(X, d, fit_intercept)
    assert G.shape == ref.shape == (30 + fit_intercept,) * 2
    np.testing.assert_allclose(G, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert np.array_equal(G, G.T)


@pytest.mark.parametrize("layout", ["csr", "csc", "dense_c", "dense_f"])
def test_gram_same_bits_for_one_and_two_threads(layout):
    X = _layouts(_random_csr(4000, 40, 0.3, 2))[layout]
    d = np.random.default_rng(3).random(4000)
    design = as_design(X)
    results = []
    for threads in (1, 2):
        fastopt.set_num_threads(threads)
        results.append(design.native.gram(d, True))
    assert np.array_equal(results[0], results[1])


def test_gram_unsorted_indices_and_out():
    X = _random_csr(500, 12, 0.5, 4)
    rng = np.random.default_rng(5)
    # Reverse the stored order of every row: the same matrix with unsorted indices.
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        X.indices[lo:hi] = X.indices[lo:hi][::-1].copy()
        X.data[lo:hi] = X.data[lo:hi][::-1].copy()
    X.has_sorted_indices = False
    d = rng.random(500)
    out = np.empty((13, 13))
    G = as_design(X).native.gram(d, True, out=out)
    assert G is out or np.shares_memory(G, out)
    np.testing.assert_allclose(out, _reference_gram(X, d, True), rtol=1e-12, atol=1e-13)


def test_gram_refuses_too_many_features():
    X = sp.csr_matrix((np.ones(1), (np.zeros(1, int), np.zeros(1, int))), shape=(1, 6000))
    with pytest.raises(ValueError, match=r"6001 x 6001.*MiB"):
        as_design(X).native.gram(np.ones(1), True)


def test_gram_rejects_bad_weights():
    design = as_design(_random_csr(50, 4, 0.5, 6))
    d = np.ones(50)
    d[7] = np.nan
    with pytest.raises(ValueError, match=r"d\[7\]"):
        design.native.gram(d, True)
    with pytest.raises(ValueError, match="d"):
        design.native.gram(np.ones(49), True)


def test_gram_cd_solves_the_quadratic_model():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((60, 8))
    H = A.T @ A / 60
    q = rng.standard_normal(8)
    w = rng.standard_normal(8)
    step, hd = np.zeros(8), np.zeros(8)
    passes, violation = _core.gram_cd(H, q, w, step, hd, a1=0.0, a2=0.1, tol=1e-12,
                                      max_passes=10_000)
    assert violation <= 1e-12
    assert passes >= 1
    exact = np.linalg.solve(H + 0.1 * np.eye(8), -(q + 0.1 * w))
    np.testing.assert_allclose(step, exact, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(hd, H @ step, rtol=1e-12, atol=1e-13)

    # With an L1 term: the optimality conditions of the model at w + step.
    step, hd = np.zeros(8), np.zeros(8)
    _core.gram_cd(H, q, w, step, hd, a1=0.2, a2=0.0, tol=1e-12, max_passes=10_000)
    u = w + step
    g = q + H @ step
    assert np.all(np.abs(g[u != 0] + 0.2 * np.sign(u[u != 0])) <= 1e-10)
    assert np.all(np.abs(g[u == 0]) <= 0.2 + 1e-10)


@pytest.mark.parametrize("m", [1, 2, 3, 7, 64, 301])
def test_cholesky_matches_numpy(m):
    rng = np.random.default_rng(m)
    B = rng.standard_normal((m, m))
    A = B @ B.T + m * np.eye(m)
    L = A.copy()
    assert _core.cholesky(L) is True
    np.testing.assert_allclose(L, np.linalg.cholesky(A).T, rtol=1e-12, atol=1e-12)
    b = rng.standard_normal(m)
    x = b.copy()
    _core.cholesky_solve(L, x)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)


def test_cholesky_upper_triangle_any_threads():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((400, 400))
    A = B @ B.T + 400 * np.eye(400)
    factors = []
    for threads in (1, 2):
        before = fastopt.get_num_threads()
        fastopt.set_num_threads(threads)
        try:
            L = np.triu(A) + np.tril(np.full_like(A, np.nan), -1)
            assert _core.cholesky(L)
        finally:
            fastopt.set_num_threads(before)
        factors.append(L)
    assert np.array_equal(factors[0], factors[1])
    assert np.all(np.tril(factors[0], -1) == 0.0)


def test_cholesky_reports_an_indefinite_matrix():
    assert _core.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])) is False
    assert _core.cholesky(np.array([[np.nan]])) is False
    assert _core.cholesky(np.zeros((0, 0))) is True


@pytest.mark.parametrize("bad, message", [
    (np.ones((2, 3)), "A: expected a C-contiguous writable float64 square array"),
    (np.ones((3, 3), dtype=np.float32), "A: expected a C-contiguous writable float64"),
    (np.asfortranarray(np.ones((3, 3)))[:, :2], "A: expected a C-contiguous"),
])
def test_cholesky_rejects_bad_arrays(bad, message):
    with pytest.raises(ValueError, match=message):
        _core.cholesky(bad)
    frozen = np.eye(2)
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match="A: expected a C-contiguous writable"):
        _core.cholesky(frozen)


def test_cholesky_solve_rejects_bad_arrays():
    L = np.eye(3)
    with pytest.raises(ValueError, match="b: expected"):
        _core.cholesky_solve(L, np.ones(4))
    with pytest.raises(ValueError, match="b and U share memory"):
        _core.cholesky_solve(L, L[0])
    b = np.ones(3)
    with pytest.raises(ValueError, match="U: expected a C-contiguous float64 square array"):
        _core.cholesky_solve(np.ones((3, 2)), b)
    assert np.array_equal(b, np.ones(3))


# ----------------------------------------------------------------------------- solvers


def _objective(X, y, w, loss, alpha, l1_ratio, sample_weight=None, fit_intercept=True):
    f, _ = value_grad(X, y, w, loss=loss, sample_weight=sample_weight,
                      fit_intercept=fit_intercept)
    return f + penalty_value(w, alpha, l1_ratio, X.shape[1], 1)


def _alpha_max(X, y, loss, sample_weight=None):
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    s = s / s.sum()
    r = s * (y - (s @ y) if loss == "squared" else 0.5 * y)
    return float(np.abs(X.T @ r).max())


def _binary(data_file, name, width, rows=None):
    X, y = load_svmlight(data_file(name), n_features=width)
    if rows is not None:
        X, y = X[:rows], y[:rows]
    return sp.csr_matrix(X), np.where(y == y.max(), 1.0, -1.0)


def _reference_solution(X, y, loss, alpha, l1_ratio, sample_weight, fit_intercept):
    """The optimum by the column-wise newton-cd kernel at a tight tolerance."""
    result = column_newton_cd(X, y, loss=loss, alpha=alpha, l1_ratio=l1_ratio,
                              sample_weight=sample_weight, fit_intercept=fit_intercept,
                              tol=1e-11, max_iter=1000)
    return result.w


CASES = [
    # loss, l1_ratio, ratio of alpha_max, weighted, fit_intercept
    ("logistic", 0.0, 0.01, False, True),
    ("logistic", 0.0, 0.001, True, False),
    ("logistic", 1.0, 0.01, False, True),
    ("logistic", 1.0, 0.05, True, False),
    ("logistic", 0.5, 0.01, True, True),
    ("squared", 1.0, 0.01, False, True),
    ("squared", 0.5, 0.01, True, False),
    ("squared", 0.0, 0.01, False, True),
    ("huber", 0.0, 0.01, True, True),
    ("huber", 1.0, 0.01, False, True),
]


@pytest.mark.parametrize("loss, l1_ratio, ratio, weighted, fit_intercept", CASES)
def test_gram_solvers_reach_the_optimum_on_a9a_subset(data_file, loss, l1_ratio, ratio,
                                                      weighted, fit_intercept):
    X, y = _binary(data_file, "a9a", 123, rows=6000)
    if loss != "logistic":
        y = y + 0.3 * np.asarray(X[:, :5].sum(axis=1)).ravel()
    weights = np.random.default_rng(8).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    alpha = ratio * _alpha_max(X, y, loss, weights)
    obj = GLMObjective(X, y, loss=loss, sample_weight=weights, fit_intercept=fit_intercept)
    solver = "newton" if l1_ratio == 0.0 else "newton-cd"
    result = solve(obj, alpha=alpha, l1_ratio=l1_ratio, solver=solver, tol=1e-8, max_iter=200,
                   data=(X, y, weights))
    assert result.converged and result.solver == solver
    ref = _reference_solution(X, y, loss, alpha, l1_ratio, weights, fit_intercept)
    f = _objective(X, y, result.w, loss, alpha, l1_ratio, weights, fit_intercept)
    f_ref = _objective(X, y, ref, loss, alpha, l1_ratio, weights, fit_intercept)
    assert f <= f_ref + 1e-6 * abs(f_ref)
    assert abs(result.objective - f) <= 1e-10 * abs(f)


@pytest.mark.parametrize("name, width", [("a9a", 123), ("w8a", 300)])
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_gram_logistic_reaches_newton_cg_optimum(data_file, name, width, l1_ratio):
    X, y = _binary(data_file, name, width)
    alpha = 0.01 * _alpha_max(X, y, "logistic")
    obj = GLMObjective(X, y, loss="logistic")
    solver = "newton" if l1_ratio == 0.0 else "newton-cd"
    result = solve(obj, alpha=alpha, l1_ratio=l1_ratio, solver=solver, tol=1e-6, max_iter=100,
                   data=(X, y, None))
    reference = "newton-cg" if l1_ratio == 0.0 else "owlqn"
    ref = solve(obj, alpha=alpha, l1_ratio=l1_ratio, solver=reference, tol=1e-10,
                max_iter=10_000, data=(X, y, None))
    assert result.converged
    assert result.objective <= ref.objective + 1e-6 * abs(ref.objective)


@pytest.mark.parametrize("name, width", [("a9a", 123), ("w8a", 300)])
def test_gram_lasso_and_elastic_net_match_column_newton_cd(data_file, name, width):
    X, y = _binary(data_file, name, width)
    for model in (Lasso(alpha=0.01 * _alpha_max(X, y, "squared")),
                  ElasticNet(alpha=0.01 * _alpha_max(X, y, "squared"), l1_ratio=0.5)):
        model.fit(X, y)
        l1_ratio = getattr(model, "l1_ratio", 1.0)
        w = np.append(model.coef_, model.intercept_)
        ref = _reference_solution(X, y, "squared", model.alpha, l1_ratio, None, True)
        f = _objective(X, y, w, "squared", model.alpha, l1_ratio)
        f_ref = _objective(X, y, ref, "squared", model.alpha, l1_ratio)
        assert f <= f_ref + 1e-6 * abs(f_ref)


def test_newton_warm_start_and_callback(data_file):
    X, y = _binary(data_file, "a9a", 123, rows=4000)
    obj = GLMObjective(X, y, loss="logistic")
    alpha = 0.01 * _alpha_max(X, y, "logistic")
    first = solve(obj, alpha=alpha, l1_ratio=0.0, solver="newton", tol=1e-8, max_iter=100)
    again = solve(obj, alpha=alpha, l1_ratio=0.0, solver="newton", tol=1e-8, max_iter=100,
                  w0=first.w)
    assert again.converged and again.n_iter <= 1
    seen = []
    stopped = solve(obj, alpha=alpha, l1_ratio=0.0, solver="newton", tol=1e-12, max_iter=100,
                    callback=lambda w: seen.append(w) or True)
    assert stopped.n_iter == 1
    assert len(seen) == 1
    assert not stopped.converged


def test_newton_rejects_l1_and_multinomial():
    X = _random_csr(200, 5, 0.5, 9)
    y = np.where(np.arange(200) % 2, 1.0, -1.0)
    obj = GLMObjective(X, y, loss="logistic")
    with pytest.raises(ValueError, match="'newton' does not support"):
        solve(obj, alpha=0.1, l1_ratio=0.5, solver="newton", tol=1e-6, max_iter=10)
    with pytest.raises(ValueError, match="'newton' does not support loss 'multinomial'"):
        select_solver("newton", loss="multinomial", alpha=0.1, l1_ratio=0.0)


def test_ridge_with_newton_matches_closed_form():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((500, 20))
    y = X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(500)
    model = Ridge(alpha=3.0, solver="newton").fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    # Ridge minimizes ||y - X coef - b||^2 / (2 n) + alpha/2 ||coef||^2.
    coef = np.linalg.solve(Xc.T @ Xc + 500 * 3.0 * np.eye(20), Xc.T @ yc)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------------------- auto


def test_auto_picks_newton_for_tall_smooth_problems():
    pick = dict(loss="logistic", alpha=1e-4, l1_ratio=0.0)
    assert select_solver("auto", n_samples=32561, n_features=123, **pick) == "newton"
    assert select_solver("auto", n_samples=49749, n_features=300, **pick) == "newton"
    # news20: more features than samples, and far too many for a dense Hessian.
    assert select_solver("auto", n_samples=15935, n_features=62061, **pick) == "lbfgs"
    # Few samples per feature.
    assert select_solver("auto", n_samples=300, n_features=200, **pick) == "lbfgs"
    assert select_solver("auto", n_samples=10**6, n_features=5000, **pick) == "lbfgs"
    # Without the shape, and for the multinomial loss, the choice is unchanged.
    assert select_solver("auto", **pick) == "lbfgs"
    assert select_solver("auto", loss="multinomial", alpha=1e-4, l1_ratio=0.0,
                         n_samples=10**5, n_features=10) == "lbfgs"
    assert select_solver("auto", loss="logistic", alpha=1e-4, l1_ratio=1.0,
                         n_samples=10**5, n_features=10) == "newton-cd"



def test_auto_weighs_hessian_cost(data_file):
    pick = dict(loss="logistic", alpha=1e-4, l1_ratio=0.0)
    X, _ = load_svmlight(data_file("w8a"), n_features=300)
    assert _gram.formation_sweeps(X) > _gram.GRAM_MAX_FORMATION_SWEEPS
    assert select_solver("auto", n_samples=X.shape[0], n_features=300, X=X, **pick) == "lbfgs"
    assert select_solver("auto", n_samples=X.shape[0], n_features=300, X=as_design(X),
                         **pick) == "lbfgs"
    X, _ = load_svmlight(data_file("a9a"), n_features=123)
    assert _gram.formation_sweeps(X) <= _gram.GRAM_MAX_FORMATION_SWEEPS
    assert select_solver("auto", n_samples=X.shape[0], n_features=123, X=X, **pick) == "newton"
    assert select_solver("auto", n_samples=X.shape[0], n_features=123, X=X.tocoo(),
                         **pick) == "newton"


def test_auto_on_estimators_follows_the_shape():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((400, 10))
    y = np.where(X[:, 0] + 0.5 * rng.standard_normal(400) > 0, 1, 0)
    assert LogisticRegression(alpha=1e-3).fit(X, y).solver_ == "newton"
    # 40 dense columns: forming the Hessian costs 20 sweeps over X, so lbfgs runs.
    X40 = rng.standard_normal((400, 40))
    assert LogisticRegression(alpha=1e-3).fit(X40, y).solver_ == "lbfgs"
    # The squared loss forms its Hessian once, so the cost bound does not apply.
    assert Ridge(alpha=1e-3).fit(X40, X40[:, 0]).solver_ == "newton"
    wide = sp.random(100, 3000, density=0.01, format="csr", random_state=12)
    y_wide = np.arange(100) % 2
    assert LogisticRegression(alpha=1e-3).fit(wide, y_wide).solver_ == "lbfgs"


def test_gram_path_skips_device_arrays():
    class DeviceBuffer:
        __cuda_array_interface__ = {}

    class DeviceDesign:
        layout = "csr"
        data = DeviceBuffer()

    assert not _gram.gram_pays(4000, 10, True, "squared", DeviceDesign())
    assert _gram.gram_pays(4000, 10, True, "squared", np.zeros((4000, 10)))


def test_newton_overflowing_hessian_warns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * 1e155
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        model = LogisticRegression(solver="newton").fit(X, y)
    assert np.all(np.isfinite(model.coef_))


def test_gram_suitable_thresholds():
    assert _gram.gram_suitable(4000, 1999, True, "logistic")
    assert not _gram.gram_suitable(4000, 2000, True, "logistic")
    assert not _gram.gram_suitable(3999, 1999, True, "squared")
    assert not _gram.gram_suitable(10**6, 10, True, "multinomial")


def test_formation_sweeps_counts_row_products():
    X = sp.random(300, 40, density=0.1, format="csr", random_state=4)
    row_nnz = np.diff(X.indptr).astype(float)
    expected = (row_nnz @ row_nnz) / 2.0 / X.nnz
    assert _gram.formation_sweeps(as_design(X)) == pytest.approx(expected, rel=1e-12)
    assert _gram.formation_sweeps(as_design(X.tocsc())) == pytest.approx(expected, rel=1e-12)
    assert _gram.formation_sweeps(as_design(X.toarray())) == 20.0
    assert _gram.formation_sweeps(X) == pytest.approx(expected, rel=1e-12)
    assert _gram.formation_sweeps(X.tocsc()) == pytest.approx(expected, rel=1e-12)
    assert _gram.formation_sweeps(X.tocoo()) == pytest.approx(expected, rel=1e-12)
    assert _gram.formation_sweeps(X.toarray()) == 20.0
