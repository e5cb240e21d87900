"""The data term of a regularized GLM: value, gradient, Hessian products and line restrictions.

For n samples with sample weights s_i rescaled to sum to n,

    f(w) = (1/n) sum_i s_i loss(y_i, z_i),    z_i = x_i . coef + intercept,

with w one flat float64 vector: coef (K, p) row-major, then the K intercepts when
``fit_intercept``. K = 1 for "logistic" (labels in {-1, +1}), "squared" and "huber"; K is the
number of classes for "multinomial" (labels 0..K-1).

NOTE: this implementation runs on NumPy and scipy.sparse products. It has the interface of the
compiled kernel-backed objective and is meant to be replaced by it; results agree to rounding.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp

LOSSES = ("logistic", "squared", "huber", "multinomial")


def _check_X(X):
    if sp.issparse(X):
        if X.format not in ("csr", "csc"):
            raise ValueError(f"X: expected a CSR or CSC sparse matrix, got format {X.format!r}")
        if X.dtype not in (np.float32, np.float64):
            raise ValueError(f"X: expected float32 or float64 data, got dtype {X.dtype}")
        if X.indices.dtype not in (np.int32, np.int64):
            raise ValueError(f"X: expected int32 or int64 indices, got {X.indices.dtype}")
        bad = np.flatnonzero(~np.isfinite(X.data))
        if bad.size:
            raise ValueError(f"X: expected finite values, got stored entry {bad[0]} = "
                             f"{X.data[bad[0]]!r}")
        return X
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X: expected a 2-D ndarray or a CSR/CSC matrix, got "
                         f"{type(X).__name__} with shape {getattr(X, 'shape', None)}")
    if X.dtype not in (np.float32, np.float64):
        raise ValueError(f"X: expected float32 or float64, got dtype {X.dtype}")
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        raise ValueError("X: expected a C- or F-contiguous array")
    finite = np.isfinite(X)
    if not finite.all():
        i, j = np.argwhere(~finite)[0]
        raise ValueError(f"X: expected finite values, got X[{i}, {j}] = {X[i, j]!r}")
    return X


class GLMObjective:
    """Data term of a GLM objective on a dense or sparse design matrix.

    Parameters
    ----------
    X : ndarray of shape (n, p) or CSR/CSC sparse matrix, float32 or float64
        Used without a copy.
    y : ndarray of shape (n,)
        Labels in {-1, +1} for "logistic", class indices 0..K-1 for "multinomial", real
        targets otherwise.
    loss : {"logistic", "squared", "huber", "multinomial"}
    sample_weight : ndarray of shape (n,), optional
        Non-negative weights with a positive sum, rescaled to sum to n.
    fit_intercept : bool, default True
    n_classes : int, optional
        K for "multinomial"; default ``max(y) + 1``.
    huber_delta : float, default 1.0
        Threshold of the Huber loss.
    """

    def __init__(self, X, y, *, loss, sample_weight=None, fit_intercept=True, n_classes=None,
                 huber_delta=1.0):
        if loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
        self._X = _check_X(X)
        n, p = X.shape
        y = np.asarray(y)
        if y.shape != (n,):
            raise ValueError(f"y: expected shape ({n},) to match X, got {y.shape}")
        y = y.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"y: expected finite values, got y[{bad[0]}] = {y[bad[0]]!r}")
        if loss == "logistic":
            bad = np.flatnonzero((y != 1.0) & (y != -1.0))
            if bad.size:
                raise ValueError(f"y: logistic labels must be -1 or +1, got y[{bad[0]}] = "
                                 f"{y[bad[0]]!r}")
        k = 1
        if loss == "multinomial":
            bad = np.flatnonzero((y < 0) | (y != np.floor(y)))
            if bad.size:
                raise ValueError(f"y: multinomial labels must be integers >= 0, got "
                                 f"y[{bad[0]}] = {y[bad[0]]!r}")
            k = int(y.max()) + 1 if n_classes is None else int(n_classes)
            if k < 2:
                raise ValueError(f"n_classes: expected at least 2, got {k}")
            bad = np.flatnonzero(y >= k)
            if bad.size:
                raise ValueError(f"y: multinomial labels must be below n_classes={k}, got "
                                 f"y[{bad[0]}] = {y[bad[0]]!r}")
            self._labels = y.astype(np.int64)
        if not (np.isfinite(huber_delta) and huber_delta > 0):
            raise ValueError(f"huber_delta: expected a finite number > 0, got {huber_delta!r}")
        if sample_weight is None:
            s = np.full(n, 1.0 / n) if n else np.zeros(0)
        else:
            s = np.asarray(sample_weight, dtype=np.float64)
            if s.shape != (n,):
                raise ValueError(f"sample_weight: expected shape ({n},), got {s.shape}")
            bad = np.flatnonzero(~(np.isfinite(s) & (s >= 0)))
            if bad.size:
                raise ValueError(f"sample_weight: expected finite values >= 0, got "
                                 f"sample_weight[{bad[0]}] = {s[bad[0]]!r}")
            if not s.sum() > 0:
                raise ValueError("sample_weight: expected a positive sum, got all zeros")
            s = s / s.sum()
        self._y = y
        # Each weight divided by n after the rescaling to sum n, so sums need no 1/n.
        self._s = s
        self._delta = float(huber_delta)
        self.loss = loss
        self.n_samples = n
        self.n_features = p
        self.n_outputs = k
        self.fit_intercept = bool(fit_intercept)
        self.n_params = k * p + (k if self.fit_intercept else 0)

    # -- layout helpers --------------------------------------------------------------------
    def _split(self, w):
        k, p = self.n_outputs, self.n_features
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.n_params,):
            raise ValueError(f"w: expected shape ({self.n_params},), got {w.shape}")
        coef = w[: k * p].reshape(k, p)
        intercept = w[k * p:] if self.fit_intercept else np.zeros(k)
        return coef, intercept

    def _product(self, coef, intercept):
        z = self._X @ coef.T.astype(np.float64)
        z = np.asarray(z, dtype=np.float64) + intercept
        return z  # (n, K)

    def _pack(self, r, out=None):
        """Return the gradient-shaped X^T r (plus column sums for intercepts) of residuals r."""
        k, p = self.n_outputs, self.n_features
        gc = np.asarray(self._X.T @ r, dtype=np.float64).T  # (K, p)
        if out is None:
            out = np.empty(self.n_params)
        out[: k * p] = gc.ravel()
        if self.fit_intercept:
            out[k * p:] = r.sum(axis=0)
        return out

    # -- per-sample terms in the margin ----------------------------------------------------
    def _terms(self, z, order):
        """Weighted per-sample value sum, and first (order >= 1) and second derivatives."""
        s = self._s
        if self.loss == "multinomial":
            lse = logsumexp(z, axis=1)
            idx = np.arange(self.n_samples)
            value = float(s @ (lse - z[idx, self._labels]))
            if order == 0:
                return value, None, None
            prob = np.exp(z - lse[:, None])
            d1 = prob.copy()
            d1[idx, self._labels] -= 1.0
            return value, d1 * s[:, None], prob
        y = self._y[:, None]
        if self.loss == "logistic":
            m = y * z
            value = float(s @ np.logaddexp(0.0, -m)[:, 0])
            if order == 0:
                return value, None, None
            wrong = expit(-m)
            return value, -y * wrong * s[:, None], wrong * (1.0 - wrong) * s[:, None]
        r = z - y
        if self.loss == "squared":
            value = float(s @ (0.5 * r * r)[:, 0])
            return value, r * s[:, None], np.broadcast_to(s[:, None], r.shape)
        a = np.abs(r)
        inside = a <= self._delta
        value = float(s @ np.where(inside, 0.5 * r * r, self._delta * (a - 0.5 * self._delta))[:, 0])
        d1 = np.where(inside, r, self._delta * np.sign(r))
        return value, d1 * s[:, None], inside * s[:, None]

    # -- public interface ------------------------------------------------------------------
    def margins(self, w):
        """Return z = X coef^T + intercept, shape (n,) for K = 1 and (n, K) otherwise."""
        z = self._product(*self._split(w))
        return z[:, 0] if self.n_outputs == 1 else z

    def value(self, w):
        """Return the data term f(w)."""
        return self._terms(self._product(*self._split(w)), 0)[0]

    def value_grad(self, w, out=None):
        """Return f(w) and its gradient (written into ``out`` when given)."""
        value, d1, _ = self._terms(self._product(*self._split(w)), 1)
        return value, self._pack(d1, out)

    def hessp(self, w, v):
        """Return the Hessian of f at w times v."""
        z = self._product(*self._split(w))
        zv = self._product(*self._split(v))
        _, _, d2 = self._terms(z, 2)
        if self.loss == "multinomial":
            hz = d2 * zv - d2 * np.sum(d2 * zv, axis=1, keepdims=True)
            hz *= self._s[:, None]
        else:
            hz = d2 * zv
        return self._pack(hz)

    def hess_diag(self, w):
        """Return the diagonal of the Hessian of f at w."""
        z = self._product(*self._split(w))
        _, _, d2 = self._terms(z, 2)
        if self.loss == "multinomial":
            weights = d2 * (1.0 - d2) * self._s[:, None]
        else:
            weights = np.asarray(d2)
        X2 = self._X.multiply(self._X) if sp.issparse(self._X) else np.square(self._X)
        return self._pack_squares(X2, weights)

    def _pack_squares(self, X2, weights):
        k, p = self.n_outputs, self.n_features
        out = np.empty(self.n_params)
        out[: k * p] = np.asarray(X2.T @ weights, dtype=np.float64).T.ravel()
        if self.fit_intercept:
            out[k * p:] = weights.sum(axis=0)
        return out

    def line(self, w, d):
        """Return the restriction of f to the line w + t d, caching X coef and X d."""
        return _Line(self, w, d)


class _Line:
    """f(w + t d) from the cached margins z(w) and X d: each trial value costs O(n K)."""

    def __init__(self, objective, w, d):
        self._objective = objective
        self._w = np.array(w, dtype=np.float64)
        self._d = np.array(d, dtype=np.float64)
        self._z = objective._product(*objective._split(self._w))
        self._zd = objective._product(*objective._split(self._d))

    def value(self, t):
        """Return f(w + t d)."""
        return self._objective._terms(self._z + t * self._zd, 0)[0]

    def value_grad(self, t):
        """Return f(w + t d) and its gradient in w (one pass over X)."""
        value, d1, _ = self._objective._terms(self._z + t * self._zd, 1)
        return value, self._objective._pack(d1)
