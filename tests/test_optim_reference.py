"""Every case of the registry against the NumPy oracle in float64.

These runs use fastopt's default thread count and instruction set. The
tests in test_optim_determinism.py show that other thread counts and
instruction sets give bit-identical results, so this comparison covers them
too.
"""

import numpy as np
import pytest

from helpers import (
    BIG_SIZE,
    DTYPES,
    MIXED_SHAPES,
    SMALL_SIZES,
    Problem,
    assert_matches_reference,
    run_fastopt,
)
from registry import CASES, LAST_CASES

STEPS = 200

# Enough steps for the first-step paths (SGD's buffer, RAdam's unrectified
# steps) and the steady ones, on an array too big to step 200 times in CI.
BIG_STEPS = 3


def _dtype_id(dtype):
    return np.dtype(dtype).name


@pytest.mark.parametrize("size", SMALL_SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_array_matches_reference(case, dtype, size):
    problem = Problem([(size,)], dtype, seed=size)
    opt, params = run_fastopt(case, problem, STEPS, single=True)
    assert_matches_reference(case, opt, params, problem, STEPS)


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tensor_list_matches_reference(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=1)
    opt, params = run_fastopt(case, problem, STEPS)
    assert_matches_reference(case, opt, params, problem, STEPS)


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", LAST_CASES, ids=lambda c: c.id)
def test_big_array_matches_reference(case, dtype):
    problem = Problem([(BIG_SIZE,)], dtype, seed=2)
    opt, params = run_fastopt(case, problem, BIG_STEPS, single=True)
    assert_matches_reference(case, opt, params, problem, BIG_STEPS)
