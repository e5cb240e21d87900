"""Classification metrics on label vectors, with scikit-learn 1.9's names and results.

Labels of any numeric or string dtype are mapped to codes 0 .. K-1 in sorted order;
the C++ kernel ``metrics_confusion_counts`` then accumulates the (weighted) confusion
matrix, from which every score here is derived.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from fastopt import _core
from fastopt.exceptions import UndefinedMetricWarning
from fastopt.metrics import _device
from fastopt.metrics._validation import (
    as_label_vector,
    check_same_length,
    check_sample_weight,
    encode,
    find_label,
    unique_labels,
)

__all__ = [
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

_AVERAGES = (None, "micro", "macro", "weighted", "binary")

# Above this many classes the per-class sums come from np.bincount rather than from a
# K x K confusion matrix, which would need K**2 memory.
_MAX_MATRIX_LABELS = 2048


def _targets(y_true, y_pred, sample_weight):
    if _device.on_gpu(y_true=y_true, y_pred=y_pred, sample_weight=sample_weight):
        return _device.Targets(y_true, y_pred, sample_weight)
    return _Targets(y_true, y_pred, sample_weight)


class _Targets:
    """Validated y_true and y_pred as codes into their sorted union of classes."""

    def __init__(self, y_true, y_pred, sample_weight):
        true = as_label_vector("y_true", y_true)
        pred = as_label_vector("y_pred", y_pred)
        check_same_length("y_pred", pred, true.shape[0])
        self.classes = unique_labels(true, pred)
        self.true_codes = encode(true, self.classes)
        self.pred_codes = encode(pred, self.classes)
        self.weight = check_sample_weight(sample_weight, true.shape[0])
        self.type = "binary" if self.classes.size <= 2 else "multiclass"

    def confusion(self) -> np.ndarray:
        return _core.metrics_confusion_counts(
            self.true_codes, self.pred_codes, self.weight, self.classes.size)

    def class_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return per-class true-positive, predicted and true weights (or counts)."""
        k = self.classes.size
        if k <= _MAX_MATRIX_LABELS:
            matrix = self.confusion()
            return np.diag(matrix).copy(), matrix.sum(axis=0), matrix.sum(axis=1)
        hits = self.true_codes == self.pred_codes
        hit_weight = None if self.weight is None else self.weight[hits]
        tp = np.bincount(self.true_codes[hits], weights=hit_weight, minlength=k)
        pred = np.bincount(self.pred_codes, weights=self.weight, minlength=k)
        true = np.bincount(self.true_codes, weights=self.weight, minlength=k)
        return tp, pred, true


