"""Gaussian feature noise and mixup against NumPy references."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import fastopt
from fastopt.nn import gaussian_noise, mixup
from nn_reference import gaussian_noise as noise_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 5, 1001, 40_001])
def test_noise_matches_reference(dtype, n):
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    out = gaussian_noise(x, 0.3, seed=4, offset=1)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, noise_reference(x, 0.3, 4, 1), rtol=rtol, atol=rtol)


def test_noise_is_standard_normal():
    z = gaussian_noise(np.zeros(200_000), 1.0, seed=9)
    # Kolmogorov-Smirnov against N(0, 1); a false failure has probability 1e-4.
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_noise_same_on_any_thread_count():
    x = np.zeros((500, 300))
    saved = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        expected = gaussian_noise(x, 1.0, seed=2)
        fastopt.set_num_threads(2)
        np.testing.assert_array_equal(gaussian_noise(x, 1.0, seed=2), expected)
    finally:
        fastopt.set_num_threads(saved)


def test_noise_in_place():
    x = np.ones(1000)
    expected = gaussian_noise(x, 0.5, seed=1)
    assert gaussian_noise(x, 0.5, seed=1, out=x) is x
    np.testing.assert_array_equal(x, expected)


def test_noise_sparse_touches_stored_values_only():
    X = sp.random(200, 50, density=0.1, format="csr", random_state=0)
    noisy = gaussian_noise(X, 0.1, seed=3)
    assert (noisy != 0).nnz <= X.nnz
    np.testing.assert_array_equal(noisy.indices, X.indices)
    np.testing.assert_allclose(noisy.data, noise_reference(X.data, 0.1, 3, 0))


def test_noise_bad_sigma_raises():
    with pytest.raises(ValueError, match="sigma: expected a finite number >= 0, got -1"):
        gaussian_noise(np.ones(3), -1, seed=0)
    with pytest.raises(ValueError, match="X: unsupported dtype int64"):
        gaussian_noise(np.ones(3, dtype=np.int64), 1.0, seed=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mixup_matches_formula(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 17)).astype(dtype)
    y = np.eye(4)[rng.integers(0, 4, 300)]
    Xm, ym, lam, perm = mixup(X, y, 0.4, seed=6)
    assert sorted(perm) == list(range(300))
    expected = lam[:, None] * X.astype(np.float64) + (1 - lam[:, None]) * X[perm].astype(np.float64)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(Xm, expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(ym, lam[:, None] * y + (1 - lam[:, None]) * y[perm])
    np.testing.assert_allclose(ym.sum(axis=1), 1.0)


def test_mixup_lambda_is_beta():
    X = np.zeros((20_000, 1))
    _, _, lam, _ = mixup(X, np.zeros(20_000), 0.3, seed=1)
    assert stats.kstest(lam, stats.beta(0.3, 0.3).cdf).pvalue > 1e-4


def test_mixup_sparse_matches_dense():
    X = sp.random(100, 30, density=0.2, format="csr", random_state=2)
    y = np.linspace(0, 1, 100)
    Xs, ys, lam, perm = mixup(X, y, 1.0, seed=8)
    Xd, yd, _, _ = mixup(X.toarray(), y, 1.0, seed=8)
    np.testing.assert_allclose(Xs.toarray(), Xd, atol=1e-12)
    np.testing.assert_allclose(ys, yd)


def test_mixup_bad_input_raises():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="alpha: expected a finite number > 0, got 0"):
        mixup(X, np.zeros(4), 0, seed=0)
    with pytest.raises(ValueError, match=r"y: expected shape \(4,\) or \(4, k\)"):
        mixup(X, np.zeros(3), 1.0, seed=0)
    with pytest.raises(ValueError, match="y: expected float targets"):
        mixup(X, np.zeros(4, dtype=int), 1.0, seed=0)
