"""Split the time of one fastopt.spark fit into its phases, on the synthetic problem.

The phases, timed on the driver around the methods of the barrier job's ``ResidentBlocks``:

- ``start``: submitting the barrier job;
- ``blocks``: until every task has connected with its summary, which covers Spark writing
  the partition as Arrow batches and the task building its CSR block;
- ``evaluations``: the solver's round trips, each a kernel pass over every block;
- ``finish``: stopping the tasks and waiting for the job to end;
- ``other``: the rest of ``fit``, mostly the solver's own work on the driver.

The DataFrame is the one ``bench_spark.py`` builds, cached before the first fit. The first
fit also warms up the JVM and the Python workers, so only the later ones are printed.

Usage:
    python benchmarks/profile_spark_fit.py --rows 1000000 --features 100000 --fits 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_spark import start_session, synthetic_dataframe


def timed_methods(cls, names, marks):
    """Wrap methods of ``cls`` so that each call appends ``(name, seconds)`` to ``marks``."""
    for name in names:
        original = getattr(cls, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                marks.append((_name, time.perf_counter() - start))

        setattr(cls, name, wrapper)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--nnz", type=int, default=20, help="nonzeros per row")
    parser.add_argument("--fits", type=int, default=3, help="fits after the warm-up fit")
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--tol", type=float, default=1e-4)
    args = parser.parse_args(argv)

    from fastopt.spark import LogisticRegression
    from fastopt.spark._resident import ResidentBlocks

    marks = []
    timed_methods(ResidentBlocks, ("_start", "_wait_for_tasks", "evaluate", "_finish"), marks)
    session = start_session(args.master)
    try:
        df = synthetic_dataframe(session, args.rows, args.features, args.nnz, args.partitions)
        df.count()
        print("fit s | start s | blocks s | evaluations (count x median ms) | finish s | other s")
        for fit in range(args.fits + 1):
            marks.clear()
            start = time.perf_counter()
            LogisticRegression("l2", alpha=args.alpha, tol=args.tol, max_iter=1000).fit(df)
            total = time.perf_counter() - start
            if fit == 0:
                continue
            phases = {name: sum(s for n, s in marks if n == name)
                      for name in ("_start", "_wait_for_tasks", "evaluate", "_finish")}
            evaluations = [s for n, s in marks if n == "evaluate"]
            other = total - sum(phases.values())
            print(f"{total:.3f} | {phases['_start']:.3f} | {phases['_wait_for_tasks']:.3f} | "
                  f"{len(evaluations)} x {1e3 * statistics.median(evaluations):.1f} | "
                  f"{phases['_finish']:.3f} | {other:.3f}", flush=True)
    finally:
        session.stop()


if __name__ == "__main__":
    main()
