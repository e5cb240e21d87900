"""The GLM data term on the GPU (GPUGLMObjective) against the CPU GLMObjective.

Both sum in float64 in a fixed order, but not the same order, so values and gradients
agree to 1e-12 relative (1e-10 absolute on gradient entries near zero). On the GPU the
same call twice, and calls under different CuPy streams, give the same bits. The L-BFGS and
OWL-QN solvers on the GPU objective reach the CPU solution to the solver tolerance.

Without a GPU the tests check the errors only.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from gpu_helpers import FakeDeviceArray, cupy_or_skip, skip_if_device

from fastopt import _build_info
from fastopt.linear_model import Lasso, LogisticRegression, Ridge
from fastopt.linear_model._gpu_objective import GPUGLMObjective
from fastopt.linear_model._objective import GLMObjective
from fastopt.linear_model._quasi_newton import lbfgs, owlqn

LAYOUTS = ["dense_c", "dense_f", "csr32", "csr64"]
# Samples around the reduction chunk (2,048) and the C-order gradient tile (256 rows).
SHAPES = [(1, 1), (5, 3), (256, 17), (257, 4), (2049, 9), (3000, 40)]


def make_problem(loss, n, p, *, seed=0, density=0.3, classes=3, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * scale
    X[rng.random((n, p)) > density] = 0.0
    if loss == "logistic":
        y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    elif loss == "multinomial":
        y = rng.integers(0, classes, n).astype(np.float64)
    else:
        y = rng.standard_normal(n) * 3
    return X, y


def to_device(cp, X, layout, dtype):
    """Return X in ``layout`` on the GPU, and the same matrix for the CPU objective."""
    import cupyx.scipy.sparse as csp

    X = X.astype(dtype)
    if layout == "dense_c":
        return cp.asarray(np.ascontiguousarray(X)), np.ascontiguousarray(X)
    if layout == "dense_f":
        return cp.asarray(np.asfortranarray(X)), np.asfortranarray(X)
    host = sp.csr_matrix(X)
    index = np.int32 if layout == "csr32" else np.int64
    host.indices = host.indices.astype(index)
    host.indptr = host.indptr.astype(index)
    device = csp.csr_matrix((cp.asarray(host.data), cp.asarray(host.indices),
                             cp.asarray(host.indptr)), shape=host.shape)
    return device, host


def random_w(n_params, seed=1):
    return np.random.default_rng(seed).standard_normal(n_params) * 0.5


# ------------------------------------------------------------------ without a GPU


def test_glm_bindings_check_arguments():
    # The checks run before any launch, so they need no device.
    if not _build_info.cuda_built:
        pytest.skip("this build has no CUDA module")
    from fastopt import _cuda

    with pytest.raises(ValueError, match="loss: expected 'logistic', 'squared', 'huber' or 'multinomial', got 'hinge'"):
        _cuda.glm_loss("hinge", 4, 1, 0, 0, 0, 1.0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="outputs: expected 1 for loss 'logistic', got 3"):
        _cuda.glm_loss("logistic", 4, 3, 0, 0, 0, 1.0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="layout: expected 'dense_c', 'dense_f' or 'csr', got 'csc'"):
        _cuda.glm_margins("csc", "float64", "int32", 4, 2, 1, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="index_dtype: expected 'int32' or 'int64', got 'int16'"):
        _cuda.glm_gradient("csr", "float64", "int16", 4, 2, 1, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="expected n >= 1, p >= 0 and outputs >= 1, got n=0"):
        _cuda.glm_margins("dense_c", "float64", "int32", 0, 2, 1, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="X: a C-order design supports at most 16776960 rows"):
        _cuda.glm_gradient("dense_c", "float64", "int32", 17_000_000, 2, 1, 0, 0, 0, 0, 0, 0, 0)


def test_gpu_objective_without_device():
    skip_if_device()
    with pytest.raises(RuntimeError, match="fastopt cannot run on the GPU"):
        GPUGLMObjective(FakeDeviceArray((4, 2)), FakeDeviceArray((4,)), loss="squared")


def test_gpu_objective_mixed_devices():
    with pytest.raises(TypeError, match=r"y is on the GPU \(device 0\) but X is on the CPU"):
        GPUGLMObjective(np.zeros((4, 2)), FakeDeviceArray((4,)), loss="squared")


def test_gpu_objective_mixed_weights():
    with pytest.raises(TypeError, match=r"sample_weight is on the CPU but X is on the GPU"):
        GPUGLMObjective(FakeDeviceArray((4, 2)), FakeDeviceArray((4,)), loss="squared",
                        sample_weight=np.ones(4))


def test_gpu_objective_cpu_input():
    with pytest.raises(TypeError, match="use GLMObjective for arrays on the CPU"):
        GPUGLMObjective(np.zeros((4, 2)), np.zeros(4), loss="squared")


@pytest.mark.parametrize("estimator", [LogisticRegression, Ridge, Lasso])
def test_estimator_fit_gpu_input(estimator):
    with pytest.raises(TypeError, match="X: fitting estimators on GPU arrays is not implemented yet"):
        estimator().fit(FakeDeviceArray((4, 2)), np.array([0, 1, 0, 1]))


# ------------------------------------------------------------------ with a GPU


@pytest.mark.parametrize("loss", ["logistic", "squared", "huber", "multinomial"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
def test_value_grad_matches_cpu(loss, layout, dtype, shape):
    cp = cupy_or_skip()
    n, p = shape
    X, y = make_problem(loss, n, p)
    X_gpu, X_cpu = to_device(cp, X, layout, dtype)
    for weighted in (False, True):
        weight = np.random.default_rng(2).uniform(0.0, 2.0, n) if weighted else None
        for fit_intercept in (True, False):
            kwargs = {"loss": loss, "fit_intercept": fit_intercept}
            if loss == "multinomial":
                kwargs["n_classes"] = 3
            cpu = GLMObjective(X_cpu, y, sample_weight=weight, **kwargs)
            gpu = GPUGLMObjective(X_gpu, cp.asarray(y),
                                  sample_weight=None if weight is None else cp.asarray(weight),
                                  **kwargs)
            assert gpu.n_params == cpu.n_params
            w = random_w(cpu.n_params)
            f_cpu, g_cpu = cpu.value_grad(w)
            f_gpu, g_gpu = gpu.value_grad(cp.asarray(w))
            assert f_gpu == pytest.approx(f_cpu, rel=1e-12)
            np.testing.assert_allclose(g_gpu.get(), g_cpu, rtol=1e-12, atol=1e-10)
            assert gpu.value(cp.asarray(w)) == pytest.approx(f_cpu, rel=1e-12)
            z_cpu = cpu.margins(w)
            np.testing.assert_allclose(gpu.margins(cp.asarray(w)).get(), z_cpu, rtol=1e-12,
                                       atol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_value_grad_deterministic(layout):
    cp = cupy_or_skip()
    X, y = make_problem("logistic", 5000, 30)
    X_gpu, _ = to_device(cp, X, layout, np.float64)
    obj = GPUGLMObjective(X_gpu, cp.asarray(y), loss="logistic")
    w = cp.asarray(random_w(obj.n_params))
    f1, g1 = obj.value_grad(w)
    g1 = g1.copy()
    with cp.cuda.Stream(non_blocking=True):
        f2, g2 = obj.value_grad(w)
    assert f1 == f2
    assert bool((g1 == g2).all())


def test_logistic_extreme_margins_finite():
    cp = cupy_or_skip()
    X = np.array([[1.0], [-1.0], [1.0]])
    y = np.array([1.0, 1.0, -1.0])
    cpu = GLMObjective(X, y, loss="logistic", fit_intercept=False)
    gpu = GPUGLMObjective(cp.asarray(X), cp.asarray(y), loss="logistic", fit_intercept=False)
    for margin in (1e3, -1e3, 3e4):
        f_cpu, g_cpu = cpu.value_grad(np.array([margin]))
        f_gpu, g_gpu = gpu.value_grad(cp.asarray([margin]))
        assert np.isfinite(f_gpu)
        assert f_gpu == pytest.approx(f_cpu, rel=1e-14)
        np.testing.assert_allclose(g_gpu.get(), g_cpu, rtol=1e-14)


def test_csc_input_converted():
    cp = cupy_or_skip()
    import cupyx.scipy.sparse as csp

    X, y = make_problem("squared", 50, 6)
    cpu = GLMObjective(sp.csc_matrix(X), y, loss="squared")
    gpu = GPUGLMObjective(csp.csc_matrix(cp.asarray(X)), cp.asarray(y), loss="squared")
    w = random_w(cpu.n_params)
    f_cpu, g_cpu = cpu.value_grad(w)
    f_gpu, g_gpu = gpu.value_grad(cp.asarray(w))
    assert f_gpu == pytest.approx(f_cpu, rel=1e-12)
    np.testing.assert_allclose(g_gpu.get(), g_cpu, rtol=1e-12, atol=1e-12)


def test_gpu_objective_input_errors():
    cp = cupy_or_skip()
    X = cp.ones((3, 2))
    with pytest.raises(ValueError, match=r"y: expected labels -1 or \+1 for loss='logistic', got 0.0 at index 1"):
        GPUGLMObjective(X, cp.asarray([1.0, 0.0, 1.0]), loss="logistic")
    with pytest.raises(ValueError, match="y: expected 3 values"):
        GPUGLMObjective(X, cp.ones(2), loss="squared")
    with pytest.raises(ValueError, match=r"X: expected finite values, got nan at stored entry 1"):
        GPUGLMObjective(cp.asarray([[0.0, np.nan], [0.0, 0.0], [1.0, 1.0]]), cp.ones(3), loss="squared")
    with pytest.raises(ValueError, match=r"sample_weight: expected values >= 0, got -1.0 at index 2"):
        GPUGLMObjective(X, cp.ones(3), loss="squared", sample_weight=cp.asarray([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match=r"w: expected shape \(3,\), got \(2,\)"):
        GPUGLMObjective(X, cp.ones(3), loss="squared").value(cp.zeros(2))
    with pytest.raises(TypeError, match="w is on the CPU but X is on the GPU"):
        GPUGLMObjective(X, cp.ones(3), loss="squared").value(np.zeros(3))


@pytest.mark.parametrize("layout", ["dense_c", "csr32"])
def test_lbfgs_solver_on_gpu_matches_cpu(layout):
    cp = cupy_or_skip()
    X, y = make_problem("logistic", 400, 25, density=0.5)
    X_gpu, X_cpu = to_device(cp, X, layout, np.float64)
    cpu = GLMObjective(X_cpu, y, loss="logistic")
    gpu = GPUGLMObjective(X_gpu, cp.asarray(y), loss="logistic")
    settings = {"alpha": 1e-2, "l1_ratio": 0.0, "tol": 1e-8, "max_iter": 500}
    result_cpu = lbfgs(cpu, **settings)
    result_gpu = lbfgs(gpu, **settings)
    assert result_gpu.converged
    assert isinstance(result_gpu.w, cp.ndarray)
    np.testing.assert_allclose(result_gpu.w.get(), result_cpu.w, rtol=1e-5, atol=1e-7)
    assert result_gpu.objective == pytest.approx(result_cpu.objective, rel=1e-10)


@pytest.mark.parametrize("loss", ["logistic", "squared", "multinomial"])
def test_owlqn_solver_on_gpu_matches_cpu(loss):
    cp = cupy_or_skip()
    X, y = make_problem(loss, 500, 30, density=0.5)
    kwargs = {"n_classes": 3} if loss == "multinomial" else {}
    cpu = GLMObjective(X, y, loss=loss, **kwargs)
    gpu = GPUGLMObjective(cp.asarray(X), cp.asarray(y), loss=loss, **kwargs)
    settings = {"alpha": 2e-2, "l1_ratio": 1.0, "tol": 1e-8, "max_iter": 1000}
    result_cpu = owlqn(cpu, **settings)
    result_gpu = owlqn(gpu, **settings)
    assert result_gpu.converged
    np.testing.assert_allclose(result_gpu.w.get(), result_cpu.w, rtol=1e-4, atol=1e-6)
    assert result_gpu.objective == pytest.approx(result_cpu.objective, rel=1e-9)
