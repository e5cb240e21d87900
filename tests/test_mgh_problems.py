"""Checks of the More-Garbow-Hillstrom problem set itself, with NumPy and SciPy only.

These tests validate the data, derivatives and reference minima that the solver tests in
``test_minimize_mgh.py`` rely on, so a failure there points at the solver, not the problem.
"""

import math

import numpy as np
import pytest
import scipy
import scipy.optimize

from problems import mgh

IDS = [p.id for p in mgh.PROBLEMS]


def central_difference_jacobian(residuals, x):
    step = 1e-6 * np.maximum(1.0, np.abs(x))
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = step[j]
        columns.append((residuals(x + e) - residuals(x - e)) / (2.0 * step[j]))
    return np.column_stack(columns)


def trial_points(p):
    """Return x0 and a deterministic point near it, away from the problem's singular sets."""
    rng = np.random.default_rng(p.number * 100 + p.n)
    shifted = p.x0 + 0.1 * (np.abs(p.x0) + 0.1) * rng.standard_normal(p.n)
    if p.number == 3:  # Powell badly scaled overflows exp(-x) far from x0 = (0, 1)
        shifted = np.array([1e-3, 5.0])
    return [p.x0.copy(), shifted]


def test_collection_covers_all_35_functions():
    assert sorted({p.number for p in mgh.PROBLEMS}) == list(range(1, 36))
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_shapes_and_dtypes(p):
    assert p.x0.shape == (p.n,)
    assert p.residuals(p.x0).shape == (p.m,)
    assert p.jacobian(p.x0).shape == (p.m, p.n)
    assert p.grad(p.x0).shape == (p.n,)
    assert p.grad(p.x0).dtype == np.float64
    assert isinstance(p.fun(p.x0), float)


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_jacobian_matches_central_differences(p):
    for x in trial_points(p):
        analytic = p.jacobian(x)
        numeric = central_difference_jacobian(p.residuals, x)
        # Truncation error plus the rounding of f_i (relative eps) divided by the step.
        step = 1e-6 * np.maximum(1.0, np.abs(x))
        rounding = 8.0 * np.finfo(float).eps * np.maximum(1.0, np.abs(p.residuals(x)))
        bound = 1e-6 * max(1.0, np.abs(analytic).max()) + rounding[:, None] / step[None, :]
        assert np.all(np.abs(analytic - numeric) <= bound)


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_gradient_matches_central_differences(p):
    for x in trial_points(p):
        g = p.grad(x)
        # Steps are relative to each coordinate because the problems mix scales (Meyer's x0 is
        # (0.02, 4000, 250)). The bound adds the rounding of f divided by the step.
        step = 1e-6 * np.maximum(np.abs(x), 1e-2)
        numeric = np.array(
            [(p.fun(x + e) - p.fun(x - e)) / (2.0 * h) for h, e in zip(step, np.diag(step))]
        )
        rounding = 8.0 * np.finfo(float).eps * max(1.0, abs(p.fun(x))) / step
        assert np.all(np.abs(g - numeric) <= 1e-6 * max(1.0, np.abs(g).max()) + rounding)


def test_check_grad_on_well_scaled_problems():
    # SciPy's own forward-difference check, where its fixed step suits the scaling.
    for p in (mgh.get(1), mgh.get(5), mgh.get(14), mgh.get(20, 9), mgh.get(35, 10)):
        x = trial_points(p)[1]
        error = scipy.optimize.check_grad(p.fun, p.grad, x)
        assert error <= 1e-5 * max(1.0, np.linalg.norm(p.grad(x)))


