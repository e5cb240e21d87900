"""Search spaces: the distributions a hyperparameter is drawn from, and their checks.

A space is a dict that maps an estimator parameter name to either a list of values or a
distribution object of this module. A grid search crosses the lists, so every combination of
values is a candidate. Distributions draw from a ``numpy.random.Generator``, so a seeded
search draws the same candidates on every run.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _check_bound(name, which, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}: {which} must be a finite real number, got {value!r}")
    return value


class Distribution:
    """Base class of the distributions; subclasses implement :meth:`sample`.

    Examples
    --------
    A distribution of powers of two:

    >>> import numpy as np
    >>> from fastopt.tune import Distribution
    >>> class PowerOfTwo(Distribution):
    ...     def sample(self, rng):
    ...         return 2 ** int(rng.integers(0, 8))
    >>> PowerOfTwo().sample(np.random.default_rng(0))
    64
    """

    def sample(self, rng):
        """Draw one value with ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The generator of the draw.

        Returns
        -------
        object
            The value.
        """
        raise NotImplementedError


class Uniform(Distribution):
    """Real values drawn uniformly from ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Finite bounds, ``low <= high``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.tune import Uniform
    >>> round(Uniform(0.0, 1.0).sample(np.random.default_rng(0)), 4)
    0.637
    """

    def __init__(self, low, high):
        _check_bound("Uniform", "low", low)
        _check_bound("Uniform", "high", high)
        if low > high:
            raise ValueError(f"Uniform: low must be <= high, got low={low!r} > high={high!r}")
        self.low = float(low)
        self.high = float(high)

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def __repr__(self):
        return f"Uniform({self.low!r}, {self.high!r})"


class LogUniform(Distribution):
    """Positive real values whose logarithm is uniform on ``[log(low), log(high)]``.

    The usual prior for a regularization strength or a learning rate: each decade between
    ``low`` and ``high`` is drawn equally often.

    Parameters
    ----------
    low, high : float
        Bounds, ``0 < low <= high``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.tune import LogUniform
    >>> round(LogUniform(1e-4, 1e-1).sample(np.random.default_rng(0)), 6)
    0.008145
    """

    def __init__(self, low, high):
        _check_bound("LogUniform", "low", low)
        _check_bound("LogUniform", "high", high)
        if low <= 0:
            raise ValueError(f"LogUniform: low must be > 0, got low={low!r}")
        if high <= 0:
            raise ValueError(f"LogUniform: high must be > 0, got high={high!r}")
        if low > high:
            raise ValueError(f"LogUniform: low must be <= high, got low={low!r} > high={high!r}")
        self.low = float(low)
        self.high = float(high)

    def sample(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __repr__(self):
        return f"LogUniform({self.low!r}, {self.high!r})"


class IntUniform(Distribution):
    """Integers drawn uniformly from ``low`` to ``high``, both included.

    With ``log=True`` the logarithm is uniform instead, which requires ``low >= 1``.

    Parameters
    ----------
    low, high : int
        Bounds, both included, ``low <= high``.
    log : bool, default False
        Draw the logarithm uniformly.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.tune import IntUniform
    >>> IntUniform(1, 10).sample(np.random.default_rng(0))
    9
    """

    def __init__(self, low, high, *, log=False):
        for which, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"IntUniform: {which} must be an integer, got {value!r}")
        if low > high:
            raise ValueError(f"IntUniform: low must be <= high, got low={low!r} > high={high!r}")
        if log and low < 1:
            raise ValueError(f"IntUniform: low must be >= 1 with log=True, got low={low!r}")
        self.low = int(low)
        self.high = int(high)
        self.log = bool(log)

    def sample(self, rng):
        if not self.log:
            return int(rng.integers(self.low, self.high + 1))
        # Round a log-uniform draw on [low - 0.5, high + 0.5] so both ends keep their share.
        value = math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5)))
        return int(min(max(round(value), self.low), self.high))

    def __repr__(self):
        log = ", log=True" if self.log else ""
        return f"IntUniform({self.low!r}, {self.high!r}{log})"


class Categorical(Distribution):
    """One of a fixed list of values, each drawn with equal probability.

    Parameters
    ----------
    values : sequence
        The choices, at least one.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.tune import Categorical
    >>> Categorical(["l1", "l2"]).sample(np.random.default_rng(0))
    'l2'
    """

    def __init__(self, values):
        values = list(values)
        if not values:
            raise ValueError("Categorical: values must contain at least one value, got []")
        self.values = values

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def __repr__(self):
        return f"Categorical({self.values!r})"


def check_space(space, *, grid=False):
    """Return ``space`` as a dict of parameter name to a list or a Distribution.

    Raises ValueError for an empty space, a name that is not a string or an empty list of
    values. With ``grid=True`` every entry must be a list of values or a Categorical.
    """
    if not isinstance(space, dict):
        raise ValueError(f"space: expected a dict of parameter name to values or a "
                         f"distribution, got {type(space).__name__}")
    if not space:
        raise ValueError("space: expected at least one parameter, got an empty dict")
    checked = {}
    for name, entry in space.items():
        if not isinstance(name, str):
            raise ValueError(f"space: parameter names must be strings, got {name!r}")
        if isinstance(entry, Categorical):
            entry = list(entry.values) if grid else entry
        elif isinstance(entry, Distribution):
            if grid:
                raise ValueError(f"space[{name!r}]: a grid search needs a list of values, got "
                                 f"{entry!r}; use RandomSearch or OptunaSearch for a "
                                 "distribution")
        elif isinstance(entry, (str, bytes)) or not hasattr(entry, "__iter__"):
            raise ValueError(f"space[{name!r}]: expected a list of values or a distribution, "
                             f"got {entry!r}")
        else:
            entry = list(entry)
            if not entry:
                raise ValueError(f"space[{name!r}]: expected at least one value, got an empty "
                                 "list")
        checked[name] = entry
    return checked


def expand_grid(space):
    """Return every combination of a grid space as a list of dicts, last name varying fastest.

    Names are sorted first, as scikit-learn's ``ParameterGrid`` does, so the order does not
    depend on the order of the dict.
    """
    space = check_space(space, grid=True)
    names = sorted(space)
    candidates = [{}]
    for name in names:
        candidates = [dict(c, **{name: value}) for c in candidates for value in space[name]]
    return candidates


def sample_candidate(space, rng):
    """Draw one candidate dict from a checked space; a list entry is drawn uniformly."""
    candidate = {}
    for name in sorted(space):
        entry = space[name]
        if isinstance(entry, Distribution):
            candidate[name] = entry.sample(rng)
        else:
            candidate[name] = entry[int(rng.integers(len(entry)))]
    return candidate
