"""Tests of fastopt.minimize with method="lbfgs": kernel, driver, bounds and failure paths."""

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der

import fastopt
from fastopt import _core
from fastopt.minimize import LBFGSState, Status


def extended_rosenbrock(x):
    """More, Garbow & Hillstrom problem 21: uncoupled 2-D Rosenbrock pairs, f* = 0 at ones."""
    a, b = x[0::2], x[1::2]
    r = b - a * a
    f = np.sum(100.0 * r * r + (1.0 - a) ** 2)
    g = np.empty_like(x)
    g[0::2] = -400.0 * a * r - 2.0 * (1.0 - a)
    g[1::2] = 200.0 * r
    return f, g


def rosen_fg(x):
    return rosen(x), rosen_der(x)


def textbook_direction(S, Y, gamma, g):
    """Nocedal & Wright Algorithm 7.4 in NumPy: returns -H g, pairs oldest first."""
    q = g.astype(np.float64).copy()
    alphas = []
    for s, y in zip(S[::-1], Y[::-1]):
        rho = 1.0 / np.dot(s, y)
        a = rho * np.dot(s, q)
        q -= a * y
        alphas.append((a, rho))
    r = gamma * q
    for (a, rho), s, y in zip(alphas[::-1], S, Y):
        b = rho * np.dot(y, r)
        r += (a - b) * s
    return -r


def quadratic_pairs(n, m, seed, dtype=np.float64):
    """Return a state filled with pairs from gradient steps on a random convex quadratic."""
    rng = np.random.default_rng(seed)
    diag = np.logspace(0, 3, n)
    state = LBFGSState(n, m, dtype)
    x = rng.standard_normal(n).astype(dtype)
    for _ in range(m + 3):
        g = (diag * x).astype(dtype)
        x_new = (x - 1e-3 * g - 1e-4 * rng.standard_normal(n)).astype(dtype)
        g_new = (diag * x_new).astype(dtype)
        assert state.add_pair(x_new, x, g_new, g)
        x = x_new
    return state, rng


# ---------------------------------------------------------------------------- kernel


@pytest.mark.parametrize("n", [7, 20000])
def test_kernel_matches_textbook(n):
    state, rng = quadratic_pairs(n, 5, seed=1)
    S, Y = state.pairs()
    for _ in range(3):
        g = rng.standard_normal(n)
        d = state.direction(g, np.empty(n))
        want = textbook_direction(S, Y, state.gamma, g)
        assert np.linalg.norm(d - want) <= 1e-10 * np.linalg.norm(want)


def test_kernel_float32_close_to_textbook():
    state, rng = quadratic_pairs(3000, 4, seed=2, dtype=np.float32)
    S, Y = state.pairs()
    g = rng.standard_normal(3000).astype(np.float32)
    d = state.direction(g, np.empty(3000, np.float32))
    want = textbook_direction(S.astype(np.float64), Y.astype(np.float64), state.gamma, g)
    assert d.dtype == np.float32
    assert np.linalg.norm(d - want) <= 1e-4 * np.linalg.norm(want)


def test_kernel_ring_buffer_wraps():
    # 3 pairs kept out of 8 added: the oldest slots are reused in place.
    state, rng = quadratic_pairs(500, 3, seed=3)
    assert state.count == 3
    S, Y = state.pairs()
    g = rng.standard_normal(500)
    want = textbook_direction(S, Y, state.gamma, g)
    got = state.direction(g, np.empty(500))
    assert np.linalg.norm(got - want) <= 1e-10 * np.linalg.norm(want)


def test_kernel_thread_count_independent():
    n = 100_000  # above the one-thread threshold
    state, rng = quadratic_pairs(n, 6, seed=4)
    g = rng.standard_normal(n)
    saved = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        one = state.direction(g, np.empty(n))
        fastopt.set_num_threads(max(2, saved))
        many = state.direction(g, np.empty(n))
    finally:
        fastopt.set_num_threads(saved)
    assert np.array_equal(one, many)


