"""
A random search on a9a
======================

:class:`fastopt.tune.RandomSearch` draws elastic-net logistic regressions with a
log-uniform ``alpha`` and a uniform ``l1_ratio``, scores each on 3 folds of a9a and refits
the best on all rows. The plot shows the mean validation log-loss of every candidate: the
score depends mostly on ``alpha``, and ``l1_ratio`` matters once ``alpha`` is large.
"""

import os

import matplotlib.pyplot as plt
import numpy as np

from fastopt.datasets import load_svmlight
from fastopt.linear_model import LogisticRegression
from fastopt.tune import LogUniform, RandomSearch, Uniform

X, y = load_svmlight(os.path.join(os.environ["FASTOPT_DATA_DIR"], "a9a"))
space = {"alpha": LogUniform(1e-6, 1e-1), "l1_ratio": Uniform(0.0, 1.0)}
search = RandomSearch(LogisticRegression(penalty="elasticnet", tol=1e-5), space, n_iter=30,
                      cv=3, scoring="neg_log_loss", random_state=0)
search.fit(X, y)

alphas = np.array(search.results_.column("param_alpha"))
ratios = np.array(search.results_.column("param_l1_ratio"))
losses = -np.array(search.results_.column("mean_test_score"))
print(f"best alpha {search.best_params_['alpha']:.3g}, "
      f"l1_ratio {search.best_params_['l1_ratio']:.2f}, "
      f"validation log-loss {-search.best_score_:.4f}")
print(f"nonzero coefficients of the refitted model: "
      f"{np.count_nonzero(search.best_estimator_.coef_)} of {X.shape[1]}")

fig, ax = plt.subplots(figsize=(6.5, 4))
points = ax.scatter(alphas, losses, c=ratios, cmap="viridis", vmin=0.0, vmax=1.0)
ax.scatter([search.best_params_["alpha"]], [-search.best_score_], s=160, facecolors="none",
           edgecolors="red", label="best")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("mean validation log-loss (3 folds)")
ax.legend(loc="upper left")
fig.colorbar(points, label="l1_ratio")
fig.tight_layout()
plt.show()
