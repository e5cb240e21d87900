"""Time to reach a relative suboptimality for L1 logistic regression: newton-cd against liblinear.

Problem: a9a (LIBSVM, 32,561 x 123 sparse), loss ``mean log(1 + exp(-y x.w)) + alpha ||w||_1``
without an intercept, so that fastopt and scikit-learn's liblinear minimize the same objective
(liblinear penalizes its intercept). ``alpha`` is 0.1, 0.01 and 0.001 times
``alpha_max = ||X^T grad||_inf`` at w = 0, the smallest alpha whose solution is w = 0
(sklearn's ``C = 1 / (alpha n)``).

The optimum F* of each problem is newton-cd's objective at ``tol=1e-13`` (checked against
liblinear at its tightest tolerance below: the script reports it when liblinear goes lower).
Each solver runs over a grid of tolerances. The time to reach ``eps`` is the median, over
``--repeats`` runs, of the fastest run whose ``(F - F*) / F*`` is at most ``eps``; "-" means no
tolerance of the grid reached it.

Run ``python benchmarks/bench_newton_cd.py --data-dir DIR`` (DIR holds ``a9a``; default
$FASTOPT_DATA_DIR). ``--quick`` runs alpha = 0.1 alpha_max only, with one repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np

import fastopt
from fastopt.datasets import load_svmlight
from fastopt.linear_model._newton_cd import newton_cd

FASTOPT_TOLS = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8)
LIBLINEAR_TOLS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
TARGETS = (1e-4, 1e-6)


def logistic_l1(X, y, w, alpha):
    z = y * (X @ w)
    return float(np.mean(np.logaddexp(0.0, -z))) + alpha * float(np.abs(w).sum())


def run_fastopt(X, y, alpha, tol):
    start = time.perf_counter()
    res = newton_cd(X, y, loss="logistic", alpha=alpha, l1_ratio=1.0, fit_intercept=False,
                    tol=tol, max_iter=1000)
    return time.perf_counter() - start, res.w


def run_liblinear(X, y, alpha, tol):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0 / (alpha * X.shape[0]), l1_ratio=1.0, solver="liblinear",
                               fit_intercept=False, tol=tol, max_iter=10_000)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start, np.ravel(model.coef_)


def time_to_targets(runner, tols, X, y, alpha, optimum, repeats):
    """Median seconds to each target suboptimality, and the lowest objective reached."""
    per_target = {eps: [] for eps in TARGETS}
    lowest = np.inf
    for _ in range(repeats):
        best = {eps: np.inf for eps in TARGETS}
        for tol in tols:
            seconds, w = runner(X, y, alpha, tol)
            value = logistic_l1(X, y, w, alpha)
            lowest = min(lowest, value)
            gap = (value - optimum) / optimum
            for eps in TARGETS:
                if gap <= eps:
                    best[eps] = min(best[eps], seconds)
        for eps in TARGETS:
            per_target[eps].append(best[eps])
    medians = {eps: statistics.median(v) for eps, v in per_target.items()}
    return medians, lowest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("FASTOPT_DATA_DIR"),
                        help="directory of the LIBSVM files (default: $FASTOPT_DATA_DIR)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per solver and tolerance")
    parser.add_argument("--quick", action="store_true", help="alpha = 0.1 alpha_max, 1 repeat")
    parser.add_argument("--output", help="write the results as JSON to this path")
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("--data-dir is required when FASTOPT_DATA_DIR is not set")

    X, y = load_svmlight(os.path.join(args.data_dir, "a9a"), n_features=123)
    X = X.tocsc()
    n = X.shape[0]
    alpha_max = float(np.abs(X.T @ (-0.5 * y)).max()) / n
    fractions = (0.1,) if args.quick else (0.1, 0.01, 0.001)
    repeats = 1 if args.quick else args.repeats

    rows = []
    print(f"a9a {X.shape}, {fastopt.get_num_threads()} threads, repeats {repeats}")
    print(f"{'alpha/alpha_max':>15} {'solver':>10} {'t(1e-4) s':>10} {'t(1e-6) s':>10}")
    for fraction in fractions:
        alpha = fraction * alpha_max
        _, w_star = run_fastopt(X, y, alpha, 1e-13)
        optimum = logistic_l1(X, y, w_star, alpha)
        for name, runner, tols in (("newton-cd", run_fastopt, FASTOPT_TOLS),
                                   ("liblinear", run_liblinear, LIBLINEAR_TOLS)):
            medians, lowest = time_to_targets(runner, tols, X, y, alpha, optimum, repeats)
            cells = [f"{medians[eps]:.4f}" if np.isfinite(medians[eps]) else "-"
                     for eps in TARGETS]
            print(f"{fraction:>15g} {name:>10} {cells[0]:>10} {cells[1]:>10}")
            if lowest < optimum:
                print(f"{'':>15} {name} reached F = {lowest!r} below F* = {optimum!r}")
            rows.append({"alpha_fraction": fraction, "solver": name,
                         "seconds": {str(eps): medians[eps] for eps in TARGETS},
                         "lowest_objective": lowest, "optimum": optimum})
    if args.output:
        with open(args.output, "w") as f:
            json.dump(rows, f, indent=2, allow_nan=True)


if __name__ == "__main__":
    main()
