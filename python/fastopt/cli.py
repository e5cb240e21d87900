"""The ``fastopt`` command: train a regularized linear model on a LIBSVM file and report metrics.

``fastopt train`` loads the data, fits a model of :mod:`fastopt.linear_model` (or an online
learner of :mod:`fastopt.online`), shows the solver's progress on stderr, prints a metrics
table and the time of each stage, and can save the model. ``fastopt evaluate`` and
``fastopt predict`` use a saved model on another file; ``fastopt info`` prints the build.
Without ``--data``, ``fastopt train`` runs on a generated click-through-rate-like problem.

Exit status: 0 on success, 2 for invalid arguments, 1 when a file is missing or unreadable,
the data cannot be used or training fails. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

import fastopt
from fastopt import metrics
from fastopt.datasets import load_svmlight_files, make_sparse_classification
from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from fastopt.linear_model._solve import SOLVERS as BATCH_SOLVERS
from fastopt.model_file import load_model, save_model
from fastopt.online import FTRLClassifier, SGDClassifier, SGDRegressor

ONLINE_SOLVERS = ("sgd", "ftrl")
SOLVERS = tuple(BATCH_SOLVERS) + ONLINE_SOLVERS
PENALTIES = ("l2", "l1", "elasticnet", "none")

# The problem generated when no --data is given: sized to train and evaluate in well under a
# minute on two cores, with a test split from the same distribution.
DEFAULT_PROBLEM = {"n_samples": 250_000, "n_features": 2**14, "n_fields": 20, "random_state": 0}
DEFAULT_TEST_ROWS = 50_000


class CommandError(Exception):
    """A problem with the files or the data, reported as one line with exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to find the usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# -- argument types ---------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _int_in(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer in [{low}, {high}], got {text!r}")
        return value

    return parse


# set_num_threads accepts up to this many threads.
_MAX_THREADS = 4096


def _number(low: float, high: float = math.inf, *, low_open=False, high_open=False):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if not math.isfinite(value) or below or above:
            left = "(" if low_open else "["
            right = ")" if high_open or math.isinf(high) else "]"
            raise argparse.ArgumentTypeError(
                f"expected a number in {left}{low:g}, {high:g}{right}, got {text!r}")
        return value

    return parse


def _zero_based(text: str):
    choices = {"auto": "auto", "true": True, "false": False}
    if text.lower() not in choices:
        raise argparse.ArgumentTypeError(f"expected auto, true or false, got {text!r}")
    return choices[text.lower()]


# -- parser -----------------------------------------------------------------------------


def _add_common(command) -> None:
    command.add_argument("--threads", type=_int_in(1, _MAX_THREADS), metavar="N",
                         help="threads of fastopt's kernels (default: the OpenMP default)")
    command.add_argument("--json", action="store_true", help="print the report as JSON")
    command.add_argument("-q", "--quiet", action="store_true",
                         help="no progress on stderr; errors are still reported")


