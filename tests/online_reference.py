"""Eager dense NumPy oracles of the online solvers in fastopt.online.

Every step decays and penalizes every coordinate of a dense weight vector, as the
formulas are written, with no global scale and no catch-up: the lazy C++ solvers
must match these to rounding. The step-by-step rule is stated in LazySGD's
docstring; this file implements it independently of the kernel.
"""

from __future__ import annotations

import copy
import math

import numpy as np


def loss_value_and_derivative(loss, y, p, epsilon):
    """Return (loss, d loss / d p) at margin p for label or target y."""
    if loss == "log_loss":
        m = y * p
        value = math.log1p(math.exp(-m)) if m > 0 else -m + math.log1p(math.exp(m))
        # d/dp log(1 + exp(-y p)) = -y / (1 + exp(y p)), written without overflow.
        if m > 0:
            e = math.exp(-m)
            return value, -y * e / (1.0 + e)
        return value, -y / (1.0 + math.exp(m))
    if loss == "hinge":
        m = y * p
        return (1.0 - m, -y) if m <= 1.0 else (0.0, 0.0)
    r = p - y
    if loss == "huber" and abs(r) > epsilon:
        return epsilon * (abs(r) - 0.5 * epsilon), math.copysign(epsilon, r)
    return 0.5 * r * r, r


def optimal_t0(loss, alpha, epsilon):
    """scikit-learn's offset of the "optimal" schedule (Bottou's heuristic)."""
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    _, d1 = loss_value_and_derivative(loss, 1.0, -typw, epsilon)
    return 1.0 / (typw / max(1.0, d1) * alpha)


def learning_rate_at(schedule, t, eta0, power_t, alpha, t0):
    if schedule == "invscaling":
        return eta0 / t**power_t
    if schedule == "optimal":
        return 1.0 / (alpha * (t0 + t - 1))
    return eta0