def test_kernel_rejects_overlap_and_shape():
    state, _ = quadratic_pairs(10, 2, seed=5)
    g = np.ones(10)
    with pytest.raises(ValueError, match="share memory"):
        state.direction(g, g)
    with pytest.raises(ValueError, match="g: expected shape"):
        state.direction(np.ones(11), np.empty(11))
    with pytest.raises(TypeError, match="dtype"):
        state.direction(np.ones(10, np.float32), np.empty(10, np.float32))


def test_pair_skipped_by_curvature_test():
    state = LBFGSState(4, 3)
    x, x_new = np.zeros(4), np.ones(4)
    g, g_new = np.zeros(4), -np.ones(4)  # s'y < 0
    assert not state.add_pair(x_new, x, g_new, g)
    assert state.nskipped == 1
    assert state.count == 0


# ---------------------------------------------------------------------------- convergence


def test_rosenbrock_2d():
    res = fastopt.minimize(rosen_fg, np.array([-1.2, 1.0]), jac=True)
    assert res.success
    assert res.fun < 1e-10
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)
    assert isinstance(res, so.OptimizeResult)
    assert res.nfev == res.njev


@pytest.mark.parametrize("line_search", ["more-thuente", "armijo"])
def test_extended_rosenbrock_float64(line_search):
    x0 = np.tile([-1.2, 1.0], 500)
    res = fastopt.minimize(extended_rosenbrock, x0, jac=True,
                           options={"line_search": line_search})
    assert res.success, res.message
    assert res.fun < 1e-8
    assert np.abs(res.x - 1).max() < 1e-4
    assert res.nit < 100


def test_extended_rosenbrock_float32():
    x0 = np.tile([-1.2, 1.0], 500).astype(np.float32)
    res = fastopt.minimize(extended_rosenbrock, x0, jac=True)
    assert res.success, res.message
    assert res.x.dtype == np.float32
    assert res.jac.dtype == np.float32
    assert res.fun < 1e-5
    assert np.abs(res.x - 1).max() < 1e-2


def test_separate_jac_callable():
    res = fastopt.minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der)
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)


def test_module_and_function_agree():
    a = fastopt.minimize(rosen_fg, np.array([-1.2, 1.0]), jac=True)
    b = fastopt.minimize.minimize(rosen_fg, np.array([-1.2, 1.0]), jac=True)
    assert np.array_equal(a.x, b.x)


def test_ftol_uses_abs_f_for_negative_optimum():
    # f* = -1e6: a relative test without |f| would never fire or fire at once.
    res = fastopt.minimize(lambda x: (np.sum((x - 3) ** 2) - 1e6, 2 * (x - 3)),
                           np.zeros(5), jac=True, options={"gtol": 0.0})
    assert res.status == Status.FTOL
    assert abs(res.fun + 1e6) < 1e-6


# ---------------------------------------------------------------------------- bounds


def test_bounds_rosenbrock_known_answer():
    seen = []

    def fun(x):
        seen.append(x.copy())
        return rosen_fg(x)

    res = fastopt.minimize(fun, np.array([-1.2, 1.0]), jac=True, bounds=[(None, 0.5), (-2, 2)])
    assert res.success
    np.testing.assert_allclose(res.x, [0.5, 0.25], atol=1e-6)
    assert abs(res.fun - 0.25) < 1e-10
    assert all(p[0] <= 0.5 and -2 <= p[1] <= 2 for p in seen)


