"""Tests of fastopt.minimize with method="owlqn": L1-regularized problems."""

import warnings

import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
from scipy.optimize import rosen, rosen_der

import fastopt
from fastopt import _core
from fastopt.minimize import Status, pseudo_gradient


def soft_threshold(c, lam):
    return np.sign(c) * np.maximum(np.abs(c) - lam, 0.0)


def separable_quadratic(c):
    """f = 0.5 ||x - c||^2, whose L1-regularized minimizer is soft_threshold(c, lambda)."""

    def fg(x):
        r = x - c
        return 0.5 * float(np.dot(r, r)), r

    return fg


def logistic_mean(X, y):
    """Mean logistic loss of margins y * (X w) and its gradient, for labels in {-1, 1}."""
    m = X.shape[0]

    def fg(w):
        z = y * (X @ w)
        f = float(np.sum(np.logaddexp(0.0, -z))) / m
        p = -y * np.exp(-np.logaddexp(0.0, z))
        return f, X.T @ p / m

    return fg


# ------------------------------------------------------------------ pseudo-gradient


def test_pseudo_gradient_cases():
    lam = 1.0
    x = np.array([2.0, -2.0, 0.0, 0.0, 0.0, 0.0])
    g = np.array([0.5, 0.5, -3.0, 3.0, 0.5, -1.0])
    pg = pseudo_gradient(x, g, lam)
    # x != 0: g + lam sign(x); x = 0: g + lam if < 0, g - lam if > 0, else 0.
    np.testing.assert_array_equal(pg, [1.5, -0.5, -2.0, 2.0, 0.0, 0.0])


def test_pseudo_gradient_zero_lambda_is_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(9)
    x[::3] = 0.0
    g = rng.standard_normal(9)
    np.testing.assert_array_equal(pseudo_gradient(x, g, 0.0), g)
    np.testing.assert_array_equal(pseudo_gradient(x, g, np.zeros(9)), g)


def numpy_trial(x, d, alpha, pg, lam):
    """Reference of the orthant-projected trial point x + alpha d."""
    lam = np.broadcast_to(lam, x.shape)
    t = x + d * x.dtype.type(alpha)
    orthant = np.where(x != 0, np.sign(x), -np.sign(pg))
    t[(np.sign(t) != orthant) & (lam != 0)] = 0
    return t


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("per_coordinate", [False, True])
def test_owlqn_kernels_match_numpy(dtype, per_coordinate):
    # 70001 elements straddle the kernels' threading threshold and SIMD widths.
    rng = np.random.default_rng(7)
    n = 70001
    x = rng.standard_normal(n).astype(dtype)
    x[rng.random(n) < 0.3] = 0
    g = rng.standard_normal(n).astype(dtype)
    lam = rng.uniform(0.0, 1.0, n) if per_coordinate else 0.5
    if per_coordinate:
        lam[::7] = 0.0
    pg = np.empty(n, dtype)
    inf_norm = _core.owlqn_pseudo_gradient(x, g, lam, pg)
    want = pseudo_gradient(x, g, lam)
    np.testing.assert_array_equal(pg, want)
    assert inf_norm == float(np.max(np.abs(want)))

    d = (-pg + 0.8 * rng.standard_normal(n)).astype(dtype)
    projected = d.copy()
    _core.owlqn_project_direction(pg, lam, projected)
    wrong = (d * pg >= 0) & (np.broadcast_to(lam, (n,)) != 0)
    np.testing.assert_array_equal(projected, np.where(wrong, 0, d).astype(dtype))

    out = np.empty(n, dtype)
    _core.owlqn_trial(x, projected, 1.7, pg, lam, out)
    np.testing.assert_array_equal(out, numpy_trial(x, projected, 1.7, pg, lam))


def test_owlqn_kernel_rejects_bad_arrays():
    x = np.zeros(4)
    with pytest.raises(TypeError, match=r"g: expected dtype float64"):
        _core.owlqn_pseudo_gradient(x, np.zeros(4, np.float32), 0.1, np.empty(4))
    with pytest.raises(ValueError, match=r"l1: expected shape \(4,\), got \(3,\)"):
        _core.owlqn_pseudo_gradient(x, np.zeros(4), np.ones(3), np.empty(4))
    with pytest.raises(ValueError, match=r"x and pg share memory"):
        _core.owlqn_pseudo_gradient(x, np.zeros(4), 0.1, x)


