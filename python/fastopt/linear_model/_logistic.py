"""Binary and multinomial logistic regression with L2, L1 or elastic-net penalties."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit, softmax

from fastopt._exclusive import exclusive
from fastopt.linear_model._base import (
    LinearModelBase,
    check_sample_weight,
    check_X,
    check_y,
    penalty_parts,
)
from fastopt.linear_model._docstrings import fill_doc


class LogisticRegression(LinearModelBase):
    r"""Logistic regression fitted by a full-batch solver.

    Minimizes, over ``coef`` and ``intercept``,

    .. math:: \frac{1}{n} \sum_i s_i \, \ell(y_i, x_i \cdot coef + intercept)
              + \alpha \Big(\rho \|coef\|_1 + \frac{1 - \rho}{2} \|coef\|_2^2\Big)

    with sample weights :math:`s_i` (``sample_weight`` times the ``class_weight`` of the
    sample's class) rescaled to sum to ``n``, :math:`\rho` = ``l1_ratio`` (1 for
    ``penalty="l1"``, 0 for ``"l2"``) and the intercept not penalized. With two classes
    :math:`\ell` is the log loss :math:`\log(1 + e^{-y z})` with ``classes_[0]`` as
    :math:`y = -1` and ``classes_[1]`` as :math:`y = +1`; with more classes it is the
    multinomial (softmax) log loss over one row of ``coef`` per class.

    Because the data term is a mean, ``alpha`` does not grow with ``n``. Equivalent settings
    (without sample weights, else replace ``n`` by the sum of the weights):

    - scikit-learn ``LogisticRegression(C=C)``: ``alpha = 1 / (C * n)``, with ``penalty="l2"``
      or ``"l1"`` (scikit-learn sums the loss and puts :math:`1/2` on the L2 term).
    - scikit-learn ``SGDClassifier(loss="log_loss", alpha=a)``: ``alpha = a``.
    - Spark ``LogisticRegression(regParam=r, elasticNetParam=e, standardization=False)``:
      ``alpha = r``, ``penalty="elasticnet"``, ``l1_ratio = e``.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default "l2"
        None fits without a penalty (``alpha`` and ``l1_ratio`` are ignored).
    alpha : float, default 1e-4
        Penalty strength, >= 0.
    l1_ratio : float, default 0.5
        L1 share of the penalty, in [0, 1]; used only with ``penalty="elasticnet"``.
    fit_intercept : bool, default True
        Fit an unpenalized intercept per class.
    solver : str, default "auto"
        One of "auto", "lbfgs", "owlqn", "fista", "newton-cd", "newton-cg" and "newton".
        "auto" uses newton for smooth penalties with two classes when
        ``n_features + fit_intercept <= 2000``, there are at least twice as many samples and
        forming the Hessian costs at most 8 passes over X (the sum of squared row lengths
        over twice the stored values, or half the columns for dense X), lbfgs for the
        other smooth cases, newton-cd for an L1 term with two classes and owlqn
        for an L1 term with more. "newton" takes exact Newton steps with the dense Hessian
        (a Cholesky solve); newton-cd uses coordinate descent on that dense Hessian under the
        same shape condition. "newton-cg" is truncated Newton with preconditioned conjugate
        gradients for smooth penalties. "lbfgs", "newton-cg" and "newton" reject an L1 term,
        and "newton-cd" and "newton" more than two classes (ValueError).
    tol : float, default 1e-6
        Stop when the optimality violation (infinity norm of the minimum-norm subgradient)
        falls to ``tol`` times its value at ``coef = 0, intercept = 0``.
    max_iter : int, default 1000
        Maximum number of solver iterations.
    class_weight : dict, "balanced" or None, default None
        Weight per class label, multiplied into ``sample_weight``; "balanced" uses
        ``n / (n_classes * count(class))``.
    warm_start : bool, default False
        Start from the previous fit's ``coef_`` and ``intercept_`` when their shapes match.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the samples (stratified by class), stop when
        their log loss has not improved by a relative ``tol`` for ``n_iter_no_change``
        iterations, and keep the iterate with the lowest validation loss.
    validation_fraction : float, default 0.1
        Share of the samples held out with ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default 5
        Iterations without improvement of the validation loss before stopping.
    random_state : int, RandomState or None, default None
        Seeds the validation split.
    verbose : int, default 0
        Above 0, write the solver's progress (iterations, objective, elapsed time) to stderr,
        at most once a second, or redrawn in place on a terminal.
    callbacks : Callback or list of Callback, default None
        :mod:`fastopt.callbacks` objects run after each solver iteration, for example
        ``EarlyStopping(monitor="val_loss")`` (with ``early_stopping=True``) or one whose
        monitor scores ``logs["estimator"]`` on held-out data. The logs hold ``w`` (the flat
        parameters: coefficients, then intercepts) and, computed when read, ``objective``,
        ``val_loss`` and ``estimator`` (a copy fitted at ``w``). A True result stops the solver
        without a ConvergenceWarning, and a restored iterate becomes the fitted one.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Solver iterations of the last fit.
    n_features_in_ : int
    solver_ : str
        The solver that ran ("auto" resolved).

    Warns
    -----
    fastopt.exceptions.ConvergenceWarning
        When the solver stops at ``max_iter`` above the tolerance; the best iterate is kept.

    See Also
    --------
    fastopt.online.SGDClassifier : Stochastic gradient descent for data streams.

    References
    ----------
    Liu, D. C. and Nocedal, J. "On the limited memory BFGS method for large scale
    optimization", Math. Programming 45, 1989 (solver "lbfgs").
    Andrew, G. and Gao, J. "Scalable training of L1-regularized log-linear models",
    ICML 2007 (solver "owlqn").
    Beck, A. and Teboulle, M. "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci. 2(1), 2009 (solver "fista").
    Yuan, G.-X., Ho, C.-H. and Lin, C.-J. "An improved GLMNET for L1-regularized logistic
    regression", JMLR 13, 2012 (solver "newton-cd").
    Eisenstat, S. C. and Walker, H. F. "Choosing the forcing terms in an inexact Newton
    method", SIAM J. Sci. Comput. 17(1), 1996 (the CG stopping rule of "newton-cg").

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import LogisticRegression
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> clf = LogisticRegression(alpha=1e-2).fit(X, y)
    >>> clf.solver_, round(clf.score(X, y), 4)
    ('newton', 0.8481)
    >>> clf.predict_proba(X[:2])
    array([[0.0459, 0.9541],
           [0.5041, 0.4959]])
    """

    _estimator_type = "classifier"

    def __init__(self, penalty="l2", *, alpha=1e-4, l1_ratio=0.5, fit_intercept=True,
                 solver="auto", tol=1e-6, max_iter=1000, class_weight=None, warm_start=False,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 random_state=None, verbose=0,
                 callbacks=None):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _check_params(self):
        """Raise ValueError naming the first invalid hyperparameter."""
        penalty_parts(self.penalty, self.alpha, self.l1_ratio)
        self._check_common_params()

    @fill_doc
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and the class labels ``y``.

        Parameters
        ----------
        {fit_X}
        y : array_like of shape (n_samples,)
            Class labels, at least two distinct values.
        {fit_sample_weight}

        Returns
        -------
        {fit_returns}

        Raises
        ------
        ValueError
            For NaN or infinity in ``X`` or ``y``, continuous targets, a single class, lengths
            that differ, negative sample weights, a penalty the solver does not support or an
            invalid hyperparameter, before any fitting.
        """
        with exclusive(self, "fit"):
            alpha, l1_ratio = penalty_parts(self.penalty, self.alpha, self.l1_ratio)
            self._check_common_params()
            X = check_X(X)
            n, p = X.shape
            y = check_y(y, n, numeric=False)
            classes, encoded = _encode_labels(y)
            sample_weight = check_sample_weight(sample_weight, n)
            weight = _class_weights(self.class_weight, classes, encoded, sample_weight)
            if len(classes) < 2:
                raise ValueError(f"y: contains only one class ({classes[0]!r}); "
                                 "LogisticRegression needs samples of at least two classes")
            if weight is not None:
                present = np.unique(encoded[weight > 0])
                if present.size < 2:
                    raise ValueError(f"sample_weight: only class {classes[present[0]]!r} has "
                                     "positive weight; at least two classes need positive weight")
            k = len(classes)
            loss = "logistic" if k == 2 else "multinomial"
            target = 2.0 * encoded - 1.0 if k == 2 else encoded.astype(np.float64)
            rows = 1 if k == 2 else k

            def unpack(estimator, w):
                estimator.classes_ = classes
                estimator.n_features_in_ = p
                estimator.coef_ = w[: rows * p].reshape(rows, p)
                estimator.intercept_ = w[rows * p:].copy()

            w = self._fit_objective(X, target, loss=loss, alpha=alpha, l1_ratio=l1_ratio,
                                    penalty=self.penalty, sample_weight=weight,
                                    n_classes=k if k > 2 else None, unpack=unpack,
                                    stratify=encoded)
            unpack(self, w)
            return self

    @fill_doc
    def decision_function(self, X):
        """Compute the margins ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        {predict_X}

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class, or with two classes one margin, positive for
            ``classes_[1]``.
        """
        X = self._check_predict_X(X)
        z = np.asarray(X @ self.coef_.T.astype(X.dtype, copy=False), dtype=np.float64)
        z = z + self.intercept_
        return z[:, 0] if z.shape[1] == 1 else z

    @fill_doc
    def predict_proba(self, X):
        """Compute the class probabilities.

        Parameters
        ----------
        {predict_X}

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities, with the columns ordered as ``classes_``.
        """
        z = self.decision_function(X)
        if z.ndim == 1:
            positive = expit(z)
            return np.column_stack([1.0 - positive, positive])
        return softmax(z, axis=1)

    @fill_doc
    def predict_log_proba(self, X):
        """Compute the logarithm of :meth:`predict_proba` without underflow.

        Parameters
        ----------
        {predict_X}

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities, with the columns ordered as ``classes_``.
        """
        z = self.decision_function(X)
        if z.ndim == 1:
            return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
        return z - np.logaddexp.reduce(z, axis=1, keepdims=True)

    @fill_doc
    def predict(self, X):
        """Predict the class with the largest margin for each row of ``X``.

        Parameters
        ----------
        {predict_X}

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels taken from ``classes_``.
        """
        z = self.decision_function(X)
        index = (z > 0).astype(np.intp) if z.ndim == 1 else np.argmax(z, axis=1)
        return self.classes_[index]

    @fill_doc
    def score(self, X, y, sample_weight=None):
        """Compute the (weighted) accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        {predict_X}
        y : array_like of shape (n_samples,)
            True labels.
        sample_weight : array_like of shape (n_samples,), optional
            Weights of the samples in the mean; equal by default.

        Returns
        -------
        float
            Share of correct predictions, in [0, 1].
        """
        correct = (self.predict(X) == np.asarray(y).ravel()).astype(np.float64)
        return float(np.average(correct, weights=sample_weight))