class EagerSGD:
    """Dense SGD / momentum / Adagrad / Adam with eager L2 decay and cumulative L1."""

    def __init__(self, n_features, *, loss="log_loss", method="sgd", learning_rate="optimal",
                 eta0=0.01, power_t=0.5, alpha=1e-4, l1_ratio=0.0, momentum=0.0, average=0,
                 epsilon=0.1, beta1=0.9, beta2=0.999, eps=1e-8, fit_intercept=True):
        self.loss, self.method, self.schedule = loss, method, learning_rate
        self.eta0, self.power_t, self.alpha = eta0, power_t, alpha
        self.l1 = alpha * l1_ratio
        self.l2 = alpha * (1.0 - l1_ratio)
        self.momentum, self.average = momentum, int(average)
        self.epsilon, self.beta1, self.beta2, self.eps = epsilon, beta1, beta2, eps
        self.fit_intercept = fit_intercept
        self.t0 = optimal_t0(loss, alpha, epsilon) if learning_rate == "optimal" else 1.0
        self.w = np.zeros(n_features)
        self.b = 0.0
        self.u = 0.0  # cumulative L1 penalty owed per weight, in current weight units
        self.q = np.zeros(n_features)  # L1 penalty applied so far, signed
        self.m = np.zeros(n_features)
        self.s = np.zeros(n_features)
        self.mb = 0.0
        self.sb = 0.0
        self.w_sum = np.zeros(n_features)
        self.b_sum = 0.0
        self.t = 0

    def fit_pass(self, X, y, sample_weight=None, order=None):
        """One pass over the CSR rows of X in order; return the mean loss before each update."""
        order = np.arange(X.shape[0]) if order is None else order
        total = 0.0
        for r in order:
            total += self._step(X, y, sample_weight, int(r))
        return total / len(order)

    def _step(self, X, y, sample_weight, r):
        self.t += 1
        t = self.t
        lo, hi = X.indptr[r], X.indptr[r + 1]
        idx = X.indices[lo:hi]
        x = np.zeros_like(self.w)
        x[idx] = X.data[lo:hi]
        p = float(x @ self.w) + self.b
        value, d1 = loss_value_and_derivative(self.loss, float(y[r]), p, self.epsilon)
        d = d1 * (1.0 if sample_weight is None else float(sample_weight[r]))
        eta = learning_rate_at(self.schedule, t, self.eta0, self.power_t, self.alpha, self.t0)

        a = max(0.0, 1.0 - eta * self.l2)
        self.w *= a
        self.q *= a
        self.u = a * self.u + eta * self.l1

        g = d * x[idx]
        if self.method == "sgd" and self.momentum == 0.0:
            self.w[idx] -= eta * g
            if self.fit_intercept:
                self.b -= eta * d
        elif self.method == "sgd":
            self.m[idx] = self.momentum * self.m[idx] + g
            self.w[idx] -= eta * self.m[idx]
            if self.fit_intercept:
                self.mb = self.momentum * self.mb + d
                self.b -= eta * self.mb
        elif self.method == "adagrad":
            self.s[idx] += g * g
            self.w[idx] -= eta * g / (np.sqrt(self.s[idx]) + self.eps)
            if self.fit_intercept:
                self.sb += d * d
                self.b -= eta * d / (math.sqrt(self.sb) + self.eps)
        else:
            c1 = 1.0 - self.beta1**t
            c2 = math.sqrt(1.0 - self.beta2**t)
            self.m[idx] = self.beta1 * self.m[idx] + (1.0 - self.beta1) * g
            self.s[idx] = self.beta2 * self.s[idx] + (1.0 - self.beta2) * g * g
            self.w[idx] -= eta / c1 * self.m[idx] / (np.sqrt(self.s[idx]) / c2 + self.eps)
            if self.fit_intercept:
                self.mb = self.beta1 * self.mb + (1.0 - self.beta1) * d
                self.sb = self.beta2 * self.sb + (1.0 - self.beta2) * d * d
                self.b -= eta / c1 * self.mb / (math.sqrt(self.sb) / c2 + self.eps)

        if self.l1 > 0.0:
            # Tsuruoka et al. (2009), ApplyPenalty, on every coordinate.
            before = self.w.copy()
            pos = before > 0
            neg = before < 0
            self.w[pos] = np.maximum(0.0, before[pos] - (self.u + self.q[pos]))
            self.w[neg] = np.minimum(0.0, before[neg] + (self.u - self.q[neg]))
            self.q += self.w - before

        if self.average and t >= self.average:
            self.w_sum += self.w
            self.b_sum += self.b
        return value

    def decay_learning_rate(self):
        self.eta0 /= 5.0

    @property
    def coef(self):
        if self.average and self.t >= self.average:
            return self.w_sum / (self.t - self.average + 1)
        return self.w.copy()

    @property
    def intercept(self):
        if self.average and self.t >= self.average:
            return self.b_sum / (self.t - self.average + 1)
        return self.b


def apply_penalty(w, q, u):
    """Apply Tsuruoka et al.'s ApplyPenalty to every weight of w in place, updating q."""
    before = w.copy()
    pos = before > 0
    neg = before < 0
    w[pos] = np.maximum(0.0, before[pos] - (u + q[pos]))
    w[neg] = np.minimum(0.0, before[neg] + (u - q[neg]))
    q += w - before


def penalty_steps(model, count):
    """Apply to ``model`` only the penalties of its next ``count`` steps (no gradient).

    Returns the model's (w, q, u) afterwards; the model itself is left unchanged.
    """
    w, q, u = model.w.copy(), model.q.copy(), model.u
    for i in range(1, count + 1):
        eta = learning_rate_at(model.schedule, model.t + i, model.eta0, model.power_t,
                               model.alpha, model.t0)
        a = max(0.0, 1.0 - eta * model.l2)
        w *= a
        q *= a
        u = a * u + eta * model.l1
        if model.l1 > 0.0:
            apply_penalty(w, q, u)
    return w, q, u