# ------------------------------------------------------------------ exact zeros


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("start", ["zeros", "random"])
def test_separable_l1_exact_zeros(dtype, start):
    rng = np.random.default_rng(3)
    c = 2.0 * rng.standard_normal(200)
    lam = 1.0
    x0 = np.zeros(200) if start == "zeros" else 3.0 * rng.standard_normal(200)
    res = fastopt.minimize(separable_quadratic(c.astype(dtype)), x0.astype(dtype), jac=True,
                           method="owlqn", options={"l1": lam})
    want = soft_threshold(c, lam)
    zero = np.abs(c) <= lam
    assert res.success, res.message
    assert res.x.dtype == dtype
    assert zero.sum() > 50
    assert np.all(res.x[zero] == 0.0)
    tol = 1e-8 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(res.x, want, atol=tol)


def test_separable_per_coordinate_lambda():
    rng = np.random.default_rng(4)
    c = 2.0 * rng.standard_normal(100)
    lam = rng.uniform(0.0, 3.0, 100)
    lam[:10] = 0.0
    res = fastopt.minimize(separable_quadratic(c), np.ones(100), jac=True, method="owlqn",
                           options={"l1": lam})
    want = soft_threshold(c, lam)
    assert res.success, res.message
    assert np.all(res.x[want == 0.0] == 0.0)
    np.testing.assert_allclose(res.x, want, atol=1e-8)
    # Unpenalized coordinates reach c exactly as in a smooth problem, wherever they start.
    np.testing.assert_allclose(res.x[:10], c[:10], atol=1e-8)


def test_result_fields_full_objective_and_pseudo_gradient():
    rng = np.random.default_rng(5)
    c = rng.standard_normal(30)
    lam = 0.5
    fg = separable_quadratic(c)
    res = fastopt.minimize(fg, np.zeros(30), jac=True, method="owlqn", options={"l1": lam})
    f, g = fg(res.x)
    assert res.fun == pytest.approx(f + lam * np.abs(res.x).sum(), rel=1e-14)
    np.testing.assert_array_equal(res.jac, pseudo_gradient(res.x, g, lam))
    assert res.status == Status.GTOL
    assert "pseudo-gradient" in res.message
    assert np.max(np.abs(res.jac)) <= 1e-5


def test_zero_lambda_matches_lbfgs_armijo():
    x0 = np.array([-1.2, 1.0, 0.3, -0.5])

    def fg(x):
        return rosen(x), rosen_der(x)

    a = fastopt.minimize(fg, x0, jac=True, method="owlqn", options={"l1": 0.0})
    b = fastopt.minimize(fg, x0, jac=True, options={"line_search": "armijo"})
    assert a.nit == b.nit
    np.testing.assert_array_equal(a.x, b.x)


