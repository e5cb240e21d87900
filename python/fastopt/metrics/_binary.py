"""Metrics of binary classification with labels in {0, 1} and 1 the positive class.

Each function matches the scikit-learn 1.9 function of the same name on binary
input, including its conventions:

- precision, recall and F1 return ``zero_division`` when their denominator is
  zero. The default is 0.0 without a warning, where scikit-learn's default
  ``"warn"`` returns 0.0 and warns.
- :func:`log_loss` clips probabilities to ``[eps, 1 - eps]``, with ``eps`` the
  machine epsilon of their dtype.
- :func:`roc_auc` returns NaN when only one class is present.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["accuracy", "confusion_counts", "f1", "log_loss", "precision", "recall", "roc_auc"]


def _as_labels(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one sample, got an empty array")
    if array.dtype == bool:
        return array
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name}: expected numeric labels 0 and 1, got dtype {array.dtype}")
    invalid = (array != 0) & (array != 1)
    if invalid.any():
        index = int(np.argmax(invalid))
        raise ValueError(f"{name}[{index}]: expected a label 0 or 1, got {array[index].item()!r}")
    return array == 1


def _as_scores(name: str, values, size: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size != size:
        raise ValueError(f"{name}: expected shape ({size},) to match y_true, got {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name}: expected real numbers, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        index = int(np.argmin(finite))
        raise ValueError(f"{name}[{index}]: expected a finite number, got {array[index].item()!r}")
    return array


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    true = _as_labels("y_true", y_true)
    pred = _as_labels("y_pred", y_pred)
    if pred.size != true.size:
        raise ValueError(f"y_pred: expected {true.size} labels to match y_true, got {pred.size}")
    return true, pred


def confusion_counts(y_true, y_pred) -> tuple[int, int, int, int]:
    """Count true positives, false positives, false negatives and true negatives, in that order."""
    true, pred = _pair(y_true, y_pred)
    tp = int(np.count_nonzero(true & pred))
    fp = int(np.count_nonzero(~true & pred))
    fn = int(np.count_nonzero(true & ~pred))
    return tp, fp, fn, true.size - tp - fp - fn


def _ratio(numerator: int, denominator: int, zero_division: float) -> float:
    return numerator / denominator if denominator else float(zero_division)


def accuracy(y_true, y_pred) -> float:
    """Compute the fraction of samples whose predicted label equals the true one."""
    true, pred = _pair(y_true, y_pred)
    return float(np.count_nonzero(true == pred)) / true.size


def precision(y_true, y_pred, *, zero_division: float = 0.0) -> float:
    """Compute ``tp / (tp + fp)``, or ``zero_division`` when nothing is predicted positive."""
    tp, fp, _, _ = confusion_counts(y_true, y_pred)
    return _ratio(tp, tp + fp, zero_division)


def recall(y_true, y_pred, *, zero_division: float = 0.0) -> float:
    """Compute ``tp / (tp + fn)``, or ``zero_division`` when no sample is positive."""
    tp, _, fn, _ = confusion_counts(y_true, y_pred)
    return _ratio(tp, tp + fn, zero_division)


def f1(y_true, y_pred, *, zero_division: float = 0.0) -> float:
    """Compute ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and recall.

    Returns ``zero_division`` when there are neither positive samples nor
    positive predictions.
    """
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    return _ratio(2 * tp, 2 * tp + fp + fn, zero_division)


def log_loss(y_true, y_prob) -> float:
    r"""Compute the mean negative log-likelihood of probabilities of the positive class.

    .. math:: -\frac1n \sum_i y_i \log p_i + (1 - y_i) \log(1 - p_i)

    where ``p_i`` and ``1 - p_i`` are each clipped to ``[eps, 1 - eps]``,
    ``eps`` the machine epsilon of ``y_prob``'s dtype (of float64 for
    integer input), so a confident mistake costs a finite amount.
    """
    true = _as_labels("y_true", y_true)
    prob = _as_scores("y_prob", y_prob, true.size)
    outside = (prob < 0) | (prob > 1)
    if outside.any():
        index = int(np.argmax(outside))
        raise ValueError(f"y_prob[{index}]: expected a probability in [0, 1], got {prob[index].item()!r}")
    eps = np.finfo(prob.dtype).eps
    positive = np.clip(prob, eps, 1 - eps)
    negative = np.clip(1 - prob, eps, 1 - eps)
    likelihood = np.where(true, positive, negative)
    return float(-np.mean(np.log(likelihood, dtype=np.float64)))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Return the 1-based ranks of ``values``, each tie group getting the mean of its ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # A new tie group starts wherever the sorted value changes.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    # Positions start..end-1 hold ranks start+1..end, whose mean is (start + 1 + end) / 2.
    group_ranks = (starts + 1 + ends) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(group_ranks, ends - starts)
    return ranks


def roc_auc(y_true, y_score) -> float:
    r"""Compute the area under the ROC curve from scores that rank positives higher.

    Uses the Mann-Whitney form: the probability that a random positive
    scores above a random negative, ties counting one half,

    .. math:: \frac{\sum_{i: y_i = 1} r_i - n_+ (n_+ + 1) / 2}{n_+ n_-}

    with ``r_i`` the rank of ``y_score[i]`` among all scores, tied scores
    sharing the mean of their ranks. This equals the trapezoidal area under
    the ROC curve. Returns NaN when ``y_true`` contains one class only.

    References
    ----------
    Hanley, J. A. and McNeil, B. J. "The meaning and use of the area under a
    receiver operating characteristic (ROC) curve", Radiology 143, 1982.
    """
    true = _as_labels("y_true", y_true)
    score = _as_scores("y_score", y_score, true.size)
    n_positive = int(np.count_nonzero(true))
    n_negative = true.size - n_positive
    if n_positive == 0 or n_negative == 0:
        return math.nan
    rank_sum = float(np.sum(_average_ranks(score)[true]))
    return (rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)
