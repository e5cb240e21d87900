"""Ranking metrics from scores: ROC AUC, average precision and their curves.

Each binary problem is one call of a C++ kernel that radix-sorts the scores once and
scans the groups of tied scores. Tied scores form one threshold, as in scikit-learn.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from fastopt import _core
from fastopt.exceptions import UndefinedMetricWarning
from fastopt.metrics import _device
from fastopt.metrics._validation import (
    as_label_vector,
    as_scores,
    check_sample_weight,
    encode,
    find_label,
    first_non_finite,
    unique_labels,
)

__all__ = ["average_precision_score", "precision_recall_curve", "roc_auc_score", "roc_curve"]

_AVERAGES = (None, "micro", "macro", "weighted", "samples")


def _run(kernel, scores, column, positive, weight, name="y_score"):
    value, positive_weight, negative_weight, first_invalid = kernel(
        scores, column, positive, weight)
    if first_invalid >= 0:
        raise first_non_finite(name, scores if column < 0 else scores[:, column])
    return value, positive_weight, negative_weight


def _binary_auc(scores, column, positive, weight, kernel=_core.metrics_roc_auc) -> float:
    value, positive_weight, negative_weight = _run(kernel, scores, column, positive, weight)
    if positive_weight <= 0 or negative_weight <= 0:
        missing = "positive" if positive_weight <= 0 else "negative"
        warnings.warn(
            f"y_true has no {missing} samples of nonzero weight, so the ROC AUC is "
            "undefined and set to NaN", UndefinedMetricWarning, stacklevel=4)
        return math.nan
    return value


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None,
                  multi_class="raise", labels=None):
    """Compute the area under the ROC curve (true-positive rate against false-positive rate).

    For scores of one binary problem, with positives weighing ``P`` and negatives ``N``,

    .. math::

        \\mathrm{AUC} = \\frac{1}{PN} \\sum_k (FP_k - FP_{k-1})\\,
                        \\frac{TP_k + TP_{k-1}}{2},

    the trapezoidal area over the distinct scores in decreasing order, with ``TP_k`` and
    ``FP_k`` the weights of positives and negatives scoring at least the k-th score. It
    equals the Mann-Whitney probability that a positive outscores a negative, ties
    counting one half.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. With two classes the greater label is the positive one.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Scores of the positive class (binary) or class probabilities (multiclass, rows
        summing to one, columns in the order of ``labels`` or the sorted classes).
    average : {"macro", "weighted", "micro", None}, default="macro"
        Multiclass one-vs-rest averaging: unweighted mean, mean weighted by class
        weight, AUC of all (sample, class) pairs pooled, or None for per-class scores.
        Ignored for binary input.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    multi_class : {"raise", "ovr"}, default="raise"
        Multiclass input raises with "raise" (as in scikit-learn); "ovr" scores each
        class against the rest. One-vs-one is not implemented.
    labels : array-like, optional
        Sorted classes indexing the columns of ``y_score`` (multiclass only).

    Returns
    -------
    float or numpy.ndarray
        NaN, with an UndefinedMetricWarning, when ``y_true`` contains one class only.

    References
    ----------
    T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
    2006. D. J. Hand and R. J. Till, "A simple generalisation of the area under the ROC
    curve for multiple class classification problems", Machine Learning 45, 2001.

    Examples
    --------
    >>> from fastopt.metrics import roc_auc_score
    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    if average not in _AVERAGES:
        raise ValueError(f"average: expected one of {_AVERAGES}, got {average!r}")
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"multi_class: expected 'raise' or 'ovr', got {multi_class!r}")
    ops = _device.ops_for(y_true=y_true, y_score=y_score, sample_weight=sample_weight)
    true = ops.as_label_vector("y_true", y_true)
    scores = ops.as_scores("y_score", y_score, true.shape[0])
    weight = ops.check_sample_weight(sample_weight, true.shape[0])
    classes = ops.unique_labels(true)
    if classes.size > 2 or (scores.ndim == 2 and scores.shape[1] > 2):
        if ops.gpu:
            raise NotImplementedError(
                "roc_auc_score: multiclass y_true on the GPU is not implemented yet; pass "
                "NumPy arrays (cupy.asnumpy) to score it on the CPU")
        return _multiclass_auc(true, scores, classes, weight, average, multi_class, labels)
    if scores.ndim != 1:
        raise ValueError(
            f"y_score: expected a 1-D array of scores for binary y_true, got shape {scores.shape}")
    if classes.size < 2:
        warnings.warn(
            f"y_true contains only the class {classes.tolist()[0]!r}, so the ROC AUC is undefined "
            "and set to NaN", UndefinedMetricWarning, stacklevel=2)
        return math.nan
    positive = (ops.encode(true, classes) == 1).view(np.uint8)
    return _binary_auc(scores, -1, positive, weight, ops.roc_auc)


