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


_PARAMETERS = """
    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True and predicted targets, finite and of the same shape.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights; all 1 when omitted.
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (n_outputs,), \
default="uniform_average"
        How to combine the outputs: their mean, one value per output, or a weighted mean
        with these weights.{extra}

    Returns
    -------
    float or numpy.ndarray of shape (n_outputs,)
        The combined value, or one per output with ``multioutput="raw_values"``.

    Raises
    ------
    ValueError
        For shapes that differ, an empty or non-finite input, invalid sample weights or
        weights that sum to zero, or an invalid ``multioutput``.
"""


def _document(summary, formula, example, extra=""):
    """Return a docstring: the summary, the formula, the shared sections and an example."""
    return (summary + "\n\n    " + formula + "\n" + _PARAMETERS.replace("{extra}", extra)
            + "\n    Examples\n    --------\n" + example)


def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    true, pred, weight, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(_weighted_mean((true - pred) ** 2, weight), multioutput)


mean_squared_error.__doc__ = _document(
    "Compute the (weighted) mean squared error per output, then combine.",
    ".. math:: \\mathrm{MSE} = \\frac{\\sum_i w_i (y_i - \\hat y_i)^2}{\\sum_i w_i}",
    """    >>> from fastopt.metrics import mean_squared_error
    >>> mean_squared_error([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    0.375
    """)


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    true, pred, weight, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(np.sqrt(_weighted_mean((true - pred) ** 2, weight)), multioutput)


root_mean_squared_error.__doc__ = _document(
    "Compute the square root of the mean squared error of each output, then combine.",
    ".. math:: \\mathrm{RMSE} = \\sqrt{\\mathrm{MSE}}",
    """    >>> from fastopt.metrics import root_mean_squared_error
    >>> root_mean_squared_error([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    0.6123724356957945
    """)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    true, pred, weight, multioutput = _targets(y_true, y_pred, sample_weight, multioutput)
    return _combine(_weighted_mean(np.abs(true - pred), weight), multioutput)


mean_absolute_error.__doc__ = _document(
    "Compute the (weighted) mean absolute error per output, then combine.",
    ".. math:: \\mathrm{MAE} = \\frac{\\sum_i w_i |y_i - \\hat y_i|}{\\sum_i w_i}",
    """    >>> from fastopt.metrics import mean_absolute_error
    >>> mean_absolute_error([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    0.5
    """)


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Compute the coefficient of determination per output, then combine.

    .. math:: R^2 = 1 - \\frac{\\sum_i w_i (y_i - \\hat y_i)^2}{\\sum_i w_i (y_i - \\bar y)^2}

    with :math:`\\bar y` the weighted mean of ``y_true``. A constant ``y_true`` gives 1.0
    for a perfect prediction and 0.0 otherwise; fewer than two samples give NaN with an
    UndefinedMetricWarning.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True and predicted targets, finite and of the same shape.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative sample weights; all 1 when omitted.
    multioutput : {"uniform_average", "raw_values", "variance_weighted"} or array-like of \
shape (n_outputs,), default="uniform_average"
        How to combine the outputs: their mean, one value per output, a mean weighted by
        each output's denominator, or a weighted mean with these weights.

    Returns
    -------
    float or numpy.ndarray of shape (n_outputs,)
        The combined :math:`R^2`, or one per output with ``multioutput="raw_values"``; NaN
        for fewer than two samples.

    Raises
    ------
    ValueError
        For shapes that differ, an empty or non-finite input, invalid sample weights, or an
        invalid ``multioutput``.

    Examples
    --------
    >>> from fastopt.metrics import r2_score
    >>> round(r2_score([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]), 4)
    0.9486
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
