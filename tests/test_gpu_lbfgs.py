"""fastopt.minimize on CuPy vectors: the GPU two-loop kernel and the L-BFGS / OWL-QN runs.

The tests that need a GPU compare with the CPU implementation on the same problem. The two
paths sum inner products in different fixed chunks (2,048 elements on the GPU), so single
operations agree to rounding: the direction kernel to 1e-12 relative in float64 and 1e-5 in
float32. Whole runs follow the same iterates until rounding differences grow, so they are
compared at their converged solutions, to 1e-6 relative in float64 (well-conditioned problems
solved to gtol=1e-9) and 1e-3 in float32.

The tests without a GPU check the errors: a GPU array with no device or CUDA module raises
RuntimeError, and a call that mixes CPU and GPU arrays raises TypeError naming both.
"""

import numpy as np
import pytest
from gpu_helpers import FakeDeviceArray, cupy_or_skip, skip_if_device

import fastopt
from fastopt import _build_info
from fastopt.minimize import GPULBFGSState, LBFGSState

# Sizes around the GPU reduction chunk (2,048) and the CPU kernel's blocks.
SIZES = [1, 7, 2047, 2048, 2049, 10001]


def quadratic(xp, n, dtype):
    """f = 1/2 sum a_i (x_i - c_i)^2 with a in [1, 10]: minimizer c."""
    a = xp.asarray(np.linspace(1.0, 10.0, n), dtype=dtype)
    c = xp.asarray(np.cos(np.arange(n)), dtype=dtype)

    def fg(x):
        r = x - c
        return 0.5 * (a * r * r).sum(dtype=np.float64), a * r

    return fg


def rosenbrock(xp):
    """The chained Rosenbrock function, minimum 0 at x = 1."""

    def fg(x):
        head, tail = x[:-1], x[1:]
        t = tail - head * head
        u = 1 - head
        f = (100 * t * t + u * u).sum(dtype=np.float64)
        g = xp.zeros_like(x)
        g[:-1] = -400 * head * t - 2 * u
        g[1:] += 200 * t
        return f, g

    return fg


def logistic(xp, X, y):
    """Mean logistic loss of a linear model on (X, y) with labels in {-1, 1}."""
    X, y = xp.asarray(X), xp.asarray(y)
    m = X.shape[0]

    def fg(w):
        z = y * (X @ w)
        f = xp.logaddexp(0.0, -z).sum() / m
        p = -y * xp.exp(-xp.logaddexp(0.0, z))
        return f, X.T @ p / m

    return fg


