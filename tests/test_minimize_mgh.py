"""fastopt.minimize(method="lbfgs") on the More-Garbow-Hillstrom problems.

Each run starts from the standard x0 and must end within max(1e-8, 1e-6 |f*|) of the minimum
a local method reaches from there (``Problem.f_star``; a lower documented minimum also
passes), and no worse than SciPy's L-BFGS-B with its default and with tight options.
"""

import functools

import numpy as np
import pytest
import scipy.optimize

import fastopt
from problems import mgh

IDS = [p.id for p in mgh.PROBLEMS]

# Stop only near the limits of float64: the tests measure where the method gets to, not how
# early a loose tolerance ends it. ftol = 0 turns the relative-reduction test off, because
# with ftol = 1e-15 Watson (n = 12) ends at 1.39e-8 on a slow stretch, above its tolerance.
TIGHT_OPTIONS = {"gtol": 1e-12, "ftol": 0.0, "maxiter": 15000, "maxfun": 15000}

# fastopt may end a little above SciPy when both are at the minimum to many more digits than
# the acceptance tolerance requires; 1% of that tolerance is the allowance.
SLACK_FRACTION = 0.01


@functools.lru_cache(maxsize=None)
def scipy_final_values(problem_id):
    p = next(q for q in mgh.PROBLEMS if q.id == problem_id)
    values = []
    with np.errstate(over="ignore"):
        for options in (None, mgh.SCIPY_TIGHT_OPTIONS):
            result = scipy.optimize.minimize(
                p.fun, p.x0, jac=p.grad, method="L-BFGS-B", options=options
            )
            values.append(result.fun)
    return tuple(values)


def run_lbfgs(p, x0=None, **options):
    with np.errstate(over="ignore"):
        return fastopt.minimize(
            p.fun_and_grad,
            p.x0.copy() if x0 is None else x0,
            jac=True,
            method="lbfgs",
            options={**TIGHT_OPTIONS, **options},
        )


def reaches_documented_minimum(p, value):
    if abs(value - p.f_star) <= p.tolerance:
        return True
    lower = [v for v in p.other_minima if v < p.f_star]
    return any(abs(value - v) <= p.tolerance for v in lower)


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_lbfgs_reaches_published_minimum(p):
    result = run_lbfgs(p)
    assert reaches_documented_minimum(p, result.fun), (
        f"f = {result.fun!r}, f* = {p.f_star!r}, tolerance {p.tolerance:.1e}, "
        f"nit = {result.nit}, message: {result.message}"
    )


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_lbfgs_result_is_consistent(p):
    # The returned x, fun and jac describe one evaluated point, and the budget holds.
    result = run_lbfgs(p)
    assert result.x.shape == (p.n,)
    assert result.fun == pytest.approx(p.fun(result.x), rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(result.jac, p.grad(result.x), rtol=1e-10, atol=1e-300)
    assert result.nfev <= TIGHT_OPTIONS["maxfun"]
    assert result.nit <= TIGHT_OPTIONS["maxiter"]
    assert result.nskipped >= 0


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_lbfgs_no_worse_than_scipy(p):
    result = run_lbfgs(p)
    default_f, tight_f = scipy_final_values(p.id)
    slack = SLACK_FRACTION * p.tolerance
    assert result.fun <= default_f + slack, f"fastopt {result.fun!r}, scipy defaults {default_f!r}"
    assert result.fun <= tight_f + slack, f"fastopt {result.fun!r}, scipy tight {tight_f!r}"


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_lbfgs_separate_jac_callable(p):
    # jac given as its own callable must follow the same path as jac=True.
    with np.errstate(over="ignore"):
        separate = fastopt.minimize(
            p.fun, p.x0.copy(), jac=p.grad, method="lbfgs", options=TIGHT_OPTIONS
        )
    combined = run_lbfgs(p)
    assert separate.fun == combined.fun
    assert separate.nit == combined.nit


@pytest.mark.parametrize(
    "problem_id", sorted(mgh.SCIPY_DEFAULT_SHORTFALLS), ids=lambda s: s.split("-n")[0]
)
def test_lbfgs_passes_where_scipy_defaults_stop_early(problem_id):
    # With its default options fastopt must end no worse than SciPy's defaults did on the
    # cases where those stop early. Reaching f* there is the job of the tight-options tests.
    p = next(q for q in mgh.PROBLEMS if q.id == problem_id)
    with np.errstate(over="ignore"):
        result = fastopt.minimize(p.fun_and_grad, p.x0.copy(), jac=True, method="lbfgs")
    recorded_f = mgh.SCIPY_DEFAULT_SHORTFALLS[problem_id][0]
    assert result.fun <= recorded_f * (1.0 + 1e-4)  # the table keeps five significant digits


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lbfgs_extended_rosenbrock_1000(dtype):
    p = mgh.extended_rosenbrock(1000, dtype)
    result = fastopt.minimize(
        p.fun_and_grad, p.x0.copy(), jac=True, method="lbfgs", options=TIGHT_OPTIONS
    )
    reference = mgh.extended_rosenbrock(1000)  # evaluate in float64 whatever the run used
    x = np.asarray(result.x, dtype=np.float64)
    if dtype == np.float64:
        assert reference.fun(x) <= 1e-8
        assert np.abs(x - 1.0).max() <= 1e-4
    else:
        # float32 resolves f near the minimum only to about eps32 per term, so x can be
        # trusted to about sqrt(eps32) ~ 3e-4 and f to the square of that per block.
        assert result.x.dtype == np.float32
        assert reference.fun(x) <= 1e-6
        assert np.abs(x - 1.0).max() <= 5e-3
    assert result.nit < 2000


def test_lbfgs_rosenbrock_2d():
    p = mgh.get(1)
    result = run_lbfgs(p)
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-6)
    assert result.success
