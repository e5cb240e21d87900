"""The data term of a regularized generalized linear model, on fastopt's GLM kernels.

For n samples with weights s_i rescaled to sum to n,

    f(w) = (1/n) sum_i s_i loss(y_i, z_i),    z_i = x_i . coef + intercept,

with one flat float64 parameter vector w of length K p + (K if fit_intercept):
coef (K, p) row-major, then the K intercepts. K = 1 except for the
multinomial loss, where K is the number of classes. The penalty is not part of
f; ``_stopping.penalty_value`` and ``add_l2_gradient`` add it.

Losses:

- ``"logistic"``: log(1 + exp(-y z)) with labels y in {-1, +1};
- ``"squared"``: (z - y)^2 / 2;
- ``"huber"``: (z - y)^2 / 2 where |z - y| <= delta, and
  delta (|z - y| - delta / 2) beyond;
- ``"multinomial"``: log(sum_k exp(z_k)) - z_y with class indices y in 0..K-1.

With the penalty alpha (l1_ratio ||coef||_1 + (1 - l1_ratio) / 2 ||coef||^2),
scikit-learn's LogisticRegression(C) is alpha = 1 / (C n) with l1_ratio 0
(penalty "l2") or 1 ("l1"); Lasso and ElasticNet(alpha, l1_ratio) use the same
alpha; Ridge(alpha_sk) is alpha = alpha_sk / n; Spark's regParam and
elasticNetParam are alpha and l1_ratio (with standardization off).
"""

from __future__ import annotations

import numbers

import numpy as np

from fastopt import _core
from fastopt.linear_model._design import Design, as_design

__all__ = ["GLMObjective", "GLMLine"]

LOSSES = ("logistic", "squared", "huber", "multinomial")


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _as_real_vector(name: str, values, n: int, xp=np) -> np.ndarray:
    """Return ``values`` as a float64 vector of length n, checked to be finite.

    ``xp`` is the array module of the result: NumPy, or CuPy for the GPU objective.
    """
    array = xp.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.shape[0] != n:
        raise ValueError(f"{name}: expected {n} values (one per sample of X), got {array.shape[0]}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected real numbers, got dtype {array.dtype}")
    out = xp.array(array, dtype=np.float64, order="C")  # a private copy
    bad = ~xp.isfinite(out)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"{name}: expected finite values, got {out[i]} at index {i}")
    return out


def check_options(loss, fit_intercept, huber_delta) -> None:
    """Raise ValueError or TypeError naming the first invalid objective option."""
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(map(repr, LOSSES))}, got {loss!r}")
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept: expected a bool, got {type(fit_intercept).__name__}")
    if (not isinstance(huber_delta, numbers.Real) or not np.isfinite(huber_delta)
            or huber_delta <= 0):
        raise ValueError(f"huber_delta: expected a finite number > 0, got {huber_delta!r}")


def check_labels(y, loss: str, n_classes) -> int:
    """Check the labels for ``loss``; return the number of outputs K.

    Works on NumPy and CuPy arrays alike (CuPy through NumPy's dispatch).
    """
    if loss != "multinomial":
        if n_classes is not None:
            raise ValueError(
                f"n_classes: expected None for loss={loss!r}, got {n_classes!r}")
        if loss == "logistic":
            bad = (y != 1.0) & (y != -1.0)
            if bad.any():
                i = _first_bad(bad)
                raise ValueError(
                    f"y: expected labels -1 or +1 for loss='logistic', got {y[i]} at "
                    f"index {i}")
        return 1
    bad = (y < 0) | (y != np.floor(y))
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(
            f"y: expected class indices 0, 1, ... for loss='multinomial', got {y[i]} at "
            f"index {i}")
    inferred = int(y.max()) + 1
    if n_classes is None:
        return max(inferred, 1)
    if (not isinstance(n_classes, numbers.Integral) or isinstance(n_classes, bool)
            or n_classes < 1):
        raise ValueError(f"n_classes: expected an int >= 1, got {n_classes!r}")
    if inferred > n_classes:
        i = int(np.argmax(y >= n_classes))
        raise ValueError(
            f"y: expected class indices below n_classes={n_classes}, got {y[i]} at "
            f"index {i}")
    return int(n_classes)


