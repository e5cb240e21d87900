"""Argument checks shared by the functions of fastopt.nn."""

from __future__ import annotations

import math
import numbers

import numpy as np

_UINT64_MAX = 2**64 - 1


def check_probability(p) -> float:
    """Return ``p`` as a float after checking that it is a drop probability in [0, 1)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ValueError(f"p: expected a drop probability in [0, 1), got {p!r}")
    value = float(p)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"p: expected a drop probability in [0, 1), got {p!r}")
    return value


def check_counter(name: str, value) -> int:
    """Return a seed or stream offset as an int in [0, 2**64)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer in [0, 2**64), got {value!r}")
    value = int(value)
    if not 0 <= value <= _UINT64_MAX:
        raise ValueError(f"{name}: expected an integer in [0, 2**64), got {value!r}")
    return value


def check_nonneg(name: str, value) -> float:
    """Return ``value`` as a float after checking that it is finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def check_float_array(name: str, x, dtypes=(np.float32, np.float64)) -> None:
    """Raise ValueError unless ``x`` is an array of one of ``dtypes``."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or not hasattr(x, "shape"):
        raise ValueError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if np.dtype(dtype) not in [np.dtype(d) for d in dtypes]:
        names = " or ".join(np.dtype(d).name for d in dtypes)
        raise ValueError(f"{name}: unsupported dtype {np.dtype(dtype).name}; expected {names}")


def prepare_out(name: str, x, out):
    """Return ``out``, or a new array like ``x`` when it is None, after checking it matches ``x``."""
    if out is None:
        return np.empty_like(x)
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != x.dtype or out.shape != x.shape:
        raise ValueError(
            f"{name}: expected dtype {x.dtype} and shape {x.shape} to match x, got dtype {out.dtype} "
            f"and shape {out.shape}"
        )
    return out
