r"""The "newton-cg" solver: truncated Newton with preconditioned conjugate gradients.

It minimizes the smooth objective

.. math:: F(w) = f(w) + \tfrac{\alpha}{2} \|coef\|_2^2

(``l1_ratio == 0``, or ``alpha == 0``) for the data term ``f`` of a :class:`GLMObjective`, with
the intercepts unpenalized. Each outer iteration k

1. computes the gradient g and the per-sample curvature D at w (one pass over X, plus the
   margins that the previous line search already holds);
2. solves the Newton system :math:`(X^T D X + \alpha I_{coef}) d = -g` inexactly with conjugate
   gradients, preconditioned by the diagonal of that Hessian (one more pass over X), and stops
   when :math:`\|r\|_2 \le \eta_k \|g\|_2` with the forcing term
   :math:`\eta_k = \min(0.5, \sqrt{\|g\|_\infty / \|g_0\|_\infty})`, so the steps turn
   superlinear near the optimum (Eisenstat & Walker, 1996). Every CG step is one C++ Hessian
   product, two passes over X;
3. runs a backtracking Armijo line search on :math:`F(w + t d)` from t = 1, where a trial step
   reads no X because the margins of w and d are cached (``GLMObjective.line``).

This is the line-search variant of the truncated Newton method that LIBLINEAR uses for its
primal L2 solvers (Lin, Weng & Keerthi, "Trust region Newton method for large-scale logistic
regression", JMLR 9, 2008; Galli & Lin, "A study on truncated Newton methods for linear
classification", IEEE TNNLS, 2021). The Hessian is the exact one, so the optimum is the one every
other solver reaches. The run stops on the shared rule of ``_stopping``: the infinity norm of the
gradient of F at most ``tol`` times its value at w = 0.

For the Huber loss D is the generalized second derivative (1 inside the quadratic zone, 0
outside), so the method is a semismooth Newton method; the line search keeps it globally
convergent.
"""

from __future__ import annotations

import math

import numpy as np

from fastopt.linear_model._result import SolverResult
from fastopt.linear_model._stopping import dot

ARMIJO = 1e-4
MAX_BACKTRACKS = 40
FORCING_MAX = 0.5


def newton_cg(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None):
    """Minimize the data term of ``obj`` plus an L2 penalty with truncated Newton-CG.

    Parameters
    ----------
    obj : GLMObjective
    alpha : float
        Penalty strength, >= 0.
    l1_ratio : float
        Must be 0 unless ``alpha`` is 0, because the method needs a twice-differentiable
        penalty.
    tol : float
        Stop when the infinity norm of the gradient is at most ``tol`` times its value at
        ``w = 0``.
    max_iter : int
        Maximum number of Newton iterations.
    w0 : ndarray of shape (obj.n_params,), optional
        Starting point (warm start); zeros by default.
    callback : callable, optional
        ``callback(w) -> bool`` after every Newton iteration; True stops the run.

    Returns
    -------
    SolverResult
    """
    if l1_ratio != 0.0 and alpha != 0.0:
        raise ValueError(f"l1_ratio: solver 'newton-cg' minimizes smooth objectives only, got "
                         f"l1_ratio={l1_ratio!r} with alpha={alpha!r}; use solver 'newton-cd' "
                         "or 'owlqn'")
    state = _NewtonState(obj, float(alpha))
    zero = np.zeros(obj.n_params)
    margins_zero = np.zeros(state.margins_shape)
    f, g = state.evaluate(zero, margins_zero)
    violation0 = float(np.abs(g).max()) if g.size else 0.0
    if w0 is None:
        w, margins = zero, margins_zero
    else:
        w = np.array(w0, dtype=np.float64)
        margins = obj.margins(w).reshape(state.margins_shape)
        f, g = state.evaluate(w, margins)
    violation = float(np.abs(g).max()) if g.size else 0.0
    threshold = tol * violation0

    n_iter = 0
    while violation > threshold and n_iter < max_iter:
        n_iter += 1
        eta = FORCING_MAX if violation0 == 0.0 else min(FORCING_MAX,
                                                        np.sqrt(violation / violation0))
        d = state.newton_direction(g, eta)
        step, line = state.line_search(w, d, f, g)
        if step == 0.0:
            # Near the optimum the decrease of F falls below its rounding error, so the Armijo
            # test cannot tell a good step from a bad one. Take the full step when it brings
            # the gradient closer to zero, which is the quantity the run stops on.
            w_trial = w + d
            f_trial, g_trial = state.evaluate(w_trial, line.margins_at(1.0))
            violation_trial = float(np.abs(g_trial).max())
            if not violation_trial < violation:
                # The estimator reports a stop before max_iter as no decrease in float64.
                break
            w, f, g, violation = w_trial, f_trial, g_trial, violation_trial
        else:
            w = w + step * d
            f, g = state.evaluate(w, line.margins_at(step))
            violation = float(np.abs(g).max())
        if callback is not None and violation > threshold and bool(callback(w.copy())):
            break
    return SolverResult(w=w, n_iter=n_iter, violation=violation, violation0=violation0,
                        converged=bool(violation <= threshold), objective=float(f),
                        solver="newton-cg")


