"""The search-strategy protocol and the grid and random strategies.

A search (:class:`fastopt.tune.Search`) requests candidates from its strategy, evaluates them
and passes their scores back::

    strategy.reset()
    while True:
        batch = strategy.ask()            # a list of parameter dicts; [] ends the search
        if not batch:
            break
        scores = [evaluate(params) for params in batch]   # in parallel threads
        strategy.tell(batch, scores)

Scores are the mean validation scores, higher is better (minus the loss for a loss). A
candidate that failed or was pruned scores NaN. While a candidate trains, an iterative
estimator may report intermediate validation scores: the search calls
``strategy.report(position, step, score)`` with the candidate's position in its batch, and a
True result stops (prunes) that candidate. The search reports only to strategies whose
``prunes`` attribute is True.

A strategy owns its random state: :meth:`SearchStrategy.reset` restarts it from its seed, so
fitting the same search twice evaluates the same candidates. A strategy must not depend on
the order in which the search finishes the candidates of one batch, which is what makes the
results the same for any number of threads. Strategies that learn from scores (Optuna's TPE,
simulated annealing, a genetic algorithm) decide a batch from the scores of earlier batches
only.
"""

from __future__ import annotations

import numbers

import numpy as np

from fastopt.tune._space import check_space, expand_grid, sample_candidate


class SearchStrategy:
    """Base class of the strategies: proposes candidates in batches and learns their scores.

    Subclasses implement :meth:`ask` and, when they learn from scores, :meth:`tell`; see the
    module docstring for the loop that drives them.

    Examples
    --------
    A strategy that halves ``alpha`` until the score stops improving:

    >>> import math
    >>> from fastopt.tune import SearchStrategy
    >>> class Halving(SearchStrategy):
    ...     def reset(self):
    ...         self.alpha, self.best, self.done = 1.0, -math.inf, False
    ...     def ask(self):
    ...         return [] if self.done else [{"alpha": self.alpha}]
    ...     def tell(self, candidates, scores):
    ...         self.done = not scores[0] > self.best
    ...         self.best, self.alpha = max(self.best, scores[0]), self.alpha / 2
    >>> strategy = Halving()
    >>> strategy.reset()
    >>> strategy.ask()
    [{'alpha': 1.0}]
    >>> strategy.tell([{"alpha": 1.0}], [0.8])
    >>> strategy.ask()
    [{'alpha': 0.5}]
    """

    def reset(self):
        """Restart the strategy from its seed, forgetting every candidate and score."""

    def ask(self):
        """Return the next batch of candidates (list of dicts), or [] when the search is done."""
        raise NotImplementedError

    def tell(self, candidates, scores):
        """Receive the scores of the last batch.

        Parameters
        ----------
        candidates : list of dict
            The batch that :meth:`ask` returned.
        scores : list of float
            Mean validation score of each candidate; NaN for a failed or pruned one.
        """

    #: Whether :meth:`report` may return True. The search computes intermediate scores,
    #: which costs a scoring pass per report, only for a strategy that prunes.
    prunes = False

    def report(self, position, step, score):
        """Receive an intermediate score of a running candidate; return True to prune it.

        Parameters
        ----------
        position : int
            Index of the candidate in the last batch.
        step : int
            Solver iteration at which the score was computed.
        score : float
            Validation score of the candidate's first split at ``step``.

        Returns
        -------
        bool
            True to stop the candidate.
        """
        return False


class GridStrategy(SearchStrategy):
    """Every combination of a grid of values, in one batch.

    Parameters
    ----------
    space : dict
        Parameter name to a list of values (or a :class:`Categorical`). Names are crossed in
        sorted order with the last name varying fastest, as scikit-learn's ``ParameterGrid``
        does. A list of such dicts searches the union of their grids.

    Examples
    --------
    >>> from fastopt.tune import GridStrategy
    >>> GridStrategy({"alpha": [0.1, 0.01], "penalty": ["l1", "l2"]}).ask()
    [{'alpha': 0.1, 'penalty': 'l1'}, {'alpha': 0.1, 'penalty': 'l2'}, {'alpha': 0.01, 'penalty': 'l1'}, {'alpha': 0.01, 'penalty': 'l2'}]
    """

    def __init__(self, space):
        spaces = space if isinstance(space, list) else [space]
        if not spaces:
            raise ValueError("space: expected a dict or a non-empty list of dicts, got []")
        self.candidates = [c for s in spaces for c in expand_grid(s)]
        self._done = False

    def reset(self):
        self._done = False

    def ask(self):
        if self._done:
            return []
        self._done = True
        return [dict(c) for c in self.candidates]


class RandomStrategy(SearchStrategy):
    """Candidates drawn independently from the space's distributions.

    Parameters
    ----------
    space : dict
        Parameter name to a :class:`Distribution` or a list of values (drawn uniformly).
    n_iter : int
        Number of candidates, >= 1.
    random_state : int or None
        Seed of the draws. None draws a seed once at construction, so :meth:`reset` still
        replays the same candidates.
    batch_size : int or None
        Candidates per :meth:`ask`. None returns all ``n_iter`` in one batch. The draws do not
        depend on it.

    Examples
    --------
    >>> from fastopt.tune import LogUniform, RandomStrategy
    >>> strategy = RandomStrategy({"alpha": LogUniform(1e-3, 1e-1)}, n_iter=3, random_state=0)
    >>> [round(candidate["alpha"], 4) for candidate in strategy.ask()]
    [0.0188, 0.0035, 0.0012]
    """

    def __init__(self, space, n_iter=10, *, random_state=None, batch_size=None):
        self.space = check_space(space)
        self.n_iter = _check_positive_int("n_iter", n_iter)
        self.batch_size = None if batch_size is None else _check_positive_int("batch_size",
                                                                              batch_size)
        if random_state is None:
            random_state = int(np.random.SeedSequence().generate_state(1)[0])
        self.random_state = random_state
        self.reset()

    def reset(self):
        self._rng = np.random.default_rng(self.random_state)
        self._asked = 0

    def ask(self):
        remaining = self.n_iter - self._asked
        size = remaining if self.batch_size is None else min(self.batch_size, remaining)
        self._asked += size
        return [sample_candidate(self.space, self._rng) for _ in range(size)]


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)
