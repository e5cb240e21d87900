"""The search driver: evaluate a strategy's candidates by cross-validation in threads.

A candidate is fitted once per split. Candidates that differ only in the regularization
strength (``alpha``) form a path: on each split one estimator fits them from the strongest
penalty to the weakest with ``warm_start=True``, so each fit starts from the previous
coefficients. The work of one batch is a list of (path, split) tasks that threads run in any
order. Every task writes only its own cells of the score table, and no task depends on
another's result, so the results do not depend on the number of threads.
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fastopt.callbacks import Callback, check_callbacks
from fastopt.tune._results import ResultsTable, build_records
from fastopt.tune._strategy import GridStrategy, RandomStrategy, SearchStrategy
from fastopt.tune._validation import make_scorer, make_splits


def clone(estimator):
    """Return an unfitted copy of ``estimator`` with the same parameters.

    scikit-learn's ``clone`` when scikit-learn is installed (it handles nested estimators
    such as pipelines), otherwise a new instance built from deep copies of ``get_params``.

    Parameters
    ----------
    estimator : object
        An estimator with ``get_params``.

    Returns
    -------
    object
        A new, unfitted estimator of the same class and parameters.

    Examples
    --------
    >>> from fastopt.linear_model import Ridge
    >>> from fastopt.tune import clone
    >>> clone(Ridge(alpha=0.5))
    Ridge(alpha=0.5)
    """
    try:
        from sklearn.base import clone as sklearn_clone
    except ImportError:
        params = {name: copy.deepcopy(value)
                  for name, value in estimator.get_params(deep=False).items()}
        return type(estimator)(**params)
    return sklearn_clone(estimator)


def _rows(data, index):
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[index]
    return data[index]


def _is_classifier(estimator):
    return getattr(estimator, "_estimator_type", None) == "classifier"


class _PruningCallback(Callback):
    """Scores each iteration's estimator on the validation split and reports it for pruning."""

    def __init__(self, search, position, scorer, X_valid, y_valid, report_every):
        self._search = search
        self._position = position
        self._scorer = scorer
        self._X = X_valid
        self._y = y_valid
        self._every = report_every
        self.pruned = False

    def on_iteration_end(self, iteration, logs):
        if iteration % self._every:
            return False
        score = float(self._scorer(logs["estimator"], self._X, self._y))
        self.pruned = self._search._report(self._position, iteration, score)
        return self.pruned


