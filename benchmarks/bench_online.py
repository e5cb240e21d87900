"""Benchmark online learners: throughput, test log-loss after 1 and 5 passes, memory of a stream.

Learners: fastopt ``SGDClassifier`` (log-loss, L2, the "optimal" schedule, as scikit-learn's
default; sequential, and with ``n_jobs=2``, block-parallel) and ``FTRLClassifier`` (with
``alpha=0.1, beta=1`` and with ``alpha=0.2, beta=0.5``), scikit-learn's ``SGDClassifier`` with
the same settings, and
Vowpal Wabbit (the ``vowpalwabbit`` Python package, default adaptive updates, logistic loss).
Every learner reads the rows in file order, one pass at a time (``partial_fit`` or ``learn``),
and is scored on the test rows after passes 1 and 5.

Data: a9a (a9a.t as test), w8a (20% held out, seeded), news20 one-vs-rest (20% held out;
multiclass log-loss of the normalized one-vs-rest probabilities), and a synthetic stream of
CTR-like rows: 20 categorical fields with Zipf-distributed values hashed into 2**20 columns,
labels drawn from a logistic model on those columns, generated in chunks.

Throughput is nonzeros processed per second of training: the median over ``--repeats``
rounds, or at least 9 on data under 1e7 stored values, with the in-memory learners taking
turns within each round. Vowpal Wabbit trains through its own C++ driver on a text file
written before the clock starts, so its time includes parsing that file and building its
cache, as a VW user's run does. Peak memory of ``FTRLClassifier.fit_stream`` is measured
with tracemalloc for several stream lengths.

``--tune`` adds a table of test log-loss with each learner's learning rate picked the same way
for every library: from a grid of five values around its default, on a validation split of
the training rows (see ``measure_tuned``); the defaults-only table stays as it is.

Results go to benchmarks/results/online.json and to docs/benchmarks.md between
``<!-- online:begin -->`` and ``<!-- online:end -->``. ``--quick`` caps every training set at
3000 rows and the stream at 20000 rows, for a check that the script works, not a measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

# scikit-learn's SGDClassifier.partial_fit makes a call into scipy's OpenBLAS, whose idle
# worker thread then spins: on news20 it used a third of a core for at least 0.3 s after
# the call. On 2 cores that took a core from the next timed learner (fastopt's two threads
# then ran as fast as one). No learner trains through BLAS, and with one BLAS thread
# OpenBLAS starts no worker. Set before numpy loads OpenBLAS; a value given by the caller
# is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from _sections import machine_environment, write_outputs

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "online.json"
DOCS = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- online:begin -->"
END = "<!-- online:end -->"
PASSES = (1, 5)
#: Data with fewer stored values than SMALL_NNZ gets at least SMALL_ROUNDS timed rounds.
SMALL_NNZ = 10_000_000
SMALL_ROUNDS = 9
DATASETS = ("a9a", "w8a", "news20", "ctr")
CTR_BITS = 20
CTR_FIELDS = 20


# ----- data


def load_libsvm_sets(data_dir, max_train_rows):
    from fastopt.datasets import load_svmlight, load_svmlight_files

    sets = {}
    a9a = load_svmlight_files([data_dir / "a9a", data_dir / "a9a.t"], n_features=123)
    sets["a9a"] = a9a
    for name, path, n_features in (("w8a", "w8a", 300), ("news20", "news20.bz2", 62061)):
        X, y = load_svmlight(data_dir / path, n_features=n_features)
        order = np.random.default_rng(0).permutation(X.shape[0])
        cut = int(0.8 * X.shape[0])
        sets[name] = (X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]])
    if max_train_rows:
        sets = {name: (X[:max_train_rows], y[:max_train_rows], Xt, yt) for name, (X, y, Xt, yt) in sets.items()}
    return sets


class CtrStream:
    """Synthetic CTR-like rows: one hashed token per field, labels from a fixed logistic model."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.true_weights = rng.normal(scale=0.4, size=2**CTR_BITS)
        self.seed = seed

    def chunks(self, n_rows, chunk_rows=100_000, start_row=0):
        rng = np.random.default_rng(self.seed + 1 + start_row)
        done = 0
        while done < n_rows:
            rows = min(chunk_rows, n_rows - done)
            values = rng.zipf(1.3, size=(rows, CTR_FIELDS)) % 100_000
            fields = np.arange(CTR_FIELDS, dtype=np.uint64)
            # A multiplicative hash of (field, value) into 2**CTR_BITS buckets.
            keys = (values.astype(np.uint64) * np.uint64(1_000_003) + fields) * np.uint64(0x9E3779B97F4A7C15)
            columns = (keys >> np.uint64(64 - CTR_BITS)).astype(np.int32)
            columns.sort(axis=1)
            indptr = np.arange(0, rows * CTR_FIELDS + 1, CTR_FIELDS, dtype=np.int32)
            X = sp.csr_matrix((np.ones(rows * CTR_FIELDS), columns.ravel(), indptr), shape=(rows, 2**CTR_BITS))
            X.sum_duplicates()
            margin = X @ self.true_weights - 1.5
            y = np.where(rng.random(rows) < 1.0 / (1.0 + np.exp(-margin)), 1.0, -1.0)
            done += rows
            yield X, y


