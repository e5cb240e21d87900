"""The ``fastopt`` command: train a model on a LIBSVM file and report test metrics.

``fastopt train`` fits binary logistic regression with one of the optimizers
in :mod:`fastopt.optim` and prints log loss, accuracy, precision, recall, F1
and ROC-AUC on the test file (or on the training file when there is none).
``fastopt info`` prints the build and runtime configuration. Progress goes to
stderr through :mod:`logging`, the report to stdout.

Exit status: 0 on success, 2 for invalid arguments or missing files (with
argparse's usage message), 1 when the data cannot be used or training fails.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import math
import os
import platform
import sys
import time

import numpy as np

import fastopt
from fastopt import metrics, optim
from fastopt._logistic import SCHEDULES, fit_logistic_regression
from fastopt.datasets import load_svmlight_files
from fastopt.optim.optimizer import Optimizer

logger = logging.getLogger("fastopt.cli")

# Accepted label pairs (negative, positive) of binary LIBSVM files.
BINARY_LABELS = ((-1.0, 1.0), (0.0, 1.0), (1.0, 2.0))


class DataError(Exception):
    """Input data that parses but cannot be used, reported as a one-line error."""


def available_optimizers() -> dict[str, type[Optimizer]]:
    """Return the optimizer classes exported by :mod:`fastopt.optim`, keyed by lower-case name."""
    found = {}
    for name in optim.__all__:
        value = getattr(optim, name)
        if isinstance(value, type) and issubclass(value, Optimizer) and value is not Optimizer:
            found[name.lower()] = value
    return found


# -- argument parsing ---------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _float_at_least(low: float, *, strict: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"expected a finite number {'>' if strict else '>='} {low}, got {text!r}")
        return value

    return parse


def _optimizer_arg(text: str) -> tuple[str, object]:
    name, equals, raw = text.partition("=")
    if not equals or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a bare word such as a mode name stays a string
    return name, value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``fastopt`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="fastopt", description="Train models with fastopt's fused optimizers."
    )
    parser.add_argument("--version", action="version", version=f"fastopt {fastopt.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train binary logistic regression on a LIBSVM file",
        description="Train binary logistic regression on a LIBSVM/SVMlight file by mini-batch steps of a "
        "fastopt optimizer, then report metrics on the test file (or the training file without --test). "
        "Labels must be {-1, +1}, {0, 1} or {1, 2}; the larger one is the positive class.",
    )
    train.add_argument("--data", required=True, metavar="PATH", help="training file (plain, .gz or .bz2)")
    train.add_argument("--test", metavar="PATH", help="test file; default: evaluate on the training file")
    train.add_argument(
        "--n-features", type=_positive_int, metavar="D",
        help="number of features; default: the largest index in the files",
    )
    optimizers = available_optimizers()
    train.add_argument(
        "--optimizer", default="adam", choices=sorted(optimizers), type=str.lower,
        help="optimizer class of fastopt.optim (default: %(default)s)",
    )
    train.add_argument(
        "--optimizer-arg", action="append", type=_optimizer_arg, default=[], metavar="NAME=VALUE",
        help="extra keyword argument of the optimizer, as a Python literal, e.g. betas=(0.9,0.99); repeatable. "
        "A weight_decay here applies to the intercept too, unlike --l2",
    )
    train.add_argument("--lr", type=_float_at_least(0.0, strict=True), default=0.01,
                       help="learning rate (default: %(default)s)")
    train.add_argument("--epochs", type=_positive_int, default=5, help="passes over the training data "
                       "(default: %(default)s)")
    train.add_argument("--batch-size", type=_positive_int, default=256, help="rows per step (default: %(default)s)")
    train.add_argument("--l2", type=_float_at_least(0.0, strict=False), default=0.0,
                       help="coefficient lambda of the penalty lambda/2 * ||w||^2 on the weights, not the "
                       "intercept (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="seed of the row shuffling (default: %(default)s)")
    train.add_argument("--threads", type=_positive_int, metavar="N",
                       help="threads of fastopt's kernels; default: the OpenMP default")
    train.add_argument(
        "--schedule", choices=SCHEDULES, default="none",
        help="per-step learning-rate schedule: cosine decays to 0 over all steps; warmup-cosine first rises "
        "linearly from 1%% of --lr over 10%% of the steps (default: %(default)s)",
    )
    train.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                       help="floating-point type of the data and the parameters (default: %(default)s)")
    train.add_argument("--output", metavar="PATH",
                       help="save coef, intercept and the label values to this .npz file")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    train.add_argument("-q", "--quiet", action="store_true", help="log warnings only, not per-epoch progress")
    train.set_defaults(handler=run_train, command_parser=train)

    info = commands.add_parser("info", help="print version, instruction set, threads and OpenMP support")
    info.add_argument("--json", action="store_true", help="print as JSON")
    info.set_defaults(handler=run_info, command_parser=info)
    return parser


# -- fastopt info -------------------------------------------------------------


def collect_info() -> dict:
    """Return the version and configuration that ``fastopt info`` reports."""
    import scipy

    return {
        "fastopt": fastopt.__version__,
        "isa": fastopt.active_isa(),
        "available_isas": fastopt.available_isas(),
        "threads": fastopt.get_num_threads(),
        "openmp": fastopt.openmp_enabled(),
        "optimizers": [cls.__name__ for cls in available_optimizers().values()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def run_info(args, parser) -> int:
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


# -- fastopt train ------------------------------------------------------------


def binary_targets(labels: list[np.ndarray], names: list[str]) -> tuple[list[np.ndarray], tuple[float, float]]:
    """Map the labels of every file to {0, 1} with one accepted pair for all of them.

    Returns the mapped arrays and the pair (negative, positive) as written in
    the files. Raises DataError for more than two classes, for an unknown
    pair, or when all files together contain a single class.
    """
    classes = np.unique(np.concatenate(labels))
    if classes.size > 2:
        shown = ", ".join(f"{c:g}" for c in classes[:10]) + (", ..." if classes.size > 10 else "")
        raise DataError(
            f"{' and '.join(names)}: found {classes.size} distinct labels ({shown}); only binary "
            "classification is supported for now"
        )
    for pair in BINARY_LABELS:
        if classes.size == 2 and tuple(classes) == pair:
            break
    else:
        shown = ", ".join(f"{c:g}" for c in classes)
        if classes.size < 2:
            raise DataError(f"{' and '.join(names)}: all labels are {shown}; training needs two classes")
        raise DataError(f"{' and '.join(names)}: labels {{{shown}}} are not one of {{-1, +1}}, {{0, 1}} or {{1, 2}}")
    return [(y == pair[1]).astype(np.float64) for y in labels], pair


def evaluate(model, X, y) -> dict[str, float]:
    """Return log loss, accuracy, precision, recall, F1 and ROC-AUC of ``model`` on ``(X, y)``."""
    logits = model.decision_function(X)
    probability = model.predict_proba(X)
    predicted = logits > 0
    return {
        "log_loss": metrics.log_loss(y, probability, labels=[0.0, 1.0]),
        "accuracy": metrics.accuracy_score(y, predicted),
        "precision": metrics.precision_score(y, predicted, zero_division=0.0),
        "recall": metrics.recall_score(y, predicted, zero_division=0.0),
        "f1": metrics.f1_score(y, predicted, zero_division=0.0),
        "roc_auc": metrics.roc_auc_score(y, logits),
    }


def _check_paths(args, parser) -> None:
    for option, path in (("--data", args.data), ("--test", args.test)):
        if path is not None and os.path.isdir(path):
            parser.error(f"argument {option}: expected a LIBSVM file, got the directory {path}")
        if path is not None and not os.path.isfile(path):
            parser.error(f"argument {option}: file not found: {path}")
    if args.output is not None:
        directory = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(directory):
            parser.error(f"argument --output: directory not found: {directory}")


def _check_optimizer(args, parser) -> type[Optimizer]:
    """Construct the optimizer on a placeholder array so bad options fail before any data is read."""
    optimizer_class = available_optimizers()[args.optimizer]
    options = dict(args.optimizer_arg)
    if "lr" in options:
        parser.error("argument --optimizer-arg: set the learning rate with --lr")
    try:
        optimizer_class([np.zeros(1), np.zeros(1)], lr=args.lr, **options)
    except (TypeError, ValueError) as exc:
        parser.error(f"argument --optimizer-arg: invalid for {optimizer_class.__name__}: {exc}")
    return optimizer_class


def _load(args) -> tuple:
    paths = [args.data] if args.test is None else [args.data, args.test]
    started = time.perf_counter()
    try:
        loaded = load_svmlight_files(paths, n_features=args.n_features, dtype=np.dtype(args.dtype))
    except (ValueError, OSError) as exc:
        raise DataError(str(exc)) from None
    logger.info("loaded %s in %.2f s", " and ".join(paths), time.perf_counter() - started)
    for X, path in zip(loaded[0::2], paths):
        if not np.isfinite(X.data).all():
            raise DataError(f"{path}: feature values must be finite; found NaN or infinity")
        if X.shape[0] == 0:
            raise DataError(f"{path}: no samples found")
    return paths, loaded


def _describe(path: str, X) -> dict:
    return {"path": path, "n_samples": int(X.shape[0]), "n_features": int(X.shape[1]), "nnz": int(X.nnz)}


def _print_table(report: dict) -> None:
    train = report["train"]
    evaluation = report["evaluation"]
    print(
        f"trained {report['optimizer']['name']} (lr {report['optimizer']['lr']:g}, schedule "
        f"{report['schedule']}) for {len(report['epochs'])} epochs in {report['train_seconds']:.2f} s on "
        f"{train['path']}: {train['n_samples']:,} samples x {train['n_features']:,} features, "
        f"{train['nnz']:,} nonzeros"
    )
    print(f"evaluated on {evaluation['path']} ({evaluation['split']}, {evaluation['n_samples']:,} samples)")
    print()
    print(f"{'metric':<10} {'value':>8}")
    for name, value in report["metrics"].items():
        shown = "n/a" if value is None else f"{value:.4f}"
        print(f"{name:<10} {shown:>8}")


def run_train(args, parser) -> int:
    _check_paths(args, parser)
    optimizer_class = _check_optimizer(args, parser)
    if args.threads is not None:
        fastopt.set_num_threads(args.threads)

    paths, loaded = _load(args)
    targets, (negative, positive) = binary_targets(loaded[1::2], paths)
    X_train, y_train = loaded[0], targets[0]
    X_eval, y_eval = (loaded[2], targets[1]) if args.test is not None else (X_train, y_train)
    logger.info(
        "training %s on %d samples x %d features, labels %g -> 0 and %g -> 1",
        optimizer_class.__name__, X_train.shape[0], X_train.shape[1], negative, positive,
    )

    started = time.perf_counter()
    try:
        model = fit_logistic_regression(
            X_train, y_train, optimizer_class,
            lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, l2=args.l2,
            seed=args.seed, schedule=args.schedule, optimizer_args=dict(args.optimizer_arg),
        )
    except FloatingPointError as exc:
        raise DataError(str(exc)) from None
    train_seconds = time.perf_counter() - started

    scores = evaluate(model, X_eval, y_eval)
    report = {
        "train": _describe(paths[0], X_train),
        "evaluation": {**_describe(paths[-1], X_eval), "split": "test" if args.test else "train"},
        "labels": {"negative": negative, "positive": positive},
        "optimizer": {"name": optimizer_class.__name__, "lr": args.lr, **dict(args.optimizer_arg)},
        "schedule": args.schedule,
        "batch_size": args.batch_size,
        "l2": args.l2,
        "seed": args.seed,
        "dtype": args.dtype,
        "threads": fastopt.get_num_threads(),
        "epochs": [vars(record) for record in model.history],
        "train_seconds": train_seconds,
        # JSON has no NaN, so an undefined metric (ROC-AUC with one class) is null.
        "metrics": {name: (None if math.isnan(value) else value) for name, value in scores.items()},
        "model": None,
    }

    if args.output is not None:
        # Writing through a file object keeps the exact path; np.savez would append ".npz".
        with open(args.output, "wb") as f:
            np.savez(f, coef=model.coef, intercept=model.intercept, classes=np.array([negative, positive]))
        report["model"] = args.output
        logger.info("saved the model to %s", args.output)

    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        _print_table(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastopt`` command with ``argv`` (default: ``sys.argv[1:]``) and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args, args.command_parser)
    except DataError as exc:
        print(f"fastopt {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fastopt {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        # A feature index far beyond the data (such as 10**15) sizes the
        # weights past any machine's memory. Report it instead of a traceback.
        print(f"fastopt {args.command}: error: out of memory ({exc}); check --n-features and the "
              "largest feature index in the data", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fastopt {args.command}: interrupted", file=sys.stderr)
        return 130