def _multiclass_auc(true, scores, classes, weight, average, multi_class, labels):
    if multi_class == "raise":
        raise ValueError(
            f"multi_class: y_true has {classes.size} classes, so pass multi_class='ovr'")
    if multi_class == "ovo":
        raise ValueError("multi_class: 'ovo' is not implemented; use multi_class='ovr'")
    if scores.ndim != 2:
        raise ValueError(
            "y_score: expected shape (n_samples, n_classes) for multiclass y_true, got "
            f"shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise first_non_finite("y_score", scores)
    if not np.allclose(1, scores.sum(axis=1)):
        raise ValueError(
            "y_score: multiclass ROC AUC needs probabilities, but some rows do not sum to 1")
    if average == "samples":
        raise ValueError("average: 'samples' needs multilabel targets, which are not supported")
    if labels is not None:
        given = np.asarray(labels)
        classes = unique_labels(given)
        if classes.size != given.size:
            raise ValueError(f"labels: expected unique labels, got {given.tolist()}")
        if not np.array_equal(classes, given):
            raise ValueError(f"labels: expected sorted labels, got {given.tolist()}")
        if classes.size != scores.shape[1]:
            raise ValueError(
                f"labels: has {classes.size} labels but y_score has {scores.shape[1]} columns")
    elif classes.size != scores.shape[1]:
        raise ValueError(
            f"y_score: has {scores.shape[1]} columns but y_true has {classes.size} classes")
    codes = encode(true, classes)
    if labels is not None and ((codes < 0) | (codes >= classes.size)).any():
        index = int(np.argmax((codes < 0) | (codes >= classes.size)))
        raise ValueError(f"y_true[{index}]: {true[index].item()!r} is not one of labels")
    k = classes.size
    if average == "micro":
        one_hot = np.zeros(scores.shape, dtype=np.uint8)
        one_hot[np.arange(codes.size), codes] = 1
        pooled_weight = None if weight is None else np.repeat(weight, k)
        return _binary_auc(scores.ravel(), -1, one_hot.ravel(), pooled_weight)
    per_class = np.empty(k)
    for c in range(k):
        positive = (codes == c).view(np.uint8)
        per_class[c] = _binary_auc(scores, c, positive, weight)
    if average is None:
        return per_class
    if average == "weighted":
        class_weight = np.bincount(codes, weights=weight, minlength=k).astype(np.float64)
        if np.isclose(class_weight.sum(), 0.0):
            return 0.0
        per_class[class_weight == 0] = 0.0
        return float(np.average(per_class, weights=class_weight))
    return float(np.mean(per_class))


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1,
                            sample_weight=None) -> float:
    """Compute average precision, the step-wise area under the precision-recall curve.

    .. math:: \\mathrm{AP} = \\sum_k (R_k - R_{k-1}) P_k

    over the distinct scores in decreasing order, with recall ``R_k = TP_k / P`` and
    precision ``P_k = TP_k / (TP_k + FP_k)`` at threshold k. Unlike the trapezoidal
    area, this does not interpolate between thresholds.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels. Multiclass input raises ValueError.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class.
    average : str or None, default="macro"
        Accepted for compatibility; binary input has one score, so it has no effect.
    pos_label : int, float, bool or str, default=1
        The positive class.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.

    Returns
    -------
    float
        0.0, with a UserWarning, when no positive sample has nonzero weight.

    References
    ----------
    C. D. Manning, P. Raghavan and H. Schütze, *Introduction to Information Retrieval*,
    Cambridge University Press, 2008, sec. 8.4.

    Examples
    --------
    >>> from fastopt.metrics import average_precision_score
    >>> round(average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    if average not in _AVERAGES:
        raise ValueError(f"average: expected one of {_AVERAGES}, got {average!r}")
    ops = _device.ops_for(y_true=y_true, y_score=y_score, sample_weight=sample_weight)
    true = ops.as_label_vector("y_true", y_true)
    scores = ops.as_scores("y_score", y_score, true.shape[0])
    weight = ops.check_sample_weight(sample_weight, true.shape[0])
    positive = _positive_class(true, pos_label, default_binary=False, ops=ops)
    if scores.ndim != 1:
        raise ValueError(f"y_score: expected a 1-D array of scores, got shape {scores.shape}")
    value, positive_weight, _ = _run(ops.average_precision, scores, -1, positive, weight)
    if positive_weight <= 0:
        warnings.warn(
            "y_true has no positive samples of nonzero weight, so recall is undefined; "
            "average precision is set to 0.0", UserWarning, stacklevel=2)
        return 0.0
    return float(max(0.0, value))


def _positive_class(true, pos_label, *, default_binary, ops=None):
    """Return the uint8 mask of positive samples for a binary curve or score."""
    ops = ops if ops is not None else _device.host_ops()
    classes = ops.unique_labels(true)
    if classes.size > 2:
        raise ValueError(
            f"y_true: has {classes.size} classes; only binary targets are supported here")
    if pos_label is None and default_binary:
        numeric = classes.dtype.kind in "biuf"
        values = set(classes.tolist()) if numeric else set()
        if not numeric or not (values <= {0, 1} or values <= {-1, 1}):
            raise ValueError(
                f"pos_label: y_true has labels {classes.tolist()}, which are not "
                "{0, 1} or {-1, 1}; pass pos_label to name the positive class")
        pos_label = 1
    index = find_label(classes, pos_label)
    if index < 0 and classes.size == 2:
        raise ValueError(f"pos_label: {pos_label!r} is not one of the labels {classes.tolist()}")
    if index < 0:
        return ops.zeros_mask(true.shape[0])
    return (ops.encode(true, classes) == index).view(np.uint8)


def _curve_points(y_true, y_score, pos_label, sample_weight):
    true = as_label_vector("y_true", y_true)
    scores = as_scores("y_score", y_score, true.shape[0])
    if scores.ndim != 1:
        raise ValueError(f"y_score: expected a 1-D array of scores, got shape {scores.shape}")
    weight = check_sample_weight(sample_weight, true.shape[0])
    positive = _positive_class(true, pos_label, default_binary=True)
    thresholds, fps, tps, first_invalid = _core.metrics_binary_curve(scores, -1, positive,
                                                                     weight)
    if first_invalid >= 0:
        raise first_non_finite("y_score", scores)
    if scores.dtype == np.float32:
        thresholds = thresholds.astype(np.float32)
    return fps, tps, thresholds


_CURVE_PARAMETERS = """
    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    y_score : array-like of shape (n_samples,)
        Finite scores, higher for the positive class (probabilities or margins).
    pos_label : int, float, bool or str, optional
        The positive class; by default 1, which needs labels {0, 1} or {-1, 1}.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    drop_intermediate : bool, default={drop}
        Leave out the points that do not change the curve's shape.
