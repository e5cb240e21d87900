"""Regularized linear and logistic regression on dense and sparse data.

Every estimator minimizes a mean loss plus
``alpha * (l1_ratio * ||coef||_1 + (1 - l1_ratio) / 2 * ||coef||_2^2)`` with the intercept not
penalized; see each class for how ``alpha`` maps to scikit-learn's ``C`` and ``alpha`` and to
Spark's ``regParam``.
"""

from fastopt.exceptions import ConvergenceWarning
from fastopt.linear_model._logistic import LogisticRegression
from fastopt.linear_model._path import alpha_max, regularization_path
from fastopt.linear_model._regression import ElasticNet, Lasso, LinearRegression, Ridge

__all__ = [
    "ConvergenceWarning",
    "ElasticNet",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "Ridge",
    "alpha_max",
    "regularization_path",
]
