"""Validation splits and scorers for the searches.

The splitters follow scikit-learn's ``split(X, y)`` interface, so a search also takes any of
scikit-learn's splitters, and scikit-learn takes these.
"""

from __future__ import annotations

import numbers

import numpy as np


def _check_n_splits(n_splits):
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
        raise ValueError(f"n_splits: expected an integer >= 2, got {n_splits!r}")
    return int(n_splits)


def _num_samples(X):
    if hasattr(X, "shape") and len(X.shape) > 0:
        return int(X.shape[0])
    return len(X)


class KFold:
    """K consecutive folds, each the test set once; the first ``n % k`` folds get one more.

    With ``shuffle=True`` the samples are permuted first with ``random_state``.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds, >= 2.
    shuffle : bool, default False
        Permute the samples before cutting the folds.
    random_state : int or None
        Seed of the permutation.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.tune import KFold
    >>> [(len(train), len(test)) for train, test in KFold(3).split(np.zeros(10))]
    [(6, 4), (7, 3), (7, 3)]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        self.n_splits = _check_n_splits(n_splits)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits.

        Parameters
        ----------
        X, y, groups : None
            Accepted for scikit-learn compatibility and ignored.

        Returns
        -------
        int
            ``n_splits``.
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Generate the (train, test) index arrays of each split.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            The samples; only their number is used.
        y : array_like of shape (n_samples,), optional
            Class labels; required by StratifiedKFold.
        groups : None
            Accepted for scikit-learn compatibility and ignored.

        Yields
        ------
        train, test : numpy.ndarray of int
            Row indices of each side.
        """
        n = _num_samples(X)
        if self.n_splits > n:
            raise ValueError(f"n_splits: {self.n_splits} folds need at least as many samples, "
                             f"got {n}")
        order = np.arange(n)
        if self.shuffle:
            order = np.random.default_rng(self.random_state).permutation(n)
        for test in np.array_split(order, self.n_splits):
            mask = np.ones(n, dtype=bool)
            mask[test] = False
            yield np.flatnonzero(mask), np.sort(test)


class StratifiedKFold(KFold):
    """K folds that keep each class's share of the samples.

    The samples of each class (in order, or permuted with ``shuffle=True``) are dealt to the
    folds in turn, and each class starts where the previous one stopped, so the fold sizes
    differ by at most one.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds, >= 2.
    shuffle : bool, default False
        Permute the samples of each class before dealing them.
    random_state : int or None
        Seed of the permutation.

    Examples
    --------
    Six samples of class 0 and four of class 1, dealt to three folds:

    >>> import numpy as np
    >>> from fastopt.tune import StratifiedKFold
    >>> y = np.array([0] * 6 + [1] * 4)
    >>> [np.bincount(y[test]).tolist() for _, test in StratifiedKFold(3).split(np.zeros(10), y)]
    [[2, 2], [2, 1], [2, 1]]
    """

    def split(self, X, y=None, groups=None):
        if y is None:
            raise ValueError("y: StratifiedKFold needs the class labels, got None")
        y = np.asarray(y)
        n = _num_samples(X)
        if y.shape[0] != n:
            raise ValueError(f"y: has {y.shape[0]} samples but X has {n}")
        if self.n_splits > n:
            raise ValueError(f"n_splits: {self.n_splits} folds need at least as many samples, "
                             f"got {n}")
        rng = np.random.default_rng(self.random_state) if self.shuffle else None
        fold_of = np.empty(n, dtype=np.intp)
        start = 0
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            if rng is not None:
                members = rng.permutation(members)
            fold_of[members] = (start + np.arange(members.size)) % self.n_splits
            start = (start + members.size) % self.n_splits
        for fold in range(self.n_splits):
            yield np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)


