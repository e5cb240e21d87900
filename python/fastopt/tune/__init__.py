"""Hyperparameter search over estimators with scikit-learn's interface.

The search spaces (:class:`Uniform`, :class:`LogUniform`, :class:`IntUniform`,
:class:`Categorical`, or plain lists of values) and the search strategies, which propose
candidate parameter dicts in batches and learn from their scores (see
:class:`SearchStrategy` for the protocol that every strategy, built in or not, implements).
"""

from fastopt.tune._space import Categorical, Distribution, IntUniform, LogUniform, Uniform
from fastopt.tune._strategy import GridStrategy, RandomStrategy, SearchStrategy

__all__ = [
    "Categorical",
    "Distribution",
    "GridStrategy",
    "IntUniform",
    "LogUniform",
    "RandomStrategy",
    "SearchStrategy",
    "Uniform",
]
