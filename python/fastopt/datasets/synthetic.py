"""Generated sparse problems with a known model, shaped like click-through-rate data."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = ["make_sparse_classification"]


def _check_count(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _check_rate(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low < value < high:
        raise ValueError(f"{name}: expected a number in ({low:g}, {high:g}), got {value!r}")
    return float(value)


def _intercept_for_rate(logits, rate):
    """Return b with mean(sigmoid(logits + b)) == rate, by bisection (the mean is monotone in b)."""
    low, high = -50.0, 50.0
    for _ in range(60):
        middle = 0.5 * (low + high)
        if expit(logits + middle).mean() < rate:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def make_sparse_classification(n_samples=100_000, n_features=2**18, *, n_fields=20,
                               informative_fraction=0.3, signal=1.5, positive_rate=0.25,
                               skew=3.0, dtype=np.float64, random_state=0, return_coef=False):
    r"""Generate a binary classification problem with one-hot categorical rows, like ad clicks.

    The columns are split into ``n_fields`` equal blocks, one per categorical field (site,
    device, hour, ...). Each row sets exactly one column of every block to 1, the value of
    that field. Values are drawn with a skew toward the start of each block,
    :math:`\lfloor V u^{skew} \rfloor` for :math:`u \sim U(0, 1)` and block width :math:`V`,
    so a few values are frequent and most are rare, as in real logs. A true weight vector has
    a fraction ``informative_fraction`` of nonzero entries, drawn from
    :math:`N(0, \sigma^2)` with :math:`\sigma` set so the logits have standard deviation about
    ``signal``; the intercept is set so the mean click probability equals ``positive_rate``.
    Each label is a Bernoulli draw with probability :math:`\sigma(x \cdot w + b)`, so no
    model reaches zero error and the best achievable log loss is known through ``w``.

    The same arguments give the same arrays on every platform (NumPy's PCG64 generator).

    Parameters
    ----------
    n_samples : int, default 100000
        Number of rows.
    n_features : int, default 2**18
        Total number of columns; must be at least ``n_fields``.
    n_fields : int, default 20
        Nonzeros per row.
    informative_fraction : float in (0, 1], default 0.3
        Fraction of columns with a nonzero true weight.
    signal : float > 0, default 1.5
        Approximate standard deviation of the true logits.
    positive_rate : float in (0, 1), default 0.25
        Mean probability of label 1.
    skew : float >= 1, default 3.0
        Concentration of each field on its first values; 1 draws values uniformly.
    dtype : float32 or float64, default float64
        The dtype of ``X.data``.
    random_state : int, default 0
        Seed of the generator; the arrays depend only on the arguments.
    return_coef : bool, default False
        Also return the true ``(coef, intercept)``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Sorted int32 indices when ``n_features < 2**31``.
    y : ndarray of int64, shape (n_samples,)
        Labels 0 and 1.
    coef, intercept : ndarray of shape (n_features,), float
        Only with ``return_coef=True``.

    Examples
    --------
    >>> from fastopt.datasets import make_sparse_classification
    >>> X, y = make_sparse_classification(1000, 2**10, n_fields=8)
    >>> X.shape, X.nnz, sorted(set(y.tolist()))
    ((1000, 1024), 8000, [0, 1])
    """
    n_samples = _check_count("n_samples", n_samples, 1)
    n_fields = _check_count("n_fields", n_fields, 1)
    n_features = _check_count("n_features", n_features, n_fields)
    if (isinstance(informative_fraction, bool) or not isinstance(informative_fraction, numbers.Real)
            or not 0.0 < informative_fraction <= 1.0):
        raise ValueError(f"informative_fraction: expected a number in (0, 1], got {informative_fraction!r}")
    if isinstance(signal, bool) or not isinstance(signal, numbers.Real) or not 0.0 < signal < np.inf:
        raise ValueError(f"signal: expected a finite number > 0, got {signal!r}")
    positive_rate = _check_rate("positive_rate", positive_rate, 0.0, 1.0)
    if isinstance(skew, bool) or not isinstance(skew, numbers.Real) or not 1.0 <= skew < np.inf:
        raise ValueError(f"skew: expected a finite number >= 1, got {skew!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected float32 or float64, got {dtype}")
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(f"random_state: expected an int, got {random_state!r}")

    rng = np.random.default_rng(int(random_state))
    index_dtype = np.int32 if n_features < 2**31 else np.int64
    # Field f owns the columns [starts[f], starts[f + 1]); np.linspace spreads the remainder.
    starts = np.linspace(0, n_features, n_fields + 1).astype(np.int64)
    widths = np.diff(starts)
    u = rng.random((n_samples, n_fields))
    values = np.minimum((widths * u ** float(skew)).astype(np.int64), widths - 1)
    indices = (starts[:-1] + values).astype(index_dtype).ravel()
    indptr = np.arange(0, n_samples * n_fields + 1, n_fields, dtype=index_dtype if
                       n_samples * n_fields < 2**31 else np.int64)
    X = sp.csr_matrix((np.ones(indices.size, dtype=dtype), indices, indptr),
                      shape=(n_samples, n_features))

    informative = rng.random(n_features) < informative_fraction
    scale = signal / np.sqrt(n_fields * informative_fraction)
    coef = np.where(informative, rng.standard_normal(n_features) * scale, 0.0)
    logits = coef[indices.astype(np.int64)].reshape(n_samples, n_fields).sum(axis=1)
    intercept = _intercept_for_rate(logits, positive_rate)
    y = (rng.random(n_samples) < expit(logits + intercept)).astype(np.int64)
    if return_coef:
        return X, y, coef, intercept
    return X, y
