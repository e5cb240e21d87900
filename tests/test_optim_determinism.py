"""Bit-identical results across thread counts and instruction sets.

Element-wise updates must not depend on how elements are split among
threads or SIMD lanes. Per-tensor reductions (LAMB's norms) are summed over
fixed blocks in a fixed order. So every configuration must give the same
bytes as the first one.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastopt
from fastopt import _core
from helpers import DTYPES, SMALL_SIZES, Problem, assert_same_optimizer, run_fastopt, snapshot
from registry import CASES

STEPS = 3

# Every small size, and an array of 24 reduction blocks of 8192 elements plus
# an odd tail, so that thread boundaries fall inside blocks. (Bigger arrays
# add run time, not code paths.)
SHAPES = [(size,) for size in SMALL_SIZES] + [(24 * 8192 + 3,)]


def _run(case, problem):
    opt, params = run_fastopt(case, problem, STEPS)
    return snapshot(opt, params)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_thread_counts_bitwise_identical(case, dtype):
    problem = Problem(SHAPES, dtype, seed=3)
    fastopt.set_num_threads(1)
    expected = _run(case, problem)
    for threads in (2, 3):
        fastopt.set_num_threads(threads)
        assert_same_optimizer(_run(case, problem), expected, f"{case.id} with {threads} threads")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_isas_bitwise_identical(case, dtype):
    problem = Problem(SHAPES, dtype, seed=4)
    _core.select_isa("baseline")
    expected = _run(case, problem)
    for isa in fastopt.available_isas():
        if isa == "baseline":
            continue
        _core.select_isa(isa)
        assert fastopt.active_isa() == isa
        assert_same_optimizer(_run(case, problem), expected, f"{case.id} with {isa} kernels")


def test_available_isas_include_baseline():
    assert "baseline" in fastopt.available_isas()


def test_select_isa_rejects_unknown():
    with pytest.raises(ValueError, match=r"isa: expected one of .*baseline.*got 'sse9'"):
        _core.select_isa("sse9")


@pytest.mark.parametrize("value, warns", [("AVX2", True), ("sse9", True), ("baseline", False)])
def test_fastopt_isa_environment_checked(value, warns):
    # A new interpreter, since the variable is read when fastopt is imported.
    code = "import warnings; warnings.simplefilter('error'); import fastopt; print(fastopt.active_isa())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "FASTOPT_ISA": value}, timeout=120)
    if warns:
        assert result.returncode != 0
        assert f"FASTOPT_ISA={value!r} is ignored: expected one of baseline" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "baseline"
