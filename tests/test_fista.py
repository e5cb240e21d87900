"""FISTA against scikit-learn, SciPy and the NumPy oracle of the GLM objectives."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from glm_reference import hess_diag, hessp, margins, value_grad
from sklearn.linear_model import ElasticNet, Lasso

from fastopt import prox
from fastopt.datasets import load_svmlight
from fastopt.linear_model._fista import FistaResult, fista, fista_glm
from fastopt.linear_model._result import SolverResult


class NumpyGLMObjective:
    """The GLMObjective interface (data term only) on the NumPy oracle."""

    def __init__(self, X, y, *, loss, sample_weight=None, fit_intercept=True, n_classes=None,
                 huber_delta=1.0):
        self.X = X
        self.y = np.asarray(y, dtype=np.float64)
        self.loss = loss
        self.sample_weight = sample_weight
        self.fit_intercept = fit_intercept
        self.huber_delta = huber_delta
        self.n_samples, self.n_features = X.shape
        self.n_outputs = n_classes if loss == "multinomial" else 1
        self.n_params = self.n_outputs * (self.n_features + (1 if fit_intercept else 0))
        self.n_calls = 0

    def _kw(self):
        return {"loss": self.loss, "sample_weight": self.sample_weight,
                "fit_intercept": self.fit_intercept, "n_outputs": self.n_outputs,
                "huber_delta": self.huber_delta}

    def value(self, w):
        return self.value_grad(w)[0]

    def value_grad(self, w, out=None):
        self.n_calls += 1
        f, g = value_grad(self.X, self.y, w, **self._kw())
        if out is not None:
            out[...] = g
            g = out
        return f, g

    def hessp(self, w, v):
        return hessp(self.X, self.y, w, v, **self._kw())

    def hess_diag(self, w):
        return hess_diag(self.X, self.y, w, **self._kw())

    def margins(self, w):
        z = margins(self.X, w, self.n_outputs, self.fit_intercept)
        return z[:, 0] if self.n_outputs == 1 else z


def full_objective(obj, w, alpha, l1_ratio):
    k = obj.n_features * obj.n_outputs
    coef = w[:k]
    return obj.value(w) + alpha * (l1_ratio * np.abs(coef).sum()
                                   + 0.5 * (1 - l1_ratio) * coef @ coef)


def regression_problem(n=80, p=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1] = X[:, 0] + 0.05 * rng.standard_normal(n)  # correlated columns slow plain ISTA
    true = rng.standard_normal(p) * (rng.random(p) < 0.3)
    y = X @ true + 1.5 + 0.3 * rng.standard_normal(n)
    return X, y


def sklearn_objective(model, X, y, alpha, l1_ratio):
    r = y - X @ model.coef_ - model.intercept_
    coef = model.coef_
    return (0.5 * r @ r / X.shape[0]
            + alpha * (l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef))


def test_lasso_matches_sklearn_dense():
    X, y = regression_problem()
    alpha = 0.05
    obj = NumpyGLMObjective(X, y, loss="squared")
    result = fista_glm(obj, alpha=alpha, l1_ratio=1.0, tol=1e-10, max_iter=20000)
    model = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    reference = sklearn_objective(model, X, y, alpha, 1.0)
    assert result.converged
    assert isinstance(result, SolverResult)
    assert result.solver == "fista"
    assert abs(result.objective - reference) <= 1e-6 * abs(reference)
    assert result.objective == pytest.approx(full_objective(obj, result.w, alpha, 1.0), rel=1e-14)
    np.testing.assert_allclose(result.w[:-1], model.coef_, atol=1e-6)
    assert result.w[-1] == pytest.approx(model.intercept_, abs=1e-6)
    assert set(np.flatnonzero(result.w[:-1])) == set(np.flatnonzero(model.coef_))


def test_lasso_matches_sklearn_heart_scale(data_file):
    X, y = load_svmlight(data_file("heart_scale"))
    alpha = 0.01
    obj = NumpyGLMObjective(X, y, loss="squared")
    result = fista_glm(obj, alpha=alpha, l1_ratio=1.0, tol=1e-9, max_iter=20000)
    Xd = X.toarray()
    model = Lasso(alpha=alpha, tol=1e-12, max_iter=200_000).fit(Xd, y)
    reference = sklearn_objective(model, Xd, y, alpha, 1.0)
    assert result.converged
    assert abs(result.objective - reference) <= 1e-6 * abs(reference)
    assert result.violation <= 1e-9 * result.violation0


def test_elastic_net_matches_sklearn():
    X, y = regression_problem(seed=1)
    alpha, l1_ratio = 0.1, 0.4
    obj = NumpyGLMObjective(X, y, loss="squared")
    result = fista_glm(obj, alpha=alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=20000)
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    reference = sklearn_objective(model, X, y, alpha, l1_ratio)
    assert result.converged
    assert abs(result.objective - reference) <= 1e-6 * abs(reference)


def test_ridge_matches_normal_equations():
    X, y = regression_problem(n=50, p=10, seed=2)
    alpha = 0.3
    obj = NumpyGLMObjective(X, y, loss="squared", fit_intercept=False)
    result = fista_glm(obj, alpha=alpha, l1_ratio=0.0, tol=1e-12, max_iter=20000)
    n = X.shape[0]
    expected = np.linalg.solve(X.T @ X / n + alpha * np.eye(10), X.T @ y / n)
    assert result.converged
    np.testing.assert_allclose(result.w, expected, rtol=1e-8, atol=1e-10)


def check_kkt(obj, w, alpha, l1_ratio, atol):
    """Assert the optimality conditions of the penalized objective at w."""
    _, g = obj.value_grad(w)
    k = obj.n_features * obj.n_outputs
    a1 = alpha * l1_ratio
    g_coef = g[:k] + alpha * (1 - l1_ratio) * w[:k]
    nonzero = w[:k] != 0
    np.testing.assert_allclose(g_coef[nonzero], -a1 * np.sign(w[:k][nonzero]), rtol=0, atol=atol)
    assert np.all(np.abs(g_coef[~nonzero]) <= a1 + atol)
    np.testing.assert_allclose(g[k:], 0.0, atol=atol)


def test_l1_logistic_meets_kkt():
    rng = np.random.default_rng(3)
    n, p = 200, 25
    X = rng.standard_normal((n, p))
    true = rng.standard_normal(p) * (rng.random(p) < 0.4)
    y = np.where(X @ true + 0.3 + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    obj = NumpyGLMObjective(sp.csr_matrix(X), y, loss="logistic")
    _, g0 = obj.value_grad(np.zeros(obj.n_params))
    alpha = 0.1 * np.abs(g0[:p]).max()
    result = fista_glm(obj, alpha=alpha, l1_ratio=1.0, tol=1e-9, max_iter=20000)
    assert result.converged
    coef = result.w[:p]
    assert 0 < np.count_nonzero(coef) < p
    check_kkt(obj, result.w, alpha, 1.0, atol=1e-8)
    # An independent solver of the same problem (split coef = u - v, u, v >= 0).

    def split_objective(z):
        u, v, b = z[:p], z[p : 2 * p], z[2 * p :]
        f, g = obj.value_grad(np.concatenate([u - v, b]))
        grad = np.concatenate([g[:p] + alpha, -g[:p] + alpha, g[p:]])
        return f + alpha * (u.sum() + v.sum()), grad

    bounds = [(0, None)] * (2 * p) + [(None, None)]
    ref = scipy.optimize.minimize(split_objective, np.zeros(2 * p + 1), jac=True,
                                  method="L-BFGS-B", bounds=bounds,
                                  options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    assert result.objective <= ref.fun * (1 + 1e-9)


def test_backtracking_raises_small_lipschitz():
    X, y = regression_problem(seed=4)
    obj = NumpyGLMObjective(X, y, loss="squared")
    value_grad_fn = obj.value_grad
    alpha = 0.05
    l1 = np.append(np.full(X.shape[1], alpha), 0.0)

    def prox_l1(v, step, out):
        prox.soft_threshold(v, step * l1, out=out)

    result = fista(value_grad_fn, prox_l1, np.zeros(obj.n_params), lipschitz0=1e-4,
                   tol=1e-8, max_iter=5000)
    assert isinstance(result, FistaResult)
    assert result.n_backtracks > 0
    lipschitz_max = np.linalg.eigvalsh(np.c_[X, np.ones(len(y))].T @ np.c_[X, np.ones(len(y))]
                                       / len(y)).max()
    # Backtracking doubles L, and the final L never needs to exceed twice the true one.
    assert 1e-4 < result.lipschitz <= 2 * lipschitz_max
    assert result.converged


def test_lipschitz_shrinks_from_large_start():
    X, y = regression_problem(seed=5)
    obj = NumpyGLMObjective(X, y, loss="squared")
    result = fista_glm(obj, alpha=0.05, l1_ratio=1.0, tol=1e-8, max_iter=5000)
    start = 1e4
    big = fista(obj.value_grad, lambda v, s, out: prox.soft_threshold(v, 0.0, out=out),
                np.zeros(obj.n_params), lipschitz0=start, tol=1e-6, max_iter=5000)
    assert big.lipschitz < start / 100
    assert big.converged
    assert result.converged


def test_adaptive_restart_speeds_convergence():
    # Ill-conditioned least squares: momentum overshoots without restart.
    rng = np.random.default_rng(6)
    n, p = 120, 40
    X = rng.standard_normal((n, p)) @ np.diag(np.logspace(0, -2, p))
    y = rng.standard_normal(n)
    lam = 1e-4

    def value_grad_fn(w):
        r = X @ w - y
        return 0.5 * r @ r / n, X.T @ r / n

    def violation(w, g):
        return float(np.where(w == 0, np.maximum(np.abs(g) - lam, 0.0),
                              np.abs(g + lam * np.sign(w))).max())

    def run(restart):
        return fista(value_grad_fn, lambda v, s, out: prox.soft_threshold(v, s * lam, out=out),
                     np.zeros(p), tol=1e-7, max_iter=50_000, restart=restart, stop=violation)

    with_restart = run(True)
    without = run(False)
    assert with_restart.n_restarts > 0
    assert without.n_restarts == 0
    assert with_restart.converged
    assert with_restart.n_iter < without.n_iter


def test_nonneg_least_squares_matches_scipy():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((40, 15))
    b = rng.standard_normal(40)

    def value_grad_fn(x):
        r = A @ x - b
        return 0.5 * r @ r, A.T @ r

    def projected_gradient_norm(x, g):
        return float(np.abs(np.where(x > 0, g, np.minimum(g, 0.0))).max())

    result = fista(value_grad_fn, lambda v, s, out: prox.project_nonneg(v, out=out),
                   np.zeros(15), tol=1e-12, max_iter=20000, stop=projected_gradient_norm)
    expected, _ = scipy.optimize.nnls(A, b)
    assert result.converged
    np.testing.assert_allclose(result.w, expected, atol=1e-9)
    assert np.all(result.w >= 0)


def test_best_iterate_when_unconverged():
    X, y = regression_problem(seed=8)
    obj = NumpyGLMObjective(X, y, loss="squared")
    alpha = 0.05
    seen = []

    def record(w):
        seen.append(full_objective(obj, w, alpha, 1.0))
        return False

    result = fista_glm(obj, alpha=alpha, l1_ratio=1.0, tol=1e-14, max_iter=7, callback=record)
    assert not result.converged
    assert result.n_iter == 7
    assert len(seen) == 7
    assert result.objective == pytest.approx(min(seen), rel=1e-14)
    assert result.objective == pytest.approx(full_objective(obj, result.w, alpha, 1.0), rel=1e-14)


def test_callback_stops_run():
    X, y = regression_problem(seed=9)
    obj = NumpyGLMObjective(X, y, loss="squared")
    calls = []

    def stop_at_three(w):
        calls.append(w.copy())
        return len(calls) == 3

    result = fista_glm(obj, alpha=0.05, l1_ratio=1.0, tol=1e-12, max_iter=1000,
                       callback=stop_at_three)
    assert result.n_iter == 3
    assert not result.converged


def test_warm_start_at_solution():
    X, y = regression_problem(seed=10)
    obj = NumpyGLMObjective(X, y, loss="squared")
    first = fista_glm(obj, alpha=0.05, l1_ratio=1.0, tol=1e-8, max_iter=20000)
    again = fista_glm(obj, alpha=0.05, l1_ratio=1.0, w0=first.w, tol=1e-6, max_iter=20000)
    assert again.n_iter == 0
    assert again.converged
    np.testing.assert_array_equal(again.w, first.w)
    assert again.violation0 == pytest.approx(first.violation0)


def test_alpha_above_max_gives_zero():
    X, y = regression_problem(seed=11)
    obj = NumpyGLMObjective(X, y - y.mean(), loss="squared", fit_intercept=False)
    _, g0 = obj.value_grad(np.zeros(obj.n_params))
    result = fista_glm(obj, alpha=1.01 * np.abs(g0).max(), l1_ratio=1.0, tol=1e-8)
    assert result.converged
    assert result.n_iter == 0
    np.testing.assert_array_equal(result.w, 0.0)


def test_intercept_not_penalized():
    X, y = regression_problem(seed=12)
    obj = NumpyGLMObjective(X, y + 100.0, loss="squared")
    result = fista_glm(obj, alpha=1e3, l1_ratio=0.5, tol=1e-10, max_iter=5000)
    np.testing.assert_array_equal(result.w[:-1], 0.0)
    assert result.w[-1] == pytest.approx(np.mean(y + 100.0), rel=1e-8)


def test_invalid_arguments_rejected():
    X, y = regression_problem(n=20, p=5)
    obj = NumpyGLMObjective(X, y, loss="squared")
    with pytest.raises(ValueError, match="alpha"):
        fista_glm(obj, alpha=-1.0, l1_ratio=1.0)
    with pytest.raises(ValueError, match="l1_ratio"):
        fista_glm(obj, alpha=1.0, l1_ratio=1.5)
    with pytest.raises(ValueError, match=r"w0: expected shape \(6,\)"):
        fista_glm(obj, alpha=1.0, l1_ratio=1.0, w0=np.zeros(5))
    with pytest.raises(ValueError, match="tol"):
        fista_glm(obj, alpha=1.0, l1_ratio=1.0, tol=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        fista_glm(obj, alpha=1.0, l1_ratio=1.0, max_iter=-1)
    with pytest.raises(ValueError, match="lipschitz0"):
        fista(obj.value_grad, lambda v, s, out: None, np.zeros(6), lipschitz0=0.0)
    with pytest.raises(ValueError, match="x0"):
        fista(obj.value_grad, lambda v, s, out: None, np.zeros((2, 3)))


def test_nan_objective_keeps_best():
    def value_grad_fn(x):
        if x[0] > 0.5:
            return np.nan, np.full_like(x, np.nan)
        return 0.5 * float((x - 1) @ (x - 1)), x - 1

    result = fista(value_grad_fn, lambda v, s, out: np.copyto(out, v), np.zeros(3),
                   lipschitz0=1.0, tol=1e-12, max_iter=50)
    assert not result.converged
    assert np.all(np.isfinite(result.w))
    assert np.isfinite(result.objective)
