"""Argument checks shared by the annealing, the genetic algorithm and the operators."""

from __future__ import annotations

import numbers

import numpy as np

_SEED_LIMIT = 2**64


def check_probability(name, value):
    """Return ``value`` as a float after checking that it lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a probability in [0, 1], got {value!r}")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a probability in [0, 1], got {value!r}")
    return value


def check_positive(name, value, *, allow_zero=False):
    """Return ``value`` as a float after checking that it is finite and > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    value = float(value)
    ok = value >= 0.0 if allow_zero else value > 0.0
    if not (np.isfinite(value) and ok):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {expected}, got {value!r}")
    return value


def check_int(name, value, minimum, maximum=None):
    """Return ``value`` after checking that it is an int in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name}: expected an int >= {minimum}{upper}, got {value!r}")
    return value


def check_choice(name, value, choices):
    """Return ``value`` after checking that it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_seed(seed):
    """Return a seed in [0, 2**64): ``seed`` itself, or fresh entropy when it is None."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected an int in [0, 2**64) or None, got {seed!r}")
    if not 0 <= int(seed) < _SEED_LIMIT:
        raise ValueError(f"seed: expected an int in [0, 2**64) or None, got {seed!r}")
    return int(seed)


def parse_bounds(bounds):
    """Return float64 arrays (lower, upper) from a sequence of (low, high) pairs or a
    ``scipy.optimize.Bounds``; every bound must be finite and low <= high."""
    if bounds is None:
        raise ValueError("bounds: expected a sequence of (lower, upper) pairs, got None")
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        lower = np.atleast_1d(np.asarray(bounds.lb, dtype=np.float64))
        upper = np.atleast_1d(np.asarray(bounds.ub, dtype=np.float64))
        lower, upper = np.broadcast_arrays(lower, upper)
    else:
        try:
            pairs = np.asarray(bounds, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bounds: expected a sequence of (lower, upper) pairs of numbers, "
                             f"got {bounds!r}") from exc
        if pairs.size == 0:
            raise ValueError(f"bounds: expected at least one (lower, upper) pair, got {bounds!r}")
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"bounds: expected a sequence of (lower, upper) pairs, got an "
                             f"array of shape {pairs.shape}")
        lower, upper = pairs[:, 0], pairs[:, 1]
    if lower.size == 0:
        raise ValueError(f"bounds: expected at least one (lower, upper) pair, got {bounds!r}")
    for name, values in (("lower", lower), ("upper", upper)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"bounds[{i}]: expected a finite {name} bound, got "
                             f"{float(values[i])!r}")
    reversed_ = np.flatnonzero(lower > upper)
    if reversed_.size:
        i = int(reversed_[0])
        raise ValueError(f"bounds[{i}]: lower bound {float(lower[i])!r} is greater than "
                         f"upper bound {float(upper[i])!r}")
    return np.ascontiguousarray(lower), np.ascontiguousarray(upper)


def check_parents(parents, dtype):
    """Return ``parents`` as a C-contiguous 2-D array of ``dtype`` with an even row count."""
    parents = np.ascontiguousarray(parents, dtype=dtype)
    if parents.ndim != 2 or parents.shape[0] % 2 or parents.shape[1] < 1:
        raise ValueError(f"parents: expected a 2-D array of pairs (an even number of rows) "
                         f"with at least one gene, got shape {parents.shape}")
    return parents


def check_permutations(name, x):
    """Raise ValueError unless every row of the int64 array ``x`` permutes 0..n-1."""
    n = x.shape[1]
    ordered = np.sort(x, axis=1)
    bad = np.flatnonzero(np.any(ordered != np.arange(n), axis=1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}]: expected a permutation of 0..{n - 1}, got {x[i].tolist()}")
