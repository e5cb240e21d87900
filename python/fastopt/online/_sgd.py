"""Estimators trained by lazy stochastic gradient descent: SGDClassifier and SGDRegressor."""

from __future__ import annotations

import numbers

import numpy as np

from fastopt._system import get_num_threads
from fastopt._exclusive import exclusive
from fastopt.online._base import OnlineLinearModel
from fastopt.online._classifier import OnlineClassifierMixin
from fastopt.online._solvers import LazySGD
from fastopt.optim._docstrings import fill_doc

__all__ = ["SGDClassifier", "SGDRegressor"]

_PENALTIES = ("l2", "l1", "elasticnet", None)
_SPARSE_INTERCEPT_DECAY = 0.01

_SGD_PARAMETERS_DOC = """
    loss : str
        ``"log_loss"``, ``"hinge"``, ``"squared_error"`` or ``"huber"`` for the classifier
        (labels become -1 and +1), ``"squared_error"`` or ``"huber"`` for the regressor.
    penalty : {"l2", "l1", "elasticnet", None}, default "l2"
        ``"l1"`` sets ``l1_ratio=1``, ``"l2"`` sets it to 0. None turns regularization off and
        needs a learning rate other than "optimal", which is defined through ``alpha``.
    alpha : float, default 1e-4
        Regularization strength, also the scale of the "optimal" learning rate.
    l1_ratio : float, default 0.15
        Share of L1 in the elastic net, used with ``penalty="elasticnet"``.
    fit_intercept : bool, default True
        Learn an unpenalized intercept.
    max_iter : int, default 1000
        Maximum number of epochs (passes over the training data) of :meth:`fit`.
    tol : float or None, default 1e-3
        Training stops after ``n_iter_no_change`` epochs whose loss (or, with early stopping,
        whose validation score) does not improve on the best by ``tol``. None disables it.
    shuffle : bool, default True
        Permute the rows at each epoch, with a generator seeded by ``random_state``.
    epsilon : float, default 0.1
        Threshold of the Huber loss.
    random_state : int, numpy.random.Generator or None
        Seed of the permutations and of the validation split.
    learning_rate : {"constant", "invscaling", "optimal", "adaptive"}
        Schedule of the step size ``eta``: ``eta0``, ``eta0 / t**power_t``,
        ``1 / (alpha * (t + t0))`` with Bottou's ``t0``, or ``eta0`` divided by 5 after
        ``n_iter_no_change`` epochs without improvement (training stops below 1e-6).
    eta0, power_t : float
        Parameters of the schedules.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the rows (stratified for the classifier) and stop
        on the validation score of :meth:`score` instead of the training loss.
    validation_fraction : float, default 0.1
        Share of the rows held out with ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default 5
        Epochs without improvement by ``tol`` before stopping (or, with "adaptive", before
        the step size is divided by 5).
"""

# The parameters after class_weight, which only the classifier takes.
_SGD_PARAMETERS_DOC_END = """\
    warm_start : bool, default False
        Continue from the current model on :meth:`fit` and :meth:`fit_stream`.
    average : bool or int, default False
        Averaged SGD (Polyak-Ruppert): ``coef_`` is the mean of the iterates, from the first row
        (True) or after that many rows (an int).
    method : {"sgd", "adagrad", "adam"}, default "sgd"
        Per-coordinate step rule of the loss gradient. Adagrad and Adam keep their state on the
        coordinates a row touches.
    intercept_decay : "auto" or float, default "auto"
        Factor on every step of the intercept. scikit-learn uses 0.01 whenever X is sparse
        (and 1 for dense X); "auto" does the same with ``learning_rate="optimal"`` only, and
        takes full steps with the other schedules, where damping slowed convergence in our
        measurements. A number applies to every input.
    n_jobs : int or None, default None
        Threads that train each binary model (each one-vs-rest model in turn for more
        classes). None or 1 runs the rows one after another, the update of scikit-learn's
        SGD, with results that do not depend on the machine. An integer above 1 runs plain
        SGD (``method="sgd"``, no averaging) in blocks of 1024 rows split into ``n_jobs``
        contiguous parts that start from the block's model; a column that one part touches
        takes its change, a shared column the mean of the parts' changes (see
        :class:`fastopt.online.LazySGD`). The model then depends on ``n_jobs`` (a given
        value gives the same model on every run, whatever the scheduling) and differs from
        the sequential one. Shared columns move at about 1/n_jobs of the sequential rate.
        That damps the large early steps of the "optimal" schedule, and slows a slow
        schedule on rows whose columns are mostly shared. The calling thread runs a part
        that no other thread has started, so on a busy machine the pass runs mostly on one
        thread. It was not faster than ``n_jobs=None`` in the measurements of the
        online-learning guide. -1 uses :func:`fastopt.get_num_threads` threads.
        Without ``n_jobs``, several one-vs-rest models train in parallel over fastopt's
        threads, with the sequential result.
    verbose : int, default 0
        Above 0, write the progress of :meth:`fit` (epochs, mean training loss of the last
        pass, elapsed time) to stderr, at most once a second, or redrawn on a terminal.
    callbacks : Callback or list of Callback, default None
        :mod:`fastopt.callbacks` objects run after each epoch of :meth:`fit` (not
        ``partial_fit``). The logs hold ``loss`` (mean training loss of the pass),
        ``val_score`` (with ``early_stopping``) and ``estimator`` (this estimator as of the
        epoch). A True result ends the epochs, and a restore puts back the solvers' state of
        an earlier epoch.
"""