"""

_CURVE_RAISES = """
    Raises
    ------
    ValueError
        For more than two classes, labels other than {0, 1} or {-1, 1} without
        ``pos_label``, a ``pos_label`` that is not a class, a 2-D or non-finite
        ``y_score``, lengths that differ or invalid sample weights.
"""


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    fps, tps, thresholds = _curve_points(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and fps.size > 2:
        bends = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.concatenate([[True], bends, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate([[0.0], fps])
    tps = np.concatenate([[0.0], tps])
    thresholds = np.concatenate([[np.inf], thresholds.astype(np.float64)])
    rates = []
    for counts, name in ((fps, "negative"), (tps, "positive")):
        if counts[-1] <= 0:
            warnings.warn(
                f"y_true has no {name} samples, so the {'false' if name == 'negative' else 'true'}"
                "-positive rate is undefined and set to NaN", UndefinedMetricWarning, stacklevel=2)
            rates.append(np.full(counts.shape, np.nan))
        else:
            rates.append(counts / counts[-1])
    return rates[0], rates[1], thresholds


roc_curve.__doc__ = """Compute the ROC curve: false- and true-positive rates at each distinct score.

    With ``drop_intermediate``, points collinear with their neighbours are left out, which
    leaves the area unchanged. A rate whose class weighs zero is NaN, with an
    UndefinedMetricWarning.
