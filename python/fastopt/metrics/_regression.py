"""Regression metrics with scikit-learn's definitions, computed with NumPy."""

from __future__ import annotations

import math
import warnings

import numpy as np

from fastopt.exceptions import UndefinedMetricWarning
from fastopt.metrics._validation import check_sample_weight

__all__ = ["mean_absolute_error", "mean_squared_error", "r2_score", "root_mean_squared_error"]


def _targets(y_true, y_pred, sample_weight, multioutput):
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.ndim == 1:
        true = true[:, None]
    if pred.ndim == 1:
        pred = pred[:, None]
    if true.ndim != 2 or true.shape != pred.shape:
        raise ValueError(
            f"y_pred: expected the shape of y_true {np.shape(y_true)}, got {np.shape(y_pred)}")
    if true.shape[0] == 0:
        raise ValueError("y_true: expected at least one sample, got an empty array")
    for name, array in (("y_true", true), ("y_pred", pred)):
        finite = np.isfinite(array)
        if not finite.all():
            row, column = np.unravel_index(int(np.argmin(finite)), array.shape)
            where = f"[{row}]" if array.shape[1] == 1 else f"[{row}, {column}]"
            raise ValueError(f"{name}{where}: expected a finite number, got {array[row, column].item()!r}")
    weight = check_sample_weight(sample_weight, true.shape[0])
    if isinstance(multioutput, str):
        if multioutput not in ("raw_values", "uniform_average"):
            raise ValueError(
                f"multioutput: expected 'raw_values', 'uniform_average' or an array of "
                f"weights, got {multioutput!r}")
    else:
        multioutput = np.asarray(multioutput, dtype=np.float64)
        if multioutput.shape != (true.shape[1],):
            raise ValueError(
                f"multioutput: expected {true.shape[1]} output weights, got shape "
                f"{multioutput.shape}")
    return true, pred, weight, multioutput


def _combine(per_output: np.ndarray, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        return float(np.mean(per_output))
    return float(np.average(per_output, weights=multioutput))


def _weighted_mean(values: np.ndarray, weight) -> np.ndarray:
    if weight is not None and weight.sum() == 0:
        raise ValueError("sample_weight: the weights sum to zero, so the mean is undefined")
    return np.average(values, axis=0, weights=weight)


def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Compute the (weighted) mean of ``(y_true - y_pred)**2`` per output, then combine."""
    true, pred, weight, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(_weighted_mean((true - pred) ** 2, weight), multioutput)


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    """Compute the square root of the mean squared error of each output, then combine."""
    true, pred, weight, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(np.sqrt(_weighted_mean((true - pred) ** 2, weight)), multioutput)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Compute the (weighted) mean of ``|y_true - y_pred|`` per output, then combine."""
    true, pred, weight, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(_weighted_mean(np.abs(true - pred), weight), multioutput)


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Compute the coefficient of determination per output, then combine.

    .. math:: R^2 = 1 - \\frac{\\sum_i w_i (y_i - \\hat y_i)^2}{\\sum_i w_i (y_i - \\bar y)^2}

    with :math:`\\bar y` the weighted mean of ``y_true``. A constant ``y_true`` gives 1.0
    for a perfect prediction and 0.0 otherwise; fewer than two samples give NaN with an
    UndefinedMetricWarning. With ``multioutput="variance_weighted"`` the outputs are
    averaged with weights equal to their denominators.
    """
    variance_weighted = isinstance(multioutput, str) and multioutput == "variance_weighted"
    true, pred, weight, checked = _targets(
        y_true, y_pred, sample_weight, "uniform_average" if variance_weighted else multioutput)
    if true.shape[0] < 2:
        warnings.warn("R^2 score is undefined with fewer than two samples; returning NaN",
                      UndefinedMetricWarning, stacklevel=2)
        return math.nan
    w = np.ones(true.shape[0]) if weight is None else weight
    numerator = (w[:, None] * (true - pred) ** 2).sum(axis=0)
    mean = np.average(true, axis=0, weights=w)
    denominator = (w[:, None] * (true - mean) ** 2).sum(axis=0)
    scores = np.ones(true.shape[1])
    nonzero = denominator != 0
    scores[nonzero] = 1 - numerator[nonzero] / denominator[nonzero]
    scores[~nonzero & (numerator != 0)] = 0.0
    if variance_weighted:
        if not denominator.sum():
            return float(np.mean(scores))
        return float(np.average(scores, weights=denominator))
    return _combine(scores, checked)
