"""Hyperparameter search over estimators with scikit-learn's interface.

:class:`GridSearch`, :class:`RandomSearch` and :class:`OptunaSearch` (optional dependency
optuna) evaluate candidates by k-fold or holdout validation in parallel threads, chain warm
starts along a regularization path, and refit the best candidate. Spaces are dicts of
parameter name to a list of values or a distribution (:class:`Uniform`,
:class:`LogUniform`, :class:`IntUniform`, :class:`Categorical`). Every search runs a
:class:`SearchStrategy`, which proposes candidates in batches and learns their scores;
:class:`Search` runs any strategy, built in or not.
"""

from fastopt.tune._results import ResultsTable
from fastopt.tune._search import GridSearch, RandomSearch, Search, clone
from fastopt.tune._space import Categorical, Distribution, IntUniform, LogUniform, Uniform
from fastopt.tune._strategy import GridStrategy, RandomStrategy, SearchStrategy
from fastopt.tune._validation import Holdout, KFold, StratifiedKFold

__all__ = [
    "Categorical",
    "Distribution",
    "GridSearch",
    "GridStrategy",
    "Holdout",
    "IntUniform",
    "KFold",
    "LogUniform",
    "OptunaSearch",
    "OptunaStrategy",
    "RandomSearch",
    "RandomStrategy",
    "ResultsTable",
    "Search",
    "SearchStrategy",
    "StratifiedKFold",
    "Uniform",
    "clone",
]


def __getattr__(name):
    # The Optuna classes import optuna only when used, so fastopt.tune imports without it.
    if name in ("OptunaSearch", "OptunaStrategy"):
        from fastopt.tune import _optuna

        return getattr(_optuna, name)
    raise AttributeError(f"module 'fastopt.tune' has no attribute {name!r}")
