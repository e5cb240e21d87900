"""Benchmark the online solvers' passes over CSR rows: nonzeros processed per second.

For each dataset, times one pass (rows in file order) of every fastopt.online
method, scikit-learn's SGDClassifier (loss="log_loss", the same alpha, one epoch,
shuffle=False) and the memory roofline: ``fastopt._core.roofline_read`` over a
float32 buffer with as many bytes as the pass must stream (the CSR data and
column indices, each read once). The weights are read and written at random
positions, so no pass can reach the roofline; the ratio shows how far the
per-row work is from the cost of only reading the input. Each timing is the
median of ``--repeats`` runs; solvers start from zero weights each run.

Usage::

    FASTOPT_DATA_DIR=/path/to/libsvm python benchmarks/bench_online_kernels.py
    python benchmarks/bench_online_kernels.py --quick     # smaller synthetic set, 3 repeats
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp

import fastopt
from fastopt import _core
from fastopt.online import FTRLProximal, LazySGD

ALPHA = 1e-4

#: Name and constructor of each fastopt configuration.
METHODS = {
    "sgd": lambda n: LazySGD(n, alpha=ALPHA),
    # The deterministic block-parallel pass on two threads; its model differs from "sgd".
    "sgd_n_jobs2": lambda n: LazySGD(n, alpha=ALPHA, n_jobs=2),
    "sgd_elasticnet": lambda n: LazySGD(n, alpha=ALPHA, l1_ratio=0.15),
    "sgd_momentum": lambda n: LazySGD(n, alpha=ALPHA, momentum=0.9, learning_rate="constant"),
    "sgd_average": lambda n: LazySGD(n, alpha=ALPHA, average=True),
    "adagrad": lambda n: LazySGD(n, alpha=ALPHA, method="adagrad", learning_rate="constant",
                                 eta0=0.1),
    "adam": lambda n: LazySGD(n, alpha=ALPHA, method="adam", learning_rate="constant",
                              eta0=0.01),
    "ftrl": lambda n: FTRLProximal(n, alpha=0.1, l1=1.0, l2=1.0),
}


def synthetic(num_rows: int, num_features: int, nnz_per_row: int, seed: int = 0):
    """CSR rows with nnz_per_row random columns each, values 1, and labels from a sparse model."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num_features, size=num_rows * nnz_per_row, dtype=np.int64)
    indices = np.sort(indices.reshape(num_rows, nnz_per_row), axis=1).astype(np.int32).ravel()
    indptr = np.arange(0, num_rows * nnz_per_row + 1, nnz_per_row, dtype=np.int32)
    data = np.ones(num_rows * nnz_per_row, dtype=np.float32)
    X = sp.csr_matrix((data, indices, indptr), shape=(num_rows, num_features))
    X.sum_duplicates()
    truth = rng.normal(size=num_features) * (rng.random(num_features) < 0.1)
    y = np.where(X @ truth + 0.5 * rng.normal(size=num_rows) > 0, 1.0, -1.0)
    return X, y


def load_libsvm(name: str, n_features: int, shuffle: bool = False):
    """Return (X, y) of a LIBSVM file in FASTOPT_DATA_DIR, or None when it is not set.

    With ``shuffle`` the rows are permuted with seed 0, as benchmarks/bench_online.py does
    for w8a, whose file lists all 1,479 positive rows together (rows 740-2218).
    """
    directory = os.environ.get("FASTOPT_DATA_DIR")
    if not directory:
        return None
    X, y = fastopt.datasets.load_svmlight(os.path.join(directory, name), n_features=n_features)
    X, y = sp.csr_matrix(X), np.asarray(y, dtype=np.float64)
    if shuffle:
        order = np.random.default_rng(0).permutation(X.shape[0])
        X, y = X[order], y[order]
    return X, y


def median_seconds(run, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_dataset(name: str, X, y, repeats: int, with_sklearn: bool) -> None:
    nnz = X.nnz
    print(f"\n{name}: {X.shape[0]} rows, {X.shape[1]} features, {nnz} nonzeros, "
          f"data {X.dtype}, indices {X.indices.dtype}")
    streamed_bytes = X.data.nbytes + X.indices.nbytes
    buffer = np.ones(max(1, streamed_bytes // 4), dtype=np.float32)
    roofline = median_seconds(lambda: _core.roofline_read([buffer]), repeats)
    rates = {"roofline": nnz / roofline}
    for method, make in METHODS.items():
        rates[method] = nnz / median_seconds(lambda make=make: make(X.shape[1]).partial_fit(X, y),
                                             repeats)
    if with_sklearn:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import SGDClassifier

        def sklearn_pass():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=1, tol=None,
                              shuffle=False).fit(X, y)

        rates["sklearn_sgd"] = nnz / median_seconds(sklearn_pass, repeats)
    print(f"{'method':<16}{'nnz/s':>14}{'vs sklearn':>12}{'vs roofline':>13}")
    for method, rate in rates.items():
        vs_sklearn = rate / rates["sklearn_sgd"] if "sklearn_sgd" in rates else float("nan")
        print(f"{method:<16}{rate:>14.3e}{vs_sklearn:>12.2f}{rate / rates['roofline']:>13.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="synthetic set of 1e5 rows instead of 1e6, and 3 repeats")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per measurement (default 5, or 3 with --quick)")
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"fastopt {fastopt.__version__}, isa {fastopt.active_isa()}, "
          f"threads {fastopt.get_num_threads()} (sgd_n_jobs2 runs on two threads, the other "
          f"passes on one), repeats {repeats}")
    for name, n_features, shuffle in (("a9a", 123, False), ("w8a", 300, True)):
        data = load_libsvm(name, n_features, shuffle)
        if data is None:
            print(f"{name} skipped: FASTOPT_DATA_DIR is not set")
        else:
            bench_dataset(name, *data, repeats, not args.no_sklearn)
    num_rows = 100_000 if args.quick else 1_000_000
    X, y = synthetic(num_rows, 2**20, 20)
    bench_dataset("synthetic", X, y, repeats, not args.no_sklearn)


if __name__ == "__main__":
    main()
