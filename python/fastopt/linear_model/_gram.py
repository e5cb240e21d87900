r"""Newton solvers that form the Hessian as a dense Gram matrix, for n >> p.

With many more samples than features, the Hessian of the data term of a binary or regression
GLM,

.. math:: H = [X, 1]^T \operatorname{diag}(h) [X, 1], \qquad h_i = s_i \ell''(z_i),

is a small dense matrix (the last row and column only with an intercept). One pass over X
forms it (``GlmDesign.gram``: about :math:`\sum_i \mathrm{nnz}_i^2 / 2` multiply-adds, 4 M
for a9a) and every inner step afterwards costs O(p) instead of a pass over a column. Each outer
iteration at margins z:

1. per sample the loss, :math:`r_i = s_i \ell'(z_i)` and :math:`h_i`; the gradient
   :math:`g = [X, 1]^T r` (one pass over X) and the optimality violation of ``_stopping``;
2. H from h, once per fit for the squared loss, whose Hessian does not depend on w;
3. the intercept eliminated exactly, as a Schur complement:
   :math:`H_c = H_{\beta\beta} - H_{\beta b} H_{b\beta} / H_{bb}` and
   :math:`q = g_\beta - H_{\beta b} g_b / H_{bb}`, so that the coefficient step minimizes the
   model with the intercept step re-minimized for it,
   :math:`d_b = -(g_b + H_{b\beta} d_\beta) / H_{bb}` (glmnet's weighted centering);
4. the coefficient step :math:`d_\beta`:

   - "newton" (smooth penalty, :math:`\rho = 0`): the exact Newton step,
     :math:`(H_c + \alpha I) d_\beta = -(q + \alpha \beta)`, by a Cholesky factorization
     on fastopt's threads (``_core.cholesky``, not LAPACK, because OpenBLAS's threads
     keep spinning after a call and slow the next pass over X several times over);
   - "newton-cd" with an L1 term: cyclic coordinate descent on the proximal Newton model
     :math:`q^T d + \tfrac12 d^T H_c d + \alpha\rho \|\beta + d\|_1
     + \tfrac{\alpha(1-\rho)}{2} \|\beta + d\|^2`, updating :math:`H_c d` in O(p) per moved
     coordinate, to a tolerance that shrinks with the violation (``_core.gram_cd``);
5. the margins of the direction (one pass over X) and a backtracking Armijo line search on
   the objective, O(n) per trial because it reads only the cached margins. For the squared
   loss the model is exact and the full step is taken.

This replaces a working set: a coordinate at zero that stays there costs O(1) per sweep.
The curvature is floored as in the column-wise newton-cd kernel (logistic: 1e-12 s_i, Huber:
1e-3 s_i) so that H keeps a positive diagonal where the loss is flat.

References
----------
J. Friedman, T. Hastie and R. Tibshirani, "Regularization paths for generalized linear models
via coordinate descent", J. Stat. Softw. 33, 2010 (covariance updates).
G.-X. Yuan, C.-H. Ho and C.-J. Lin, "An improved GLMNET for L1-regularized logistic
regression", JMLR 13, 2012 (the outer proximal Newton iteration and its line search).
J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed., Springer, 2006, ch. 3
(Newton's method with a backtracking line search and a modified Cholesky factorization).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fastopt import _core, _gpu
from fastopt.linear_model._result import SolverResult
from fastopt.linear_model._stopping import dot, optimality_violation

#: "auto" and "newton-cd" form the Hessian when n_features + fit_intercept is at most this
#: and the samples are at least GRAM_MIN_ROWS_PER_PARAM times as many. A 2000 x 2000 Gram
#: matrix is 32 MB and a Cholesky factorization of it about 3 GFLOP.
GRAM_MAX_PARAMS = 2000
GRAM_MIN_ROWS_PER_PARAM = 2

ARMIJO = 0.01
BACKTRACK = 0.5
MAX_BACKTRACKS = 40
# Near the optimum the decrease the model predicts falls below the rounding error of a sum of n
# loss values; allow that much, relative to |F|, in the Armijo test.
ROUNDING_SLACK = 1e-13
# The inner tolerance is at most this fraction of the outer violation.
INNER_RATIO = 0.1
MAX_INNER_PASSES = 1000
CURVATURE_FLOOR = {"logistic": 1e-12, "huber": 1e-3, "squared": 0.0}


def gram_suitable(n_samples, n_features, fit_intercept, loss):
    """Return whether the Gram-matrix path suits a problem of this shape and loss."""
    if loss == "multinomial":
        return False
    m = n_features + (1 if fit_intercept else 0)
    return m <= GRAM_MAX_PARAMS and n_samples >= GRAM_MIN_ROWS_PER_PARAM * m


#: For losses whose Hessian changes at every iteration, the Gram path forms H once per
#: outer iteration at a cost of sum_i nnz_i^2 / 2 multiply-adds, while one full sweep of
#: column coordinate descent costs nnz. Forming H pays when it costs at most this many
#: sweeps. The bound lies between a9a (6.9 sweeps, where the Gram path was the faster one for
#: L1 logistic regression in bench_linear.py) and w8a (11.3 sweeps, where the column path was).
#: The same bound sends "auto" on smooth objectives to lbfgs instead of "newton". On w8a with
#: an L2 penalty, lbfgs reached 1e-6 relative suboptimality in 15-43 ms and "newton" in
#: 42-56 ms (bench_linear.py, alpha_max / 10 to / 1000).
GRAM_MAX_FORMATION_SWEEPS = 8.0


def formation_sweeps(X):
    """Return the cost of forming the Gram matrix of X, in full column sweeps over X.

    X is a :class:`Design`, a scipy.sparse matrix or a dense array.
    """
    layout = getattr(X, "layout", None)
    if layout is not None:
        if layout.startswith("dense"):
            return X.n_features / 2.0
        sparse_format = layout
    elif sp.issparse(X):
        sparse_format = X.format
    else:
        return X.shape[1] / 2.0
    if sparse_format == "csr":
        row_nnz = np.diff(X.indptr)
    elif sparse_format == "csc":
        # Only the first indptr[-1] stored entries belong to the matrix.
        stored = X.indices[: int(X.indptr[-1])]
        row_nnz = np.bincount(stored, minlength=X.shape[0] if layout is None else X.n_samples)
    else:
        row_nnz = np.diff(sp.csr_matrix(X).indptr)
    nnz = float(row_nnz.sum())
    if nnz == 0.0:
        return 0.0
    row_nnz = row_nnz.astype(np.float64)
    return dot(row_nnz, row_nnz) / 2.0 / nnz


def gram_pays(n_samples, n_features, fit_intercept, loss, X):
    """Return whether "auto" should run a Gram-matrix solver on X.

    That needs ``gram_suitable`` to be true and, for a loss whose Hessian changes every
    iteration, forming it to cost at most ``GRAM_MAX_FORMATION_SWEEPS`` column sweeps.
    """
    if not gram_suitable(n_samples, n_features, fit_intercept, loss):
        return False
    if _gpu.is_gpu_array(X) or _gpu.is_gpu_array(getattr(X, "data", None)):
        return False  # the Gram path runs on the CPU only
    return loss == "squared" or formation_sweeps(X) <= GRAM_MAX_FORMATION_SWEEPS


def newton(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None):
    """Minimize the data term of ``obj`` plus an L2 penalty by exact Newton steps.

    Parameters
    ----------
    obj : GLMObjective
        Binary logistic, squared or Huber loss.
    alpha : float
        Penalty strength, >= 0.
    l1_ratio : float
        Must be 0 unless ``alpha`` is 0.
    tol : float
        Stop when the optimality violation is at most ``tol`` times its value at ``w = 0``.
    max_iter : int
        Maximum number of Newton iterations.
    w0 : ndarray of shape (obj.n_params,), optional
        Starting point; zeros by default.
    callback : callable, optional
        ``callback(w) -> bool`` after every iteration; True stops the run.

    Returns
    -------
    SolverResult
    """
    if l1_ratio != 0.0 and alpha != 0.0:
        raise ValueError(f"l1_ratio: solver 'newton' minimizes smooth objectives only, got "
                         f"l1_ratio={l1_ratio!r} with alpha={alpha!r}; use solver 'newton-cd' "
                         "or 'owlqn'")
    return _GramNewton(obj, alpha, 0.0, "newton").run(tol, max_iter, w0, callback)


def newton_cd_gram(obj, *, alpha, l1_ratio, tol, max_iter, w0=None, callback=None):
    """Proximal Newton with coordinate descent on the dense Gram model (see the module)."""
    return _GramNewton(obj, alpha, l1_ratio, "newton-cd").run(tol, max_iter, w0, callback)


class _GramNewton:
    def __init__(self, obj, alpha, l1_ratio, name):
        if obj.loss not in CURVATURE_FLOOR or obj.n_outputs != 1:
            raise ValueError(f"loss: the Gram-matrix Newton solvers support 'logistic', "
                             f"'squared' and 'huber', got {obj.loss!r}")
        self.obj = obj
        self.name = name
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.a1 = self.alpha * self.l1_ratio
        self.a2 = self.alpha * (1.0 - self.l1_ratio)
        self.p = obj.n_features
        self.intercept = obj.fit_intercept
        n = obj.n_samples
        self.weights = (obj.sample_weight if obj.sample_weight is not None
                        else np.full(n, 1.0 / n))
        self.floor = CURVATURE_FLOOR[obj.loss] * self.weights
        self.residual = np.empty(n)
        self.curvature = np.empty(n)
        self.grad = np.empty(obj.n_params)
        self.reduced = None  # (H_c, H_beta_b, H_bb), kept for the squared loss
        self.factor = None   # Cholesky factor of H_c + a2 I, kept for the squared loss

    # ------------------------------------------------------------ pieces

    def penalty(self, coef):
        return self.a1 * float(np.abs(coef).sum()) + 0.5 * self.a2 * float(coef @ coef)

    def evaluate(self, w, z, f=None):
        """Return (F, violation) at w from its margins z; fill grad and curvature.

        ``f`` is the data term at z when the line search already computed it, together
        with the residuals and curvature.
        """
        obj = self.obj
        if f is None:
            f = obj._problem.loss(z, residual=self.residual, curvature=self.curvature)
        obj.design.native.rmatvec(self.residual, 1, self.intercept, self.grad)
        coef = w[: self.p]
        smooth = self.grad.copy()
        smooth[: self.p] += self.a2 * coef
        violation = optimality_violation(smooth, w, self.alpha, self.l1_ratio, self.p, 1)
        return float(f) + self.penalty(coef), violation

    def reduced_hessian(self):
        """Return (H_c, H_beta_b, H_bb): the coefficient block with the intercept eliminated."""
        if self.reduced is not None:
            return self.reduced
        h = np.maximum(self.curvature, self.floor)
        H = self.obj.design.native.gram(h, self.intercept)
        p = self.p
        if self.intercept and H[p, p] > 0.0:
            hb = H[:p, p].copy()
            hbb = float(H[p, p])
            Hc = np.ascontiguousarray(H[:p, :p])
            Hc -= np.outer(hb, hb / hbb)
            # The Schur complement is symmetric in exact arithmetic; keep it so bit for bit.
            Hc = 0.5 * (Hc + Hc.T)
        else:
            hb, hbb, Hc = None, 0.0, np.ascontiguousarray(H[:p, :p])
        reduced = (Hc, hb, hbb)
        if self.obj.loss == "squared":
            self.reduced = reduced  # the Hessian of the squared loss does not depend on w
        return reduced

    def cholesky(self, Hc):
        if self.factor is not None:
            return self.factor
        base = Hc.copy()
        base[np.diag_indices_from(base)] += self.a2
        scale = float(np.abs(np.diag(base)).max()) if base.size else 0.0
        jitter = 0.0
        for _ in range(8):
            factor = base.copy()
            if jitter:
                factor[np.diag_indices_from(factor)] += jitter
            if _core.cholesky(factor):
                break
            # Singular without an L2 term (an empty column, separable data): a tiny
            # multiple of the identity keeps the step finite; the line search corrects it.
            jitter = max(1e-12 * max(scale, 1.0), 100.0 * jitter)
        else:
            # A Hessian that overflowed (features near 1e155) gives no usable step. The
            # caller stops with the best iterate, and the estimator warns.
            return None
        if self.obj.loss == "squared":
            self.factor = factor
        return factor

    def direction(self, w, violation, violation0, target):
        """Return the step (coef, then intercept) that minimizes the model of F at w.

        Returns None when the Hessian cannot be factorized.
        """
        p = self.p
        Hc, hb, hbb = self.reduced_hessian()
        g = self.grad
        coef = w[:p]
        q = g[:p].copy()
        if hb is not None:
            q -= hb * (g[p] / hbb)
        if self.a1 == 0.0:
            factor = self.cholesky(Hc)
            if factor is None:
                return None
            dcoef = -(q + self.a2 * coef)
            _core.cholesky_solve(factor, dcoef)
        else:
            if self.obj.loss == "squared":
                # The model is the objective: solve it to the final tolerance at once.
                inner_tol = 0.5 * target
            else:
                ratio = min(INNER_RATIO, np.sqrt(violation / violation0)) if violation0 else 0.0
                inner_tol = max(violation * ratio, 0.5 * target)
            dcoef = np.zeros(p)
            hd = np.zeros(p)
            _core.gram_cd(Hc, q, np.ascontiguousarray(coef), dcoef, hd, a1=self.a1, a2=self.a2,
                          tol=inner_tol, max_passes=MAX_INNER_PASSES)
        d = np.zeros_like(w)
        d[:p] = dcoef
        if hb is not None:
            d[p] = -(g[p] + float(hb @ dcoef)) / hbb
        return d

    # ------------------------------------------------------------ driver

    def run(self, tol, max_iter, w0, callback):
        obj = self.obj
        n = obj.n_samples
        zero_margins = np.zeros(n)
        w = np.zeros(obj.n_params)
        objective, violation = self.evaluate(w, zero_margins)
        violation0 = violation
        z = zero_margins
        if w0 is not None and np.any(w0 != 0.0):
            w = np.array(w0, dtype=np.float64)
            z = obj.margins(w)
            objective, violation = self.evaluate(w, z)
        target = tol * violation0
        converged = violation <= target
        n_iter = 0
        dz = np.empty(n)
        while not converged and n_iter < max_iter and np.isfinite(violation):
            d = self.direction(w, violation, violation0, target)
            if d is None:
                break
            coef, dcoef = w[: self.p], d[: self.p]
            decrease = float(self.grad @ d) + self.a2 * float(coef @ dcoef)
            if self.a1 != 0.0:
                decrease += self.a1 * float(np.abs(coef + dcoef).sum() - np.abs(coef).sum())
            if not decrease < 0.0:
                break  # the model predicts no descent, so rounding limits further progress
            obj.design.native.matvec(d, 1, self.intercept, dz)
            step, f = self.line_search(z, dz, coef, dcoef, objective, decrease)
            if step == 0.0:
                break
            n_iter += 1
            w = w + step * d
            z = z + step * dz
            objective, violation = self.evaluate(w, z, f)
            converged = violation <= target
            if callback is not None and not converged and bool(callback(w.copy())):
                break
        return SolverResult(w=w, n_iter=n_iter, violation=float(violation),
                            violation0=float(violation0), converged=bool(converged),
                            objective=float(objective), solver=self.name)

    def line_search(self, z, dz, coef, dcoef, objective, decrease):
        """Return (t, data term at z + t dz) for the first t in 1, 1/2, ... that passes the
        Armijo test, or (0, None).

        Each trial also writes the residuals and curvature at its margins, so the accepted
        one leaves them in place for the next iteration without another pass over the
        losses. The kernel forms z + t dz with the same float64 operations as the caller,
        so they are those of the margins the caller keeps.
        """
        if self.obj.loss == "squared":
            return 1.0, None
        slack = ROUNDING_SLACK * abs(objective)
        t = 1.0
        for _ in range(MAX_BACKTRACKS):
            f = self.obj._problem.loss(z, dz, t, residual=self.residual,
                                       curvature=self.curvature)
            trial = f + self.penalty(coef + t * dcoef)
            if trial <= objective + ARMIJO * t * decrease + slack:
                return t, f
            t *= BACKTRACK
        return 0.0, None