class Search:
    """Evaluate the candidates a strategy proposes and keep the best.

    Parameters
    ----------
    estimator : object
        Any estimator with scikit-learn's interface: ``fit``, ``get_params``, ``set_params``
        and ``score`` (or a ``scoring``).
    strategy : SearchStrategy
        Proposes the candidates (see :class:`fastopt.tune.SearchStrategy`).
    scoring : None, str or callable, default None
        None uses ``estimator.score``; a name among "accuracy", "neg_log_loss", "roc_auc",
        "r2", "neg_mean_squared_error", "neg_mean_absolute_error"; or
        ``scoring(estimator, X, y) -> float``. Higher is better.
    cv : int, float, splitter or list of (train, test), default 5
        k folds (stratified for classifiers, as scikit-learn's default), a holdout fraction in
        (0, 1), an object with ``split(X, y)``, or explicit index pairs.
    n_jobs : int, default 1
        Threads that fit in parallel; -1 uses one per CPU. fastopt's estimators release the
        GIL in their kernels, so threads overlap their fits. Results do not depend on it.
    refit : bool, default True
        Fit ``best_estimator_`` on all of X with the best parameters.
    warm_start_path : str or None, default "auto"
        Parameter along which to chain warm starts. "auto" takes "alpha" when the estimator
        has both ``alpha`` and ``warm_start`` parameters; None fits every candidate from
        scratch.
    error_score : "raise" or float, default "raise"
        What a failing fit scores; "raise" re-raises its exception.
    return_train_score : bool, default False
        Also score each fit on its training split.
    report_every : int, default 1
        With a pruning strategy, score the validation split every ``report_every`` solver
        iterations.
    random_state : int or None, default None
        Seed of a holdout split (``cv`` a float).

    Attributes
    ----------
    results_ : ResultsTable
        One record per candidate, in the order proposed (see :class:`ResultsTable`).
    best_index_, best_params_, best_score_ : int, dict, float
        The candidate with the highest mean validation score (the first one on a tie).
    best_estimator_ : estimator
        Refitted on all data with ``best_params_`` (with ``refit=True``).
    n_splits_ : int
    refit_time_ : float
        Seconds spent refitting.

    Examples
    --------
    Any strategy drives the search; here a grid in one batch:

    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import LogisticRegression
    >>> from fastopt.tune import GridStrategy, Search
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> search = Search(LogisticRegression(), GridStrategy({"alpha": [0.1, 0.01]}), cv=3)
    >>> search.fit(X, y).best_params_, round(search.best_score_, 4)
    ({'alpha': 0.01}, 0.837)
    """

    def __init__(self, estimator, strategy, *, scoring=None, cv=5, n_jobs=1, refit=True,
                 warm_start_path="auto", error_score="raise", return_train_score=False,
                 report_every=1, random_state=None):
        self.estimator = estimator
        self.strategy = strategy
        self.scoring = scoring
        self.cv = cv
        self.n_jobs = n_jobs
        self.refit = refit
        self.warm_start_path = warm_start_path
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.report_every = report_every
        self.random_state = random_state

    # -- checks -------------------------------------------------------------------------

    def _check_params(self):
        for name in ("fit", "get_params", "set_params"):
            if not callable(getattr(self.estimator, name, None)):
                raise TypeError(f"estimator: expected an object with scikit-learn's "
                                f"interface, got {type(self.estimator).__name__} without "
                                f"{name}()")
        if not isinstance(self.strategy, SearchStrategy):
            raise TypeError(f"strategy: expected a fastopt.tune.SearchStrategy, got "
                            f"{type(self.strategy).__name__}")
        n_jobs = self.n_jobs
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) \
                or not (n_jobs >= 1 or n_jobs == -1):
            raise ValueError(f"n_jobs: expected an integer >= 1 or -1, got {n_jobs!r}")
        if not (self.error_score == "raise" or (isinstance(self.error_score, numbers.Real)
                                                and not isinstance(self.error_score, bool))):
            raise ValueError(f"error_score: expected 'raise' or a number, got "
                             f"{self.error_score!r}")
        every = self.report_every
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"report_every: expected an integer >= 1, got {every!r}")
        params = self.estimator.get_params()
        path = self.warm_start_path
        if path == "auto":
            path = "alpha" if "alpha" in params and "warm_start" in params else None
        elif path is not None:
            if path not in params or "warm_start" not in params:
                raise ValueError(f"warm_start_path: {path!r} needs an estimator with the "
                                 f"parameters {path!r} and 'warm_start'; "
                                 f"{type(self.estimator).__name__} has {sorted(params)}")
        self._path = path
        self._threads = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
        self._can_prune = "callbacks" in params

    # -- fitting ------------------------------------------------------------------------

    def fit(self, X, y=None, **fit_params):
        """Run the search on ``X``, ``y`` and refit the best candidate; return self.

        ``fit_params`` go to every fit; an array of one value per sample (such as
        ``sample_weight``) is split with the rows.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            Training data.
        y : array_like of shape (n_samples,), optional
            Targets or class labels.
        **fit_params
            Keyword arguments of the estimator's ``fit``.

        Returns
        -------
        self
            The search, with ``results_``, ``best_params_``, ``best_score_`` and, with
            ``refit``, ``best_estimator_``.
        """
        self._check_params()
        scorer = make_scorer(self.scoring)
        splits = make_splits(self.cv, X, y, classifier=_is_classifier(self.estimator),
                             random_state=self.random_state)
        self.n_splits_ = len(splits)
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        # Each split's rows are copied once and shared by every fit on it.
        split_data = [(_rows(X, train), _rows(y, train), _rows(X, test), _rows(y, test),
                       {name: _split_param(value, train, n_samples)
                        for name, value in fit_params.items()})
                      for train, test in splits]
        self._report_lock = threading.Lock()
        strategy = self.strategy
        strategy.reset()
        candidates, table, states = [], [], []
        with ThreadPoolExecutor(max_workers=self._threads) as pool:
            while True:
                batch = strategy.ask()
                if not batch:
                    break
                cells, status = self._evaluate(batch, split_data, scorer, pool)
                means = [_mean_score(cells["test_score"][i], status[i])
                         for i in range(len(batch))]
                strategy.tell([dict(c) for c in batch], means)
                candidates.extend(batch)
                table.append(cells)
                states.extend(status)
        if not candidates:
            raise ValueError(f"strategy: {type(strategy).__name__} proposed no candidates")
        self.results_ = ResultsTable(build_records(candidates, table, states,
                                                   self.n_splits_, self.return_train_score))
        self._select_best()
        if self.refit:
            start = time.perf_counter()
            best = clone(self.estimator).set_params(**self.best_params_)
            self.best_estimator_ = best.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
        return self

    def _select_best(self):
        means = np.array([r["mean_test_score"] for r in self.results_], dtype=np.float64)
        if np.all(np.isnan(means)):
            raise ValueError("every candidate failed or was pruned, so there is no best one; "
                             "see results_ for the status of each")
        self.best_index_ = int(np.nanargmax(means))
        self.best_score_ = float(means[self.best_index_])
        self.best_params_ = dict(self.results_[self.best_index_]["params"])

    def _paths(self, batch):
        """Group the batch's positions into warm-start paths, strongest penalty first."""
        if self._path is None:
            return [[i] for i in range(len(batch))]
        paths, keys = [], []
        for i, candidate in enumerate(batch):
            key = {k: v for k, v in candidate.items() if k != self._path}
            for path, other in zip(paths, keys):
                if _same_params(other, key):
                    path.append(i)
                    break
            else:
                paths.append([i])
                keys.append(key)
        default = self.estimator.get_params()[self._path]
        for path in paths:
            # Stable, so equal strengths keep the proposed order.
            path.sort(key=lambda i: -float(batch[i].get(self._path, default)))
        return paths

    def _evaluate(self, batch, splits, scorer, pool):
        """Fit and score every candidate of ``batch`` on every split.

        Returns the score table (dict of arrays of shape (len(batch), n_splits)) and each
        candidate's status: "ok", "failed" or "pruned".
        """
        shape = (len(batch), len(splits))
        cells = {name: np.full(shape, np.nan) for name in
                 ("test_score", "train_score", "fit_time", "score_time", "n_iter")}
        status = ["ok"] * len(batch)
        errors = {}
        prune = self._can_prune and bool(getattr(self.strategy, "prunes", False))
        paths = self._paths(batch)
        tasks = [(path, s) for path in paths for s in range(len(splits))]
        if prune:
            # The first split reports intermediate scores; a candidate it prunes skips the
            # other splits, so they run only after it.
            first = [(path, 0) for path in paths]
            self._run(pool, first, batch, splits, scorer, cells, status, errors, prune=True)
            tasks = [([i for i in path if status[i] == "ok"], s) for path, s in tasks if s > 0]
            tasks = [(path, s) for path, s in tasks if path]
        self._run(pool, tasks, batch, splits, scorer, cells, status, errors, prune=False)
        for i in sorted(errors):
            if self.error_score == "raise":
                raise errors[i]
            warnings.warn(f"fit failed for candidate {batch[i]!r}: "
                          f"{type(errors[i]).__name__}: {errors[i]}; the failed splits score "
                          f"error_score={self.error_score!r}", RuntimeWarning, stacklevel=3)
        return cells, status

    def _run(self, pool, tasks, batch, splits, scorer, cells, status, errors, *, prune):
        def task(args):
            path, s = args
            self._fit_path(path, s, batch, splits[s], scorer, cells, status, errors, prune)

        if self._threads == 1 or len(tasks) <= 1:
            for args in tasks:
                task(args)
        else:
            # list() re-raises the first exception of a task, which only "raise" lets out.
            list(pool.map(task, tasks))

    def _fit_path(self, path, s, batch, split, scorer, cells, status, errors, prune):
        X_train, y_train, X_test, y_test, params = split
        estimator = clone(self.estimator)
        if self._path is not None:
            estimator.set_params(warm_start=True)
        for i in path:
            estimator.set_params(**batch[i])
            pruning = None
            if prune:
                pruning = _PruningCallback(self, i, scorer, X_test, y_test, self.report_every)
                # This clone's own callbacks (copies of the caller's) run too.
                own_callbacks = estimator.get_params()["callbacks"]
                estimator.set_params(callbacks=check_callbacks(own_callbacks) + [pruning])
            start = time.perf_counter()
            try:
                estimator.fit(X_train, y_train, **params)
            except Exception as exc:  # noqa: BLE001 - error_score decides what a failure does
                if self.error_score == "raise":
                    raise
                status[i] = "failed"
                errors.setdefault(i, exc)
                cells["test_score"][i, s] = float(self.error_score)
                # The next candidate of the path starts cold after a failure.
                estimator = clone(self.estimator)
                if self._path is not None:
                    estimator.set_params(warm_start=True)
                continue
            finally:
                if pruning is not None:
                    estimator.set_params(callbacks=own_callbacks)
            cells["fit_time"][i, s] = time.perf_counter() - start
            if pruning is not None and pruning.pruned:
                status[i] = "pruned"
                continue
            start = time.perf_counter()
            cells["test_score"][i, s] = float(scorer(estimator, X_test, y_test))
            cells["score_time"][i, s] = time.perf_counter() - start
            if self.return_train_score:
                cells["train_score"][i, s] = float(scorer(estimator, X_train, y_train))
            n_iter = getattr(estimator, "n_iter_", None)
            if n_iter is not None:
                cells["n_iter"][i, s] = float(np.max(n_iter))

    def _report(self, position, step, score):
        # Strategies need not be thread-safe; Optuna's storage is, but this keeps the calls
        # of one strategy in sequence for any strategy.
        with self._report_lock:
            return bool(self.strategy.report(position, step, score))

    # -- the fitted search as an estimator ------------------------------------------------

    def _best(self):
        if not hasattr(self, "best_estimator_"):
            raise AttributeError(f"{type(self).__name__} has no best_estimator_: call fit with "
                                 "refit=True first")
        return self.best_estimator_

    def predict(self, X):
        """Predict with ``best_estimator_``.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            Samples, with the features of the training data.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predictions of ``best_estimator_``.
        """
        return self._best().predict(X)

    def predict_proba(self, X):
        """Compute the class probabilities with ``best_estimator_``.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            Samples, with the features of the training data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probabilities of ``best_estimator_``.
        """
        return self._best().predict_proba(X)

    def decision_function(self, X):
        """Compute the decision function of ``best_estimator_``.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            Samples, with the features of the training data.

        Returns
        -------
        ndarray
            The margins of ``best_estimator_``.
        """
        return self._best().decision_function(X)

    def score(self, X, y):
        """Score ``best_estimator_`` on ``X``, ``y`` with the search's scoring.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            Samples, with the features of the training data.
        y : array_like of shape (n_samples,)
            True targets or labels.

        Returns
        -------
        float
            The score; higher is better.
        """
        return float(make_scorer(self.scoring)(self._best(), X, y))

    @property
    def cv_results_(self):
        """The results as scikit-learn's ``cv_results_``: a dict of columns."""
        return self.results_.columns()


