"""Validation of optimizer hyperparameters, shared by classes and functions."""

from __future__ import annotations

import math
import numbers


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number in range.

    ``low``/``high`` bound the interval; ``*_open`` excludes the bound itself.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name}: expected a value {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ValueError(f"{name}: expected a value {'<' if high_open else '<='} {high}, got {value!r}")
    return x


def check_betas(name: str, betas) -> tuple[float, float]:
    """Return ``betas`` as two floats in [0, 1), or raise naming the bad one."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a pair (beta1, beta2), got {betas!r}") from None
    return (
        check_number(f"{name}[0]", beta1, low=0.0, high=1.0, high_open=True),
        check_number(f"{name}[1]", beta2, low=0.0, high=1.0, high_open=True),
    )


def check_bool(name: str, value) -> bool:
    """Return ``value`` if it is a bool, or raise."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__} {value!r}")
    return value