def test_bounds_separable_quadratic_clips_center():
    rng = np.random.default_rng(0)
    c = rng.standard_normal(300) * 2
    bounds = np.column_stack([np.full(300, -1.0), np.full(300, 1.0)])
    seen_min, seen_max = [np.inf], [-np.inf]

    def fun(x):
        seen_min[0] = min(seen_min[0], x.min())
        seen_max[0] = max(seen_max[0], x.max())
        return 0.5 * np.sum((x - c) ** 2), x - c

    res = fastopt.minimize(fun, np.zeros(300), jac=True, bounds=bounds)
    assert res.success
    np.testing.assert_allclose(res.x, np.clip(c, -1, 1), atol=1e-6)
    assert seen_min[0] >= -1.0
    assert seen_max[0] <= 1.0


def test_bounds_coupled_quadratic_matches_scipy():
    rng = np.random.default_rng(1)
    n = 100
    A = rng.standard_normal((n, n))
    A = A @ A.T / n + 0.1 * np.eye(n)
    b = rng.standard_normal(n) * 3

    def fun(x):
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    bounds = [(-1, 1)] * n
    ref = so.minimize(fun, np.zeros(n), jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    res = fastopt.minimize(fun, np.zeros(n), jac=True, bounds=bounds,
                           options={"ftol": 1e-15, "gtol": 1e-9})
    assert res.success, res.message
    assert res.fun <= ref.fun + 1e-9 * abs(ref.fun)
    assert np.abs(res.x).max() <= 1.0


def test_bounds_float32_inward_rounding():
    # 0.1 is not representable in float32: the float32 bound is rounded up.
    res = fastopt.minimize(lambda x: (np.sum(x ** 2), 2 * x), np.ones(3, np.float32),
                           jac=True, bounds=[(0.1, 1.0)] * 3)
    assert res.x.dtype == np.float32
    assert np.all(res.x.astype(np.float64) >= 0.1)


# ---------------------------------------------------------------------------- failure paths


def test_nonfinite_trial_shrinks_step():
    # f is +inf outside the ball of radius 2; the first unit-length trials land outside.
    def fun(x):
        r2 = x @ x
        if r2 >= 4.0:
            return np.inf, np.full_like(x, np.nan)
        return np.sum((x - 1.5) ** 2) - np.log(4.0 - r2), 2 * (x - 1.5) + 2 * x / (4.0 - r2)

    res = fastopt.minimize(fun, np.array([0.1]), jac=True, options={"initial_step": 100.0})
    assert res.success, res.message
    assert np.isfinite(res.fun)
    f, g = fun(res.x)
    assert res.fun == f
    np.testing.assert_array_equal(res.jac, g)


def test_never_finite_objective():
    res = fastopt.minimize(lambda x: (np.nan, x), np.ones(3), jac=True)
    assert not res.success
    assert res.status == Status.NOT_FINITE
    assert "not finite" in res.message


@pytest.mark.parametrize("maxfun", [2, 5, 9, 17])
def test_maxfun_inside_line_search_is_consistent(maxfun):
    calls = []

    def fun(x):
        calls.append(1)
        return rosen_fg(x)

    res = fastopt.minimize(fun, np.array([-1.2, 1.0]), jac=True, options={"maxfun": maxfun})
    assert res.status == Status.MAXFUN
    assert not res.success
    assert len(calls) == res.nfev <= maxfun
    f, g = rosen_fg(res.x)
    assert res.fun == f
    np.testing.assert_array_equal(res.jac, g)
    assert res.fun <= rosen([-1.2, 1.0])
    assert f"maxfun={maxfun}" in res.message


def test_maxiter_message_quotes_limit():
    res = fastopt.minimize(rosen_fg, np.array([-1.2, 1.0]), jac=True, options={"maxiter": 3})
    assert res.status == Status.MAXITER
    assert res.nit == 3
    assert "maxiter=3" in res.message


def test_stalled_line_search_resets_then_stops():
    # The gradient turns wrong after 10 evaluations: the quasi-Newton search stalls, the
    # history is reset, the steepest descent retry fails too.
    count = [0]

    def fun(x):
        count[0] += 1
        f, g = rosen_fg(x)
        return f, (-g if count[0] > 10 else g)

    res = fastopt.minimize(fun, np.array([-1.2, 1.0]), jac=True,
                           options={"max_linesearch": 6})
    assert res.status == Status.LINE_SEARCH_FAILED
    assert not res.success
    assert res.nreset == 1
    assert "max_linesearch=6" in res.message
    assert "steepest descent retry" in res.message


def test_float32_precision_floor_is_success():
    # A float32 objective with rounding noise larger than the requested tolerances.
    def fun(x):
        x64 = x.astype(np.float64)
        f = np.float32(np.sum(np.float32(1e4) * x * x) + np.float32(1e3))
        return f, (2e4 * x64).astype(np.float32)

    res = fastopt.minimize(fun, np.full(50, 0.3, np.float32), jac=True,
                           options={"gtol": 0.0, "ftol": 0.0})
    assert res.success, res.message
    assert res.status in (Status.PRECISION_FLOOR, Status.FTOL)
    assert np.abs(res.x).max() < 1e-3


def test_flat_float32_objective_reaches_floor():
    # 1 + 1e-9 |x|^2 rounds to 1 in float32, so no trial step can decrease f.
    def fun(x):
        return np.float32(1) + np.float32(1e-9) * np.sum(x * x), np.float32(2e-9) * x

    res = fastopt.minimize(fun, np.ones(4, np.float32), jac=True, options={"gtol": 0.0})
    assert res.status == Status.PRECISION_FLOOR
    assert res.success
    assert "precision floor of float32" in res.message
    assert res.fun == 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x0": np.ones((2, 2))}, "x0: expected a 1-D array"),
        ({"x0": np.array([1.0, np.nan])}, r"x0\[1\]"),
        ({"x0": np.array([1 + 1j])}, "x0: expected real"),
        ({"bounds": [(0, 1)]}, "bounds: expected 2"),
        ({"bounds": [(0, 1), (2, 1)]}, r"bounds\[1\]: lower bound 2.0 > upper bound 1.0"),
        ({"bounds": [(0, 1), (0, 1, 2)]}, r"bounds\[1\]"),
        ({"options": {"history_size": 0}}, "history_size"),
        ({"options": {"maxfun": 0}}, "maxfun"),
        ({"options": {"line_search": "wolfe"}}, "line_search"),
        ({"options": {"gtl": 1e-3}}, "unknown option"),
        ({"jac": None}, "jac:"),
        ({"method": "newton"}, "method"),
    ],
)
def test_bad_input_raises(kwargs, match):
    args = {"x0": np.array([-1.2, 1.0]), "jac": True}
    args.update(kwargs)
    x0 = args.pop("x0")
    with pytest.raises(ValueError, match=match):
        fastopt.minimize(rosen_fg, x0, **args)