""" + _CURVE_PARAMETERS.replace("{drop}", "True") + """
    Returns
    -------
    fpr, tpr : numpy.ndarray of shape (n_points,)
        False- and true-positive rates, increasing, from (0, 0).
    thresholds : numpy.ndarray of shape (n_points,)
        Decreasing scores: the point ``i`` counts the samples with ``y_score >=
        thresholds[i]`` as positive. The first is ``inf``, for the point (0, 0).
""" + _CURVE_RAISES + """
    Examples
    --------
    >>> from fastopt.metrics import roc_curve
    >>> fpr, tpr, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr, tpr, thresholds
    (array([0. , 0. , 0.5, 0.5, 1. ]), array([0. , 0.5, 0.5, 1. , 1. ]), array([ inf, 0.8 , 0.4 , 0.35, 0.1 ]))
    """


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
                           drop_intermediate=False):
    fps, tps, thresholds = _curve_points(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and fps.size > 2:
        moves = np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:]))
        keep = np.flatnonzero(np.concatenate([[True], moves, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warnings.warn("y_true has no positive samples, so recall is set to one at every "
                      "threshold", UserWarning, stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return (np.concatenate([precision[::-1], [1.0]]), np.concatenate([recall[::-1], [0.0]]),
            thresholds[::-1])


precision_recall_curve.__doc__ = """Compute precision and recall at each distinct score.

    Without positive samples the recall is set to 1 at every threshold, with a UserWarning.
""" + _CURVE_PARAMETERS.replace("{drop}", "False") + """
    Returns
    -------
    precision, recall : numpy.ndarray of shape (n_thresholds + 1,)
        For increasing thresholds, each ending with the point (recall 0, precision 1)
        that has no threshold.
    thresholds : numpy.ndarray of shape (n_thresholds,)
        Increasing scores: the point ``i`` counts the samples with ``y_score >=
        thresholds[i]`` as positive.
""" + _CURVE_RAISES + """
    Examples
    --------
    >>> from fastopt.metrics import precision_recall_curve
    >>> precision, recall, thresholds = precision_recall_curve([0, 0, 1, 1],
    ...                                                        [0.1, 0.4, 0.35, 0.8])
    >>> precision, recall, thresholds
    (array([0.5   , 0.6667, 0.5   , 1.    , 1.    ]), array([1. , 1. , 0.5, 0.5, 0. ]), array([0.1 , 0.35, 0.4 , 0.8 ]))
    """
