"""Evaluation of a batch of candidates, shared by the annealing and the genetic algorithm."""

from __future__ import annotations

import numpy as np


def evaluate(fun, batch, vectorized):
    """Return ``fun``'s float64 values for the rows of ``batch``.

    With ``vectorized``, ``fun`` receives the whole batch in one call and returns one value
    per row. Otherwise it is called once per row and returns a scalar.
    """
    if vectorized:
        values = np.asarray(fun(batch), dtype=np.float64)
        if values.shape != (len(batch),):
            values = values.reshape(-1) if values.size == len(batch) else values
        if values.shape != (len(batch),):
            raise ValueError(f"fun: expected {len(batch)} values, one per row of the batch, got "
                             f"an array of shape {np.shape(values)}; pass vectorized=False for "
                             f"a function of one candidate")
        return np.ascontiguousarray(values)
    return np.array([float(fun(row)) for row in batch], dtype=np.float64)


class Budget:
    """Counts evaluations against ``maxfev`` and records why a run stopped."""

    def __init__(self, maxfev, target):
        self.maxfev = maxfev
        self.target = target
        self.nfev = 0

    def room(self):
        """Number of evaluations left, or None without a limit."""
        return None if self.maxfev is None else self.maxfev - self.nfev

    def reached_target(self, best):
        return self.target is not None and best <= self.target


def drive(steps, fun, vectorized):
    """Run the generator ``steps`` of an optimizer to its end: send it ``fun``'s values for
    every batch it yields, and return the result it returns."""
    try:
        batch = next(steps)
        while True:
            batch = steps.send(evaluate(fun, batch, vectorized))
    except StopIteration as stop:
        return stop.value
