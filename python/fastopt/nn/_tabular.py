"""Regularizing perturbations of tabular inputs: Gaussian feature noise and mixup."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from fastopt import _core
from fastopt.nn._checks import check_counter, check_float_array, check_nonneg, prepare_out


def gaussian_noise(X, sigma: float, *, seed: int, offset: int = 0, out=None):
    """Return ``X + sigma * Z`` with Z standard normal, drawn from the Philox stream (seed, offset).

    Element i (in C order) takes the Box-Muller normal ``sqrt(-2 log u1) cos(2 pi u2)`` of the
    word pair ``i % 2`` of Philox block ``i // 2``, with ``u1 = (w0 + 1) 2**-32`` in (0, 1] and
    ``u2 = w1 2**-32``, computed in float64 and added in X's dtype. The result is the same for any
    thread count.

    ``X`` is a float32/float64 ndarray, and ``out`` may be ``X`` itself. ``X`` may also be a SciPy
    sparse matrix: its stored values get the noise and its zeros stay zero. A sparse ``X`` returns
    a new matrix with the same structure, so ``out`` must be None then.

    Parameters
    ----------
    X : ndarray of float32 or float64, or a SciPy sparse matrix
        The samples.
    sigma : float
        Standard deviation of the noise, >= 0.
    seed, offset : int in [0, 2**64)
        Key and stream offset of the Philox generator.
    out : ndarray, optional
        Output for a dense ``X``; may be ``X`` itself.

    Returns
    -------
    ndarray or sparse matrix
        The noisy samples, ``out`` when given.

    References
    ----------
    Box, G. E. P. and Muller, M. E. "A note on the generation of random normal deviates",
    Ann. Math. Statist. 29(2), 1958.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.nn import gaussian_noise
    >>> gaussian_noise(np.zeros((2, 3)), 0.1, seed=0)
    array([[ 0.0991, -0.0618, -0.0154],
           [ 0.0832, -0.1186, -0.027 ]])
    """
    sigma = check_nonneg("sigma", sigma)
    seed = check_counter("seed", seed)
    offset = check_counter("offset", offset)
    if sp.issparse(X):
        if out is not None:
            raise ValueError("out: expected None for sparse X (a new matrix is returned), got an array")
        result = X.copy()
        check_float_array("X.data", result.data)
        data = np.ascontiguousarray(result.data)
        _core.gaussian_noise(data, data, sigma, seed, offset)
        result.data = data
        return result
    check_float_array("X", X)
    if not X.flags.c_contiguous and out is not X:
        X = np.ascontiguousarray(X)
    out = prepare_out("out", X, out)
    _core.gaussian_noise(X, out, sigma, seed, offset)
    return out


def mixup(X, y, alpha: float, *, seed: int):
    """Mix each sample with a random partner: ``lam x_i + (1 - lam) x_j`` and the same for y.

    Partners are a random permutation j = perm[i] and each sample draws its own
    lam ~ Beta(alpha, alpha) (Zhang et al., "mixup: Beyond empirical risk minimization",
    ICLR 2018), both from NumPy's Philox generator keyed by ``seed``.

    Parameters
    ----------
    X : ndarray (n, d) of float32/float64, or a SciPy sparse matrix
        The samples.
    y : ndarray (n,) or (n, k)
        Targets as floats: one-hot or soft labels for classification.
    alpha : float > 0
        Parameter of the Beta distribution; small values keep most samples close to
        themselves.
    seed : int
        Key of the generator of the partners and the weights.

    Returns
    -------
    (X_mixed, y_mixed, lam, perm)
        Sparse X gives a CSR result; y_mixed is float64 unless y is float32.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.nn import mixup
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> X_mixed, y_mixed, lam, perm = mixup(X, np.eye(3), 0.4, seed=0)
    >>> perm, lam
    (array([2, 0, 1]), array([0.1809, 0.0027, 0.0377]))
    >>> X_mixed[:, 0]
    array([1.6381, 0.0027, 1.0377])
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0 or not np.isfinite(alpha):
        raise ValueError(f"alpha: expected a finite number > 0, got {alpha!r}")
    seed = check_counter("seed", seed)
    sparse = sp.issparse(X)
    if not sparse:
        check_float_array("X", X)
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D array (samples, features), got shape {X.shape}")
    n = X.shape[0]
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y: expected shape ({n},) or ({n}, k) to match X's {n} rows, got {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        raise ValueError(f"y: expected float targets (one-hot or soft labels), got dtype {y.dtype}")
    rng = np.random.Generator(np.random.Philox(seed))
    perm = rng.permutation(n).astype(np.int64)
    lam = rng.beta(alpha, alpha, size=n)
    if sparse:
        X = X.tocsr()
        X_mixed = (sp.diags(lam) @ X + sp.diags(1.0 - lam) @ X[perm]).tocsr().astype(X.dtype)
    else:
        X = np.ascontiguousarray(X)
        X_mixed = np.empty_like(X)
        _core.mix_rows(X, X_mixed, perm, lam)
    shape = (n,) + (1,) * (y.ndim - 1)
    lam_y = lam.reshape(shape).astype(y.dtype)
    y_mixed = lam_y * y + (1 - lam_y) * y[perm]
    return X_mixed, y_mixed, lam, perm
