"""Time to reach MLlib's objective: fastopt.spark against pyspark.ml LogisticRegression.

Both fit the same cached DataFrame in the same local Spark session (``local[2]`` by default,
bound to 127.0.0.1 with the web UI off) and minimize the same objective, the mean log loss
plus ``alpha (l1_ratio ||coef||_1 + (1 - l1_ratio) / 2 ||coef||^2)``: MLlib runs with
``regParam = alpha``, ``elasticNetParam = l1_ratio`` and ``standardization=False``.

For each problem MLlib fits first with its defaults (``maxIter=100``, ``tol=1e-6``), and its
final objective F_mllib is the target. fastopt (``solver="auto"``: Newton for a9a and w8a,
L-BFGS for the synthetic problem) then fits along a ladder of tolerances (1e-4 down to
1e-10), and the first rung whose objective is at most F_mllib is the one timed. These fits
are not timed. The timed fits of the two libraries then alternate for ``--repeats`` rounds,
and the table reports the median times and their ratio (MLlib / fastopt, above 1 when
fastopt is faster). Every objective is computed by this script from the fitted coefficients
with one Spark job over the data.

Problems: a9a and w8a from FASTOPT_DATA_DIR (labels mapped to 0/1) at L2 and elastic-net
penalties, and a synthetic sparse problem (default 1e6 rows x 1e5 features, 20 nonzeros per
row, labels drawn from a logistic model) generated on the executors, at the L2 penalty with
``--synthetic-repeats`` rounds (1 by default).

NOTE: the defaults aim at a full run of about ten minutes on an idle two-core machine. That is
an estimate: the full run has not been timed, and the synthetic problem's conversion and
L-BFGS fits dominate it.

Usage:
    FASTOPT_DATA_DIR=... python benchmarks/bench_spark.py            # all problems
    FASTOPT_DATA_DIR=... python benchmarks/bench_spark.py --quick    # a9a, L2, 1 repeat
    FASTOPT_DATA_DIR=... python benchmarks/bench_spark.py --problems a9a,w8a
    python benchmarks/bench_spark.py --master local[4] --synthetic-rows 200000

Writes the results as JSON (``--output``, default benchmarks/results/spark.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TOLERANCES = tuple(10.0 ** -k for k in range(4, 11))
PENALTIES = (("l2", 1e-4, 0.0), ("elasticnet", 1e-4, 0.5))


def start_session(master):
    """Return a SparkSession on ``master`` bound to 127.0.0.1 with the web UI off."""
    from pyspark.sql import SparkSession

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = (SparkSession.builder.master(master).appName("fastopt-bench-spark")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.pyspark.python", sys.executable)
               .config("spark.driver.memory", "8g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def libsvm_dataframe(spark, path, n_features, partitions):
    """Read a LIBSVM file with fastopt and return a cached DataFrame with labels 0/1."""
    from fastopt.datasets import load_svmlight
    from fastopt.spark import to_dataframe

    X, y = load_svmlight(path, n_features=n_features)
    df = to_dataframe(spark, X, (y > 0).astype(np.float64), num_partitions=partitions)
    return df.cache()


def synthetic_dataframe(spark, rows, features, nnz_per_row, partitions, seed=0):
    """Return a cached DataFrame of random sparse rows with logistic labels.

    Each partition draws its rows from ``default_rng([seed, partition])`` on the executors,
    so the data never passes through the driver.
    """
    from pyspark.ml.linalg import SparseVector, VectorUDT
    from pyspark.sql.types import DoubleType, StructField, StructType

    true_coef = np.random.default_rng(seed).normal(size=features) * 0.5
    per_partition = -(-rows // partitions)

    def generate(index, _):
        rng = np.random.default_rng([seed, index])
        count = max(0, min(per_partition, rows - index * per_partition))
        for _ in range(count):
            idx = np.unique(rng.integers(0, features, size=nnz_per_row)).astype(np.int32)
            val = rng.normal(size=idx.shape[0])
            z = val @ true_coef[idx]
            label = float(rng.random() < 1.0 / (1.0 + np.exp(-z)))
            yield label, SparseVector(features, idx, val)

    schema = StructType([StructField("label", DoubleType(), False),
                         StructField("features", VectorUDT(), False)])
    rdd = spark.sparkContext.parallelize(range(partitions), partitions)
    return spark.createDataFrame(rdd.mapPartitionsWithIndex(generate), schema).cache()


def objective(df, coef, intercept, alpha, l1_ratio):
    """Return the mean log loss plus the penalty at (coef, intercept), from one Spark job."""
    coef = np.asarray(coef, dtype=np.float64)

    def partial(rows):
        total, count = 0.0, 0
        for row in rows:
            vector = row["features"]
            z = vector.dot(coef) + intercept
            sign = 2.0 * row["label"] - 1.0
            total += float(np.logaddexp(0.0, -sign * z))
            count += 1
        yield total, count

    sums = df.select("label", "features").rdd.mapPartitions(partial).collect()
    loss = sum(t for t, _ in sums) / sum(c for _, c in sums)
    return loss + alpha * (l1_ratio * np.abs(coef).sum()
                           + 0.5 * (1.0 - l1_ratio) * float(coef @ coef))


def fit_mllib(df, alpha, l1_ratio):
    from pyspark.ml.classification import LogisticRegression

    start = time.perf_counter()
    model = LogisticRegression(regParam=alpha, elasticNetParam=l1_ratio,
                               standardization=False, family="binomial").fit(df)
    elapsed = time.perf_counter() - start
    return elapsed, model.coefficients.toArray(), float(model.intercept)


def fit_fastopt(df, penalty, alpha, l1_ratio, tol):
    from fastopt.spark import LogisticRegression

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(penalty, alpha=alpha, l1_ratio=l1_ratio, tol=tol,
                                   max_iter=1000).fit(df)
    elapsed = time.perf_counter() - start
    return elapsed, model.coef_[0], float(model.intercept_[0])


def run_problem(name, df, penalty, alpha, l1_ratio, repeats, tolerances=TOLERANCES):
    """Time both fits on one problem; return a dict of the measurements."""
    first_time, coef, intercept = fit_mllib(df, alpha, l1_ratio)
    target = objective(df, coef, intercept, alpha, l1_ratio)
    chosen, ladder = None, []
    for tol in tolerances:
        elapsed, coef, intercept = fit_fastopt(df, penalty, alpha, l1_ratio, tol)
        value = objective(df, coef, intercept, alpha, l1_ratio)
        ladder.append({"tol": tol, "seconds": elapsed, "objective": value})
        if value <= target:
            chosen = tol
            break
    # The target fit and the ladder warm up the JVM and the Python workers, so neither is
    # timed. The timed rounds then alternate between the two libraries.
    mllib_times, fastopt_times = [], []
    if chosen is not None:
        for _ in range(repeats):
            mllib_times.append(fit_mllib(df, alpha, l1_ratio)[0])
            fastopt_times.append(fit_fastopt(df, penalty, alpha, l1_ratio, chosen)[0])
    else:
        mllib_times.append(first_time)
    result = {"problem": name, "penalty": penalty, "alpha": alpha, "l1_ratio": l1_ratio,
              "mllib_objective": target, "mllib_seconds": mllib_times,
              "fastopt_tol": chosen, "fastopt_seconds": fastopt_times, "ladder": ladder}
    if chosen is not None:
        result["ratio"] = statistics.median(mllib_times) / statistics.median(fastopt_times)
    return result


def format_row(result):
    mllib = statistics.median(result["mllib_seconds"])
    if result["fastopt_tol"] is None:
        return (f"| {result['problem']} | {result['penalty']} | {mllib:.2f} | "
                f"did not reach MLlib's objective | - |")
    ours = statistics.median(result["fastopt_seconds"])
    return (f"| {result['problem']} | {result['penalty']} | {mllib:.2f} | {ours:.2f} "
            f"(tol {result['fastopt_tol']:g}) | {result['ratio']:.2f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", default="local[2]", help="Spark master URL")
    parser.add_argument("--partitions", type=int, default=2,
                        help="partitions of each DataFrame")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed rounds per problem (median reported)")
    parser.add_argument("--synthetic-rows", type=int, default=1_000_000)
    parser.add_argument("--synthetic-features", type=int, default=100_000)
    parser.add_argument("--synthetic-nnz", type=int, default=20,
                        help="nonzeros drawn per synthetic row")
    parser.add_argument("--synthetic-repeats", type=int, default=1,
                        help="timed rounds on the synthetic problem")
    parser.add_argument("--problems", default="a9a,w8a,synthetic",
                        help="comma-separated subset of a9a, w8a and synthetic")
    parser.add_argument("--quick", action="store_true",
                        help="a9a with the L2 penalty only, one round")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/results/spark.json")
    args = parser.parse_args(argv)

    data_dir = os.environ.get("FASTOPT_DATA_DIR")
    if not data_dir or not os.path.isdir(data_dir):
        parser.error("FASTOPT_DATA_DIR must name the directory of the LIBSVM files")
    selected = args.problems.split(",")
    unknown = sorted(set(selected) - {"a9a", "w8a", "synthetic"})
    if unknown:
        parser.error(f"--problems: unknown problems {unknown}; expected a9a, w8a or synthetic")
    spark = start_session(args.master)
    label = f"synthetic {args.synthetic_rows:.0e} x {args.synthetic_features:.0e}"
    # (name, loader, penalties, repeats) for each problem.
    problems = {
        "a9a": ("a9a", lambda: libsvm_dataframe(spark, os.path.join(data_dir, "a9a"), 123,
                                                args.partitions), PENALTIES, args.repeats),
        "w8a": ("w8a", lambda: libsvm_dataframe(spark, os.path.join(data_dir, "w8a"), 300,
                                                args.partitions), PENALTIES, args.repeats),
        "synthetic": (label, lambda: synthetic_dataframe(
            spark, args.synthetic_rows, args.synthetic_features, args.synthetic_nnz,
            args.partitions), PENALTIES[:1], args.synthetic_repeats),
    }
    plan = [problems[name] for name in selected]
    if args.quick:
        plan = [(name, load, PENALTIES[:1], 1) for name, load, _, _ in plan[:1]]
    repeats = max(entry[3] for entry in plan)
    results = []
    try:
        for name, load, penalties, problem_repeats in plan:
            df = load()
            df.count()  # fills the cache before anything is timed
            for penalty, alpha, l1_ratio in penalties:
                result = run_problem(name, df, penalty, alpha, l1_ratio, problem_repeats)
                results.append(result)
                print(format_row(result), flush=True)
            df.unpersist()
    finally:
        spark.stop()
    record = {"master": args.master, "partitions": args.partitions, "repeats": repeats,
              "machine": platform.platform(), "cpus": os.cpu_count(),
              "load_average": os.getloadavg(), "results": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2))
    print("| problem | penalty | MLlib s | fastopt s | MLlib / fastopt |")
    print("|---|---|---|---|---|")
    for result in results:
        print(format_row(result))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
