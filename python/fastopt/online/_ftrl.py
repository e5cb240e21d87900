"""FTRLClassifier: logistic regression trained by FTRL-Proximal, as used for ad click prediction."""

from __future__ import annotations

import numpy as np

from fastopt.online._base import OnlineLinearModel
from fastopt.online._classifier import OnlineClassifierMixin
from fastopt.online._solvers import FTRLProximal
from fastopt.optim._docstrings import fill_doc

__all__ = ["FTRLClassifier"]


class FTRLClassifier(OnlineClassifierMixin, OnlineLinearModel):
    r"""Logistic regression trained by FTRL-Proximal with per-coordinate learning rates.

    For each nonzero coordinate :math:`i` of a row, with gradient :math:`g_i` of the log-loss:

    .. math::

        \sigma_i = (\sqrt{n_i + g_i^2} - \sqrt{n_i}) / \alpha, \quad
        z_i \leftarrow z_i + g_i - \sigma_i w_i, \quad n_i \leftarrow n_i + g_i^2, \\
        w_i = \begin{cases} 0 & |z_i| \le \lambda_1 \\
        -\dfrac{z_i - \operatorname{sign}(z_i) \lambda_1}{(\beta + \sqrt{n_i}) / \alpha
        + \lambda_2} & \text{otherwise} \end{cases}

    so L1 gives exact zeros and a coordinate that no row touched stays zero. More than two
    classes are trained one-vs-rest.

    Parameters
    ----------
    alpha, beta : float, default 0.1 and 1.0
        The per-coordinate learning rate is ``alpha / (beta + sqrt(n_i))``.
    l1, l2 : float, default 1.0 and 1.0
        Regularization strengths (``lambda_1``, ``lambda_2`` of the reference).
    epochs : int, default 1
        Maximum number of passes of :meth:`fit`.
    shuffle : bool, default True
        Permute the rows at each epoch, with a generator seeded by ``random_state``.
    random_state : int, numpy.random.Generator or None
        Seed of the permutations and of the validation split.
    fit_intercept : bool, default True
        Learn an intercept, updated as a coordinate with value 1 and no penalty.
    class_weight : dict, "balanced" or None
        As in :class:`SGDClassifier`.
    tol : float or None, default None
        With a number, stop after ``n_iter_no_change`` epochs without improvement by ``tol``.
    early_stopping : bool, default False
        As in :class:`SGDClassifier`.
    validation_fraction : float, default 0.1
        As in :class:`SGDClassifier`.
    n_iter_no_change : int, default 5
        As in :class:`SGDClassifier`.
    warm_start : bool, default False
        Continue from the current model on :meth:`fit` and :meth:`fit_stream`.
    verbose : int, default 0
        Above 0, write the progress of :meth:`fit` (epochs, mean training loss of the last
        pass, elapsed time) to stderr, at most once a second, or redrawn on a terminal.
    callbacks : Callback or list of Callback, default None
        As in :class:`SGDClassifier`: run after each epoch of :meth:`fit`.

    References
    ----------
    H. B. McMahan et al., "Ad click prediction: a view from the trenches", KDD 2013,
    Algorithm 1.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.online import FTRLClassifier
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> clf = FTRLClassifier(alpha=0.5, l1=5.0, epochs=5, random_state=0).fit(X, y)
    >>> round(clf.score(X, y), 4), clf.coef_.shape
    (0.8444, (1, 13))
    """

    _estimator_type = "classifier"

    _epochs_name = "epochs"

    def __init__(self, alpha=0.1, beta=1.0, l1=1.0, l2=1.0, *, epochs=1, shuffle=True,
                 random_state=None, fit_intercept=True, class_weight=None, tol=None,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 warm_start=False, verbose=0, callbacks=None):
        self.alpha = alpha
        self.beta = beta
        self.l1 = l1
        self.l2 = l2
        self.epochs = epochs
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.verbose = verbose
        self.callbacks = callbacks

    def _check_params(self):
        self._check_common_params()
        self._new_solver(1)

    def _new_solver(self, n_features):
        return FTRLProximal(n_features, alpha=self.alpha, beta=self.beta, l1=self.l1, l2=self.l2,
                            fit_intercept=self.fit_intercept)

    @fill_doc
    def predict_proba(self, X):
        """Compute the class probabilities.

        Parameters
        ----------
        {samples}

        Returns
        -------
        {probabilities}
        """
        return self._probabilities(X)

    @fill_doc
    def predict_log_proba(self, X):
        """Compute the logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        {samples}

        Returns
        -------
        {log_probabilities}
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