@pytest.mark.parametrize("n", [10, 12, 1000])
def test_separable_gradients_match_jacobian_form(n):
    rng = np.random.default_rng(n)
    for p in (mgh.extended_rosenbrock(n), mgh.extended_powell_singular(n // 4 * 4)):
        x = p.x0 + 0.3 * rng.standard_normal(p.n)
        expected = 2.0 * p.jacobian(x).T @ p.residuals(x)
        np.testing.assert_allclose(p.grad(x), expected, rtol=1e-13, atol=1e-12)


# f(x0) derived by hand from the definitions. More, Garbow and Hillstrom (1981) print no
# starting values, so these check the residual formulas and starting points independently.
HAND_DERIVED_F_AT_X0 = {
    (1, 2): 24.2,  # F = (10 (1 - 1.44), 2.2)
    (2, 2): 400.5,  # F = (19.5, -4.5)
    (3, 2): 1.0 + (math.exp(-1.0) - 1e-4) ** 2,  # F = (-1, e^-1 - 1e-4)
    (4, 2): (1.0 - 1e6) ** 2 + (1.0 - 2e-6) ** 2 + 1.0,
    (5, 2): 1.5**2 + 2.25**2 + 2.625**2,  # x1 (1 - x2^i) = 0 at x0 = (1, 1)
    (7, 3): 2500.0,  # theta(-1, 0) = 1/2, so f1 = 10 (0 - 5)
    (13, 4): 215.0,  # F = (-7, -sqrt 5, 1, 4 sqrt 10)
    (14, 4): 19192.0,  # F = (-100, 4, -10 sqrt 90, 4, -4 sqrt 10, 0)
    (20, 6): 30.0,  # x0 = 0: f_i = -1 for i <= 29, f_30 = 0, f_31 = -1
    (20, 9): 30.0,
    (20, 12): 30.0,
    (21, 10): 5 * 24.2,  # five Rosenbrock blocks
    (22, 12): 3 * 215.0,  # three Powell singular blocks
    (23, 4): 1e-5 * (0 + 1 + 4 + 9) + (30.0 - 0.25) ** 2,  # x0 = (1, 2, 3, 4)
    (23, 10): 1e-5 * 285.0 + (385.0 - 0.25) ** 2,
    (25, 10): 3.85 + 38.5**2 + 38.5**4,  # x_j - 1 = -j/10, sum_j j (x_j - 1) = -38.5
    (27, 10): 9 * 5.5**2 + (0.5**10 - 1.0) ** 2,  # sum x = 5, so f_i = -5.5 for i < n
    (30, 10): 4.0 + 9.0 + 8 * 1.0,  # x0 = -1: f_1 = -2, f_n = -3, f_i = -1 between
    (31, 10): 10 * 36.0,  # x0 = -1: every f_i = -6
    (32, 10): 10 * 1.0 + 10 * 4.0,  # m = 20: f_i = -1 for i <= n, -2 after
    (33, 10): sum((55.0 * i - 1.0) ** 2 for i in range(1, 21)),  # sum_j j x_j = 55
    (34, 10): 2.0 + sum((44.0 * k - 1.0) ** 2 for k in range(1, 19)),  # sum_{j=2}^{9} j = 44
}


@pytest.mark.parametrize("key", sorted(HAND_DERIVED_F_AT_X0), ids=str)
def test_starting_value_matches_hand_derivation(key):
    number, n = key
    p = mgh.get(number, n)
    assert p.fun(p.x0) == pytest.approx(HAND_DERIVED_F_AT_X0[key], rel=1e-13)


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_reference_minimum_rounds_to_published(p):
    if p.f_star_published is None:
        assert p.note, "a minimum the paper does not print needs a note saying where it is from"
        return
    if p.f_star_published == 0.0:
        assert p.f_star == 0.0
        return
    # The paper prints six significant digits, sometimes rounded and sometimes truncated
    # (Freudenstein-Roth's 48.984254 appears as 48.9842), so allow one unit in the last digit.
    last_digit = 10.0 ** (math.floor(math.log10(abs(p.f_star_published))) - 5)
    assert abs(p.f_star - p.f_star_published) < last_digit


def gauss_newton_polish(p, x, steps=20):
    # Near the minimum f moves by less than its own rounding error (Meyer's residuals are
    # differences of numbers near 1e4), so a step counts as progress when it shrinks the
    # gradient, not when it lowers f.
    best = np.abs(p.grad(x)).max()
    for _ in range(steps):
        dx = np.linalg.lstsq(p.jacobian(x), -p.residuals(x), rcond=None)[0]
        gradient_max = np.abs(p.grad(x + dx)).max()
        if not gradient_max < best:
            break
        x, best = x + dx, gradient_max
    return x


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_reference_minimum_is_reached_from_x0(p):
    # L-BFGS-B reaches f_star where SciPy does; Levenberg-Marquardt covers the rest. The
    # point found must also be stationary, so f_star is a minimum value and not a stall.
    if p.id in mgh.SCIPY_TIGHT_SHORTFALLS:
        fit = scipy.optimize.least_squares(
            p.residuals, p.x0, jac=p.jacobian, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15
        )
        x = gauss_newton_polish(p, fit.x)
    else:
        x = scipy.optimize.minimize(
            p.fun, p.x0, jac=p.grad, method="L-BFGS-B", options=mgh.SCIPY_TIGHT_OPTIONS
        ).x
    assert abs(p.fun(x) - p.f_star) <= p.tolerance
    assert np.abs(p.grad(x)).max() <= 1e-4 * max(1.0, p.f_star)


@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_other_minima_are_distinct(p):
    for value in p.other_minima:
        assert abs(value - p.f_star) > p.tolerance


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")  # line-search trials on exp terms
@pytest.mark.parametrize("p", mgh.PROBLEMS, ids=IDS)
def test_scipy_shortfall_tables(p):
    if scipy.__version__ != mgh.SCIPY_SURVEY_VERSION:
        pytest.skip(f"tables record SciPy {mgh.SCIPY_SURVEY_VERSION}, found {scipy.__version__}")
    for options, table in ((None, mgh.SCIPY_DEFAULT_SHORTFALLS),
                           (mgh.SCIPY_TIGHT_OPTIONS, mgh.SCIPY_TIGHT_SHORTFALLS)):
        result = scipy.optimize.minimize(p.fun, p.x0, jac=p.grad, method="L-BFGS-B",
                                         options=options)
        short = result.fun - p.f_star > p.tolerance
        # Only whether a run stalls is compared, because the point, iteration count and status
        # of a stall move with the machine's floating-point path. The same SciPy on two x86-64
        # CPUs ends Meyer at 345.8 and at 102.3. It ends Powell's badly scaled function with a
        # line-search failure on one and a reported convergence on the other.
        assert short == (p.id in table)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extended_rosenbrock_keeps_dtype(dtype):
    p = mgh.extended_rosenbrock(1000, dtype)
    assert p.x0.dtype == dtype
    assert p.grad(p.x0).dtype == dtype
    assert p.residuals(p.x0).dtype == dtype
    assert p.fun(p.x0) == pytest.approx(500 * 24.2, rel=1e-6)


def test_invalid_dimensions_raise():
    with pytest.raises(ValueError, match="even n"):
        mgh.extended_rosenbrock(7)
    with pytest.raises(ValueError, match="divisible by 4"):
        mgh.extended_powell_singular(10)
    with pytest.raises(KeyError):
        mgh.get(20, n=7)
