"""Stochastic solvers on sparse rows: a plain NumPy implementation, one row at a time.

NOTE: this module is a slow stand-in with the interface of the compiled solvers. It
loops over rows in Python (roughly 10-50 microseconds per row), so it suits tests
on data sets of up to about 1e5 rows, not benchmarks.

Both classes keep the lazy form of the model: a row reads and writes only its
nonzero coordinates, and the regularization skipped by untouched coordinates is
applied when they are next touched or when ``coef_`` is read. The lazy result
equals the eager one that regularizes every coordinate at every row.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["FTRLProximal", "LazySGD"]

_LOSSES = ("log_loss", "hinge", "squared_error", "huber")
_METHODS = ("sgd", "adagrad", "adam")
_SCHEDULES = ("constant", "invscaling", "optimal", "adaptive")
# A global scale below this is folded into the stored weights, so they stay normal numbers.
_MIN_SCALE = 1e-9
# Derivatives are clipped as scikit-learn's SGD clips them, so one outlier row cannot overflow.
_MAX_DLOSS = 1e12


def _loss_and_derivative(loss: str, margin: float, y: float, epsilon: float):
    """Return the loss of one row and its derivative in the margin."""
    if loss == "log_loss":
        z = y * margin
        # log(1 + exp(-z)) and -y / (1 + exp(z)), each written to avoid overflow.
        if z > 0:
            value = math.log1p(math.exp(-z))
            derivative = -y * math.exp(-z) / (1.0 + math.exp(-z))
        else:
            value = -z + math.log1p(math.exp(z))
            derivative = -y / (1.0 + math.exp(z))
        return value, derivative
    if loss == "hinge":
        z = y * margin
        return (max(0.0, 1.0 - z), -y if z < 1.0 else 0.0)
    residual = margin - y
    if loss == "squared_error":
        return 0.5 * residual * residual, residual
    if abs(residual) <= epsilon:
        return 0.5 * residual * residual, residual
    return epsilon * abs(residual) - 0.5 * epsilon * epsilon, math.copysign(epsilon, residual)


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _check_real(name, value, low=None, high=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name}: expected a value {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name}: expected a value <= {high}, got {value!r}")
    return value


def _check_n_features(n_features):
    if isinstance(n_features, bool) or not isinstance(n_features, numbers.Integral) or n_features < 1:
        raise ValueError(f"n_features: expected an integer >= 1, got {n_features!r}")
    return int(n_features)


def _as_csr(X, n_features):
    """Return ``X`` as CSR float64 with ``n_features`` columns, raising ValueError otherwise."""
    if not sp.issparse(X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X: expected a 2-D array or sparse matrix, got shape {X.shape}")
    X = sp.csr_matrix(X)
    if X.shape[1] != n_features:
        raise ValueError(f"X: expected {n_features} columns, got {X.shape[1]}")
    if X.dtype not in (np.float32, np.float64):
        raise ValueError(f"X: expected float32 or float64 values, got dtype {X.dtype}")
    if X.data.size and not np.all(np.isfinite(X.data)):
        position = int(np.argmin(np.isfinite(X.data)))
        row = int(np.searchsorted(X.indptr, position, side="right")) - 1
        raise ValueError(f"X: non-finite value {X.data[position]} in row {row}")
    return X


def _check_rows(X, y, sample_weight, order):
    n = X.shape[0]
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"y: expected shape ({n},), got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y: non-finite value {y[np.argmin(np.isfinite(y))]}")
    if sample_weight is None:
        sample_weight = np.ones(n)
    else:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight: expected shape ({n},), got {sample_weight.shape}")
        bad = ~np.isfinite(sample_weight) | (sample_weight < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"sample_weight: expected finite values >= 0, got {sample_weight[i]} at {i}")
    if order is None:
        order = np.arange(n, dtype=np.int64)
    else:
        order = np.asarray(order)
        if order.ndim != 1 or order.dtype.kind not in "iu":
            raise ValueError(f"order: expected a 1-D integer array, got dtype {order.dtype}, shape {order.shape}")
        bad = (order < 0) | (order >= n)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"order: index {order[i]} at position {i} is out of range for {n} rows")
        order = order.astype(np.int64)
    return y, sample_weight, order


class LazySGD:
    """Stochastic gradient descent on sparse rows with lazy elastic-net regularization.

    Each row minimizes, in the convention of scikit-learn's SGD,
    ``loss(y, x.w + b) + alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||^2)``.
    One step at learning rate ``eta`` with loss derivative ``g`` in the margin is::

        w <- w * (1 - eta * alpha * (1 - l1_ratio))     (every coordinate, a global scale)
        w_i <- w_i - step_i * g * x_i                     (the row's nonzero coordinates)
        b <- b - eta * g
        cumulative L1 penalty of Tsuruoka et al. (2009), eta * alpha * l1_ratio per row

    ``step_i`` is ``eta`` for ``method="sgd"``, ``eta / (sqrt(G_i) + eps)`` for Adagrad, and
    Adam's bias-corrected ratio for ``method="adam"``; the state of both is updated only on
    touched coordinates and regularization always uses ``eta``. The L1 penalty is accumulated
    in units of the unscaled weights, which makes the lazy update exact under the L2 scale.

    References
    ----------
    Y. Tsuruoka, J. Tsujii, S. Ananiadou, "Stochastic gradient descent training for
    L1-regularized log-linear models with cumulative penalty", ACL 2009.
    L. Bottou, "Stochastic gradient descent tricks", 2012 (the "optimal" schedule).
    """

    def __init__(self, n_features, *, loss="log_loss", method="sgd", learning_rate="optimal",
                 eta0=0.01, power_t=0.5, alpha=1e-4, l1_ratio=0.0, momentum=0.0, average=False,
                 epsilon=0.1, beta1=0.9, beta2=0.999, eps=1e-8, fit_intercept=True,
                 dtype=np.float64):
        self.n_features = _check_n_features(n_features)
        self.loss = _check_choice("loss", loss, _LOSSES)
        self.method = _check_choice("method", method, _METHODS)
        self.learning_rate = _check_choice("learning_rate", learning_rate, _SCHEDULES)
        self.eta0 = _check_real("eta0", eta0, 0.0, low_open=learning_rate != "optimal")
        self.power_t = _check_real("power_t", power_t)
        self.alpha = _check_real("alpha", alpha, 0.0, low_open=learning_rate == "optimal")
        self.l1_ratio = _check_real("l1_ratio", l1_ratio, 0.0, 1.0)
        self.momentum = _check_real("momentum", momentum, 0.0, 1.0)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum: expected a value in [0, 1), got {momentum!r}")
        if isinstance(average, bool):
            self.average_start = 0 if average else None
        elif isinstance(average, numbers.Integral) and average >= 0:
            self.average_start = int(average)
        else:
            raise ValueError(f"average: expected a bool or an integer >= 0, got {average!r}")
        self.average = average
        self.epsilon = _check_real("epsilon", epsilon, 0.0)
        self.beta1 = _check_real("beta1", beta1, 0.0, 1.0)
        self.beta2 = _check_real("beta2", beta2, 0.0, 1.0)
        self.eps = _check_real("eps", eps, 0.0, low_open=True)
        self.fit_intercept = bool(fit_intercept)
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected float32 or float64, got {dtype!r}")
        self.dtype = np.dtype(dtype)
        n = self.n_features
        self._v = np.zeros(n)  # weights divided by the global scale
        self._scale = 1.0
        self._l1_total = 0.0  # cumulative L1 penalty per coordinate, unscaled units
        self._l1_received = np.zeros(n)  # penalty each coordinate has received (signed)
        self._intercept = 0.0
        self._state1 = np.zeros(n)  # Adagrad sum of squares, or Adam first moment
        self._state2 = np.zeros(n)  # Adam second moment
        self._touches = np.zeros(n, dtype=np.int64)  # Adam's per-coordinate step count
        self._velocity = np.zeros(n) if self.momentum > 0 else None
        self._average = np.zeros(n)
        self._average_intercept = 0.0
        self._average_count = 0
        self._eta_divisor = 1.0
        self.t_ = 0
        self._optimal_t0 = None
        if self.learning_rate == "optimal":
            typical_w = math.sqrt(1.0 / math.sqrt(self.alpha))
            _, d1 = _loss_and_derivative(self.loss, -typical_w, 1.0, self.epsilon)
            self._optimal_t0 = 1.0 / (typical_w / max(1.0, d1) * self.alpha)

    def _eta(self, t):
        if self.learning_rate == "constant":
            return self.eta0
        if self.learning_rate == "invscaling":
            return self.eta0 / t**self.power_t
        if self.learning_rate == "optimal":
            return 1.0 / (self.alpha * (self._optimal_t0 + t - 1))
        return self.eta0 / self._eta_divisor

    def decay_learning_rate(self):
        """Divide the "adaptive" learning rate by 5, as after an epoch without improvement."""
        self._eta_divisor *= 5.0

    def _catch_up(self, idx):
        """Apply the L1 penalty that coordinates ``idx`` skipped since they were last touched."""
        if self._l1_total == 0.0:
            return
        v = self._v[idx]
        received = self._l1_received[idx]
        # Positive weights may still receive total + received (received is <= 0 for them),
        # negative ones total - received, each clipped at zero as in Tsuruoka et al.
        new = np.where(v > 0, np.maximum(0.0, v - (self._l1_total + received)),
                       np.where(v < 0, np.minimum(0.0, v + (self._l1_total - received)), v))
        self._l1_received[idx] = received + (new - v)
        self._v[idx] = new

    def _fold_scale(self):
        self._v *= self._scale
        self._l1_received *= self._scale
        self._l1_total *= self._scale
        self._scale = 1.0

    def _weights(self):
        """Return the current (not averaged) weights with every pending term applied."""
        everything = np.arange(self.n_features)
        self._catch_up(everything)
        return self._v * self._scale

    def partial_fit(self, X, y, sample_weight=None, order=None):
        """Make one pass over the rows of ``X`` in ``order``; return the progressive mean loss."""
        X = _as_csr(X, self.n_features)
        y, sample_weight, order = _check_rows(X, y, sample_weight, order)
        indptr, indices, data = X.indptr, X.indices, X.data.astype(np.float64)
        total = 0.0
        weight_sum = 0.0
        for row in order:
            idx = indices[indptr[row]:indptr[row + 1]]
            x = data[indptr[row]:indptr[row + 1]]
            self._catch_up(idx)
            margin = self._scale * float(self._v[idx] @ x) + self._intercept
            value, d1 = _loss_and_derivative(self.loss, margin, float(y[row]), self.epsilon)
            weight = float(sample_weight[row])
            total += weight * value
            weight_sum += weight
            d1 = min(max(d1, -_MAX_DLOSS), _MAX_DLOSS) * weight
            self.t_ += 1
            eta = self._eta(self.t_)
            self._step(idx, x, d1, eta)
        return total / weight_sum if weight_sum > 0 else 0.0

    def _step(self, idx, x, d1, eta):
        shrink = 1.0 - eta * self.alpha * (1.0 - self.l1_ratio)
        if shrink <= 0.0:
            # Every weight becomes zero; the pending penalties no longer matter.
            self._v[:] = 0.0
            self._l1_received[:] = 0.0
            self._l1_total = 0.0
            self._scale = 1.0
            if self._velocity is not None:
                self._velocity[:] = 0.0
        else:
            self._scale *= shrink
        if self._scale < _MIN_SCALE:
            self._catch_up(np.arange(self.n_features))
            self._fold_scale()

        gradient = d1 * x
        if self.method == "sgd":
            change = -eta * gradient
        elif self.method == "adagrad":
            self._state1[idx] += gradient * gradient
            change = -eta * gradient / (np.sqrt(self._state1[idx]) + self.eps)
        else:
            self._touches[idx] += 1
            k = self._touches[idx]
            m = self.beta1 * self._state1[idx] + (1.0 - self.beta1) * gradient
            s = self.beta2 * self._state2[idx] + (1.0 - self.beta2) * gradient * gradient
            self._state1[idx] = m
            self._state2[idx] = s
            m_hat = m / (1.0 - self.beta1**k)
            s_hat = s / (1.0 - self.beta2**k)
            change = -eta * m_hat / (np.sqrt(s_hat) + self.eps)

        if self._velocity is not None:
            # Heavy ball: the velocity of every coordinate decays, so this step is dense.
            # The velocity is kept in the units of w, so the L2 scale does not decay it.
            self._velocity *= self.momentum
            self._velocity[idx] += change
            self._v += self._velocity / self._scale
        else:
            self._v[idx] += change / self._scale
        if self.fit_intercept:
            self._intercept -= eta * d1

        penalty = eta * self.alpha * self.l1_ratio
        if penalty > 0:
            self._l1_total += penalty / self._scale
            if self._velocity is not None:
                self._catch_up(np.arange(self.n_features))
            else:
                self._catch_up(idx)

        if self.average_start is not None and self.t_ > self.average_start:
            # Averaging reads every coordinate, so with it each row costs O(n_features).
            self._average_count += 1
            w = self._weights()
            self._average += (w - self._average) / self._average_count
            self._average_intercept += (self._intercept - self._average_intercept) / self._average_count

    @property
    def coef_(self):
        """Weights, float64 of shape (n_features,): the average once averaging has begun."""
        if self._average_count > 0:
            return self._average.copy()
        return self._weights().copy()

    @property
    def intercept_(self):
        """Intercept: the average once averaging has begun."""
        if self._average_count > 0:
            return float(self._average_intercept)
        return float(self._intercept)

    def decision_function(self, X):
        """Return ``X @ coef_ + intercept_``."""
        X = _as_csr(X, self.n_features)
        return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    _STATE_ARRAYS = ("_v", "_l1_received", "_state1", "_state2", "_touches", "_average")
    _STATE_SCALARS = ("_scale", "_l1_total", "_intercept", "_average_intercept",
                      "_average_count", "_eta_divisor", "t_")

    def get_state(self):
        """Return a dict of copies of the arrays and scalars that define the model and its state."""
        state = {name.lstrip("_"): getattr(self, name).copy() for name in self._STATE_ARRAYS}
        state.update({name.lstrip("_"): getattr(self, name) for name in self._STATE_SCALARS})
        state["velocity"] = None if self._velocity is None else self._velocity.copy()
        return state

    def set_state(self, state):
        """Restore a state returned by :meth:`get_state` of a solver of the same shape."""
        for name in self._STATE_ARRAYS:
            key = name.lstrip("_")
            if key not in state:
                raise ValueError(f"state: missing key {key!r}")
            value = np.asarray(state[key])
            if value.shape != (self.n_features,):
                raise ValueError(f"state[{key!r}]: expected shape ({self.n_features},), got {value.shape}")
        for name in self._STATE_ARRAYS:
            setattr(self, name, np.array(state[name.lstrip("_")], dtype=getattr(self, name).dtype))
        for name in self._STATE_SCALARS:
            setattr(self, name, type(getattr(self, name))(state[name.lstrip("_")]))
        velocity = state.get("velocity")
        self._velocity = None if velocity is None else np.array(velocity, dtype=np.float64)


class FTRLProximal:
    """FTRL-Proximal with per-coordinate learning rates for logistic regression.

    For a row with prediction ``p = sigmoid(x.w + b)`` and label ``y`` in {-1, +1}, each
    nonzero coordinate takes ``g_i = (p - (y + 1) / 2) * x_i`` and updates::

        sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha
        z_i <- z_i + g_i - sigma_i * w_i
        n_i <- n_i + g_i^2
        w_i = 0 if |z_i| <= l1, else -(z_i - sign(z_i) * l1) / ((beta + sqrt(n_i)) / alpha + l2)

    The intercept is one more coordinate with ``x = 1`` and no L1 or L2 penalty.

    References
    ----------
    H. B. McMahan et al., "Ad click prediction: a view from the trenches", KDD 2013,
    Algorithm 1.
    """

    def __init__(self, n_features, *, alpha=0.1, beta=1.0, l1=1.0, l2=1.0, fit_intercept=True,
                 loss="log_loss"):
        self.n_features = _check_n_features(n_features)
        self.alpha = _check_real("alpha", alpha, 0.0, low_open=True)
        self.beta = _check_real("beta", beta, 0.0)
        self.l1 = _check_real("l1", l1, 0.0)
        self.l2 = _check_real("l2", l2, 0.0)
        self.fit_intercept = bool(fit_intercept)
        self.loss = _check_choice("loss", loss, ("log_loss",))
        self._z = np.zeros(self.n_features + 1)
        self._n = np.zeros(self.n_features + 1)
        self.t_ = 0

    def _weights_of(self, idx, with_penalty):
        z = self._z[idx]
        n = self._n[idx]
        l1 = np.where(with_penalty, self.l1, 0.0)
        l2 = np.where(with_penalty, self.l2, 0.0)
        w = -(z - np.sign(z) * l1) / ((self.beta + np.sqrt(n)) / self.alpha + l2)
        return np.where(np.abs(z) <= l1, 0.0, w)

    def partial_fit(self, X, y, sample_weight=None, order=None):
        """Make one pass over the rows of ``X`` in ``order``; return the progressive mean log-loss."""
        X = _as_csr(X, self.n_features)
        y, sample_weight, order = _check_rows(X, y, sample_weight, order)
        bad = (y != 1.0) & (y != -1.0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"y: expected labels -1 or +1, got {y[i]} at row {i}")
        indptr, indices, data = X.indptr, X.indices, X.data.astype(np.float64)
        bias = self.n_features
        total = 0.0
        weight_sum = 0.0
        for row in order:
            idx = indices[indptr[row]:indptr[row + 1]]
            x = data[indptr[row]:indptr[row + 1]]
            if self.fit_intercept:
                idx = np.append(idx, bias)
                x = np.append(x, 1.0)
            penalized = idx != bias
            w = self._weights_of(idx, penalized)
            margin = float(w @ x)
            value, d1 = _loss_and_derivative("log_loss", margin, float(y[row]), 0.0)
            weight = float(sample_weight[row])
            total += weight * value
            weight_sum += weight
            g = d1 * weight * x
            n = self._n[idx]
            sigma = (np.sqrt(n + g * g) - np.sqrt(n)) / self.alpha
            self._z[idx] += g - sigma * w
            self._n[idx] = n + g * g
            self.t_ += 1
        return total / weight_sum if weight_sum > 0 else 0.0

    @property
    def coef_(self):
        """Weights, float64 of shape (n_features,), exactly zero where ``|z_i| <= l1``."""
        idx = np.arange(self.n_features)
        return self._weights_of(idx, np.ones(self.n_features, dtype=bool))

    @property
    def intercept_(self):
        """Intercept, zero without ``fit_intercept``."""
        if not self.fit_intercept:
            return 0.0
        bias = np.array([self.n_features])
        return float(self._weights_of(bias, np.zeros(1, dtype=bool))[0])

    def decision_function(self, X):
        """Return ``X @ coef_ + intercept_``."""
        X = _as_csr(X, self.n_features)
        return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    def get_state(self):
        """Return a dict with copies of ``z``, ``n`` (intercept last) and ``t``."""
        return {"z": self._z.copy(), "n": self._n.copy(), "t": self.t_}

    def set_state(self, state):
        """Restore a state returned by :meth:`get_state` of a solver of the same shape."""
        for key in ("z", "n", "t"):
            if key not in state:
                raise ValueError(f"state: missing key {key!r}")
        shape = (self.n_features + 1,)
        for key in ("z", "n"):
            if np.shape(state[key]) != shape:
                raise ValueError(f"state[{key!r}]: expected shape {shape}, got {np.shape(state[key])}")
        self._z = np.array(state["z"], dtype=np.float64)
        self._n = np.array(state["n"], dtype=np.float64)
        self.t_ = int(state["t"])