def block_parallel_pass(model, X, y, sample_weight=None, order=None, *, n_jobs, block_rows):
    """One pass of block-parallel SGD on the eager ``model`` (plain SGD, no averaging).

    Each block of ``block_rows`` visits is split into ``n_jobs`` contiguous parts; every
    part runs the eager steps from the block's starting model, and the block ends with
    w_j = P_block(w0)_j + sum_k (w_k - P_k(w0))_j / m_j (likewise q), where m_j counts the
    parts whose rows store column j, and b = b0 + the mean of (b_k - b0) over the parts
    with rows. P applies only the penalties of the given steps, followed by the L1 penalty still owed
    (ApplyPenalty with the block's u and the summed q). A block with a step whose L2 factor
    1 - eta l2 is <= 0 runs sequentially. Returns the mean loss before each update.
    """
    order = np.arange(X.shape[0]) if order is None else np.asarray(order)
    total = 0.0
    for lo in range(0, len(order), block_rows):
        block = order[lo:lo + block_rows]
        n = len(block)
        etas = [learning_rate_at(model.schedule, model.t + i, model.eta0, model.power_t,
                                 model.alpha, model.t0) for i in range(1, n + 1)]
        if any(1.0 - eta * model.l2 <= 0.0 for eta in etas):
            for r in block:
                total += model._step(X, y, sample_weight, int(r))
            continue
        w_block, q_block, u_block = penalty_steps(model, n)
        w_change = np.zeros_like(model.w)
        q_change = np.zeros_like(model.w)
        sharing = np.zeros(model.w.shape[0])
        b_change = 0.0
        nonempty = 0
        for k in range(n_jobs):
            begin, end = n * k // n_jobs, n * (k + 1) // n_jobs
            part = copy.deepcopy(model)
            part.t = model.t + begin
            w_pen, q_pen, _ = penalty_steps(part, end - begin)
            stored = np.zeros(model.w.shape[0], dtype=bool)
            for r in block[begin:end]:
                total += part._step(X, y, sample_weight, int(r))
                stored[X.indices[X.indptr[r]:X.indptr[r + 1]]] = True
            w_change += part.w - w_pen
            q_change += part.q - q_pen
            sharing += stored
            b_change += part.b - model.b
            nonempty += end > begin
        share = 1.0 / np.maximum(sharing, 1.0)
        w_new = w_block + share * w_change
        q_new = q_block + share * q_change
        b_new = model.b + b_change / nonempty
        if model.l1 > 0.0:
            # The sum can leave a weight with part of the block's penalty owed
            # (u + q > 0 for a positive weight): Tsuruoka's ApplyPenalty settles it.
            apply_penalty(w_new, q_new, u_block)
        model.w, model.q, model.u, model.b = w_new, q_new, u_block, b_new
        model.t += n
    return total / len(order)


class EagerFTRL:
    """FTRL-Proximal (McMahan et al. 2013, Algorithm 1) on dense vectors.

    Every weight is computed from (z, n) at every step; the gradient is zero on the
    coordinates a row does not store, which leaves their (z, n) unchanged.
    """

    def __init__(self, n_features, *, alpha=0.1, beta=1.0, l1=1.0, l2=1.0, fit_intercept=True,
                 loss="log_loss"):
        self.alpha, self.beta, self.l1, self.l2 = alpha, beta, l1, l2
        self.fit_intercept, self.loss = fit_intercept, loss
        self.z = np.zeros(n_features + 1)  # last slot: the intercept, unpenalized
        self.n = np.zeros(n_features + 1)

    def weights(self):
        l1 = np.full_like(self.z, self.l1)
        l2 = np.full_like(self.z, self.l2)
        l1[-1] = 0.0
        l2[-1] = 0.0
        w = np.zeros_like(self.z)
        active = np.abs(self.z) > l1
        w[active] = -(self.z[active] - np.sign(self.z[active]) * l1[active]) / (
            (self.beta + np.sqrt(self.n[active])) / self.alpha + l2[active]
        )
        if not self.fit_intercept:
            w[-1] = 0.0
        return w

    def fit_pass(self, X, y, sample_weight=None, order=None):
        order = np.arange(X.shape[0]) if order is None else order
        total = 0.0
        for r in order:
            r = int(r)
            x = np.zeros_like(self.z)
            lo, hi = X.indptr[r], X.indptr[r + 1]
            x[X.indices[lo:hi]] = X.data[lo:hi]
            x[-1] = 1.0 if self.fit_intercept else 0.0
            w = self.weights()
            value, d1 = loss_value_and_derivative(self.loss, float(y[r]), float(x @ w), 0.0)
            total += value
            g = d1 * (1.0 if sample_weight is None else float(sample_weight[r])) * x
            sigma = (np.sqrt(self.n + g * g) - np.sqrt(self.n)) / self.alpha
            self.z += g - sigma * w
            self.n += g * g
        return total / len(order)

    @property
    def coef(self):
        return self.weights()[:-1]

    @property
    def intercept(self):
        return float(self.weights()[-1])
