"""Evaluation metrics computed with NumPy, matching scikit-learn's definitions."""

from fastopt.metrics._binary import accuracy, confusion_counts, f1, log_loss, precision, recall, roc_auc

__all__ = ["accuracy", "confusion_counts", "f1", "log_loss", "precision", "recall", "roc_auc"]
