"""Plain NumPy/SciPy definitions of the GLM objectives, used as test oracles.

Written from the formulas, not from fastopt's kernels:

    F(w) = (1 / sum(s)) * sum_i s_i * loss(y_i, z_i),   z_i = x_i . coef + intercept

Binary logistic takes labels in {-1, +1}: loss = log(1 + exp(-y z)).
Squared: 1/2 (z - y)^2. Huber with threshold delta: 1/2 r^2 for |r| <= delta,
delta (|r| - delta / 2) beyond. Multinomial takes class indices 0..K-1 and K
margins per sample: logsumexp(z) - z_y.

Parameters are one flat float64 vector laid out as coef (K, p) row-major,
then the K intercepts when there is an intercept (K = 1 except multinomial).
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp


def split(w, n_features, n_outputs, fit_intercept):
    coef = w[: n_outputs * n_features].reshape(n_outputs, n_features)
    if fit_intercept:
        intercept = w[n_outputs * n_features :]
    else:
        intercept = np.zeros(n_outputs)
    return coef, intercept


def margins(X, w, n_outputs, fit_intercept):
    coef, intercept = split(w, X.shape[1], n_outputs, fit_intercept)
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    return Xd.astype(np.float64) @ coef.T + intercept  # (n, K)


def _terms(loss, y, z, delta):
    """Per-sample loss, first and second derivative in the margin (n, 1 each)."""
    y = y.reshape(-1, 1)
    if loss == "logistic":
        m = y * z
        value = np.logaddexp(0.0, -m)
        p_wrong = expit(-m)
        return value, -y * p_wrong, p_wrong * (1.0 - p_wrong)
    r = z - y
    if loss == "squared":
        return 0.5 * r * r, r, np.ones_like(r)
    if loss == "huber":
        a = np.abs(r)
        inside = a <= delta
        value = np.where(inside, 0.5 * r * r, delta * (a - 0.5 * delta))
        d1 = np.where(inside, r, delta * np.sign(r))
        return value, d1, inside.astype(np.float64)
    raise ValueError(loss)


def value_grad(X, y, w, *, loss, sample_weight=None, fit_intercept=True, n_outputs=1,
               huber_delta=1.0):
    """Objective F(w) and its gradient, both in float64."""
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    s = s / s.sum()
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Xd = Xd.astype(np.float64)
    z = margins(Xd, w, n_outputs, fit_intercept)
    if loss == "multinomial":
        labels = np.asarray(y).astype(np.int64)
        lse = logsumexp(z, axis=1)
        value = lse - z[np.arange(n), labels]
        r = np.exp(z - lse[:, None])
        r[np.arange(n), labels] -= 1.0
        f = float(s @ value)
    else:
        value, d1, _ = _terms(loss, np.asarray(y, np.float64), z, huber_delta)
        f = float(s @ value[:, 0])
        r = d1
    r = r * s[:, None]
    grad_coef = r.T @ Xd  # (K, p)
    parts = [grad_coef.ravel()]
    if fit_intercept:
        parts.append(r.sum(axis=0))
    return f, np.concatenate(parts)


def hessp(X, y, w, v, *, loss, sample_weight=None, fit_intercept=True, n_outputs=1,
          huber_delta=1.0):
    """Hessian of F at w times v."""
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    s = s / s.sum()
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Xd = Xd.astype(np.float64)
    z = margins(Xd, w, n_outputs, fit_intercept)
    zv = margins(Xd, v, n_outputs, fit_intercept)  # X v_coef + v_intercept
    if loss == "multinomial":
        prob = np.exp(z - logsumexp(z, axis=1)[:, None])
        # d/dz of softmax applied to zv: diag(p) zv - p (p . zv)
        hz = prob * zv - prob * np.sum(prob * zv, axis=1, keepdims=True)
    else:
        _, _, d2 = _terms(loss, np.asarray(y, np.float64), z, huber_delta)
        hz = d2 * zv
    hz = hz * s[:, None]
    parts = [(hz.T @ Xd).ravel()]
    if fit_intercept:
        parts.append(hz.sum(axis=0))
    return np.concatenate(parts)


def hess_diag(X, y, w, *, loss, sample_weight=None, fit_intercept=True, n_outputs=1,
              huber_delta=1.0):
    """Diagonal of the Hessian of F at w."""
    size = w.size
    eye = np.eye(size)
    return np.array([
        hessp(X, y, w, eye[j], loss=loss, sample_weight=sample_weight,
              fit_intercept=fit_intercept, n_outputs=n_outputs,
              huber_delta=huber_delta)[j]
        for j in range(size)
    ])