class _SGDModel(OnlineLinearModel):
    def _check_params(self):
        self._check_common_params()
        if self.penalty not in _PENALTIES:
            raise ValueError(f"penalty: expected 'l2', 'l1', 'elasticnet' or None, got {self.penalty!r}")
        if self.penalty is None and self.learning_rate == "optimal":
            raise ValueError(
                "penalty: None needs a learning_rate other than 'optimal', whose step size is "
                "defined through alpha; set learning_rate='invscaling' or 'constant'"
            )
        if not (self.intercept_decay == "auto" if isinstance(self.intercept_decay, str) else (
                isinstance(self.intercept_decay, numbers.Real)
                and not isinstance(self.intercept_decay, bool)
                and 0.0 <= self.intercept_decay < float("inf"))):
            raise ValueError(
                f"intercept_decay: expected 'auto' or a finite number >= 0, got {self.intercept_decay!r}")
        if not isinstance(self.average, (bool, numbers.Integral)) or self.average < 0:
            raise ValueError(f"average: expected a bool or an integer >= 0, got {self.average!r}")
        self._jobs()
        # Build one solver now, so that every solver argument is checked before training.
        self._new_solver(1)

    def _intercept_decay(self, sparse_input):
        if self.intercept_decay != "auto":
            return float(self.intercept_decay)
        # scikit-learn's SGD damps the intercept, which every row updates, by 1/100 on any
        # sparse X (sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY). With the "optimal"
        # schedule's large early steps that lowers the test log-loss (a9a, w8a, news20); with
        # the other schedules full steps measured better, so "auto" damps only there.
        if sparse_input and self.learning_rate == "optimal":
            return _SPARSE_INTERCEPT_DECAY
        return 1.0

    def _jobs(self):
        """Threads per model from ``n_jobs``: None is 1, -1 is fastopt's thread count."""
        n_jobs = self.n_jobs
        if n_jobs is None:
            return 1
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or not (
                n_jobs >= 1 or n_jobs == -1):
            raise ValueError(f"n_jobs: expected None, -1 or an integer >= 1, got {n_jobs!r}")
        return get_num_threads() if n_jobs == -1 else int(n_jobs)

    def _l1_ratio(self):
        return {"l2": 0.0, "l1": 1.0, "elasticnet": self.l1_ratio, None: 0.0}[self.penalty]

    def _new_solver(self, n_features):
        return LazySGD(
            n_features,
            loss=self.loss,
            method=self.method,
            learning_rate=self.learning_rate,
            eta0=self.eta0,
            power_t=self.power_t,
            alpha=0.0 if self.penalty is None else self.alpha,
            l1_ratio=self._l1_ratio(),
            average=self.average,
            epsilon=self.epsilon,
            fit_intercept=self.fit_intercept,
            n_jobs=self._jobs(),
        )