def test_wrong_gradient_shape_raises():
    with pytest.raises(ValueError, match=r"jac: expected a gradient of shape \(2,\)"):
        fastopt.minimize(lambda x: (rosen(x), np.ones(3)), np.array([-1.2, 1.0]), jac=True)


def test_non_scalar_objective_raises():
    with pytest.raises(ValueError, match="fun: expected a scalar"):
        fastopt.minimize(lambda x: (x, rosen_der(x)), np.array([-1.2, 1.0]), jac=True)


# ---------------------------------------------------------------------------- state, callback


def test_warm_start_keeps_history():
    x0 = np.tile([-1.2, 1.0], 50)
    state = LBFGSState(100, 10)
    first = fastopt.minimize(extended_rosenbrock, x0, jac=True, options={"maxiter": 20},
                             state=state)
    assert first.status == Status.MAXITER
    assert state.count == 10
    warm = fastopt.minimize(extended_rosenbrock, first.x, jac=True, state=state)
    cold = fastopt.minimize(extended_rosenbrock, first.x, jac=True)
    assert warm.success
    assert warm.nit < cold.nit
    with pytest.raises(RuntimeError, match="state"):
        first.hess_inv.matvec(np.ones(100))


def test_warm_start_state_mismatch():
    with pytest.raises(ValueError, match="state: made for n=3"):
        fastopt.minimize(rosen_fg, np.zeros(2), jac=True, state=LBFGSState(3))
    with pytest.raises(ValueError, match="dtype"):
        fastopt.minimize(rosen_fg, np.zeros(2, np.float32), jac=True, state=LBFGSState(2))