def logistic_data(n=300, p=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = np.where(X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


def tolerance(dtype):
    return 1e-6 if dtype == np.float64 else 1e-3


# ------------------------------------------------------------------ without a GPU


def cuda_module_or_skip():
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    return _cuda


def test_cuda_module_has_lbfgs_kernels():
    cuda = cuda_module_or_skip()
    for name in ("lbfgs_direction", "lbfgs_pair", "lbfgs_gradient", "lbfgs_dot"):
        assert callable(getattr(cuda, name))
    assert cuda.lbfgs_max_history == 256


def test_reduce_chunks_follow_size():
    cuda = cuda_module_or_skip()
    assert cuda.reduce_chunk == 2048
    assert cuda.reduce_chunks(1) == 1
    assert cuda.reduce_chunks(2048) == 1
    assert cuda.reduce_chunks(2049) == 2


def test_lbfgs_bindings_check_arguments():
    # The checks run before any launch, so they need no device.
    cuda = cuda_module_or_skip()
    with pytest.raises(ValueError, match="lbfgs_dot: expected n >= 1, got 0"):
        cuda.lbfgs_dot(0, 0, 0, "float64", 0, 0, 0)
    with pytest.raises(ValueError, match="dtype: expected 'float32' or 'float64', got 'int8'"):
        cuda.lbfgs_dot(0, 0, 4, "int8", 0, 0, 0)
    with pytest.raises(ValueError, match=r"order\[1\]: expected a slot in \[0, 3\), got 5"):
        cuda.lbfgs_direction(0, 0, 3, [0, 5], -1, 0, 0, 1.0, 0, 0, 4, "float64", 0, 0, 0, 0)
    with pytest.raises(ValueError, match="new_slot: expected -1 or a slot below 3, got 3"):
        cuda.lbfgs_direction(0, 0, 3, [0], 3, 0, 0, 1.0, 0, 0, 4, "float64", 0, 0, 0, 0)


def test_minimize_fake_gpu_x0_without_device():
    skip_if_device()
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        fastopt.minimize(lambda x: (0.0, x), FakeDeviceArray(), jac=True)


def test_owlqn_fake_gpu_x0_without_device():
    skip_if_device()
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        fastopt.minimize(lambda x: (0.0, x), FakeDeviceArray(), jac=True, method="owlqn",
                         options={"l1": 0.1})


def test_gpu_state_without_device():
    skip_if_device()
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        GPULBFGSState(3)


def test_minimize_gpu_gradient_for_cpu_x0():
    with pytest.raises(TypeError, match=r"jac is on the GPU \(device 0\) but x is on the CPU"):
        fastopt.minimize(lambda x: (0.0, FakeDeviceArray()), np.zeros(3), jac=True)


def test_minimize_gpu_l1_for_cpu_x0():
    with pytest.raises(TypeError, match=r"l1 is on the GPU \(device 0\) but x0 is on the CPU"):
        fastopt.minimize(lambda x: (0.0, x), np.zeros(3), jac=True, method="owlqn",
                         options={"l1": FakeDeviceArray()})


def test_minimize_gpu_state_for_cpu_x0():
    state = GPULBFGSState.__new__(GPULBFGSState)  # no device needed for the type check
    with pytest.raises(TypeError, match="state: is a GPULBFGSState on the GPU but x0 is on the CPU"):
        fastopt.minimize(quadratic(np, 3, np.float64), np.zeros(3), jac=True, state=state)


# ------------------------------------------------------------------ with a GPU


def fill_history(cp, n, history_size, dtype, npairs, seed=0):
    """Return a CPU and a GPU state holding the same accepted pairs."""
    rng = np.random.default_rng(seed)
    cpu = LBFGSState(n, history_size, dtype)
    gpu = GPULBFGSState(n, history_size, dtype)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    for _ in range(npairs):
        # A positive definite diagonal model keeps s'y > 0.
        x_new = (x + rng.standard_normal(n)).astype(dtype)
        g_new = (g + (x_new - x) * rng.uniform(0.5, 2.0, n)).astype(dtype)
        kept_cpu = cpu.add_pair(x_new, x, g_new, g)
        kept_gpu = gpu.add_pair(cp.asarray(x_new), cp.asarray(x), cp.asarray(g_new), cp.asarray(g))
        assert kept_cpu == kept_gpu
        x, g = x_new, g_new
    return cpu, gpu


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("history_size,npairs", [(1, 1), (3, 2), (3, 7), (10, 10)])
def test_direction_matches_cpu(dtype, n, history_size, npairs):
    cp = cupy_or_skip()
    cpu, gpu = fill_history(cp, n, history_size, dtype, npairs)
    assert gpu.count == cpu.count
    assert gpu.gamma == pytest.approx(cpu.gamma, rel=1e-12 if dtype == np.float64 else 1e-5)
    g = np.random.default_rng(1).standard_normal(n).astype(dtype)
    d_cpu = np.empty(n, dtype)
    slope_cpu = cpu.direction_and_slope(g, d_cpu)
    d_gpu = cp.empty(n, dtype)
    slope_gpu = gpu.direction_and_slope(cp.asarray(g), d_gpu)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    scale = float(np.abs(d_cpu).max())
    np.testing.assert_allclose(d_gpu.get(), d_cpu, rtol=rtol, atol=rtol * scale)
    assert slope_gpu == pytest.approx(slope_cpu, rel=rtol * 10)


def test_direction_fills_older_stale_columns():
    cp = cupy_or_skip()
    n = 3000
    cpu, gpu = fill_history(cp, n, 5, np.float64, 4)
    g = np.random.default_rng(2).standard_normal(n)
    d_cpu = cpu.direction(g, np.empty(n))
    d_gpu = gpu.direction(cp.asarray(g), cp.empty(n))
    np.testing.assert_allclose(d_gpu.get(), d_cpu, rtol=1e-12, atol=1e-12 * np.abs(d_cpu).max())


def test_direction_empty_history_is_scaled_gradient():
    cp = cupy_or_skip()
    state = GPULBFGSState(5)
    state.gamma = 0.5
    g = cp.arange(5, dtype=cp.float64)
    d = state.direction(g, cp.empty(5))
    np.testing.assert_array_equal(d.get(), -0.5 * np.arange(5.0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", SIZES)
def test_lbfgs_quadratic_matches_cpu(dtype, n):
    cp = cupy_or_skip()
    options = {"gtol": 1e-9 if dtype == np.float64 else 1e-4}
    cpu = fastopt.minimize(quadratic(np, n, dtype), np.zeros(n, dtype), jac=True, options=options)
    gpu = fastopt.minimize(quadratic(cp, n, dtype), cp.zeros(n, dtype), jac=True, options=options)
    assert isinstance(gpu.x, cp.ndarray)
    assert gpu.x.dtype == dtype
    assert gpu.success, gpu.message
    assert gpu.status == cpu.status
    np.testing.assert_allclose(gpu.x.get(), cpu.x, rtol=tolerance(dtype), atol=tolerance(dtype))
    assert gpu.fun == pytest.approx(cpu.fun, rel=tolerance(dtype), abs=tolerance(dtype))
    assert abs(gpu.nit - cpu.nit) <= 2


@pytest.mark.parametrize("line_search", ["more-thuente", "armijo"])
def test_lbfgs_rosenbrock_matches_cpu(line_search):
    cp = cupy_or_skip()
    n = 20
    options = {"gtol": 1e-9, "line_search": line_search, "maxiter": 2000}
    x0 = np.full(n, -1.2)
    cpu = fastopt.minimize(rosenbrock(np), x0, jac=True, options=options)
    gpu = fastopt.minimize(rosenbrock(cp), cp.asarray(x0), jac=True, options=options)
    assert gpu.success, gpu.message
    np.testing.assert_allclose(gpu.x.get(), cpu.x, rtol=1e-6)
    np.testing.assert_allclose(gpu.x.get(), np.ones(n), rtol=1e-5)


def test_lbfgs_logistic_matches_cpu():
    cp = cupy_or_skip()
    X, y = logistic_data()
    options = {"gtol": 1e-9}
    cpu = fastopt.minimize(logistic(np, X, y), np.zeros(X.shape[1]), jac=True, options=options)
    gpu = fastopt.minimize(logistic(cp, X, y), cp.zeros(X.shape[1]), jac=True, options=options)
    np.testing.assert_allclose(gpu.x.get(), cpu.x, rtol=1e-6, atol=1e-8)
    assert gpu.fun == pytest.approx(cpu.fun, rel=1e-12)


def test_lbfgs_warm_start_state_on_gpu():
    cp = cupy_or_skip()
    n = 50
    fun = quadratic(cp, n, np.float64)
    state = GPULBFGSState(n)
    first = fastopt.minimize(fun, cp.zeros(n), jac=True, state=state, options={"maxiter": 3})
    assert state.count == 3
    second = fastopt.minimize(fun, first.x, jac=True, state=state, options={"gtol": 1e-10})
    assert second.success
    np.testing.assert_allclose(second.x.get(), np.cos(np.arange(n)), rtol=1e-8)


def test_lbfgs_gpu_rejects_bounds_and_bfgs():
    cp = cupy_or_skip()
    fun = quadratic(cp, 3, np.float64)
    with pytest.raises(ValueError, match="bounds: not supported with a GPU x0"):
        fastopt.minimize(fun, cp.zeros(3), jac=True, bounds=[(0, 1)] * 3)
    with pytest.raises(ValueError, match="method: 'bfgs' runs on the CPU only"):
        fastopt.minimize(fun, cp.zeros(3), jac=True, method="bfgs")


def test_lbfgs_gpu_x0_checks():
    cp = cupy_or_skip()
    fun = quadratic(cp, 3, np.float64)
    with pytest.raises(ValueError, match=r"x0: expected finite values, got x0\[1\] = nan"):
        fastopt.minimize(fun, cp.asarray([0.0, np.nan, 0.0]), jac=True)
    with pytest.raises(ValueError, match=r"x0: expected at least one variable"):
        fastopt.minimize(fun, cp.zeros(0), jac=True)
    with pytest.raises(TypeError, match="jac is on the CPU but x is on the GPU"):
        fastopt.minimize(lambda x: (0.0, np.zeros(3)), cp.zeros(3), jac=True)


def test_lbfgs_gpu_nonfinite_start():
    cp = cupy_or_skip()
    result = fastopt.minimize(lambda x: (cp.asarray(np.inf), x), cp.zeros(4), jac=True)
    assert result.status == fastopt.minimize.Status.NOT_FINITE


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 2049, 5000])
def test_owlqn_separable_matches_soft_threshold(dtype, n):
    cp = cupy_or_skip()
    lam = 0.3
    c = np.cos(np.arange(n)).astype(dtype)

    def fg(x):
        r = x - cp.asarray(c)
        return 0.5 * (r * r).sum(dtype=np.float64), r

    result = fastopt.minimize(fg, cp.zeros(n, dtype), jac=True, method="owlqn",
                              options={"l1": lam, "gtol": 1e-7 if dtype == np.float64 else 1e-4})
    expected = np.sign(c) * np.maximum(np.abs(c) - lam, 0.0)
    np.testing.assert_allclose(result.x.get(), expected, atol=tolerance(dtype))
    assert bool((result.x[cp.asarray(expected == 0)] == 0).all())


def test_owlqn_logistic_matches_cpu():
    cp = cupy_or_skip()
    X, y = logistic_data(seed=3)
    p = X.shape[1]
    l1 = np.full(p, 0.02)
    l1[0] = 0.0  # an unpenalized coordinate moves as in L-BFGS
    options = {"gtol": 1e-8}
    cpu = fastopt.minimize(logistic(np, X, y), np.zeros(p), jac=True, method="owlqn",
                           options=dict(options, l1=l1))
    gpu = fastopt.minimize(logistic(cp, X, y), cp.zeros(p), jac=True, method="owlqn",
                           options=dict(options, l1=cp.asarray(l1)))
    np.testing.assert_allclose(gpu.x.get(), cpu.x, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(gpu.x.get() == 0, cpu.x == 0)
    assert gpu.fun == pytest.approx(cpu.fun, rel=1e-10)
    np.testing.assert_allclose(gpu.jac.get(), cpu.jac, atol=1e-6)


def test_owlqn_cpu_l1_with_gpu_x0():
    cp = cupy_or_skip()
    with pytest.raises(TypeError, match="l1 is on the CPU but x0 is on the GPU"):
        fastopt.minimize(quadratic(cp, 3, np.float64), cp.zeros(3), jac=True, method="owlqn",
                         options={"l1": np.full(3, 0.1)})