def _add_model_and_data(command, data_help: str) -> None:
    command.add_argument("--model", required=True, metavar="PATH", help="saved model (.npz)")
    command.add_argument("--data", required=True, metavar="FILE", help=data_help)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``fastopt`` command and its subcommands."""
    parser = _Parser(prog="fastopt",
                     description="Train regularized linear models on LIBSVM files with fastopt.")
    parser.add_argument("--version", action="version", version=f"fastopt {fastopt.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train a model and report its metrics",
        description="Train a regularized linear model on a LIBSVM/SVMlight file, print metrics on "
        "the test file, a held-out fraction or the training data, and save the model. Without "
        "--data, train on a generated click-through-rate-like problem "
        "(fastopt.datasets.make_sparse_classification).",
    )
    train.add_argument("--data", metavar="FILE", help="training file (plain, .gz, .bz2 or .xz)")
    split = train.add_mutually_exclusive_group()
    split.add_argument("--test", metavar="FILE", help="file to evaluate on")
    split.add_argument("--validation-fraction", type=_number(0.0, 1.0, low_open=True, high_open=True),
                       metavar="F", help="hold out this fraction of the training rows (seeded by "
                       "--seed) and evaluate on it")
    train.add_argument("--n-features", type=_positive_int, metavar="D",
                       help="number of features (default: the widest file)")
    train.add_argument("--zero-based", type=_zero_based, default="auto", metavar="auto|true|false",
                       help="whether feature indices start at 0; auto: when some file has index 0 "
                       "(default: auto)")
    train.add_argument("--model", choices=("logistic", "linear"), default="logistic",
                       help="logistic regression (binary or multinomial) or least squares "
                       "(default: %(default)s)")
    train.add_argument("--penalty", choices=PENALTIES, default="l2",
                       help="regularization of the coefficients (default: %(default)s)")
    train.add_argument("--alpha", type=_number(0.0), default=1e-4,
                       help="penalty strength on the mean loss (default: %(default)s)")
    train.add_argument("--l1-ratio", type=_number(0.0, 1.0), default=0.5,
                       help="L1 share of an elastic-net penalty (default: %(default)s)")
    train.add_argument("--solver", choices=SOLVERS, default="auto",
                       help="full-batch solver, or sgd / ftrl for online learning "
                       "(default: %(default)s)")
    train.add_argument("--no-intercept", dest="fit_intercept", action="store_false",
                       help="fit no intercept (the dual-cd solver requires this)")
    train.add_argument("--tol", type=_number(0.0, low_open=True), default=1e-4,
                       help="relative optimality tolerance of full-batch solvers "
                       "(default: %(default)s)")
    train.add_argument("--max-iter", type=_positive_int, default=1000,
                       help="iteration limit of full-batch solvers (default: %(default)s)")
    train.add_argument("--epochs", type=_positive_int, default=5,
                       help="passes over the data of online solvers (default: %(default)s)")
    train.add_argument("--learning-rate", type=_number(0.0, low_open=True), metavar="LR",
                       help="online solvers: FTRL's alpha (default 0.1), or a constant SGD step "
                       "(default: SGD's 'optimal' schedule)")
    train.add_argument("--early-stopping", action="store_true",
                       help="stop when the loss on a held-out 10%% of the training rows stops "
                       "improving, and keep the best iterate")
    # NumPy's legacy RandomState, which scikit-learn's splitters take, needs a 32-bit seed.
    train.add_argument("--seed", type=_int_in(0, 2**32 - 1), default=0,
                       help="seed of splits and shuffling (default: %(default)s)")
    train.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                       help="floating-point type of the loaded features (default: %(default)s)")
    train.add_argument("--output", metavar="PATH", help="save the model to this .npz file")
    _add_common(train)
    train.set_defaults(handler=run_train)

    evaluate = commands.add_parser(
        "evaluate", help="report a saved model's metrics on a file",
        description="Load a model saved by 'fastopt train --output' and print its metrics on a "
        "LIBSVM file.")
    _add_model_and_data(evaluate, "LIBSVM file to evaluate on")
    _add_common(evaluate)
    evaluate.set_defaults(handler=run_evaluate)

    predict = commands.add_parser(
        "predict", help="write a saved model's predictions for a file",
        description="Load a saved model and write one prediction per row of a LIBSVM file: the "
        "label (classifiers) or value (regressors), or with --proba the class probabilities.")
    _add_model_and_data(predict, "LIBSVM file (labels unused)")
    predict.add_argument("--output", metavar="PATH", help="write here instead of stdout")
    predict.add_argument("--proba", action="store_true",
                         help="classifiers: write the probability of each class, comma-separated "
                         "in the order of the model's classes")
    predict.add_argument("--threads", type=_int_in(1, _MAX_THREADS), metavar="N",
                         help="threads of fastopt's kernels (default: the OpenMP default)")
    predict.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    predict.set_defaults(handler=run_predict, json=False)

    info = commands.add_parser("info", help="print version, instruction set, threads and OpenMP")
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.set_defaults(handler=run_info, quiet=True)
    return parser


# -- fastopt info -----------------------------------------------------------------------


def collect_info() -> dict:
    """Return the version and configuration that ``fastopt info`` reports."""
    import scipy

    return {
        "fastopt": fastopt.__version__,
        "isa": fastopt.active_isa(),
        "available_isas": fastopt.available_isas(),
        "threads": fastopt.get_num_threads(),
        "openmp": fastopt.openmp_enabled(),
        "solvers": list(SOLVERS[1:]),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def run_info(args) -> int:
    info = collect_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{key + ':':<16}{value}")
    return 0


# -- data -------------------------------------------------------------------------------


def _check_input_file(option: str, path: str | None) -> None:
    if path is None:
        return
    if os.path.isdir(path):
        raise CommandError(f"{option} {path}: is a directory, expected a LIBSVM file")
    # exists, not isfile: a named pipe or /dev/stdin is a valid source of text.
    if not os.path.exists(path):
        raise CommandError(f"{option} {path}: file not found")


def _check_output_path(option: str, path: str | None) -> None:
    if path is None:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CommandError(f"{option} {path}: directory {directory} not found")
    if os.path.isdir(path):
        raise CommandError(f"{option} {path}: is a directory, expected a file name")


def load_files(paths, *, zero_based, n_features, dtype):
    """Load LIBSVM files with one width and one indexing; return (pairs, zero_based used).

    The files are read with raw indices, then shifted when they are one-based, so the
    decision of ``zero_based="auto"`` (one-based unless some file has index 0, as in
    scikit-learn) is known and can be stored with the model.
    """
    try:
        loaded = load_svmlight_files(paths, zero_based=True, dtype=dtype)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    pairs = [(loaded[2 * i], loaded[2 * i + 1]) for i in range(len(paths))]
    smallest = min((int(X.indices.min()) for X, _ in pairs if X.nnz), default=1)
    if zero_based == "auto":
        zero_based = smallest == 0
    if not zero_based and smallest == 0:
        path = next(p for p, (X, _) in zip(paths, pairs) if X.nnz and X.indices.min() == 0)
        raise CommandError(f"{path}: has feature index 0, but the indices are one-based "
                           "(--zero-based false, or the indexing the model was trained with)")
    widest = max(X.shape[1] for X, _ in pairs) - (0 if zero_based else 1)
    width = widest if n_features is None else n_features
    result = []
    for path, (X, y) in zip(paths, pairs):
        if not zero_based:
            X.indices -= 1
        used = int(X.indices.max()) + 1 if X.nnz else 0
        if used > width:
            raise CommandError(f"{path}: has feature index {used - 1 + (0 if zero_based else 1)}, "
                               f"beyond the {width} features {'given by --n-features' if n_features else 'expected'}")
        if X.shape[0] == 0:
            raise CommandError(f"{path}: no samples found")
        if not np.isfinite(X.data).all():
            raise CommandError(f"{path}: feature values must be finite; found NaN or infinity")
        if not np.isfinite(y).all():
            raise CommandError(f"{path}: labels must be finite; found NaN or infinity")
        X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], width), copy=False)
        result.append((X, y))
    return result, bool(zero_based)


def _fit_to_width(path, X, width):
    """Give X the model's width, or raise when the file uses features the model lacks."""
    used = int(X.indices.max()) + 1 if X.nnz else 0
    if used > width:
        raise CommandError(f"{path}: uses feature {used} (counting from 1), but the model was "
                           f"trained on {width} features")
    return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], width), copy=False)


