"""Evaluation metrics with scikit-learn's names, signatures and results.

Classification and ranking metrics run on C++ kernels (confusion counts over label
codes, one radix sort per ranking problem, one pass for the log loss); labels of any
numeric or string dtype are mapped to codes in Python first. Regression metrics use
NumPy.
"""

from fastopt.metrics._classification import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    log_loss,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from fastopt.metrics._ranking import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from fastopt.metrics._regression import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

__all__ = [
    "accuracy_score",
    "average_precision_score",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
]