class _NewtonState:
    """Gradient, curvature and Hessian products of F at the current iterate."""

    def __init__(self, obj, alpha):
        self.obj = obj
        self.alpha = alpha
        self.n_coef = obj.n_features * obj.n_outputs
        self.margins_shape = ((obj.n_samples,) if obj.n_outputs == 1
                              else (obj.n_samples, obj.n_outputs))
        self.residual = np.empty(self.margins_shape)
        self.curvature = np.empty(obj._problem.curvature_size)
        self.w = None

    def evaluate(self, w, margins):
        """Return F(w) and its gradient from the margins of w; store the curvature at w.

        One pass over X (the gradient); the loss terms and the curvature cost O(n K).
        """
        obj = self.obj
        f = obj._problem.loss(margins, residual=self.residual, curvature=self.curvature)
        g = np.empty(obj.n_params)
        obj.design.native.rmatvec(self.residual, obj.n_outputs, obj.fit_intercept, g)
        coef = w[: self.n_coef]
        if self.alpha != 0.0:
            f += 0.5 * self.alpha * dot(coef, coef)
            g[: self.n_coef] += self.alpha * coef
        self.w = w
        return float(f), g

    def hessp(self, v, out):
        self.obj._problem.hessp(self.curvature, v, out)
        if self.alpha != 0.0:
            out[: self.n_coef] += self.alpha * v[: self.n_coef]
        return out

    def preconditioner(self):
        """Return the diagonal of the Hessian of F, floored away from zero."""
        diag = self.obj._hess_diag_from(self.curvature)
        diag[: self.n_coef] += self.alpha
        # A coordinate that no sample with nonzero curvature touches has a zero diagonal entry
        # (then, without an L2 term, its gradient and every CG residual are zero there too).
        top = float(diag.max()) if diag.size else 0.0
        if not top > 0.0:
            return np.ones_like(diag)
        return np.maximum(diag, 1e-12 * top)

    def newton_direction(self, g, eta):
        """Solve H d = -g with preconditioned CG to relative residual ``eta``."""
        m_inv = 1.0 / self.preconditioner()
        d = np.zeros_like(g)
        r = -g
        z = m_inv * r
        p = z.copy()
        rz = dot(r, z)
        target = eta * math.sqrt(dot(g, g))
        hp = np.empty_like(g)
        # CG on an n_params-dimensional system converges in at most n_params steps in exact
        # arithmetic; the cap guards against rounding on ill-conditioned problems.
        for _ in range(max(2 * g.size, 10)):
            self.hessp(p, hp)
            curvature = dot(p, hp)
            if not curvature > 0.0:
                # Zero curvature along p: the Hessian is singular there (an unpenalized fit
                # on separable data or an unused feature). Keep what CG has, or the
                # preconditioned gradient if it has nothing.
                if not d.any():
                    d = z
                break
            step = rz / curvature
            d += step * p
            r -= step * hp
            if math.sqrt(dot(r, r)) <= target:
                break
            z = m_inv * r
            rz_new = dot(r, z)
            p *= rz_new / rz
            p += z
            rz = rz_new
        return d

    def line_search(self, w, d, f, g):
        """Return (t, line) for the first t in 1, 1/2, ... that meets Armijo.

        t = 0 means no trial step decreased F enough, which happens only when rounding
        dominates the decrease.
        """
        line = self.obj.line(w, d)
        slope = dot(g, d)
        if not slope < 0.0:
            return 0.0, line
        coef, dcoef = w[: self.n_coef], d[: self.n_coef]
        cc = dot(coef, coef)
        cd = dot(coef, dcoef)
        dd = dot(dcoef, dcoef)
        t = 1.0
        for _ in range(MAX_BACKTRACKS):
            f_t = line.value(t)
            if self.alpha != 0.0:
                f_t += 0.5 * self.alpha * (cc + 2.0 * t * cd + t * t * dd)
            if f_t <= f + ARMIJO * t * slope:
                return t, line
            t *= 0.5
        return 0.0, line
