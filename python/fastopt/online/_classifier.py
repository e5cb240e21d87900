"""Label handling shared by the online classifiers: classes, one-vs-rest targets, class weights."""

from __future__ import annotations

import math
import numbers

import numpy as np

from fastopt._exclusive import exclusive
from fastopt.online._base import OnlineLinearModel, check_features


def _expit(z):
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out


class OnlineClassifierMixin:
    """Classifier on top of :class:`OnlineLinearModel`: one solver for two classes, one per class otherwise.

    For more than two classes each solver separates one class from the rest (one-vs-rest);
    the predicted class has the largest decision value.
    """

    _stratify = True

    def _class_weight_of(self, y, classes):
        """Return the per-row class weights, or None when no class weight applies."""
        class_weight = self.class_weight
        if class_weight is None:
            return None
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f"class_weight: expected None, 'balanced' or a dict, got {class_weight!r}")
            counts = np.array([np.count_nonzero(y == label) for label in classes], dtype=np.float64)
            per_class = np.where(counts > 0, y.shape[0] / (len(classes) * np.maximum(counts, 1)), 0.0)
        elif isinstance(class_weight, dict):
            per_class = np.ones(len(classes))
            for label, weight in class_weight.items():
                matches = np.flatnonzero(classes == label)
                if matches.size == 0:
                    raise ValueError(f"class_weight: label {label!r} is not a class; the classes are {classes.tolist()}")
                try:
                    value = float(weight)
                except (TypeError, ValueError, OverflowError):
                    value = math.nan
                if (isinstance(weight, bool) or not isinstance(weight, numbers.Real)
                        or not 0 <= value < math.inf):
                    raise ValueError(f"class_weight[{label!r}]: expected a finite number >= 0, "
                                     f"got {weight!r}")
                per_class[matches[0]] = value
        else:
            raise ValueError(f"class_weight: expected None, 'balanced' or a dict, got {class_weight!r}")
        return per_class[np.searchsorted(classes, y)]

    def _prepare_targets(self, y, first, sample_weight, classes=None, incremental=False):
        if first:
            if classes is None:
                if incremental:
                    raise ValueError("classes: expected all class labels on the first call, got None")
                classes = y
            classes = np.unique(np.asarray(classes))
            if classes.size < 2:
                raise ValueError(f"classes: expected at least 2 classes, got {classes.tolist()}")
            self.classes_ = classes
        elif classes is not None and not self._same_classes(classes):
            raise ValueError(
                f"classes: expected {self.classes_.tolist()} as on the first call, got {np.asarray(classes).tolist()}"
            )
        classes = self.classes_
        if classes.size == 2:
            # Two comparisons cost a fraction of a binary search per row, and counting
            # the matches avoids a third pass that combines them.
            positive = y == classes[1]
            all_known = np.count_nonzero(positive) + np.count_nonzero(y == classes[0]) == y.size
        else:
            positions = np.minimum(np.searchsorted(classes, y), classes.size - 1)
            all_known = bool((classes[positions] == y).all())
        if not all_known:
            known = np.isin(y, classes)
            i = int(np.argmin(known))
            raise ValueError(f"y[{i}]: label {y[i].item()!r} is not one of the classes {classes.tolist()}")
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight: 'balanced' needs the whole training set; pass a dict of weights for "
                "partial_fit and fit_stream"
            )
        weights = sample_weight
        per_row = self._class_weight_of(y, self.classes_)
        if per_row is not None:
            if weights is None:
                weights = per_row
            else:
                with np.errstate(over="ignore"):
                    weights = weights * per_row
            if not np.isfinite(weights).all():
                i = int(np.argmin(np.isfinite(weights)))
                raise ValueError(f"sample_weight[{i}]: times the class weight of y[{i}] "
                                 f"overflows to {weights[i]}; scale the weights down")
        if classes.size == 2:
            # 2 * positive - 1, written into one array, because np.where takes twice as long.
            targets = np.empty((1, y.size))
            np.multiply(positive, 2.0, out=targets[0])
            targets -= 1.0
            return targets, weights
        classes_column = np.arange(classes.size).reshape(-1, 1)
        return np.where(positions == classes_column, 1.0, -1.0), weights

    def _same_classes(self, classes):
        """Tell whether ``classes`` contains the labels of the first call, in any order."""
        classes = np.asarray(classes)
        # A repeated partial_fit usually passes the same sorted labels, and np.unique is slower.
        if classes.shape == self.classes_.shape and np.array_equal(classes, self.classes_):
            return True
        return np.array_equal(np.unique(classes), self.classes_)

    def decision_function(self, X):
        """Return the decision values: shape (n,) for two classes, (n, n_classes) otherwise."""
        scores = self._decision(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Return the predicted class labels."""
        scores = self._decision(X)
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _probabilities(self, X):
        scores = self._decision(X)
        if scores.shape[1] == 1:
            positive = _expit(scores[:, 0])
            return np.column_stack([1.0 - positive, positive])
        # One-vs-rest: normalize the per-class sigmoids, as scikit-learn does; a row whose
        # sigmoids are all zero gets the uniform distribution.
        probabilities = _expit(scores)
        totals = probabilities.sum(axis=1, keepdims=True)
        uniform = totals[:, 0] == 0
        probabilities[uniform] = 1.0
        totals[uniform] = probabilities.shape[1]
        return probabilities / totals

    def score(self, X, y, sample_weight=None):
        """Return the (weighted) accuracy of :meth:`predict` on ``X``."""
        correct = (self.predict(X) == np.asarray(y)).astype(np.float64)
        if sample_weight is None:
            return float(correct.mean())
        return float(np.average(correct, weights=np.asarray(sample_weight, dtype=np.float64)))

    def fit(self, X, y, sample_weight=None):
        """Train on ``X``, ``y`` for up to the configured number of epochs; return self."""
        with exclusive(self, "fit"):
            return self._fit_arrays(X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Make one pass over the rows of ``X`` in order, updating the model; return self.

        ``classes`` (all labels) is required on the first call, as in scikit-learn.
        """
        with exclusive(self, "partial_fit"):
            return self._partial_fit_arrays(X, y, sample_weight, classes=classes)


__all__ = ["OnlineClassifierMixin", "OnlineLinearModel", "check_features"]