class SGDClassifier(OnlineClassifierMixin, _SGDModel):
    _estimator_type = "classifier"
    __doc__ = (
        """Linear classifier trained by lazy stochastic gradient descent on sparse rows.

    The arguments and methods follow ``sklearn.linear_model.SGDClassifier``. Each row takes
    one step on ``loss(y, x.w + b) + alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||^2)``
    that touches only the row's nonzero coordinates; the regularization of the others is
    applied lazily (a global L2 scale and the cumulative L1 penalty of Tsuruoka et al., 2009).
    More than two classes are trained one-vs-rest.

    Parameters
    ----------"""
        + _SGD_PARAMETERS_DOC
        + """    class_weight : dict, "balanced" or None
        Weight of each class, multiplied into the sample weights. "balanced" uses
        ``n_samples / (n_classes * count(class))`` and is available in :meth:`fit` only.
"""
        + _SGD_PARAMETERS_DOC_END
        + """
    Attributes
    ----------
    classes_, coef_ (n_classes or 1, n_features), intercept_, n_iter_, t_, loss_curve_

    References
    ----------
    Bottou, L. "Stochastic gradient descent tricks", Neural Networks: Tricks of the
    Trade, 2012.
    Tsuruoka, Y., Tsujii, J. and Ananiadou, S. "Stochastic gradient descent training for
    L1-regularized log-linear models with cumulative penalty", ACL 2009.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.online import SGDClassifier
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> clf = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    >>> round(clf.score(X, y), 4)
    0.7778
    >>> clf.predict_proba(X[:2])
    array([[0.0001, 0.9999],
           [0.9506, 0.0494]])
    """
    )

    def __init__(self, loss="hinge", *, penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, epsilon=0.1, random_state=None,
                 learning_rate="optimal", eta0=0.01, power_t=0.5, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, class_weight=None, warm_start=False,
                 average=False, method="sgd", intercept_decay="auto", n_jobs=None, verbose=0,
                 callbacks=None):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average
        self.method = method
        self.intercept_decay = intercept_decay
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.callbacks = callbacks

    @fill_doc
    def predict_proba(self, X):
        """Compute the class probabilities; only for ``loss="log_loss"``.

        Parameters
        ----------
        {samples}

        Returns
        -------
        {probabilities}
        """
        if self.loss != "log_loss":
            raise AttributeError(f"predict_proba needs loss='log_loss', got loss={self.loss!r}")
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


class SGDRegressor(_SGDModel):
    _estimator_type = "regressor"
    __doc__ = (
        """Linear regressor trained by lazy stochastic gradient descent on sparse rows.

    The arguments and methods follow ``sklearn.linear_model.SGDRegressor``; the update is the
    one of :class:`SGDClassifier` with a real target.

    Parameters
    ----------"""
        + _SGD_PARAMETERS_DOC
        + _SGD_PARAMETERS_DOC_END
        + """
    Attributes
    ----------
    coef_ (n_features,), intercept_ (1,), n_iter_, t_, loss_curve_

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.online import SGDRegressor
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> round(SGDRegressor(random_state=0).fit(X, y).score(X, y), 4)
    0.5338
    """
    )

    _stratify = False

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=1e-4, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, epsilon=0.1,
                 random_state=None, learning_rate="invscaling", eta0=0.01, power_t=0.25,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 warm_start=False, average=False, method="sgd", intercept_decay="auto", n_jobs=None,
                 verbose=0, callbacks=None):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average
        self.method = method
        self.intercept_decay = intercept_decay
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.callbacks = callbacks

    def _check_params(self):
        if self.loss not in ("squared_error", "huber"):
            raise ValueError(f"loss: expected 'squared_error' or 'huber' for regression, got {self.loss!r}")
        super()._check_params()

    def _prepare_targets(self, y, first, sample_weight, classes=None, incremental=False):
        if classes is not None:
            raise ValueError("classes: a regressor takes no classes")
        y = np.ascontiguousarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            i = int(np.argmin(np.isfinite(y)))
            raise ValueError(f"y[{i}]: expected a finite target, got {y[i]}")
        return y.reshape(1, -1), sample_weight

    @property
    def coef_(self):
        """Weights, of shape (n_features,)."""
        return super().coef_[0]

    @fill_doc
    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        {samples}

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted targets.
        """
        return self._decision(X)[:, 0]

    @fill_doc
    def score(self, X, y, sample_weight=None):
        """Compute the coefficient of determination :math:`R^2` of :meth:`predict` on ``X``.

        Parameters
        ----------
        {samples}
        y : array_like of shape (n_samples,)
            True targets.
        sample_weight : array_like of shape (n_samples,), optional
            Weights of the samples; equal by default.

        Returns
        -------
        float
            1.0 for a perfect fit; 0.0 when ``y`` is constant.
        """
        y = np.asarray(y, dtype=np.float64)
        weights = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        residual = np.sum(weights * (y - self.predict(X)) ** 2)
        total = np.sum(weights * (y - np.average(y, weights=weights)) ** 2)
        return float(1.0 - residual / total) if total > 0 else 0.0

    @fill_doc
    def fit(self, X, y, sample_weight=None):
        """Train on ``X``, ``y`` for up to ``max_iter`` epochs.

        Parameters
        ----------
        {training_rows}

        Returns
        -------
        {returns_self}
        """
        with exclusive(self, "fit"):
            return self._fit_arrays(X, y, sample_weight)

    @fill_doc
    def partial_fit(self, X, y, sample_weight=None):
        """Make one pass over the rows of ``X`` in order, updating the model.

        Parameters
        ----------
        {training_rows}

        Returns
        -------
        {returns_self}
        """
        with exclusive(self, "partial_fit"):
            return self._partial_fit_arrays(X, y, sample_weight)