def _check_zero_division(zero_division):
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, numbers.Real) and not isinstance(zero_division, bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if math.isnan(zero_division):
            return math.nan
    raise ValueError(
        f"zero_division: expected 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None) -> float:
    """Compute the (weighted) fraction of samples whose predicted label equals the true one.

    .. math:: \\mathrm{accuracy} = \\frac{\\sum_i w_i [\\hat y_i = y_i]}{\\sum_i w_i}

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels, of any numeric or string dtype.
    normalize : bool, default=True
        Return the fraction; with False, return the (weighted) count of correct samples.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights; all 1 when omitted.

    Returns
    -------
    float
        The fraction in [0, 1], or with ``normalize=False`` the (weighted) count.

    Examples
    --------
    >>> from fastopt.metrics import accuracy_score
    >>> accuracy_score(["a", "b", "b", "c"], ["a", "b", "c", "c"])
    0.75
    """
    targets = _targets(y_true, y_pred, sample_weight)
    if targets.classes.size <= _MAX_MATRIX_LABELS:
        matrix = targets.confusion()
        correct = np.trace(matrix)
        total = matrix.sum()
    else:
        hits = targets.true_codes == targets.pred_codes
        w = targets.weight
        correct = np.count_nonzero(hits) if w is None else w[hits].sum()
        total = hits.size if w is None else w.sum()
    if not normalize:
        return float(correct)
    if total == 0:
        raise ValueError("sample_weight: the weights sum to zero, so the accuracy is undefined")
    return float(correct / total)


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """Compute the confusion matrix ``C[i, j]``: weight of samples of class i predicted as j.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like of shape (n_classes,), optional
        Classes that index the rows and columns, in this order. Samples whose true or
        predicted label is not among them are left out. By default, the sorted union of
        the labels in ``y_true`` and ``y_pred``.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights. The matrix is int64 when they are omitted or of an integer
        dtype, float64 otherwise.
    normalize : {None, "true", "pred", "all"}
        Divide by row sums ("true"), column sums ("pred") or the total; 0/0 becomes 0.

    Returns
    -------
    numpy.ndarray of shape (n_classes, n_classes)
        Row ``i`` counts (or weighs) the samples of class ``labels[i]``, column ``j`` those
        predicted as ``labels[j]``.

    Examples
    --------
    >>> from fastopt.metrics import confusion_matrix
    >>> confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 1])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 1, 2]])
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize: expected None, 'true', 'pred' or 'all', got {normalize!r}")
    targets = _targets(y_true, y_pred, sample_weight)
    weight_dtype = getattr(sample_weight, "dtype", None)
    if weight_dtype is None and sample_weight is not None:
        weight_dtype = np.asarray(sample_weight).dtype
    integer_weight = sample_weight is None or weight_dtype.kind in "biu"
    matrix = targets.confusion()
    if labels is not None:
        wanted = np.asarray(labels)
        if wanted.ndim != 1 or wanted.size == 0:
            raise ValueError(f"labels: expected a non-empty 1-D array, got shape {wanted.shape}")
        index = np.array([find_label(targets.classes, v) for v in wanted.tolist()])
        present_in_true = _device.to_host(
            np.bincount(targets.true_codes, minlength=targets.classes.size)) > 0
        if not any(i >= 0 and present_in_true[i] for i in index):
            raise ValueError(f"labels: none of {wanted.tolist()} occurs in y_true")
        selected = np.zeros((wanted.size, wanted.size), dtype=matrix.dtype)
        known = np.flatnonzero(index >= 0)
        selected[np.ix_(known, known)] = matrix[np.ix_(index[known], index[known])]
        matrix = selected
    if integer_weight and matrix.dtype != np.int64:
        matrix = np.rint(matrix).astype(np.int64)
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                matrix = matrix / matrix.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                matrix = matrix / matrix.sum(axis=0, keepdims=True)
            else:
                matrix = matrix / matrix.sum()
        matrix = np.nan_to_num(matrix)
    if matrix.shape == (1, 1):
        warnings.warn(
            "y_true and y_pred contain a single label, so the confusion matrix is 1 x 1; "
            "pass labels= with every class to get the full matrix",
            UserWarning, stacklevel=2)
    return matrix


def _divide(numerator, denominator, metric, reason, warn_for, zero_division, stacklevel):
    """Divide per class; 0/0 gives zero_division's value and, with "warn", a warning."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    undefined = denominator == 0
    result = numerator / np.where(undefined, 1.0, denominator)
    if not undefined.any():
        return result
    result[undefined] = _check_zero_division(zero_division)
    if isinstance(zero_division, str) and metric in warn_for:
        where = "" if result.size == 1 else " for labels"
        warnings.warn(
            f"{metric.capitalize()} is ill-defined and set to 0.0{where} with no {reason} "
            "samples. Pass zero_division to choose the value and silence this warning.",
            UndefinedMetricWarning, stacklevel=stacklevel + 1)
    return result


def _nan_average(values: np.ndarray, weights: np.ndarray | None) -> float:
    """Average that skips NaN entries; all-zero weights fall back to the plain mean."""
    if values.size == 0:
        return math.nan
    keep = ~np.isnan(values)
    if not keep.any():
        return math.nan
    if weights is None:
        return float(np.mean(values[keep]))
    kept_weights = np.asarray(weights, dtype=np.float64)[keep]
    if kept_weights.sum() == 0:
        return float(np.mean(values[keep]))
    return float(np.average(values[keep], weights=kept_weights))


def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta=1.0,
    labels=None,
    pos_label=1,
    average=None,
    warn_for=("precision", "recall", "f-score"),
    sample_weight=None,
    zero_division="warn",
):
    """Compute precision, recall, F-beta score and support for each class or averaged.

    For a class with true-positive weight ``tp``, predicted weight ``tp + fp`` and true
    weight ``tp + fn``:

    .. math::

        P = \\frac{tp}{tp + fp}, \\quad R = \\frac{tp}{tp + fn}, \\quad
        F_\\beta = \\frac{(1 + \\beta^2)\\, tp}{(1 + \\beta^2)\\, tp + \\beta^2 fn + fp}

    A zero denominator gives ``zero_division`` (0.0 with an UndefinedMetricWarning for
    "warn"). ``beta = inf`` gives recall and ``beta = 0`` precision.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (binary or multiclass; multilabel input raises).
    beta : float, default=1.0
        Weight of recall relative to precision, >= 0.
    labels : array-like, optional
        Classes to report, in this order; classes absent from the data get zero counts.
        By default the sorted union of the labels in ``y_true`` and ``y_pred``.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average="binary"``.
    average : {None, "binary", "micro", "macro", "weighted"}, default=None
        None returns per-class arrays. "binary" reports ``pos_label`` only. "micro" sums
        the counts over classes first. "macro" is the unweighted mean over classes and
        "weighted" the mean weighted by support; both skip NaN scores.
    warn_for : tuple of str
        The metrics ("precision", "recall", "f-score") that warn when undefined.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of a score whose denominator is zero.

    Returns
    -------
    precision, recall, fbeta_score : float or numpy.ndarray
        The scores, one per class, or their average.
    support : numpy.ndarray or None
        Weight of true samples per class; None when averaged.

    References
    ----------
    C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths, 1979, ch. 7.

    Examples
    --------
    >>> from fastopt.metrics import precision_recall_fscore_support
    >>> y_true, y_pred = [0, 1, 1, 0, 1], [0, 1, 0, 0, 1]
    >>> precision_recall_fscore_support(y_true, y_pred)
    (array([0.6667, 1.    ]), array([1.    , 0.6667]), array([0.8, 0.8]), array([2, 3]))
    >>> precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average="binary")
    >>> precision, round(recall, 4), round(f1, 4)
    (1.0, 0.6667, 0.8)
    """
    return _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, sample_weight,
                 zero_division, stacklevel=3)


