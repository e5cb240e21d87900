"""
A regularization path on a9a
============================

:func:`fastopt.linear_model.regularization_path` solves L1-regularized logistic regression
for a decreasing grid of alphas, each solve starting from the previous solution. The grid
starts at alpha_max, where every coefficient is zero, and each coefficient enters the
model at the alpha where the L1 term stops holding it at zero.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from fastopt.datasets import load_svmlight
from fastopt.linear_model import regularization_path

X, y = load_svmlight(os.path.join(os.environ["FASTOPT_DATA_DIR"], "a9a"))
y = np.where(y > 0, 1.0, -1.0)  # the path's logistic loss takes -1/+1 labels

alphas, coefs, intercepts, n_iters = regularization_path(
    X, y, loss="logistic", l1_ratio=1.0, n_alphas=25, alpha_min_ratio=1e-3)
nonzeros = (coefs != 0).sum(axis=1)
print(f"{len(alphas)} alphas from {alphas[0]:.3g} to {alphas[-1]:.3g}, "
      f"{n_iters.sum()} solver iterations in all")
print(f"nonzero coefficients: {nonzeros[0]} at alpha_max, {nonzeros[-1]} at the end")

fig, (paths, counts) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
paths.semilogx(alphas, coefs, linewidth=0.8)
paths.set_xlabel("alpha")
paths.set_ylabel("coefficient")
paths.invert_xaxis()
counts.semilogx(alphas, nonzeros, marker=".")
counts.set_xlabel("alpha")
counts.set_ylabel("nonzero coefficients")
fig.suptitle("L1 logistic regression path on a9a")
fig.tight_layout()
plt.show()