def test_callback_stops_run():
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.fun)
        return intermediate_result.nit >= 3

    res = fastopt.minimize(rosen_fg, np.array([-1.2, 1.0]), jac=True, callback=callback)
    assert res.status == Status.CALLBACK
    assert not res.success
    assert res.nit == 3
    assert seen == sorted(seen, reverse=True)


def test_callback_stop_iteration_and_legacy_form():
    def callback(xk):
        assert isinstance(xk, np.ndarray)
        raise StopIteration

    res = fastopt.minimize(rosen_fg, np.array([-1.2, 1.0]), jac=True, callback=callback)
    assert res.status == Status.CALLBACK
    assert res.nit == 1


def test_hess_inv_matches_textbook():
    res = fastopt.minimize(extended_rosenbrock, np.tile([-1.2, 1.0], 20), jac=True,
                           options={"maxiter": 15})
    H = res.hess_inv
    state = H.state
    S, Y = state.pairs()
    v = np.random.default_rng(0).standard_normal(40)
    want = -textbook_direction(S, Y, state.gamma, v)
    got = H.matvec(v)
    assert np.linalg.norm(got - want) <= 1e-10 * np.linalg.norm(want)
    dense = H.todense()
    np.testing.assert_allclose(dense, dense.T, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "name, fun, x0",
    [
        ("rosenbrock", rosen_fg, np.array([-1.2, 1.0])),
        ("chained rosenbrock", rosen_fg, np.tile([-1.2, 1.0], 10)),
        ("extended rosenbrock", extended_rosenbrock, np.tile([-1.2, 1.0], 100)),
        ("shifted quartic", lambda x: (np.sum((x - 2) ** 4) + np.sum(x ** 2) - 5.0,
                                       4 * (x - 2) ** 3 + 2 * x), np.zeros(30)),
    ],
)
def test_at_least_as_good_as_scipy(name, fun, x0):
    ref = so.minimize(fun, x0, jac=True, method="L-BFGS-B")
    res = fastopt.minimize(fun, x0, jac=True)
    assert res.success, f"{name}: {res.message}"
    # "At least as good" up to rounding of f near the optimum.
    assert res.fun <= ref.fun + 1e-9 * max(1.0, abs(ref.fun)), name


# ------------------------------------------------------------ fused passes and determinism


def _with_threads(count, fn):
    saved = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(count)
        return fn()
    finally:
        fastopt.set_num_threads(saved)


def _on_every_isa(fn):
    """Return fn() run with each available instruction set, restoring the active one."""
    saved = _core.active_isa()
    try:
        results = []
        for isa in _core.available_isas():
            _core.select_isa(isa)
            results.append(fn())
        return results
    finally:
        _core.select_isa(saved)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_same_bits_on_every_isa_and_thread_count(dtype):
    n = 70_001  # above the one-thread threshold, with a partial last block
    state, rng = quadratic_pairs(n, 5, seed=6, dtype=dtype)
    g = rng.standard_normal(n).astype(dtype)

    def directions():
        return [_with_threads(t, lambda: state.copy().direction(g, np.empty(n, dtype)))
                for t in (1, 2)]

    results = [d for pair in _on_every_isa(directions) for d in pair]
    assert all(np.array_equal(results[0], d) for d in results[1:])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, pairs", [(7, 0), (70_001, 0), (70_001, 3), (16_384, 5)])