def _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, sample_weight,
          zero_division, stacklevel):
    """Compute precision_recall_fscore_support; warnings point ``stacklevel`` frames up."""
    _check_zero_division(zero_division)
    if average not in _AVERAGES:
        if average == "samples":
            raise ValueError("average: 'samples' needs multilabel targets, which are not supported")
        raise ValueError(f"average: expected one of {_AVERAGES}, got {average!r}")
    if not isinstance(beta, numbers.Real) or not beta >= 0:
        raise ValueError(f"beta: expected a number >= 0, got {beta!r}")
    targets = _targets(y_true, y_pred, sample_weight)
    classes = targets.classes
    if average == "binary":
        if targets.type != "binary":
            raise ValueError(
                f"average: the targets are multiclass ({classes.size} labels), so "
                "average='binary' does not apply; use None, 'micro', 'macro' or 'weighted'")
        if find_label(classes, pos_label) < 0 and classes.size >= 2:
            raise ValueError(
                f"pos_label: {pos_label!r} is not one of the labels {classes.tolist()}")
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(
            f"pos_label={pos_label!r} is ignored with average={average!r}; pass "
            "labels=[pos_label] to score one class", UserWarning, stacklevel=stacklevel)

    tp_all, pred_all, true_all = targets.class_sums()
    if labels is None:
        tp_sum, pred_sum, true_sum = tp_all, pred_all, true_all
    else:
        wanted = np.asarray(labels)
        if wanted.ndim != 1:
            raise ValueError(f"labels: expected a 1-D array, got shape {wanted.shape}")
        index = np.array([find_label(classes, v) for v in wanted.tolist()], dtype=np.int64)
        known = index >= 0

        def select(values):
            out = np.zeros(index.size, dtype=values.dtype)
            out[known] = values[index[known]]
            return out

        tp_sum, pred_sum, true_sum = select(tp_all), select(pred_all), select(true_all)
    if average == "micro":
        tp_sum = np.array([tp_sum.sum()])
        pred_sum = np.array([pred_sum.sum()])
        true_sum = np.array([true_sum.sum()])

    precision = _divide(tp_sum, pred_sum, "precision", "predicted", warn_for, zero_division,
                        stacklevel)
    recall = _divide(tp_sum, true_sum, "recall", "true", warn_for, zero_division, stacklevel)
    if math.isinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        beta2 = float(beta) ** 2
        denominator = beta2 * true_sum.astype(np.float64) + pred_sum.astype(np.float64)
        f_score = _divide((1 + beta2) * tp_sum.astype(np.float64), denominator, "f-score",
                          "true nor predicted", warn_for, zero_division, stacklevel)
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    return (_nan_average(precision, weights), _nan_average(recall, weights),
            _nan_average(f_score, weights), None)