def _mean_score(scores, status):
    if status == "pruned":
        return math.nan
    return float(np.mean(scores))


def _same_params(a, b):
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if x is y:
            continue
        try:
            if not bool(x == y) or type(x) is not type(y):
                return False
        except (TypeError, ValueError):
            return False
    return True


def _split_param(value, rows, n_samples):
    if hasattr(value, "shape") and len(value.shape) > 0 and value.shape[0] == n_samples:
        return _rows(value, rows)
    return value


class GridSearch(Search):
    """Exhaustive search over a grid of parameter values.

    ``param_grid`` maps parameter names to lists of values (or is a list of such dicts);
    every combination is a candidate, in scikit-learn's ``ParameterGrid`` order. The other
    keywords are those of :class:`Search`.

    Parameters
    ----------
    estimator : object
        As in :class:`Search`.
    param_grid : dict or list of dict
        Parameter name to a list of values.
    **kwargs
        Keywords of :class:`Search`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from fastopt.linear_model import LogisticRegression
    >>> from fastopt.tune import GridSearch
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> search = GridSearch(LogisticRegression(), {"alpha": [1e-3, 1e-2, 1e-1]}, cv=3)
    >>> best = search.fit(scale(X), y).best_params_
    >>> sorted(best)
    ['alpha']
    """

    def __init__(self, estimator, param_grid, **kwargs):
        super().__init__(estimator, GridStrategy(param_grid), **kwargs)
        self.param_grid = param_grid