def test_direction_slope_matches_dot_kernel(dtype, n, pairs):
    # The slope g'd returned by the pass that writes d must have the bits of the separate
    # product, on every instruction set and thread count, with and without pairs.
    if pairs:
        state, rng = quadratic_pairs(n, pairs, seed=7, dtype=dtype)
    else:
        state, rng = LBFGSState(n, 4, dtype), np.random.default_rng(7)
    g = rng.standard_normal(n).astype(dtype)

    def slopes():
        results = []
        for t in (1, 2):
            d = np.empty(n, dtype)
            slope = _with_threads(t, lambda: state.copy().direction_and_slope(g, d))
            results.append((slope, _core.lbfgs_dot(g, d), d))
        return results

    results = [r for per_isa in _on_every_isa(slopes) for r in per_isa]
    for slope, reference, d in results:
        assert slope == reference
        assert np.array_equal(d, results[0][2])


def test_column_fill_outside_kernel_matches_kernel():
    # Pairs added without a direction in between: the older columns are filled in Python,
    # the newest by the kernel. The entries the kernel reads (s_a'y_b for a not newer than
    # b, and y_a'y_b) and the direction must match a run that had a direction per pair.
    n = 20_000
    rng = np.random.default_rng(7)
    diag = np.logspace(0, 2, n)
    xs = [rng.standard_normal(n)]
    for _ in range(3):
        xs.append(xs[-1] - 1e-2 * diag * xs[-1])
    gs = [diag * x for x in xs]
    eager, lazy = LBFGSState(n, 4), LBFGSState(n, 4)
    for i in range(3):
        eager.add_pair(xs[i + 1], xs[i], gs[i + 1], gs[i])
        eager.direction(gs[i + 1], np.empty(n))
        lazy.add_pair(xs[i + 1], xs[i], gs[i + 1], gs[i])
    want = eager.direction(gs[3], np.empty(n))
    got = lazy.direction(gs[3], np.empty(n))
    order = eager._order
    assert order == lazy._order
    for a, i in enumerate(order):
        for j in order[a:]:
            assert eager.sy[i, j] == lazy.sy[i, j]
    assert np.array_equal(eager.yy, lazy.yy)
    assert np.array_equal(want, got)