def _single_score(which, y_true, y_pred, labels, pos_label, average, sample_weight,
                  zero_division, beta=1.0):
    warn_for = {0: ("precision",), 1: ("recall",), 2: ("f-score",)}[which]
    scores = _prfs(y_true, y_pred, beta, labels, pos_label, average, warn_for, sample_weight,
                   zero_division, stacklevel=4)
    return scores[which]


_SCORE_PARAMETERS = """
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels (binary or multiclass; multilabel input raises).
    labels : array-like, optional
        Classes to report, in this order; by default the sorted union of the labels in
        ``y_true`` and ``y_pred``.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average="binary"``.
    average : {"binary", "micro", "macro", "weighted", None}, default="binary"
        How to combine the classes, as in :func:`precision_recall_fscore_support`; None
        returns one score per class.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of a score whose denominator is zero ("warn": 0.0 with an
        UndefinedMetricWarning).

    Returns
    -------
    float or numpy.ndarray
        The score, or with ``average=None`` one per class in the order of ``labels``.

    Raises
    ------
    ValueError
        For inputs of different lengths, multilabel or continuous targets, more than two
        classes or a ``pos_label`` that is not a class with ``average="binary"``, or an
        invalid ``average`` or ``zero_division``.
"""


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                    sample_weight=None, zero_division="warn"):
    return _single_score(0, y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division)


precision_score.__doc__ = """Compute the precision ``tp / (tp + fp)``.

    The fraction of the samples predicted as a class that belong to it; see
    :func:`precision_recall_fscore_support` for the definitions.

    Parameters
    ----------""" + _SCORE_PARAMETERS + """
    Examples
    --------
    >>> from fastopt.metrics import precision_score
    >>> precision_score([0, 1, 1, 0, 1], [0, 1, 0, 1, 1])
    0.6666666666666666
    """


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn"):
    return _single_score(1, y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division)


recall_score.__doc__ = """Compute the recall ``tp / (tp + fn)``.

    The fraction of the samples of a class that are predicted as it; see
    :func:`precision_recall_fscore_support` for the definitions.

    Parameters
    ----------""" + _SCORE_PARAMETERS + """
    Examples
    --------
    >>> from fastopt.metrics import recall_score
    >>> recall_score([0, 1, 1, 0, 1], [0, 1, 0, 0, 0])
    0.3333333333333333
    """


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary",
                sample_weight=None, zero_division="warn"):
    return _single_score(2, y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division, beta=beta)


fbeta_score.__doc__ = """Compute the F-beta score ``(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)``.

    The weighted harmonic mean of precision and recall, with recall ``beta`` times as
    important as precision.

    Parameters
    ----------""" + _SCORE_PARAMETERS.replace("    labels : array-like", """    beta : float
        Weight of recall relative to precision, >= 0 (``inf`` gives the recall, 0 the
        precision).
    labels : array-like""", 1) + """
    Examples
    --------
    >>> from fastopt.metrics import fbeta_score
    >>> round(fbeta_score([0, 1, 1, 0, 1], [0, 1, 0, 1, 1], beta=2.0), 4)
    0.6667
    """


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
             sample_weight=None, zero_division="warn"):
    return _single_score(2, y_true, y_pred, labels, pos_label, average, sample_weight,
                         zero_division, beta=1.0)


f1_score.__doc__ = """Compute the F1 score ``2 tp / (2 tp + fp + fn)``.

    The harmonic mean of precision and recall (:func:`fbeta_score` with ``beta=1``).

    Parameters
    ----------""" + _SCORE_PARAMETERS + """
    Examples
    --------
    >>> from fastopt.metrics import f1_score
    >>> f1_score([0, 1, 1, 0, 1], [0, 1, 0, 1, 1])
    0.6666666666666666
    >>> f1_score([0, 1, 2, 2], [0, 2, 2, 1], average="macro")
    0.5
    """


def _log_loss_classes(true: np.ndarray, labels, ops) -> np.ndarray:
    if labels is None:
        classes = ops.unique_labels(true)
        if classes.size == 1:
            raise ValueError(
                f"y_true: contains only the label {classes.tolist()[0]!r}; pass labels= with every "
                "class so the loss is defined")
        return classes
    given = np.asarray(_device.to_host(labels))
    classes = unique_labels(given)
    if classes.size < 2:
        raise ValueError(f"labels: expected at least two labels, got {given.tolist()}")
    if given.shape != classes.shape or not np.all(given == classes):
        warnings.warn(
            f"labels: {given.tolist()} are not in sorted order; the columns of y_proba are "
            f"taken to follow the sorted labels {classes.tolist()}", UserWarning, stacklevel=3)
    return classes