def _encode_labels(y):
    """Return the sorted classes and each sample's class index; reject continuous targets."""
    if y.dtype.kind == "f":
        if np.any(y != np.round(y)):
            value = y[np.flatnonzero(y != np.round(y))[0]]
            raise ValueError(f"y: Unknown label type: continuous (for example {value!r}); "
                             "LogisticRegression needs class labels")
    elif y.dtype.kind == "O":
        kinds = {type(v) for v in y}
        if len(kinds) > 1:
            raise ValueError(f"y: Unknown label type: mixed types {sorted(t.__name__ for t in kinds)}; "
                             "use labels of one type")
        if kinds and issubclass(next(iter(kinds)), numbers.Real) \
                and not issubclass(next(iter(kinds)), numbers.Integral):
            y = y.astype(np.float64)
            return _encode_labels(y)
    elif y.dtype.kind not in "iubUS":
        raise ValueError(f"y: Unknown label type: dtype {y.dtype}")
    classes = np.unique(y)
    if classes.size == 2 and y.dtype.kind in "fiub":
        # A comparison is an order of magnitude cheaper than the argsort behind
        # np.unique(return_inverse=True), a visible share of a fit of 10 ms.
        return classes, (y == classes[1]).astype(np.intp)
    classes, encoded = np.unique(y, return_inverse=True)
    return classes, encoded.reshape(-1)


def _class_weights(class_weight, classes, encoded, sample_weight):
    """Return the per-sample weights (None for all ones) with ``class_weight`` applied."""
    if class_weight is None:
        return sample_weight
    n = encoded.size
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight: expected 'balanced', a dict or None, got "
                             f"{class_weight!r}")
        counts = np.bincount(encoded, minlength=len(classes)).astype(np.float64)
        per_class = n / (len(classes) * counts)
    elif isinstance(class_weight, dict):
        per_class = np.ones(len(classes))
        for label, value in class_weight.items():
            matches = np.flatnonzero(classes == label)
            if matches.size == 0:
                raise ValueError(f"class_weight: label {label!r} is not among the classes "
                                 f"{classes.tolist()}")
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not np.isfinite(value) or value < 0:
                raise ValueError(f"class_weight: weight of class {label!r} must be a finite "
                                 f"number >= 0, got {value!r}")
            per_class[matches[0]] = float(value)
    else:
        raise ValueError(f"class_weight: expected 'balanced', a dict or None, got "
                         f"{class_weight!r}")
    weight = per_class[encoded]
    if sample_weight is not None:
        weight = weight * sample_weight
    if not weight.sum() > 0:
        raise ValueError("class_weight: every sample has weight zero")
    return weight