def test_roofline_read_sums_every_array():
    arrays = [np.full(1000, 0.5), np.arange(33, dtype=np.float64)]
    assert _core.roofline_read(arrays) == pytest.approx(500.0 + 528.0)
    assert _core.roofline_read([np.ones(77, np.float32)]) == pytest.approx(77.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_roofline_stores_on_every_isa(dtype):
    # The roofline kernel stands for an update's memory traffic, so it must
    # really load every buffer and store every written one, vector body and
    # scalar tail alike (37 and 1003 are not multiples of any vector width).
    rng = np.random.default_rng(4)
    before = fastopt.active_isa()
    try:
        for isa in fastopt.available_isas():
            _core.select_isa(isa)
            grads = [rng.standard_normal(n).astype(dtype) for n in (37, 1003)]
            first = [rng.standard_normal(n).astype(dtype) for n in (37, 1003)]
            second = [rng.standard_normal(n).astype(dtype) for n in (37, 1003)]
            old_first = [a.copy() for a in first]
            _core.roofline([grads], [first, second])
            for g, a, b, old in zip(grads, first, second, old_first):
                assert np.array_equal(a, g), isa
                assert np.array_equal(b, old), isa
    finally:
        _core.select_isa(before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trial_kernel_matches_numpy_arithmetic(dtype):
    rng = np.random.default_rng(8)
    n = 50_003
    x = rng.standard_normal(n).astype(dtype)
    d = rng.standard_normal(n).astype(dtype)
    out = np.empty(n, dtype)
    want = np.multiply(d, dtype(0.3)) + x  # the product rounds to dtype, then the sum
    _core.lbfgs_trial(x, d, 0.3, out)
    assert np.array_equal(out, want)
    lower = np.full(n, -0.5, dtype)
    upper = np.full(n, 0.25, dtype)
    _core.lbfgs_trial(x, d, 0.3, out, lower, upper)
    assert np.array_equal(out, np.clip(want, lower, upper))
    with pytest.raises(ValueError, match="lower, upper"):
        _core.lbfgs_trial(x, d, 0.3, out, lower, None)
    with pytest.raises(ValueError, match="share memory"):
        _core.lbfgs_trial(x, d, 0.3, x)
    with pytest.raises(ValueError, match="step: expected a finite"):
        _core.lbfgs_trial(x, d, float("nan"), out)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_kernel_copies_and_reduces(dtype):
    rng = np.random.default_rng(9)
    n = 40_001
    g = rng.standard_normal(n).astype(dtype)
    d = rng.standard_normal(n).astype(dtype)
    out = np.empty(n, dtype)
    gd, inf_norm, finite = _core.lbfgs_gradient(g, out, d)
    assert np.array_equal(out, g)
    assert gd == pytest.approx(float(np.dot(g.astype(np.float64), d.astype(np.float64))),
                               rel=1e-12)
    assert inf_norm == float(np.max(np.abs(g)))
    assert finite
    # In place (g is out) only reads; without d the slope is 0.
    assert _core.lbfgs_gradient(out, out) == (0.0, inf_norm, True)
    for bad in (np.inf, -np.inf, np.nan):
        h = g.copy()
        h[n - 3] = bad
        _, norm, finite = _core.lbfgs_gradient(h, h)
        assert not finite
        assert np.isnan(norm)
    with pytest.raises(ValueError, match="share memory"):
        _core.lbfgs_gradient(g, out, out)
    with pytest.raises(ValueError, match="g: expected shape"):
        _core.lbfgs_gradient(g[:-1], out)


def test_dot_kernel_independent_of_threads_and_isa():
    rng = np.random.default_rng(10)
    a = rng.standard_normal(90_001)
    b = rng.standard_normal(90_001)
    values = [v for pair in _on_every_isa(
        lambda: [_with_threads(t, lambda: _core.lbfgs_dot(a, b)) for t in (1, 2)])
        for v in pair]
    assert len(set(values)) == 1
    assert values[0] == pytest.approx(float(np.dot(a, b)), rel=1e-12)
    assert _core.lbfgs_gradient(a, np.empty_like(a), b)[0] == values[0]


@pytest.mark.parametrize("bounded", [False, True])
def test_run_independent_of_thread_count(bounded):
    n = 40_000
    x0 = np.linspace(-1.2, 1.5, n)
    bounds = [(-1.0, 0.9)] * n if bounded else None
    runs = [_with_threads(t, lambda: fastopt.minimize.minimize(
        extended_rosenbrock, x0, jac=True, bounds=bounds, options={"maxiter": 40}))
        for t in (1, 2)]
    assert np.array_equal(runs[0].x, runs[1].x)
    assert runs[0].fun == runs[1].fun
    assert runs[0].nfev == runs[1].nfev


def test_gradient_of_other_dtype_or_layout_is_converted():
    # A float64 gradient for a float32 run, and a strided one, take the NumPy copy path.
    def fun32(x):
        return float(np.sum(x.astype(np.float64) ** 2)), 2.0 * x.astype(np.float64)

    def strided(x):
        g = np.empty(2 * x.size)
        g[::2] = 2.0 * x
        return float(np.sum(x * x)), g[::2]

    r32 = fastopt.minimize.minimize(fun32, np.full(100, 3.0, np.float32), jac=True)
    assert r32.success
    assert r32.jac.dtype == np.float32
    assert np.max(np.abs(r32.x)) < 1e-3
    r = fastopt.minimize.minimize(strided, np.full(100, 3.0), jac=True)
    assert r.success and np.max(np.abs(r.x)) < 1e-5