class RandomSearch(Search):
    """Search over ``n_iter`` candidates drawn from distributions.

    ``param_distributions`` maps parameter names to :class:`Distribution` objects
    (:class:`LogUniform` for a penalty strength, :class:`Categorical` for a choice) or lists
    of values drawn uniformly. ``random_state`` seeds the draws (and a holdout split). The
    other keywords are those of :class:`Search`.

    Parameters
    ----------
    estimator : object
        As in :class:`Search`.
    param_distributions : dict
        Parameter name to a :class:`Distribution` or a list of values.
    n_iter : int, default 10
        Number of candidates.
    random_state : int or None
        Seed of the draws and of a holdout split.
    **kwargs
        Keywords of :class:`Search`.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import LogisticRegression
    >>> from fastopt.tune import LogUniform, RandomSearch
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> search = RandomSearch(LogisticRegression(), {"alpha": LogUniform(1e-4, 1e-1)},
    ...                       n_iter=4, cv=3, random_state=0).fit(X, y)
    >>> round(search.best_params_["alpha"], 6), round(search.best_score_, 4)
    (0.008145, 0.837)
    >>> search.results_.column("rank_test_score")
    [1, 1, 3, 3]
    """

    def __init__(self, estimator, param_distributions, *, n_iter=10, random_state=None,
                 **kwargs):
        strategy = RandomStrategy(param_distributions, n_iter, random_state=random_state)
        super().__init__(estimator, strategy, random_state=random_state, **kwargs)
        self.param_distributions = param_distributions
        self.n_iter = n_iter
