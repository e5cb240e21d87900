"""Benchmark the fused GLM value-and-gradient kernel against NumPy/SciPy and the memory roofline.

For each problem, times ``GLMObjective.value_grad`` and a NumPy/SciPy evaluation of
the same data term (``z = X @ coef.T + b``, the loss and its residual r, then
``X.T @ r``), interleaved so that machine noise hits both alike, and the
roofline: ``fastopt._core.roofline_read`` over a float64 buffer with as many
bytes as one value_grad must move at least (X's values and indices once, the
labels, and the parameters read and the gradient written once). The roofline
is the read bandwidth measured in the same run, not a vendor figure. Reports
medians and minimums, and the ratios NumPy / fastopt (speedup) and
fastopt / roofline.

Problems: a9a (32,561 x 123), news20 (15,935 x 62,061; one-vs-rest logistic and
20-class multinomial), each as CSR and CSC, and a synthetic CSR matrix of
1e6 x 1e5 with 20 values per row (``--quick``: 2e5 rows, 10 values per row).

Usage::

    FASTOPT_DATA_DIR=/path/to/data python benchmarks/bench_glm.py --quick
    python benchmarks/bench_glm.py --threads 2 --repeats 15 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import scipy.sparse as sp

import fastopt
from fastopt import _core
from fastopt.datasets import load_svmlight
from fastopt.linear_model._objective import GLMObjective


def numpy_value_grad(X, y, w, loss, n_outputs):
    """Compute the data term and its gradient with NumPy/SciPy operations (intercept included)."""
    n, p = X.shape
    coef = w[: n_outputs * p].reshape(n_outputs, p)
    z = np.asarray(X @ coef.T) + w[n_outputs * p:]
    if loss == "logistic":
        m = y * z[:, 0]
        value = np.logaddexp(0.0, -m).mean()
        r = (-y / (1.0 + np.exp(m)) / n)[:, None]
    else:
        zmax = z.max(axis=1, keepdims=True)
        prob = np.exp(z - zmax)
        total = prob.sum(axis=1, keepdims=True)
        labels = y.astype(np.int64)
        value = (np.log(total[:, 0]) + zmax[:, 0] - z[np.arange(n), labels]).mean()
        prob /= total
        prob[np.arange(n), labels] -= 1.0
        r = prob / n
    grad = np.concatenate([np.asarray(X.T @ r).T.ravel(), r.sum(axis=0)])
    return value, grad


def minimum_bytes(obj: GLMObjective) -> int:
    """Bytes one value_grad moves at least: X once, y, w read and the gradient written."""
    return obj.design.nbytes + 8 * obj.n_samples + 2 * 8 * obj.n_params


def time_interleaved(functions: dict, repeats: int) -> dict:
    for f in functions.values():  # warm-up: page faults, caches, thread start
        f()
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, f in functions.items():
            start = time.perf_counter()
            f()
            samples[name].append(time.perf_counter() - start)
    return ({name: float(np.median(values)) for name, values in samples.items()},
            {name: float(np.min(values)) for name, values in samples.items()})


def synthetic_csr(n_rows: int, n_cols: int, per_row: int, seed: int = 0):
    """Build a CSR matrix with sorted, distinct column indices in every row, and +-1 labels."""
    rng = np.random.default_rng(seed)
    band = n_cols // per_row
    # One column from each of per_row bands: distinct and sorted within a row.
    cols = rng.integers(0, band, size=(n_rows, per_row)) + band * np.arange(per_row)
    indices = cols.astype(np.int32).ravel()
    indptr = np.arange(0, n_rows * per_row + 1, per_row, dtype=np.int32)
    data = rng.random(n_rows * per_row)
    X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))
    y = rng.choice([-1.0, 1.0], n_rows)
    return X, y


def problems(data_dir: str | None, quick: bool):
    if data_dir:
        X, y = load_svmlight(os.path.join(data_dir, "a9a"), n_features=123)
        for fmt in ("csr", "csc"):
            yield f"a9a logistic {fmt}", X.asformat(fmt), y, "logistic", 1
        X, y = load_svmlight(os.path.join(data_dir, "news20.bz2"))
        y_binary = np.where(y == 1.0, 1.0, -1.0)
        for fmt in ("csr", "csc"):
            yield f"news20 logistic {fmt}", X.asformat(fmt), y_binary, "logistic", 1
        for fmt in ("csr", "csc"):
            yield f"news20 multinomial {fmt}", X.asformat(fmt), y - 1.0, "multinomial", 20
    else:
        print("FASTOPT_DATA_DIR is not set: skipping a9a and news20")
    n_rows, per_row = (200_000, 10) if quick else (1_000_000, 20)
    X, y = synthetic_csr(n_rows, 100_000, per_row)
    yield f"synthetic {n_rows:.0e} x 1e5 csr", X, y, "logistic", 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="fastopt threads (default 2)")
    parser.add_argument("--repeats", type=int, default=11, help="timed calls per method")
    parser.add_argument("--quick", action="store_true",
                        help="5 repeats and a 2e5-row synthetic problem")
    parser.add_argument("--json", help="write every median and ratio to this file")
    args = parser.parse_args(argv)

    repeats = 5 if args.quick else args.repeats
    fastopt.set_num_threads(args.threads)
    print(f"fastopt {fastopt.__version__}, isa {fastopt.active_isa()}, threads "
          f"{fastopt.get_num_threads()}, {platform.machine()}, medians of {repeats}")
    header = (f"{'problem':32s} {'MB':>7s} {'fastopt ms':>10s} {'numpy ms':>9s} "
              f"{'roofline ms':>11s} {'numpy/fastopt':>13s} {'fastopt/roofline':>16s}")
    print(header)

    records = []
    for name, X, y, loss, k in problems(os.environ.get("FASTOPT_DATA_DIR"), args.quick):
        obj = GLMObjective(X, y, loss=loss)
        w = 0.01 * np.random.default_rng(1).standard_normal(obj.n_params)
        grad = np.empty(obj.n_params)
        nbytes = minimum_bytes(obj)
        buffer = np.ones(nbytes // 8)
        medians, minimums = time_interleaved({
            "fastopt": lambda: obj.value_grad(w, out=grad),
            "numpy": lambda: numpy_value_grad(X, y, w, loss, k),
            "roofline": lambda: _core.roofline_read([buffer]),
        }, repeats)
        f_ref, g_ref = numpy_value_grad(X, y, w, loss, k)
        f, g = obj.value_grad(w)
        error = float(np.max(np.abs(g - g_ref)) / np.max(np.abs(g_ref)))
        record = dict(problem=name, bytes=nbytes, median_s=medians, min_s=minimums,
                      numpy_over_fastopt=medians["numpy"] / medians["fastopt"],
                      fastopt_over_roofline=medians["fastopt"] / medians["roofline"],
                      gradient_relative_error=error)
        records.append(record)
        print(f"{name:32s} {nbytes / 1e6:7.1f} {1e3 * medians['fastopt']:10.2f} "
              f"{1e3 * medians['numpy']:9.2f} {1e3 * medians['roofline']:11.2f} "
              f"{record['numpy_over_fastopt']:13.2f} {record['fastopt_over_roofline']:16.2f}")
        # On a shared machine the minimum is the time least disturbed by other processes.
        print(f"{'  (minimum)':32s} {'':7s} {1e3 * minimums['fastopt']:10.2f} "
              f"{1e3 * minimums['numpy']:9.2f} {1e3 * minimums['roofline']:11.2f} "
              f"{minimums['numpy'] / minimums['fastopt']:13.2f} "
              f"{minimums['fastopt'] / minimums['roofline']:16.2f}")
        del buffer

    if args.json:
        with open(args.json, "w") as out:
            json.dump(dict(threads=args.threads, repeats=repeats, isa=fastopt.active_isa(),
                           results=records), out, indent=1)


if __name__ == "__main__":
    main()