# -- models -----------------------------------------------------------------------------


def build_estimator(args, n_samples: int):
    """Return the unfitted estimator that the train options describe."""
    penalty = None if args.penalty == "none" else args.penalty
    verbose = 0 if args.quiet else 1
    if args.solver in ONLINE_SOLVERS:
        return _online_estimator(args, penalty, n_samples, verbose)
    common = dict(fit_intercept=args.fit_intercept, solver=args.solver, tol=args.tol, max_iter=args.max_iter,
                  early_stopping=args.early_stopping, random_state=args.seed, verbose=verbose)
    if args.model == "logistic":
        return LogisticRegression(penalty=penalty, alpha=args.alpha, l1_ratio=args.l1_ratio, **common)
    if penalty is None:
        return LinearRegression(**common)
    if penalty == "l2":
        return Ridge(alpha=args.alpha, **common)
    if penalty == "l1":
        return Lasso(alpha=args.alpha, **common)
    return ElasticNet(alpha=args.alpha, l1_ratio=args.l1_ratio, **common)


def _online_estimator(args, penalty, n_samples, verbose):
    if args.solver == "ftrl":
        if args.model != "logistic":
            raise CommandError("--solver ftrl: trains logistic models only; use --model logistic")
        # FTRL's l1 and l2 act on the summed loss; alpha acts on the mean loss.
        l1_share = {None: 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": args.l1_ratio}[penalty]
        scale = 0.0 if penalty is None else args.alpha * n_samples
        return FTRLClassifier(alpha=args.learning_rate or 0.1, l1=scale * l1_share,
                              l2=scale * (1.0 - l1_share), epochs=args.epochs,
                              random_state=args.seed, early_stopping=args.early_stopping,
                              fit_intercept=args.fit_intercept, verbose=verbose)
    schedule = {} if args.learning_rate is None else {"learning_rate": "constant",
                                                      "eta0": args.learning_rate}
    common = dict(penalty=penalty, alpha=args.alpha, l1_ratio=args.l1_ratio, max_iter=args.epochs,
                  tol=None, random_state=args.seed, early_stopping=args.early_stopping,
                  fit_intercept=args.fit_intercept, verbose=verbose, **schedule)
    if args.model == "logistic":
        return SGDClassifier(loss="log_loss", **common)
    return SGDRegressor(loss="squared_error", **common)


def describe(estimator) -> str:
    """Return ``Name(key=value, ...)`` with the parameters that shape the model."""
    keys = ("penalty", "alpha", "l1_ratio", "solver", "loss", "l1", "l2", "max_iter", "epochs")
    params = estimator.get_params()
    settings = [f"{k}={params[k]!r}" for k in keys if k in params]
    return f"{type(estimator).__name__}({', '.join(settings)})"


def _is_classifier(estimator) -> bool:
    return hasattr(estimator, "classes_") or getattr(estimator, "_estimator_type", "") == "classifier"


# -- metrics ----------------------------------------------------------------------------


def _safely(compute):
    """Return (value, None), or (None, reason) when the metric is undefined on this data."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(compute())
        except ValueError as exc:
            return None, str(exc)
    if not math.isfinite(value):
        # scikit-learn's convention: an undefined score warns and returns NaN. An overflow
        # gives infinity, which JSON cannot hold either.
        reasons = [str(w.message) for w in caught]
        if reasons:
            return None, reasons[0]
        return None, "undefined on this data" if math.isnan(value) else "overflowed to infinity"
    return value, None


def classification_metrics(estimator, X, y) -> tuple[dict, dict]:
    """Return ({metric: value or None}, {metric: why undefined}) for a classifier on (X, y)."""
    classes = np.asarray(estimator.classes_)
    predicted = estimator.predict(X)
    probability = estimator.predict_proba(X)
    values, notes = {}, {}

    def record(name, compute):
        values[name], reason = _safely(compute)
        if reason is not None:
            notes[name] = reason

    record("accuracy", lambda: metrics.accuracy_score(y, predicted))
    if classes.size == 2:
        positive = classes[1]
        present = np.isin(y, classes)
        record("precision", lambda: metrics.precision_score(y, predicted, pos_label=positive,
                                                            zero_division=0.0))
        record("recall", lambda: metrics.recall_score(y, predicted, pos_label=positive,
                                                      zero_division=0.0))
        record("f1", lambda: metrics.f1_score(y, predicted, pos_label=positive, zero_division=0.0))
        truth = (y == positive).astype(np.int64)
        record("roc_auc", lambda: metrics.roc_auc_score(truth, probability[:, 1]))
        record("pr_auc", lambda: metrics.average_precision_score(truth, probability[:, 1]))
        record("log_loss", lambda: _log_loss(y, probability, classes, present))
    else:
        for name, function in (("precision", metrics.precision_score),
                               ("recall", metrics.recall_score), ("f1", metrics.f1_score)):
            record(f"{name}_macro", lambda f=function: f(y, predicted, labels=classes,
                                                         average="macro", zero_division=0.0))
        present = np.isin(y, classes)
        record("roc_auc_ovr", lambda: _macro_one_vs_rest(metrics.roc_auc_score, y, probability,
                                                         classes))
        record("pr_auc_ovr", lambda: _macro_one_vs_rest(metrics.average_precision_score, y,
                                                        probability, classes))
        record("log_loss", lambda: _log_loss(y, probability, classes, present))
    return values, notes


def _log_loss(y, probability, classes, present):
    if not present.all():
        unknown = np.unique(y[~present])[:5]
        raise ValueError(f"labels {unknown.tolist()} were not seen in training")
    return metrics.log_loss(y, probability, labels=classes)


def _macro_one_vs_rest(score, y, probability, classes):
    """Mean over classes of the binary score of 'class k against the rest'."""
    per_class = []
    for k, label in enumerate(classes):
        truth = (y == label).astype(np.int64)
        if 0 < truth.sum() < truth.size:
            per_class.append(score(truth, probability[:, k]))
    if not per_class:
        raise ValueError("no class has both positive and negative samples")
    return np.mean(per_class)


def regression_metrics(estimator, X, y) -> tuple[dict, dict]:
    predicted = estimator.predict(X)
    values, notes = {}, {}
    for name, function in (("rmse", metrics.root_mean_squared_error),
                           ("mae", metrics.mean_absolute_error), ("r2", metrics.r2_score)):
        values[name], reason = _safely(lambda f=function: f(y, predicted))
        if reason is not None:
            notes[name] = reason
    return values, notes


def compute_metrics(estimator, X, y):
    if _is_classifier(estimator):
        return classification_metrics(estimator, X, y)
    return regression_metrics(estimator, X, y)


# -- reports ----------------------------------------------------------------------------


def _shape_text(shape, nnz) -> str:
    return f"{shape[0]:,} samples x {shape[1]:,} features, {nnz:,} nonzeros"


def print_report(report: dict) -> None:
    """Print the human-readable report of train or evaluate."""
    if "train" in report:
        train = report["train"]
        print(f"data:      {train['source']}: {_shape_text(train['shape'], train['nnz'])}")
    if "model" in report:
        model = report["model"]
        status = f", {model['n_iter']} {model['unit']}" if model.get("n_iter") is not None else ""
        print(f"model:     {model['description']}{status}")
    evaluation = report["evaluation"]
    print(f"evaluated: {evaluation['source']} ({evaluation['split']}, "
          f"{evaluation['shape'][0]:,} samples)")
    print()
    print(f"{'metric':<16}{'value':>10}")
    for name, value in report["metrics"].items():
        text = f"{value:.4f}" if value is not None else "n/a"
        print(f"{name:<16}{text:>10}")
    for name, reason in report.get("undefined", {}).items():
        print(f"  {name}: n/a because {reason}")
    print()
    print(f"{'stage':<16}{'seconds':>10}")
    for stage, seconds in report["timing"].items():
        print(f"{stage:<16}{seconds:>10.3f}")
    if report.get("saved"):
        print()
        print(f"saved the model to {report['saved']}")


def _emit(report: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        print_report(report)


def _note(args, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


# -- fastopt train ----------------------------------------------------------------------


def _training_data(args, timing):
    """Return (X_train, y_train, X_eval, y_eval, sources, zero_based)."""
    started = time.perf_counter()
    dtype = np.dtype(args.dtype)
    if args.data is None:
        if args.n_features is not None:
            raise CommandError("--n-features: applies to --data files; the generated problem has "
                               f"{DEFAULT_PROBLEM['n_features']} features")
        if args.test is not None:
            raise CommandError("--test: needs --data; without --data the generated problem has "
                               "its own test rows")
        if args.model != "logistic":
            raise CommandError("--model linear: needs --data; the generated problem is a "
                               "classification problem")
        X, y = make_sparse_classification(**DEFAULT_PROBLEM, dtype=dtype)
        arguments = ", ".join(f"{k}={v}" for k, v in DEFAULT_PROBLEM.items())
        source = f"make_sparse_classification({arguments})"
        _note(args, f"fastopt train: no --data given; training on a generated click-through-rate-"
                    f"like problem, {source}, split into {len(y) - DEFAULT_TEST_ROWS:,} training "
                    f"and {DEFAULT_TEST_ROWS:,} test rows")
        cut = X.shape[0] - DEFAULT_TEST_ROWS
        timing["load"] = time.perf_counter() - started
        return X[:cut], y[:cut], X[cut:], y[cut:], (source, source + " test rows", "test"), True
    paths = [args.data] if args.test is None else [args.data, args.test]
    pairs, zero_based = load_files(paths, zero_based=args.zero_based, n_features=args.n_features,
                                   dtype=dtype)
    timing["load"] = time.perf_counter() - started
    (X, y) = pairs[0]
    if args.test is not None:
        return X, y, pairs[1][0], pairs[1][1], (args.data, args.test, "test"), zero_based
    if args.validation_fraction is not None:
        rng = np.random.default_rng(args.seed)
        order = rng.permutation(X.shape[0])
        n_eval = int(round(args.validation_fraction * X.shape[0]))
        if n_eval < 1 or n_eval >= X.shape[0]:
            raise CommandError(f"--validation-fraction {args.validation_fraction}: leaves no "
                               f"training or no evaluation rows out of {X.shape[0]}")
        evaluation_rows, training_rows = np.sort(order[:n_eval]), np.sort(order[n_eval:])
        return (X[training_rows], y[training_rows], X[evaluation_rows], y[evaluation_rows],
                (args.data, f"{args.data} held-out rows", "validation"), zero_based)
    return X, y, X, y, (args.data, args.data, "train"), zero_based


def _check_labels(args, y, source, split):
    if args.model == "logistic":
        classes = np.unique(y)
        if classes.size < 2:
            rows = "the training rows" if split == "validation" else "all labels"
            raise CommandError(f"{source}: {rows} are {classes[0]:g}; a classifier needs two "
                               "classes (use --model linear for a regression target)")
        if classes.size > 1000:
            raise CommandError(f"{source}: {classes.size} distinct labels; is this a regression "
                               "target? Use --model linear")
        if classes.size > 20:
            _note(args, f"fastopt train: note: {source} has {classes.size} distinct labels, so "
                        f"this trains a {classes.size}-class classifier; use --model linear for "
                        "a regression target")


def run_train(args) -> int:
    _check_input_file("--data", args.data)
    _check_input_file("--test", args.test)
    _check_output_path("--output", args.output)
    if args.threads is not None:
        fastopt.set_num_threads(args.threads)
    timing = {}
    X, y, X_eval, y_eval, (source, eval_source, split), zero_based = _training_data(args, timing)
    if X.shape[1] == 0:
        raise CommandError(f"{source}: no features found; every row has labels only")
    _check_labels(args, y, source, split)
    estimator = build_estimator(args, X.shape[0])

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            estimator.fit(X, y)
        except (ValueError, FloatingPointError) as exc:
            message = str(exc)
            if args.early_stopping and message.startswith("validation_fraction"):
                message = (f"--early-stopping sets aside 10% of the {X.shape[0]} training rows, "
                           "which leaves too few; train without it")
            raise CommandError(f"training failed: {message}") from None
    timing["train"] = time.perf_counter() - started
    for warning in caught:
        _note(args, f"fastopt train: warning: {warning.message}")

    started = time.perf_counter()
    values, undefined = compute_metrics(estimator, X_eval, y_eval)
    timing["evaluate"] = time.perf_counter() - started

    online = args.solver in ONLINE_SOLVERS
    report = {
        "train": {"source": source, "shape": list(X.shape), "nnz": int(X.nnz)},
        "model": {
            "description": describe(estimator),
            "class": type(estimator).__name__,
            "n_iter": int(estimator.n_iter_),
            "unit": "epochs" if online else "iterations",
            "solver": args.solver if online else estimator.solver_,
            "zero_based": zero_based,
        },
        "evaluation": {"source": eval_source, "split": split, "shape": list(X_eval.shape)},
        "metrics": values,
        "undefined": undefined,
        "timing": timing,
        "saved": None,
    }
    if args.output is not None:
        started = time.perf_counter()
        metadata = {"fastopt": fastopt.__version__, "train": report["train"],
                    "evaluation": report["evaluation"], "metrics": values,
                    "zero_based": zero_based, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        save_model(estimator, args.output, metadata)
        timing["save"] = time.perf_counter() - started
        report["saved"] = args.output
    _emit(report, args.json)
    return 0


# -- fastopt evaluate and predict -------------------------------------------------------


def _load_model_and_data(args):
    _check_input_file("--model", args.model)
    _check_input_file("--data", args.data)
    if args.threads is not None:
        fastopt.set_num_threads(args.threads)
    timing = {}
    started = time.perf_counter()
    try:
        estimator, metadata = load_model(args.model, with_metadata=True)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    zero_based = metadata.get("zero_based", "auto") if isinstance(metadata, dict) else "auto"
    if zero_based not in (True, False, "auto"):
        zero_based = "auto"
    width = int(estimator.n_features_in_)
    pairs, _ = load_files([args.data], zero_based=zero_based, n_features=None,
                          dtype=np.float64)
    X, y = pairs[0]
    X = _fit_to_width(args.data, X, width)
    timing["load"] = time.perf_counter() - started
    return estimator, X, y, timing


def run_evaluate(args) -> int:
    estimator, X, y, timing = _load_model_and_data(args)
    started = time.perf_counter()
    values, undefined = compute_metrics(estimator, X, y)
    timing["evaluate"] = time.perf_counter() - started
    report = {
        "model": {"description": describe(estimator), "class": type(estimator).__name__,
                  "source": args.model},
        "evaluation": {"source": args.data, "split": "evaluate", "shape": list(X.shape)},
        "metrics": values,
        "undefined": undefined,
        "timing": timing,
    }
    _emit(report, args.json)
    return 0


def run_predict(args) -> int:
    _check_output_path("--output", args.output)
    estimator, X, _, timing = _load_model_and_data(args)
    classifier = _is_classifier(estimator)
    if args.proba and not classifier:
        raise CommandError(f"--proba: the model is a {type(estimator).__name__}, which has no "
                           "class probabilities")
    if args.proba:
        rows = estimator.predict_proba(X)
        lines = [",".join(repr(float(v)) for v in row) for row in rows]
    else:
        lines = [_label_text(v) for v in estimator.predict(X)]
    text = "\n".join(lines) + ("\n" if lines else "")
    if args.output is None:
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
        _note(args, f"fastopt predict: wrote {len(lines):,} predictions to {args.output}")
    return 0


def _label_text(value) -> str:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    return repr(value) if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastopt`` command with ``argv`` (default: ``sys.argv[1:]``); return its status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.handler(args)
        # Flushed here so that a closed pipe is reported below, not at interpreter exit.
        sys.stdout.flush()
        return status
    except CommandError as exc:
        print(f"fastopt {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader closed stdout (`| head`), so exit quietly with SIGPIPE's status. Stdout
        # now points at /dev/null, where the interpreter's final flush has a place to write.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE (13)
    except OSError as exc:
        print(f"fastopt {args.command}: error: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 1
    except MemoryError:
        print(f"fastopt {args.command}: error: out of memory; check --n-features and the largest "
              "feature index in the data", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fastopt {args.command}: interrupted", file=sys.stderr)
        return 130
