"""Tests of fastopt.minimize.minimize_batched: B problems sharing one evaluation per round."""

import threading

import numpy as np
import pytest

import fastopt
from fastopt.minimize import minimize_batched


def make_data(seed, m=240, n=8, classes=3):
    rng = np.random.default_rng(seed)
    centers = 2.0 * rng.standard_normal((classes, n - 1))
    labels = rng.integers(0, classes, m)
    X = centers[labels] + rng.standard_normal((m, n - 1))
    return np.hstack([X, np.ones((m, 1))]), labels


def batched_logistic(X, Y, weights, alphas):
    """Return the batched weighted mean logistic loss plus alpha_b / 2 |w|^2 of every row b.

    Row b weighs sample i by weights[b, i] and uses its labels Y[b, i] in {-1, 1}.
    """
    total = weights.sum(axis=1)

    def fg(W):
        Z = Y * (W @ X.T)
        F = (weights * np.logaddexp(0.0, -Z)).sum(axis=1) / total
        F += 0.5 * alphas * np.sum(W * W, axis=1)
        P = -weights * Y * np.exp(-np.logaddexp(0.0, Z))
        return F, P @ X / total[:, None] + alphas[:, None] * W

    return fg


def row_problem(fg, B, b):
    """Problem b of a batched objective as a single-problem objective."""

    def single(w):
        F, G = fg(np.tile(w, (B, 1)))
        return F[b], G[b]

    return single


def assert_same_as_separate(fg, X0, method, options):
    results = minimize_batched(fg, X0, jac=True, method=method, options=options)
    assert len(results) == X0.shape[0]
    for b, res in enumerate(results):
        ref = fastopt.minimize(row_problem(fg, X0.shape[0], b), X0[b], jac=True,
                               method=method, options=options)
        assert res.success, res.message
        assert res.nit == ref.nit
        assert res.nfev == ref.nfev
        assert res.status == ref.status
        np.testing.assert_array_equal(res.x, ref.x)
        assert res.fun == ref.fun
    return results


@pytest.mark.parametrize("method, options", [
    ("lbfgs", {}),
    ("bfgs", {}),
    ("owlqn", {"l1": 1e-2}),
])
def test_one_vs_rest_matches_separate(method, options):
    X, labels = make_data(0)
    classes = 3
    Y = np.where(labels[None, :] == np.arange(classes)[:, None], 1.0, -1.0)
    fg = batched_logistic(X, Y, np.ones_like(Y), np.full(classes, 1e-3))
    results = assert_same_as_separate(fg, np.zeros((classes, X.shape[1])), method, options)
    # The one-vs-rest classifier fits the training data well.
    scores = np.stack([X @ r.x for r in results])
    assert np.mean(np.argmax(scores, axis=0) == labels) > 0.8


def test_cross_validation_grid_matches_separate():
    X, labels = make_data(1)
    y = np.where(labels == 0, 1.0, -1.0)
    folds = np.arange(X.shape[0]) % 3
    alphas = np.array([1e-4, 1e-3, 1e-2, 1e-1])
    # One problem per (fold, alpha): training weights are 0 on the held-out fold.
    fold_of = np.repeat(np.arange(3), alphas.size)
    weights = (folds[None, :] != fold_of[:, None]).astype(float)
    Y = np.tile(y, (weights.shape[0], 1))
    fg = batched_logistic(X, Y, weights, np.tile(alphas, 3))
    results = assert_same_as_separate(fg, np.zeros((weights.shape[0], X.shape[1])), "lbfgs",
                                      {"gtol": 1e-8})
    # Stronger L2 gives a smaller weight vector in every fold.
    norms = np.array([np.linalg.norm(r.x) for r in results]).reshape(3, alphas.size)
    assert np.all(np.diff(norms, axis=1) < 0)


def test_float32_batch():
    X, labels = make_data(2)
    Y = np.where(labels[None, :] == np.arange(3)[:, None], 1.0, -1.0)
    fg = batched_logistic(X, Y, np.ones_like(Y), np.full(3, 1e-2))
    results = minimize_batched(fg, np.zeros((3, X.shape[1]), np.float32), jac=True)
    for res in results:
        assert res.success, res.message
        assert res.x.dtype == np.float32


def test_separate_jac_callable():
    c = np.arange(6.0).reshape(2, 3)
    results = minimize_batched(lambda W: 0.5 * np.sum((W - c) ** 2, axis=1), np.zeros((2, 3)),
                               jac=lambda W: W - c)
    for b, res in enumerate(results):
        np.testing.assert_allclose(res.x, c[b], atol=1e-8)


def quadratic_batch(W):
    return 0.5 * np.sum(W * W, axis=1), W.copy()


@pytest.mark.parametrize("X0, match", [
    (np.zeros(3), r"X0: expected a non-empty 2-D array \(B, n\), got shape \(3,\)"),
    (np.zeros((0, 3)), r"got shape \(0, 3\)"),
    (np.array([[0.0, np.nan]]), r"X0: expected finite values, got X0\[0, 1\] = nan"),
    (np.array([["a"]]), r"X0: expected real numbers, got dtype <U1"),
])
def test_bad_x0_rejected(X0, match):
    with pytest.raises(ValueError, match=match):
        minimize_batched(quadratic_batch, X0, jac=True)


@pytest.mark.parametrize("fun, match", [
    (lambda W: (np.zeros(3), W), r"fun: expected real values of shape \(2,\), one per problem"),
    (lambda W: (np.zeros(2), W[:, :2]), r"jac: expected gradients of shape \(2, 4\), got shape "
                                        r"\(2, 2\)"),
    (lambda W: np.zeros(2), r"fun: with jac=True, expected fun\(X\) to return a pair"),
])
def test_bad_fun_output_rejected(fun, match):
    before = threading.active_count()
    with pytest.raises(ValueError, match=match):
        minimize_batched(fun, np.ones((2, 4)), jac=True)
    assert threading.active_count() == before


def test_exception_in_fun_propagates():
    calls = []

    def fun(W):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("objective failed")
        return quadratic_batch(W + 1.0)

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="objective failed"):
        minimize_batched(fun, np.ones((3, 4)), jac=True)
    assert threading.active_count() == before


@pytest.mark.parametrize("kwargs, match", [
    ({"options": {"history_size": 0}}, r"history_size: expected an integer in \[1, 256\]"),
    ({"options": {"state": object()}}, r"state: minimize_batched keeps one history per problem"),
    ({"method": "cg"}, r"method: expected one of"),
    ({"jac": None}, r"jac: minimize_batched needs the gradients"),
    ({"method": "owlqn", "options": {"l1": -1.0}}, r"l1: expected a finite number >= 0"),
])
def test_bad_options_rejected(kwargs, match):
    kwargs = {"jac": True, **kwargs}
    before = threading.active_count()
    with pytest.raises(ValueError, match=match):
        minimize_batched(quadratic_batch, np.ones((2, 3)), **kwargs)
    assert threading.active_count() == before
