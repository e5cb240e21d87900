"""
Convergence of the solvers on a9a
=================================

L1-regularized logistic regression on the a9a data set (32,561 rows, 123 binary features),
fitted by each solver that accepts an L1 term: ``newton-cd``, ``owlqn`` and ``fista``. Every
point is one fit stopped after ``max_iter`` iterations; its relative suboptimality
:math:`(F(w) - F^*) / F^*` is computed here from the objective

.. math:: F(w, b) = \\frac{1}{n} \\sum_i \\log(1 + e^{-y_i (x_i^\\top w + b)}) + \\alpha \\|w\\|_1

with :math:`F^*` from a ``newton-cd`` fit to a tolerance of 1e-10. An iteration means different work for
each solver (a Newton step with an inner coordinate-descent loop, or one quasi-Newton or
proximal-gradient step), so the right panel puts them on one axis of wall-clock time. The
times come from the machine that built this page and vary with its load.
"""

import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from fastopt.datasets import load_svmlight
from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model import LogisticRegression, regularization_path

X, y = load_svmlight(os.path.join(os.environ["FASTOPT_DATA_DIR"], "a9a"))
y = np.where(y > 0, 1.0, -1.0)

# %%
# The penalty is a tenth of alpha_max, the smallest alpha at which every coefficient is
# zero; the first alpha of a regularization path is alpha_max.
alpha_max = regularization_path(X, y, loss="logistic", l1_ratio=1.0, n_alphas=1)[0][0]
alpha = 0.1 * alpha_max


def objective(model):
    margins = y * (X @ model.coef_.ravel() + model.intercept_[0])
    return np.logaddexp(0.0, -margins).mean() + alpha * np.abs(model.coef_).sum()


reference = LogisticRegression(penalty="l1", alpha=alpha, solver="newton-cd", tol=1e-10,
                               max_iter=10_000).fit(X, y)
f_star = objective(reference)
print(f"alpha_max = {alpha_max:.4g}, alpha = {alpha:.4g}, F* = {f_star:.10f}")

# %%
# Fit each solver with a growing iteration budget. A fit that stops at ``max_iter``
# warns, which is expected here.
budgets = np.unique(np.geomspace(1, 300, 10).astype(int))
curves = {}
for solver in ("newton-cd", "owlqn", "fista"):
    points = []
    for max_iter in budgets:
        model = LogisticRegression(penalty="l1", alpha=alpha, solver=solver, tol=1e-12,
                                   max_iter=int(max_iter))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        seconds = time.perf_counter() - start
        gap = max((objective(model) - f_star) / f_star, 1e-16)
        points.append((model.n_iter_, seconds, gap))
        if gap < 1e-10:
            break
    curves[solver] = np.array(points)

fig, (by_iteration, by_time) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for solver, points in curves.items():
    by_iteration.loglog(points[:, 0], points[:, 2], marker="o", label=solver)
    by_time.loglog(points[:, 1], points[:, 2], marker="o", label=solver)
by_iteration.set_xlabel("iterations")
by_iteration.set_ylabel("relative suboptimality")
by_time.set_xlabel("seconds")
by_iteration.legend()
fig.suptitle("L1 logistic regression on a9a, alpha = alpha_max / 10")
fig.tight_layout()
plt.show()