def test_intercept_unpenalized_matches_split_variables():
    # Oracle: min f(u - v) + lambda'(u + v) over u, v >= 0, a smooth bound-constrained
    # problem with the same minimum, solved by scipy's L-BFGS-B.
    rng = np.random.default_rng(6)
    m, n = 300, 12
    X = np.hstack([rng.standard_normal((m, n - 1)), np.ones((m, 1))])
    w_true = np.where(rng.random(n) < 0.5, rng.standard_normal(n), 0.0)
    w_true[-1] = 1.5
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(m) > 0, 1.0, -1.0)
    fg = logistic_mean(X, y)
    lam = np.full(n, 0.03)
    lam[-1] = 0.0
    res = fastopt.minimize(fg, np.zeros(n), jac=True, method="owlqn",
                           options={"l1": lam, "gtol": 1e-10, "ftol": 0.0})

    def split(uv):
        f, g = fg(uv[:n] - uv[n:])
        return f + lam @ (uv[:n] + uv[n:]), np.concatenate([g + lam, -g + lam])

    ref = so.minimize(split, np.zeros(2 * n), jac=True, method="L-BFGS-B",
                      bounds=[(0, None)] * (2 * n),
                      options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    w_ref = ref.x[:n] - ref.x[n:]
    assert res.success, res.message
    assert res.fun <= ref.fun + 1e-12
    np.testing.assert_allclose(res.x, w_ref, atol=1e-5)
    assert res.x[-1] > 0.5  # the intercept is free to be large
    assert np.sum(res.x == 0.0) >= 3
    assert np.max(np.abs(res.jac)) <= 1e-8


# ------------------------------------------------------------------ a9a vs liblinear


def liblinear_l1(X, y, C):
    """L1 logistic regression by liblinear without intercept: min C sum(loss) + ||w||_1."""
    import sklearn
    from sklearn.linear_model import LogisticRegression

    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    # scikit-learn 1.8 deprecated penalty= in favour of l1_ratio=.
    kind = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}
    clf = LogisticRegression(solver="liblinear", C=C, tol=1e-10, max_iter=100000,
                             fit_intercept=False, **kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        clf.fit(X, y)
    return clf.coef_.ravel()


def test_a9a_l1_logistic_matches_liblinear(data_file):
    pytest.importorskip("sklearn")
    X, y = fastopt.datasets.load_svmlight(data_file("a9a"), n_features=123)
    # An explicit constant column, penalized like the others, so that liblinear (which
    # penalizes its intercept) and OWL-QN solve the same objective.
    X = sp.hstack([X, np.ones((X.shape[0], 1))]).tocsr()
    y = np.where(y > 0, 1.0, -1.0)
    m, n = X.shape
    C = 0.01
    w_ref = liblinear_l1(X, y, C)

    res = fastopt.minimize(logistic_mean(X, y), np.zeros(n), jac=True, method="owlqn",
                           options={"l1": 1.0 / (C * m), "gtol": 1e-9, "ftol": 0.0})

    def objective(w):
        return C * np.sum(np.logaddexp(0.0, -y * (X @ w))) + np.abs(w).sum()

    assert res.success, res.message
    f_ref = objective(w_ref)
    assert objective(res.x) <= f_ref * (1 + 1e-6)
    assert res.fun * C * m == pytest.approx(f_ref, rel=1e-6)
    # a9a's one-hot groups sum to the constant column, so w is not unique, but the margins
    # (the loss is strictly convex in them) and the L1 norm at the minimum are.
    np.testing.assert_allclose(X @ res.x, X @ w_ref, atol=1e-4)
    assert np.abs(res.x).sum() == pytest.approx(np.abs(w_ref).sum(), rel=1e-4)
    assert abs(int(np.sum(res.x == 0.0)) - int(np.sum(w_ref == 0.0))) <= 2
    assert np.sum(res.x == 0.0) > n // 2


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("l1, match", [
    (-1.0, r"l1: expected a finite number >= 0, got -1.0"),
    (float("nan"), r"l1: expected a finite number >= 0, got nan"),
    (float("inf"), r"l1: expected a finite number >= 0, got inf"),
    (np.array([0.1, -0.2, 0.3]), r"l1: expected finite values >= 0, got l1\[1\] = -0.2"),
    (np.array([0.1, np.nan, 0.3]), r"l1: expected finite values >= 0, got l1\[1\] = nan"),
    (np.ones(4), r"l1: expected a number or an array of shape \(3,\) to match x0, got shape "
                 r"\(4,\)"),
    (np.ones((3, 1)), r"got shape \(3, 1\)"),
    (True, r"l1: expected a number >= 0"),
    ("0.1", r"l1: expected real numbers, got dtype <U3"),
    (None, r"method='owlqn' needs options\['l1'\]"),
])
def test_bad_l1_rejected(l1, match):
    fg = separable_quadratic(np.ones(3))
    with pytest.raises(ValueError, match=match):
        fastopt.minimize(fg, np.zeros(3), jac=True, method="owlqn", options={"l1": l1})


def test_owlqn_rejects_bounds():
    fg = separable_quadratic(np.ones(3))
    with pytest.raises(ValueError, match=r"bounds: method='owlqn' does not support bounds"):
        fastopt.minimize(fg, np.zeros(3), jac=True, method="owlqn", bounds=[(0, 1)] * 3,
                         options={"l1": 0.1})


def test_owlqn_rejects_more_thuente():
    fg = separable_quadratic(np.ones(3))
    with pytest.raises(ValueError, match=r"line_search: method='owlqn' uses backtracking"):
        fastopt.minimize(fg, np.zeros(3), jac=True, method="owlqn",
                         options={"l1": 0.1, "line_search": "more-thuente"})


@pytest.mark.parametrize("method", ["lbfgs", "bfgs"])
def test_l1_rejected_without_owlqn(method):
    fg = separable_quadratic(np.ones(3))
    with pytest.raises(ValueError, match=r"l1: an L1 term needs method='owlqn'"):
        fastopt.minimize(fg, np.zeros(3), jac=True, method=method, options={"l1": 0.1})