# ----- learners


def multiclass_log_loss(y, probabilities, classes):
    probabilities = np.clip(probabilities, 1e-15, 1.0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    positions = np.searchsorted(classes, y)
    return float(-np.mean(np.log(probabilities[np.arange(y.size), positions])))


def test_log_loss(probabilities, y, classes):
    if probabilities.ndim == 2 and probabilities.shape[1] > 2:
        return multiclass_log_loss(y, probabilities, classes)
    positive = probabilities[:, 1] if probabilities.ndim == 2 else probabilities
    positive = np.clip(positive, 1e-15, 1 - 1e-15)
    target = (y == classes[1]).astype(np.float64)
    return float(-np.mean(target * np.log(positive) + (1 - target) * np.log(1 - positive)))


def run_estimator(make, X, y, X_test, y_test, classes):
    model = make()
    seconds = 0.0
    losses = {}
    for p in range(1, max(PASSES) + 1):
        start = time.perf_counter()
        model.partial_fit(X, y, classes=classes)
        seconds += time.perf_counter() - start
        if p in PASSES:
            losses[p] = test_log_loss(model.predict_proba(X_test), y_test, classes)
    return seconds, losses


def vw_lines(X, y, classes, multiclass):
    lines = []
    for i in range(X.shape[0]):
        start, end = X.indptr[i], X.indptr[i + 1]
        features = " ".join(f"{j}:{v:.9g}" for j, v in zip(X.indices[start:end], X.data[start:end]))
        if multiclass:
            label = int(np.searchsorted(classes, y[i])) + 1
        else:
            label = 1 if y[i] == classes[1] else -1
        lines.append(f"{label} | {features}")
    return lines


def run_vw(X, y, X_test, y_test, classes, bits, extra=""):
    """Train Vowpal Wabbit through its own driver on a text file; return (seconds, losses).

    The text file is written before the clock starts. Each entry of PASSES is a separate run
    (``--passes p`` with a cache file, as VW runs several passes), and the time of the
    longest one is reported, so parsing and caching count as VW's work, as they do for a VW
    user. Test predictions go through the Python API and are not timed.
    """
    import tempfile

    from vowpalwabbit import Workspace

    multiclass = len(classes) > 2
    base = f"--quiet -b {bits} --loss_function logistic --holdout_off -k {extra}"
    base += f" --oaa {len(classes)} --probabilities" if multiclass else " --link logistic"
    test_lines = [line.split(" ", 1)[1] for line in vw_lines(X_test, y_test, classes, multiclass)]
    seconds = 0.0
    losses = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.vw"
        data.write_text("\n".join(vw_lines(X, y, classes, multiclass)) + "\n")
        for p in PASSES:
            start = time.perf_counter()
            workspace = Workspace(f"{base} -d {data} --passes {p} -c --cache_file {tmp}/cache{p}")
            elapsed = time.perf_counter() - start
            predictions = np.array([workspace.predict(line) for line in test_lines],
                                   dtype=np.float64)
            workspace.finish()
            losses[p] = test_log_loss(predictions, y_test, classes)
            seconds = max(seconds, elapsed)
    return seconds, losses


def learners(alpha):
    from sklearn.linear_model import SGDClassifier as SklearnSGD

    from fastopt.online import FTRLClassifier, SGDClassifier

    return {
        "fastopt SGDClassifier": lambda: SGDClassifier(loss="log_loss", alpha=alpha, shuffle=False),
        "fastopt SGDClassifier n_jobs=2": lambda: SGDClassifier(loss="log_loss", alpha=alpha,
                                                                shuffle=False, n_jobs=2),
        "fastopt FTRLClassifier": lambda: FTRLClassifier(alpha=0.1, beta=1.0, l1=0.1, l2=1.0, shuffle=False),
        # Larger per-coordinate rates for features seen a few times per pass (see the FTRL
        # section of docs/guide/online.md): w8a's rare features need them.
        "fastopt FTRLClassifier alpha=0.2 beta=0.5": lambda: FTRLClassifier(
            alpha=0.2, beta=0.5, l1=0.1, l2=1.0, shuffle=False),
        "sklearn SGDClassifier": lambda: SklearnSGD(loss="log_loss", alpha=alpha, shuffle=False),
    }


def rounds_for(X, repeats):
    """Timed rounds of the in-memory learners on X: at least SMALL_ROUNDS on small data."""
    return repeats if X.nnz >= SMALL_NNZ else max(repeats, SMALL_ROUNDS)


def measure(name, X, y, X_test, y_test, repeats, bits):
    classes = np.unique(np.concatenate([y, y_test]))
    alpha = 1.0 / X.shape[0]
    entries = {}
    runs = dict(learners(alpha))
    # Five passes over a9a take a few milliseconds, so one slow spell of a shared machine
    # can halve a learner's rate. The in-memory learners therefore alternate within each
    # round, and small data gets more rounds.
    times = {learner: [] for learner in runs}
    losses = {}
    for _ in range(rounds_for(X, repeats)):
        for learner, make in runs.items():
            seconds, losses[learner] = run_estimator(make, X, y, X_test, y_test, classes)
            times[learner].append(seconds)
    runs["Vowpal Wabbit"] = None
    times["Vowpal Wabbit"] = []
    for _ in range(repeats):
        seconds, losses["Vowpal Wabbit"] = run_vw(X, y, X_test, y_test, classes, bits)
        times["Vowpal Wabbit"].append(seconds)
    for learner in runs:
        seconds = statistics.median(times[learner])
        nonzeros = X.nnz * max(PASSES)
        entries[learner] = {
            "seconds_5_passes": seconds,
            "nonzeros_per_second": nonzeros / seconds if seconds > 0 else None,
            "test_log_loss": {str(p): losses[learner][p] for p in PASSES},
        }
        print(f"{name:8s} {learner:42s} {nonzeros / seconds:12.3g} nnz/s  "
              + "  ".join(f"pass {p}: {losses[learner][p]:.4f}" for p in PASSES), flush=True)
    return {"rows": X.shape[0], "test_rows": X_test.shape[0], "nonzeros": int(X.nnz), "alpha": alpha,
            "rounds": rounds_for(X, repeats), "learners": entries}


# ----- learning rates chosen on a validation split

# Each learner's candidate learning rates: five points around its default, the same for
# every SGD implementation. For SGD, "optimal" is scikit-learn's default schedule and the
# others are eta0 / sqrt(t) ("invscaling" with power_t = 0.5, the decay of FTRL's and
# Vowpal Wabbit's per-coordinate rates).
SGD_GRID = (("optimal", None), ("invscaling", 0.03), ("invscaling", 0.1), ("invscaling", 0.3),
            ("invscaling", 1.0))
FTRL_GRID = (0.025, 0.05, 0.1, 0.2, 0.4)
VW_GRID = (0.125, 0.25, 0.5, 1.0, 2.0)


def tuned_candidates(alpha):
    """Return {learner: [(label, make or VW arguments), ...]} of the learning-rate grids."""
    from sklearn.linear_model import SGDClassifier as SklearnSGD

    from fastopt.online import FTRLClassifier, SGDClassifier

    def sgd(cls, schedule, eta0, **extra):
        if schedule == "optimal":
            return lambda: cls(loss="log_loss", alpha=alpha, shuffle=False, **extra)
        return lambda: cls(loss="log_loss", alpha=alpha, shuffle=False, learning_rate=schedule,
                           eta0=eta0, power_t=0.5, **extra)

    def sgd_label(schedule, eta0):
        return "optimal" if schedule == "optimal" else f"eta0={eta0}/sqrt(t)"

    return {
        "fastopt SGDClassifier": [(sgd_label(*c), sgd(SGDClassifier, *c)) for c in SGD_GRID],
        "fastopt SGDClassifier n_jobs=2": [(sgd_label(*c), sgd(SGDClassifier, *c, n_jobs=2))
                                           for c in SGD_GRID],
        "sklearn SGDClassifier": [(sgd_label(*c), sgd(SklearnSGD, *c)) for c in SGD_GRID],
        "fastopt FTRLClassifier": [
            (f"alpha={a}", lambda a=a: FTRLClassifier(alpha=a, beta=1.0, l1=0.1, l2=1.0,
                                                      shuffle=False)) for a in FTRL_GRID],
        "Vowpal Wabbit": [(f"-l {rate}", f"-l {rate}") for rate in VW_GRID],
    }


def run_candidate(make, X, y, X_test, y_test, classes, bits):
    if isinstance(make, str):
        return run_vw(X, y, X_test, y_test, classes, bits, extra=make)[1]
    return run_estimator(make, X, y, X_test, y_test, classes)[1]


def measure_tuned(name, X, y, X_test, y_test, bits, max_tune_rows):
    """Pick each learner's learning rate on a validation split, then report test log-loss.

    The last 20% of the training rows (in file order, the order every learner reads) are the
    validation rows (at most ``max_tune_rows // 4`` of them), and the first 80%, capped at
    ``max_tune_rows``, train the candidates.
    For each number of passes in PASSES, the candidate with the lowest validation log-loss
    after that many passes is retrained on all training rows and scored on the test rows.
    """
    classes = np.unique(np.concatenate([y, y_test]))
    alpha = 1.0 / X.shape[0]
    cut = int(0.8 * X.shape[0])
    X_fit, y_fit = X[:min(cut, max_tune_rows)], y[:min(cut, max_tune_rows)]
    X_val, y_val = X[cut:cut + max_tune_rows // 4], y[cut:cut + max_tune_rows // 4]
    entries = {}
    for learner, candidates in tuned_candidates(alpha).items():
        validation = {label: run_candidate(make, X_fit, y_fit, X_val, y_val, classes, bits)
                      for label, make in candidates}
        chosen = {p: min(validation, key=lambda label: validation[label][p]) for p in PASSES}
        makes = dict(candidates)
        finals = {}
        for label in sorted(set(chosen.values())):
            finals[label] = run_candidate(makes[label], X, y, X_test, y_test, classes, bits)
        entries[learner] = {
            "chosen": {str(p): chosen[p] for p in PASSES},
            "validation_log_loss": {label: {str(p): v[p] for p in PASSES}
                                    for label, v in validation.items()},
            "test_log_loss": {str(p): finals[chosen[p]][p] for p in PASSES},
        }
        print(f"{name:8s} {learner:42s} tuned  "
              + "  ".join(f"pass {p}: {finals[chosen[p]][p]:.4f} ({chosen[p]})" for p in PASSES),
              flush=True)
    return {"rows": X.shape[0], "validation_rows": X.shape[0] - cut, "alpha": alpha,
            "learners": entries}


def stream_memory(lengths):
    from fastopt.online import FTRLClassifier

    # One chunk size for every length, so that only the number of chunks changes.
    chunk_rows = min(100_000, min(lengths))
    stream = CtrStream()
    peaks = {}
    for n_rows in lengths:
        model = FTRLClassifier(alpha=0.1, l1=0.1, shuffle=False)
        tracemalloc.start()
        start = time.perf_counter()
        model.fit_stream(lambda: stream.chunks(n_rows, chunk_rows=chunk_rows), classes=[-1.0, 1.0])
        seconds = time.perf_counter() - start
        peaks[str(n_rows)] = {"peak_bytes": tracemalloc.get_traced_memory()[1], "seconds": seconds}
        tracemalloc.stop()
        print(f"stream   {n_rows:>10d} rows: peak {peaks[str(n_rows)]['peak_bytes'] / 2**20:.1f} MiB, "
              f"{seconds:.1f} s", flush=True)
    return peaks


# ----- report


def environment():
    import fastopt
    import sklearn
    import vowpalwabbit

    return {
        **machine_environment(),
        "isa": fastopt.active_isa(),
        "scikit_learn": sklearn.__version__,
        "vowpalwabbit": vowpalwabbit.__version__,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


def render_section(result):
    lines = [BEGIN, "## Online learning (generated by benchmarks/bench_online.py)", ""]
    env = result["environment"]
    lines.append(f"Python {env['python']} on {env['machine']} ({env['cpu_count']} CPUs), fastopt with "
                 f"{env['fastopt_threads']} threads ({env['isa']}), scikit-learn {env['scikit_learn']}, "
                 f"Vowpal Wabbit {env['vowpalwabbit']}. Median of {result['repeats']} runs "
                 f"({SMALL_ROUNDS} for data under {SMALL_NNZ:.0e} stored values); the "
                 "learners other than Vowpal Wabbit alternate within each round.")
    if env.get("openblas_threads"):
        lines.append("")
        lines.append(f"OPENBLAS_NUM_THREADS={env['openblas_threads']}: no learner trains through BLAS, "
                     "and an idle OpenBLAS worker left spinning by a call in scikit-learn's "
                     "`partial_fit` took a core from the next timed learner.")
    lines.append("")
    lines.append("The `n_jobs=2` rows run the deterministic block-parallel pass, the only multi-thread "
                 "mode of fastopt's `SGDClassifier`; the other fastopt rows train each model on one "
                 "thread.")
    if result["quick"]:
        lines.append("")
        lines.append("**Quick run** (`--quick`): training sets capped at 3000 rows and a short stream; "
                     "the numbers check the script, they are not a measurement.")
    lines.append("")
    lines.append("The two ratio columns divide a row's throughput by that of scikit-learn's "
                 "`SGDClassifier` and of Vowpal Wabbit on the same data, in the same run.")
    lines.append("")
    lines.append("| data | rows | learner | nonzeros/s | / scikit-learn | / Vowpal Wabbit | "
                 "test log-loss, 1 pass | test log-loss, 5 passes |")
    lines.append("|---|---|---|---|---:|---:|---|---|")
    for name, entry in result["datasets"].items():
        learners = entry["learners"]
        baselines = [learners.get(key, {}).get("nonzeros_per_second")
                     for key in ("sklearn SGDClassifier", "Vowpal Wabbit")]
        for learner, values in learners.items():
            losses = values["test_log_loss"]
            speed = values["nonzeros_per_second"]
            ratios = " | ".join(f"{speed / base:.2f}x" if base else "-" for base in baselines)
            lines.append(f"| {name} | {entry['rows']} | {learner} | {speed:.3g} | {ratios} | "
                         f"{losses['1']:.4f} | {losses['5']:.4f} |")
    lines.append("")
    if result.get("tuned"):
        lines.append("Test log-loss with each learner's learning rate chosen on a validation split "
                     "(the last 20% of the training rows; the candidates train on the first 80%, "
                     f"at most {result['tune_max_rows']} rows), separately for 1 and 5 passes; "
                     "the chosen rate in parentheses:")
        lines.append("")
        lines.append("| data | learner | test log-loss, 1 pass | test log-loss, 5 passes |")
        lines.append("|---|---|---|---|")
        for name, entry in result["tuned"].items():
            for learner, values in entry["learners"].items():
                losses, chosen = values["test_log_loss"], values["chosen"]
                lines.append(f"| {name} | {learner} | {losses['1']:.4f} ({chosen['1']}) | "
                             f"{losses['5']:.4f} ({chosen['5']}) |")
        lines.append("")
    lines.append("Peak traced memory of `FTRLClassifier.fit_stream` on the synthetic stream:")
    lines.append("")
    lines.append("| rows | peak memory (MiB) | seconds |")
    lines.append("|---|---|---|")
    for n_rows, values in result["stream_memory"].items():
        lines.append(f"| {n_rows} | {values['peak_bytes'] / 2**20:.1f} | {values['seconds']:.1f} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the script runs")
    parser.add_argument("--rows", type=int, default=None,
                        help="rows of the synthetic CTR stream (default: 1e7, or 20000 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per learner (default: 3, 1 with --quick)")
    parser.add_argument("--data-dir", default=os.environ.get("FASTOPT_DATA_DIR"),
                        help="directory of a9a, a9a.t, w8a, news20.bz2 (default: $FASTOPT_DATA_DIR)")
    parser.add_argument("--no-write", action="store_true", help="print only; write neither JSON nor docs")
    parser.add_argument("--tune", action="store_true",
                        help="also report test log-loss with each learner's learning rate chosen "
                             "from a small grid on a validation split of the training rows")
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help="comma-separated subset of " + ", ".join(DATASETS) + " (default: all; "
                             "the stream memory runs with ctr only). A subset writes nothing")
    parser.add_argument("--tune-max-rows", type=int, default=1_000_000,
                        help="cap on the rows that train each candidate of --tune (default 1e6)")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("--data-dir or FASTOPT_DATA_DIR is required")
    chosen = [name for name in args.datasets.split(",") if name]
    unknown = sorted(set(chosen) - set(DATASETS))
    if unknown or not chosen:
        parser.error(f"--datasets: expected names among {', '.join(DATASETS)}, got {args.datasets!r}")
    if set(chosen) != set(DATASETS):
        args.no_write = True
    rows = args.rows or (20_000 if args.quick else 10_000_000)
    repeats = args.repeats or (1 if args.quick else 3)
    max_train_rows = 3000 if args.quick else None

    result = {"quick": args.quick, "repeats": repeats, "environment": environment(), "datasets": {}}
    tuned = {}
    sets = load_libsvm_sets(Path(args.data_dir), max_train_rows)
    for name, (X, y, X_test, y_test) in sets.items():
        if name not in chosen:
            continue
        result["datasets"][name] = measure(name, X, y, X_test, y_test, repeats, bits=18)
        if args.tune:
            tuned[name] = measure_tuned(name, X, y, X_test, y_test, 18, args.tune_max_rows)

    if "ctr" not in chosen:
        return 0
    stream = CtrStream()
    test_rows = min(100_000, max(rows // 10, 1000))
    X_test, y_test = next(stream.chunks(test_rows, chunk_rows=test_rows, start_row=10**9))
    train = [chunk for chunk in stream.chunks(min(rows, 3000) if args.quick else rows)]
    X_train = sp.vstack([c[0] for c in train]).tocsr()
    y_train = np.concatenate([c[1] for c in train])
    # NOTE: the throughput run keeps the synthetic training rows in memory (about 250 bytes per
    # row); the memory measurement below streams them.
    result["datasets"]["ctr-synthetic"] = measure("ctr", X_train, y_train, X_test, y_test, repeats, bits=CTR_BITS)
    if args.tune:
        tuned["ctr-synthetic"] = measure_tuned("ctr", X_train, y_train, X_test, y_test, CTR_BITS,
                                               args.tune_max_rows)
        result["tuned"] = tuned
        result["tune_max_rows"] = args.tune_max_rows
    lengths = sorted({max(rows // 4, 1000), max(rows // 2, 1000), rows})
    result["stream_memory"] = stream_memory(lengths)

    if not args.no_write:
        write_outputs(RESULTS, DOCS, BEGIN, END, result, render_section(result), REPO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