class GLMObjective:
    """Data term f(w) of a GLM, its gradient, Hessian products and line restrictions.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        Used without a copy when it is a C- or Fortran-contiguous float32 or
        float64 array, or CSR/CSC with float32/float64 data and int32/int64
        indices (see ``fastopt.linear_model._design``). The kernels read X in
        its own dtype and accumulate in float64. X must not change while the
        objective is in use. A change that puts an index out of range raises
        ValueError instead of reading out of bounds.
    y : array-like of shape (n_samples,)
        Labels -1/+1 for ``"logistic"``, class indices 0..K-1 (integers,
        stored as int or float) for ``"multinomial"``, finite targets for
        ``"squared"`` and ``"huber"``.
    loss : {"logistic", "squared", "huber", "multinomial"}
    sample_weight : array-like of shape (n_samples,) or float, optional
        Non-negative finite weights, not all zero; rescaled to sum to n.
    fit_intercept : bool, default True
        Whether w ends with K unpenalized intercepts.
    n_classes : int, optional
        K for ``"multinomial"``; default max(y) + 1. Must be None for the
        other losses.
    huber_delta : float, default 1.0
        Threshold of the Huber loss.

    Notes
    -----
    ``value_grad`` reads X once for row layouts (dense C order, CSR) and
    twice for column layouts (Fortran order, CSC). Results do not depend on
    the thread count (``fastopt.set_num_threads``): every reduction runs over
    fixed blocks summed in a fixed order. An instance is not safe to use from
    several Python threads at once.
    """

    def __init__(self, X, y, *, loss, sample_weight=None, fit_intercept=True, n_classes=None,
                 huber_delta=1.0):
        check_options(loss, fit_intercept, huber_delta)
        self.design: Design = as_design(X)
        n = self.design.n_samples
        self.loss = loss
        self.fit_intercept = bool(fit_intercept)
        self.huber_delta = float(huber_delta)
        self.n_samples = n
        self.n_features = self.design.n_features
        self.y = _as_real_vector("y", y, n)
        self.n_outputs = self._check_labels(n_classes)
        self.sample_weight = self._normalized_weights(sample_weight)
        self.n_params = self.n_outputs * self.n_features + (
            self.n_outputs if self.fit_intercept else 0)

        self._problem = _core.GlmProblem(self.design.native, self.y, self.sample_weight, loss,
                                         self.n_outputs, self.fit_intercept, self.huber_delta)
        # Curvature at the last w given to hessp or hess_diag, reused while w
        # stays the same (Newton-CG calls hessp many times per point).
        self._curvature_w = None
        self._curvature = np.empty(self._problem.curvature_size)

    # ------------------------------------------------------------------ checks

    def _check_labels(self, n_classes) -> int:
        return check_labels(self.y, self.loss, n_classes)

    def _normalized_weights(self, sample_weight):
        """Return the weights divided by their sum (None for equal weights)."""
        if sample_weight is None:
            return None
        n = self.n_samples
        if np.ndim(sample_weight) == 0:
            sample_weight = np.full(n, sample_weight)
        s = _as_real_vector("sample_weight", sample_weight, n)
        bad = s < 0
        if bad.any():
            i = _first_bad(bad)
            raise ValueError(f"sample_weight: expected values >= 0, got {s[i]} at index {i}")
        with np.errstate(over="ignore"):  # an overflowing sum is reported below
            total = s.sum()
        if total == 0:
            raise ValueError("sample_weight: expected at least one positive weight, got all 0")
        if not np.isfinite(total):
            raise ValueError(f"sample_weight: expected a finite sum, got {total}")
        return s / total

    def _vector(self, name: str, w) -> np.ndarray:
        w = np.asarray(w)
        if w.dtype != np.float64:
            w = w.astype(np.float64)
        if w.shape != (self.n_params,):
            raise ValueError(f"{name}: expected shape ({self.n_params},), got {w.shape}")
        return np.ascontiguousarray(w)

    def _margins_shape(self):
        return (self.n_samples,) if self.n_outputs == 1 else (self.n_samples, self.n_outputs)

    # ---------------------------------------------------------------- interface

    def value(self, w) -> float:
        """Return f(w), the data term without the penalty."""
        return self._problem.value_grad(self._vector("w", w))

    def value_grad(self, w, out=None):
        """Return f(w) and its gradient, from one pass over X for row layouts.

        Parameters
        ----------
        w : ndarray of shape (n_params,)
        out : ndarray of shape (n_params,), float64, optional
            Receives the gradient and is returned; must not share memory with w.

        Returns
        -------
        value : float
        grad : ndarray of shape (n_params,)
        """
        w = self._vector("w", w)
        if out is None:
            out = np.empty(self.n_params)
        value = self._problem.value_grad(w, out)
        return value, out

    def margins(self, w) -> np.ndarray:
        """Return z = X coef^T + intercept: shape (n,) when K = 1, else (n, K)."""
        z = np.empty(self._margins_shape())
        self.design.native.matvec(self._vector("w", w), self.n_outputs, self.fit_intercept, z)
        return z

    def _curvature_at(self, w: np.ndarray) -> np.ndarray:
        if self._curvature_w is None or not np.array_equal(self._curvature_w, w):
            z = np.empty(self.n_samples * self.n_outputs)
            self.design.native.matvec(w, self.n_outputs, self.fit_intercept, z)
            self._curvature_w = None  # stays unset if the next call raises
            self._problem.loss(z, curvature=self._curvature)
            self._curvature_w = w.copy()
        return self._curvature

    def hessp(self, w, v) -> np.ndarray:
        """Return the Hessian of f at w times v.

        The Hessian is X^T D X over the augmented X = [X, 1] when there is an
        intercept, with D = s_i d2loss/dz2 per sample, or for the multinomial
        loss the softmax block s_i (diag(p_i) - p_i p_i^T) (p_i the class
        probabilities). The curvature D is cached for the last w.
        """
        w = self._vector("w", w)
        v = self._vector("v", v)
        out = np.empty(self.n_params)
        self._problem.hessp(self._curvature_at(w), v, out)
        return out

    def hess_diag(self, w) -> np.ndarray:
        """Return the diagonal of the Hessian of f at w (see ``hessp``)."""
        w = self._vector("w", w)
        return self._hess_diag_from(self._curvature_at(w))

    def _hess_diag_from(self, curvature: np.ndarray) -> np.ndarray:
        """Return the Hessian diagonal from the curvature that ``_problem.loss`` wrote."""
        if self.loss == "multinomial":
            prob = curvature.reshape(self.n_samples, self.n_outputs)
            s = (self.sample_weight if self.sample_weight is not None
                 else np.full(self.n_samples, 1.0 / self.n_samples))
            diag_weights = s[:, None] * prob * (1.0 - prob)
        else:
            diag_weights = curvature
        out = np.empty(self.n_params)
        self.design.native.rmatvec(np.ascontiguousarray(diag_weights), self.n_outputs,
                                   self.fit_intercept, out, squared=True)
        return out

    def line(self, w, d) -> "GLMLine":
        """Return f restricted to the line w + t d, for line searches.

        Computes z(w) and the margins of d in one pass over X; afterwards
        ``value(t)`` reads no X and ``value_grad(t)`` reads it once.
        """
        return GLMLine(self, self._vector("w", w), self._vector("d", d))