class Holdout:
    """One split: ``test_size`` of the samples (a fraction in (0, 1)) for validation.

    The split is drawn with ``random_state``; with ``stratify=True`` (the default for
    classifiers in a search) each class contributes its share to both sides.

    Parameters
    ----------
    test_size : float, default 0.2
        Fraction of the samples held out, in (0, 1).
    random_state : int or None
        Seed of the split.
    stratify : bool, default False
        Keep each class's share on both sides.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.tune import Holdout
    >>> [(len(train), len(test)) for train, test in Holdout(0.25, random_state=0).split(np.zeros(8))]
    [(6, 2)]
    """

    def __init__(self, test_size=0.2, *, random_state=None, stratify=False):
        if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) \
                or not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size: expected a fraction in (0, 1), got {test_size!r}")
        self.test_size = float(test_size)
        self.random_state = random_state
        self.stratify = bool(stratify)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits.

        Parameters
        ----------
        X, y, groups : None
            Accepted for scikit-learn compatibility and ignored.

        Returns
        -------
        int
            1.
        """
        return 1

    def split(self, X, y=None, groups=None):
        """Generate the (train, test) index arrays of each split.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_features)
            The samples; only their number is used.
        y : array_like of shape (n_samples,), optional
            Class labels, required with ``stratify=True``.
        groups : None
            Accepted for scikit-learn compatibility and ignored.

        Yields
        ------
        train, test : numpy.ndarray of int
            Row indices of each side.
        """
        n = _num_samples(X)
        rng = np.random.default_rng(self.random_state)
        if self.stratify and y is not None:
            y = np.asarray(y)
            groups = [np.flatnonzero(y == label) for label in np.unique(y)]
        else:
            groups = [np.arange(n)]
        test = []
        for members in groups:
            take = int(round(self.test_size * members.size))
            test.append(rng.permutation(members)[:take])
        test = np.sort(np.concatenate(test))
        if test.size == 0 or test.size == n:
            raise ValueError(f"test_size: {self.test_size!r} leaves an empty training or "
                             f"validation set for {n} samples")
        mask = np.ones(n, dtype=bool)
        mask[test] = False
        yield np.flatnonzero(mask), test


def make_splits(cv, X, y, *, classifier, random_state=None):
    """Return the list of (train, test) index pairs that ``cv`` defines.

    ``cv`` is an int k >= 2 (k folds, stratified for a classifier, not shuffled), a float in
    (0, 1) (a holdout of that fraction, drawn with ``random_state``), an object with
    ``split(X, y)``, or an iterable of (train, test) index pairs.
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        splitter = StratifiedKFold(cv) if classifier else KFold(cv)
    elif isinstance(cv, numbers.Real) and not isinstance(cv, bool):
        splitter = Holdout(cv, random_state=random_state, stratify=classifier)
    elif hasattr(cv, "split"):
        splitter = cv
    elif hasattr(cv, "__iter__"):
        splitter = None
    else:
        raise ValueError(f"cv: expected an int >= 2, a fraction in (0, 1), a splitter or "
                         f"a list of (train, test) index pairs, got {cv!r}")
    pairs = list(cv) if splitter is None else list(splitter.split(X, y))
    if not pairs:
        raise ValueError("cv: expected at least one (train, test) split, got none")
    n = _num_samples(X)
    splits = []
    for index, pair in enumerate(pairs):
        try:
            train, test = pair
        except (TypeError, ValueError):
            raise ValueError(f"cv[{index}]: expected a (train, test) pair of index arrays, "
                             f"got {pair!r}") from None
        train = np.asarray(train)
        test = np.asarray(test)
        for name, rows in (("train", train), ("test", test)):
            if rows.dtype == bool:
                rows = np.flatnonzero(rows)
            if rows.size == 0:
                raise ValueError(f"cv[{index}]: the {name} indices are empty")
            if rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n:
                raise ValueError(f"cv[{index}]: {name} indices must be integers in [0, {n}), "
                                 f"got {rows.dtype} values from {rows.min()} to {rows.max()}")
            if name == "train":
                train = rows
            else:
                test = rows
        splits.append((train, test))
    return splits


def _scorer_table():
    from fastopt import metrics

    def proba(estimator, X):
        return estimator.predict_proba(X)

    def decision(estimator, X):
        scores = estimator.decision_function(X)
        return scores

    return {
        "accuracy": lambda e, X, y: metrics.accuracy_score(y, e.predict(X)),
        "r2": lambda e, X, y: metrics.r2_score(y, e.predict(X)),
        "neg_mean_squared_error": lambda e, X, y: -metrics.mean_squared_error(y, e.predict(X)),
        "neg_mean_absolute_error":
            lambda e, X, y: -metrics.mean_absolute_error(y, e.predict(X)),
        "neg_log_loss": lambda e, X, y: -metrics.log_loss(y, proba(e, X),
                                                          labels=e.classes_),
        "roc_auc": lambda e, X, y: metrics.roc_auc_score(y, decision(e, X)),
    }


SCORING_NAMES = ("accuracy", "neg_log_loss", "neg_mean_absolute_error",
                 "neg_mean_squared_error", "r2", "roc_auc")


def make_scorer(scoring):
    """Return a function ``score(estimator, X, y) -> float``, higher is better.

    ``scoring`` is None (the estimator's ``score`` method), one of :data:`SCORING_NAMES`
    (scikit-learn's names for the same metrics) or a callable ``scoring(estimator, X, y)``.
    """
    if scoring is None:
        return lambda estimator, X, y: estimator.score(X, y)
    if callable(scoring):
        return scoring
    if isinstance(scoring, str) and scoring in SCORING_NAMES:
        return _scorer_table()[scoring]
    raise ValueError(f"scoring: expected None, a callable or one of {SCORING_NAMES}, got "
                     f"{scoring!r}")