def log_loss(y_true, y_proba=None, *, normalize=True, sample_weight=None, labels=None,
             y_pred=None) -> float:
    """Compute the cross-entropy of probabilistic predictions.

    .. math:: L = -\\frac{\\sum_i w_i \\log \\tilde p_{i, y_i}}{\\sum_i w_i}

    where :math:`\\tilde p` is the probability clipped to ``[eps, 1 - eps]``, ``eps``
    the machine epsilon of ``y_proba``'s dtype, so a certain mistake costs a finite
    amount. As in scikit-learn 1.9, probabilities are not renormalized: rows that do
    not sum to one (within ``sqrt(eps)``) only trigger a UserWarning.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probabilities in [0, 1]. A 1-D array contains the probability of the greater of
        two classes; columns of a 2-D array follow the sorted classes.
    normalize : bool, default=True
        Return the weighted mean; with False, the weighted sum.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights.
    labels : array-like, optional
        All classes, when ``y_true`` does not contain every column's class.
    y_pred : array-like, optional
        The name of ``y_proba`` before scikit-learn 1.9; accepted with a FutureWarning.

    Returns
    -------
    float
        The mean (or with ``normalize=False`` the summed) negative log-likelihood.

    Notes
    -----
    Logarithms and sums run in float64 for float32 input too, where scikit-learn 1.9
    keeps float32, so float32 results agree with it to about 1e-6 relative.

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006, sec. 4.3.2.

    Examples
    --------
    >>> from fastopt.metrics import log_loss
    >>> round(log_loss([0, 1, 1], [0.1, 0.8, 0.6]), 4)
    0.2798
    """
    if y_pred is not None:
        if y_proba is not None:
            raise ValueError("y_pred: pass the probabilities as y_proba only, not as both")
        warnings.warn("log_loss: y_pred is the old name of y_proba; pass y_proba",
                      FutureWarning, stacklevel=2)
        y_proba = y_pred
    if y_proba is None:
        raise ValueError("y_proba: missing; pass the predicted probabilities")
    ops = _device.ops_for(y_true=y_true, y_proba=y_proba, sample_weight=sample_weight)
    true = ops.as_label_vector("y_true", y_true)
    proba = ops.as_scores("y_proba", y_proba, true.shape[0])
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba.ravel()
    weight = ops.check_sample_weight(sample_weight, true.shape[0])
    classes = _log_loss_classes(true, labels, ops)
    codes = ops.encode(true, classes)
    unknown = (codes < 0) | (codes >= classes.size)
    if labels is not None and unknown.any():
        index = int(np.argmax(unknown))
        raise ValueError(f"y_true[{index}]: {true[index].item()!r} is not one of labels {classes.tolist()}")
    columns = 2 if proba.ndim == 1 else proba.shape[1]
    if columns != classes.size:
        raise ValueError(
            f"y_proba: has {columns} classes but {'labels' if labels is not None else 'y_true'} "
            f"has {classes.size} ({classes.tolist()}); pass labels= with every class")
    if proba.ndim == 1:
        positive = (codes == 1).view(np.uint8)
        result = ops.log_loss(proba, positive, None, weight)
    else:
        result = ops.log_loss(proba, None, np.ascontiguousarray(codes, np.int64), weight)
    loss_sum, weight_sum, first_invalid, rows_not_normalized = result
    if first_invalid >= 0:
        row = np.atleast_1d(proba[first_invalid])
        bad = ~((row >= 0) & (row <= 1))
        column = int(np.argmax(bad))
        where = f"[{first_invalid}]" if proba.ndim == 1 else f"[{first_invalid}, {column}]"
        raise ValueError(f"y_proba{where}: expected a probability in [0, 1], got {row[column].item()!r}")
    if rows_not_normalized:
        warnings.warn(
            f"y_proba: {rows_not_normalized} rows do not sum to one; pass probabilities, "
            "not scores", UserWarning, stacklevel=2)
    if not normalize:
        return float(loss_sum)
    if weight_sum == 0:
        raise ValueError("sample_weight: the weights sum to zero, so the mean loss is undefined")
    return float(loss_sum / weight_sum)