class GLMLine:
    """f(w + t d) of a ``GLMObjective`` with z(w) and the margins of d cached.

    The margins are affine in the parameters, z(w + t d) = z(w) + t z_d with
    z_d = X coef_d^T + intercept_d, so a trial step costs O(n K) operations
    and no pass over X.
    """

    def __init__(self, objective: GLMObjective, w: np.ndarray, d: np.ndarray):
        self._objective = objective
        k, p = objective.n_outputs, objective.n_features
        # One pass over X with 2K outputs: coef rows of w, then of d, and
        # their intercepts in the same order.
        stacked = np.concatenate([w[: k * p], d[: k * p]])
        if objective.fit_intercept:
            stacked = np.concatenate([stacked, w[k * p :], d[k * p :]])
        z = np.empty((objective.n_samples, 2 * k))
        objective.design.native.matvec(stacked, 2 * k, objective.fit_intercept, z)
        self._z = np.ascontiguousarray(z[:, :k])
        self._dz = np.ascontiguousarray(z[:, k:])
        self._residual = np.empty_like(self._z)
        self.w = w
        self.d = d

    def value(self, t: float) -> float:
        """Return f(w + t d) from the cached margins, with no pass over X."""
        return self._objective._problem.loss(self._z, self._dz, float(t))

    def margins_at(self, t: float) -> np.ndarray:
        """Return z(w + t d) = z(w) + t z_d from the cached margins, with no pass over X."""
        z = self._z + float(t) * self._dz
        return z.reshape(-1) if z.shape[1] == 1 else z

    def value_grad(self, t: float, out=None):
        """Return f(w + t d) and its gradient; the gradient reads X once."""
        obj = self._objective
        value = obj._problem.loss(self._z, self._dz, float(t), residual=self._residual)
        if out is None:
            out = np.empty(obj.n_params)
        obj.design.native.rmatvec(self._residual, obj.n_outputs, obj.fit_intercept, out)
        return value, out
