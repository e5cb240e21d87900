"""Benchmark fastopt.tune.GridSearch against scikit-learn's GridSearchCV on the same grid and folds.

The problem: L2 logistic regression on a9a (32,561 x 123, sparse) over a grid of ``alpha``
values, scored by accuracy on five stratified, shuffled folds that scikit-learn's
``StratifiedKFold`` draws once and both searches receive. Three searches run, interleaved
in every repeat so machine noise hits them alike:

- ``fastopt``: ``fastopt.tune.GridSearch`` over ``fastopt.linear_model.LogisticRegression``
  with ``n_jobs`` threads and warm starts along the alpha path;
- ``sklearn_cv_fastopt``: ``sklearn.model_selection.GridSearchCV`` over the same fastopt
  estimator with ``n_jobs`` (the search machinery alone differs);
- ``sklearn``: ``GridSearchCV`` over ``sklearn.linear_model.LogisticRegression`` (lbfgs)
  with ``C = 1 / (alpha * n_train)``, the same objective up to the fold sizes.

Before timing, the script checks that the fastopt search and GridSearchCV over the fastopt
estimator give the same best alpha and the same fold scores to 1e-6 (warm starts converge to
the solver's tolerance, not to the same bits). It also checks that scikit-learn's own model
picks the same alpha with fold scores within 2e-3. It reports the median and minimum seconds
of each search over ``--repeats`` runs and the ratios of the medians (GridSearchCV /
fastopt), with the load average before and after.

Usage::

    FASTOPT_DATA_DIR=/path/to/data python benchmarks/bench_tune.py
    python benchmarks/bench_tune.py --jobs 2 --repeats 5 --json results/tune.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np


def load_a9a(data_dir):
    from fastopt.datasets import load_svmlight

    path = Path(data_dir) / "a9a"
    if not path.is_file():
        raise SystemExit(f"a9a not found in {data_dir}; set FASTOPT_DATA_DIR or --data-dir")
    X, y = load_svmlight(str(path), n_features=123)
    return X.tocsr(), np.asarray(y)


def make_searches(X, y, alphas, splits, jobs, tol):
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.model_selection import GridSearchCV

    from fastopt.linear_model import LogisticRegression
    from fastopt.tune import GridSearch

    estimator = LogisticRegression(tol=tol, max_iter=1000)
    n_train = np.mean([train.size for train, _ in splits])
    grid_c = [1.0 / (alpha * n_train) for alpha in alphas]
    return {
        "fastopt": lambda: GridSearch(estimator, {"alpha": alphas}, cv=splits, n_jobs=jobs,
                                      scoring="accuracy").fit(X, y),
        "sklearn_cv_fastopt": lambda: GridSearchCV(estimator, {"alpha": alphas}, cv=splits,
                                                   n_jobs=jobs, scoring="accuracy").fit(X, y),
        "sklearn": lambda: GridSearchCV(SkLogisticRegression(tol=tol, max_iter=1000),
                                        {"C": grid_c}, cv=splits, n_jobs=jobs,
                                        scoring="accuracy").fit(X, y),
    }


def fold_scores(search, n_splits):
    results = search.cv_results_
    return np.array([results[f"split{k}_test_score"] for k in range(n_splits)]).T


def check_results(searches, n_splits):
    """Raise AssertionError unless the three searches agree; return the check's summary."""
    ours = searches["fastopt"]
    same_model = searches["sklearn_cv_fastopt"]
    sklearn = searches["sklearn"]
    a, b, c = (fold_scores(s, n_splits) for s in (ours, same_model, sklearn))
    np.testing.assert_allclose(a, b, atol=1e-6, err_msg="fastopt vs GridSearchCV(fastopt)")
    assert ours.best_index_ == same_model.best_index_, (ours.best_index_,
                                                        same_model.best_index_)
    np.testing.assert_allclose(a, c, atol=2e-3, err_msg="fastopt vs scikit-learn's model")
    # Accuracy is flat near the best alpha, so scikit-learn's own model may pick a neighbour
    # whose mean score is within the same tolerance: accept that, never a worse candidate.
    their_best = float(a[sklearn.best_index_].mean())
    assert their_best >= ours.best_score_ - 2e-3, (ours.best_index_, sklearn.best_index_)
    return {"max_abs_diff_same_model": float(np.max(np.abs(a - b))),
            "max_abs_diff_sklearn_model": float(np.max(np.abs(a - c))),
            "best_alpha": ours.best_params_["alpha"], "best_score": ours.best_score_}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("FASTOPT_DATA_DIR"),
                        help="directory with the LIBSVM file a9a (default $FASTOPT_DATA_DIR)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="threads of GridSearch and n_jobs of GridSearchCV (default: CPUs)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per search")
    parser.add_argument("--n-alphas", type=int, default=10,
                        help="grid size: alphas log-spaced from 1e-7 to 1e-2")
    parser.add_argument("--tol", type=float, default=1e-6, help="tol of every estimator")
    parser.add_argument("--json", type=Path, help="also write the record to this file")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("--data-dir or FASTOPT_DATA_DIR is required")

    from sklearn.model_selection import StratifiedKFold

    X, y = load_a9a(args.data_dir)
    splits = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    alphas = [float(a) for a in np.logspace(-7, -2, args.n_alphas)]
    runners = make_searches(X, y, alphas, splits, args.jobs, args.tol)
    load_before = os.getloadavg()[0]

    with warnings.catch_warnings():
        # Tiny alphas may stop at max_iter on a9a; both sides see the same warning.
        warnings.simplefilter("ignore")
        first = {name: run() for name, run in runners.items()}
        check = check_results(first, len(splits))
        times = {name: [] for name in runners}
        for _ in range(args.repeats):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)

    medians = {name: float(np.median(t)) for name, t in times.items()}
    record = {
        "problem": f"a9a {X.shape}, L2 logistic, {len(alphas)} alphas, 5 folds",
        "jobs": args.jobs, "repeats": args.repeats, "tol": args.tol,
        "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "check": check,
        "seconds_median": medians,
        "seconds_min": {name: float(np.min(t)) for name, t in times.items()},
        "ratio_sklearn_cv_fastopt_over_fastopt": medians["sklearn_cv_fastopt"]
        / medians["fastopt"],
        "ratio_sklearn_over_fastopt": medians["sklearn"] / medians["fastopt"],
    }
    print(f"{record['problem']}, jobs={args.jobs}, repeats={args.repeats}, load "
          f"{load_before:.2f} -> {record['load_average_1min']['after']:.2f}")
    print(f"results agree: best alpha {check['best_alpha']:.3g} (accuracy "
          f"{check['best_score']:.5f}); max fold-score difference "
          f"{check['max_abs_diff_same_model']:.2g} (same model), "
          f"{check['max_abs_diff_sklearn_model']:.2g} (scikit-learn's model)")
    for name, median in medians.items():
        print(f"  {name:20s} median {median:8.3f} s  min {record['seconds_min'][name]:8.3f} s")
    print(f"GridSearchCV(fastopt model) / GridSearch: "
          f"{record['ratio_sklearn_cv_fastopt_over_fastopt']:.2f}x")
    print(f"GridSearchCV(scikit-learn model) / GridSearch: "
          f"{record['ratio_sklearn_over_fastopt']:.2f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
