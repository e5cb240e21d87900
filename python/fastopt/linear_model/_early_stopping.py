"""Early stopping: hold out a validation fraction and stop when its loss stops improving."""

from __future__ import annotations

import numpy as np


def split_validation(n_samples, validation_fraction, random_state, *, stratify=None):
    """Return (train, validation) index arrays, shuffled by ``random_state``.

    With ``stratify`` (class labels) each class contributes its share to the validation set,
    at least one sample of every class with two or more samples, so the validation loss sees
    every class.
    """
    rng = random_state if isinstance(random_state, np.random.RandomState) \
        else np.random.RandomState(random_state)
    if stratify is None:
        order = rng.permutation(n_samples)
        n_valid = int(np.ceil(validation_fraction * n_samples))
        n_valid = min(n_valid, n_samples - 1)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])
    valid = []
    for label in np.unique(stratify):
        members = rng.permutation(np.flatnonzero(stratify == label))
        if members.size < 2:
            continue
        take = min(max(int(round(validation_fraction * members.size)), 1), members.size - 1)
        valid.append(members[:take])
    valid = np.sort(np.concatenate(valid)) if valid else np.zeros(0, dtype=np.intp)
    mask = np.ones(n_samples, dtype=bool)
    mask[valid] = False
    return np.flatnonzero(mask), valid


class ValidationMonitor:
    """Solver callback that tracks the validation loss and stops on a plateau.

    After each solver iteration it evaluates the data term of ``objective`` (the validation
    set) at the iterate. A value counts as an improvement when it is below
    ``best * (1 - tol)``; after ``patience`` iterations in a row without one the callback
    returns True, which stops the solver. ``best_w`` is the iterate with the lowest
    validation loss, which the estimator keeps.
    """

    def __init__(self, objective, patience, tol):
        self.objective = objective
        self._patience = patience
        self._tol = tol
        self.best_value = np.inf
        self.best_w = None
        self.history = []
        self.stopped = False
        self._since_best = 0

    def __call__(self, w):
        value = self.objective.value(w)
        self.history.append(value)
        if value < self.best_value * (1.0 - self._tol) or self.best_w is None:
            self._since_best = 0
        else:
            self._since_best += 1
        if value < self.best_value:
            self.best_value = value
            self.best_w = np.array(w, dtype=np.float64)
        if self._since_best >= self._patience:
            self.stopped = True
            return True
        return False
