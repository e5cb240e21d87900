"""The optimizers on CuPy arrays against the CPU implementation and torch's CUDA optimizers.

The CPU kernels are checked against NumPy oracles and torch elsewhere. Here
each GPU result is compared to the CPU result of the same rule, options and
data. GPU arithmetic contracts multiply-adds into FMAs, so float32 results
differ from the CPU's by a few ulps per step, within the tolerances below.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpu_helpers import require_gpu, to_device, torch_cuda
from helpers import MIXED_SHAPES, Problem, call_functional, functional_state, tolerance
from registry import CASES, LAST_CASES, TORCH_CASES

cupy = require_gpu()

import fastopt  # noqa: E402

STEPS = 5

#: Sizes around the 4096-element chunk of a launch, and an odd size over many chunks.
GPU_SIZES = ((4095,), (4096,), (4097,), (278_011,))

DTYPES = (np.float32, np.float64)


def gpu_tolerance(case, dtype):
    tol = tolerance(case, dtype)
    if np.dtype(dtype) == np.float64:
        tol = dict(rtol=1e-10, atol=1e-12)
    return tol


def run_functional(case, problem, on_gpu: bool, steps=STEPS):
    """Run ``steps`` functional steps on the CPU or the GPU; return (params, state lists)."""
    params = problem.initial_params()
    state = functional_state(case, params)
    if on_gpu:
        params = to_device(cupy, params)
        state = [None if s is None else to_device(cupy, s) for s in state]
        if case.rule == "nadam":
            # On the GPU the products are a float64 array that the kernel updates.
            state[2] = cupy.asarray(np.asarray(state[2], dtype=np.float64))
    for t in range(1, steps + 1):
        grads = problem.gradients(t)
        call_functional(case, params, to_device(cupy, grads) if on_gpu else grads, state, t)
    return params, state


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_functional_matches_cpu(case, dtype):
    problem = Problem(MIXED_SHAPES + GPU_SIZES, dtype)
    cpu_params, cpu_state = run_functional(case, problem, on_gpu=False)
    gpu_params, gpu_state = run_functional(case, problem, on_gpu=True)
    tol = gpu_tolerance(case, dtype)
    for k, (c, g) in enumerate(zip(cpu_params, gpu_params)):
        np.testing.assert_allclose(g.get(), c, **tol, err_msg=f"{case.id}: params[{k}]")
    for name, c_list, g_list in zip(case.functional_states, cpu_state, gpu_state):
        if c_list is None:
            continue
        if name == "mu_product":
            np.testing.assert_allclose(g_list.get(), np.asarray(c_list), rtol=1e-12, err_msg=case.id)
            continue
        for k, (c, g) in enumerate(zip(c_list, g_list)):
            np.testing.assert_allclose(g.get(), c, **tol, err_msg=f"{case.id}: {name}[{k}]")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_class_matches_cpu(case, dtype):
    problem = Problem(MIXED_SHAPES + GPU_SIZES, dtype)
    cpu_params = problem.initial_params()
    gpu_params = to_device(cupy, problem.initial_params())
    cpu_opt, gpu_opt = case.make(cpu_params), case.make(gpu_params)
    for t in range(1, STEPS + 1):
        cpu_opt.step(problem.gradients(t))
        gpu_opt.step(to_device(cupy, problem.gradients(t)))
    tol = gpu_tolerance(case, dtype)
    for k, (c, g) in enumerate(zip(cpu_params, gpu_params)):
        np.testing.assert_allclose(g.get(), c, **tol, err_msg=f"{case.id}: params[{k}]")
        cpu_state, gpu_state = cpu_opt.state[id(c)], gpu_opt.state[id(g)]
        assert int(gpu_state["step"]) == cpu_state["step"] == STEPS
        for name, value in cpu_state.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_allclose(gpu_state[name].get(), value, **tol, err_msg=f"{case.id}: {name}[{k}]")


@pytest.mark.parametrize("case", LAST_CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("options", [dict(max_grad_norm=0.5), dict(grad_scale=1024.0),
                                     dict(grad_scale=8.0, max_grad_norm=2.0)], ids=str)
def test_prepass_matches_cpu(case, options):
    problem = Problem(MIXED_SHAPES + GPU_SIZES, np.float64)
    cpu_params = problem.initial_params()
    gpu_params = to_device(cupy, problem.initial_params())
    cpu_opt, gpu_opt = case.make(cpu_params), case.make(gpu_params)
    scale = options.get("grad_scale", 1.0)
    for t in range(1, STEPS + 1):
        grads = [g * scale for g in problem.gradients(t)]
        cpu_result = cpu_opt.step(grads, **options)
        gpu_result = gpu_opt.step(to_device(cupy, grads), **options)
        assert bool(gpu_result.found_inf) is cpu_result.found_inf is False
        np.testing.assert_allclose(float(gpu_result.grad_norm), cpu_result.grad_norm, rtol=1e-12)
    for k, (c, g) in enumerate(zip(cpu_params, gpu_params)):
        np.testing.assert_allclose(g.get(), c, rtol=1e-10, atol=1e-12, err_msg=f"{case.id}: params[{k}]")


@pytest.mark.parametrize("case", LAST_CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan], ids=str)
def test_nonfinite_gradient_skips_step(case, bad):
    problem = Problem(MIXED_SHAPES, np.float32)
    params = to_device(cupy, problem.initial_params())
    opt = case.make(params)
    opt.step(to_device(cupy, problem.gradients(1)))
    before = [p.copy() for p in params]
    grads = to_device(cupy, problem.gradients(2))
    grads[3][1, 2] = bad
    result = opt.step(grads, grad_scale=2.0)
    assert bool(result.found_inf)
    for k, (p, q) in enumerate(zip(params, before)):
        np.testing.assert_array_equal(p.get(), q.get(), err_msg=f"params[{k}] changed on a skipped step")
        assert int(opt.state[id(p)]["step"]) == 1
    result = opt.step(to_device(cupy, problem.gradients(2)), grad_scale=2.0)
    assert not bool(result.found_inf)
    assert all(int(opt.state[id(p)]["step"]) == 2 for p in params)


def test_many_tensors_split_launches():
    """More tensors than one launch's metadata holds, with empty ones between them."""
    from fastopt import _cuda

    count = 2 * _cuda.MAX_TENSORS_PER_LAUNCH + 37
    rng = np.random.default_rng(3)
    shapes = [(int(rng.integers(0, 3000)),) if i % 9 else (0,) for i in range(count)]
    problem = Problem(shapes, np.float32)
    case = next(c for c in CASES if c.id == "adamw-amsgrad")
    cpu_params = problem.initial_params()
    gpu_params = to_device(cupy, problem.initial_params())
    cpu_opt, gpu_opt = case.make(cpu_params), case.make(gpu_params)
    for t in range(1, 4):
        cpu_opt.step(problem.gradients(t), max_grad_norm=1.0)
        gpu_opt.step(to_device(cupy, problem.gradients(t)), max_grad_norm=1.0)
    for k, (c, g) in enumerate(zip(cpu_params, gpu_params)):
        np.testing.assert_allclose(g.get(), c, rtol=2e-5, atol=2e-5, err_msg=f"params[{k}]")
        assert int(gpu_opt.state[id(g)]["step"]) == 3


@pytest.mark.parametrize("case", LAST_CASES, ids=lambda c: c.id)
def test_float16_params_float32_state(case):
    problem = Problem(MIXED_SHAPES + GPU_SIZES, np.float32)
    start = [p.astype(np.float16) for p in problem.initial_params()]
    gpu_params = [cupy.asarray(p) for p in start]
    reference_params = [p.astype(np.float32) for p in start]
    gpu_opt, cpu_opt = case.make(gpu_params), case.make(reference_params)
    for t in range(1, STEPS + 1):
        grads = [g.astype(np.float16) for g in problem.gradients(t)]
        gpu_opt.step([cupy.asarray(g) for g in grads])
        cpu_opt.step([g.astype(np.float32) for g in grads])
        # The GPU stores each updated parameter in float16; do the same on the CPU.
        for p in reference_params:
            p[...] = p.astype(np.float16).astype(np.float32)
    for k, (g, c) in enumerate(zip(gpu_params, reference_params)):
        assert g.dtype == cupy.float16
        state = gpu_opt.state[id(g)]
        for name, value in state.items():
            if hasattr(value, "dtype") and value.ndim:
                assert value.dtype == cupy.float32, f"{name}[{k}] is {value.dtype}"
        atol = 8 * case.hyperparameters.get("lr", 1e-3) + 2e-3
        np.testing.assert_allclose(g.get().astype(np.float32), c, rtol=2e-3, atol=atol, err_msg=f"params[{k}]")


def test_bfloat16_params_through_torch():
    torch = torch_cuda()
    if torch is None:
        pytest.skip("torch with CUDA is not installed")
    param = torch.randn(10_001, device="cuda", dtype=torch.bfloat16)
    try:
        view = cupy.from_dlpack(param)
    except Exception as exc:  # CuPy builds without bfloat16 raise several types
        pytest.skip(f"this CuPy cannot hold bfloat16 arrays: {exc}")
    grad = cupy.from_dlpack(torch.randn(10_001, device="cuda", dtype=torch.bfloat16))
    expected = param.float() - 0.1 * torch.from_dlpack(grad).float()
    fastopt.optim.functional.sgd([view], [grad], lr=0.1)
    torch.testing.assert_close(param.float(), expected.bfloat16().float(), rtol=1e-2, atol=1e-2)


def test_over_2_31_elements():
    n = 2**31 + 4099
    free, _ = cupy.cuda.runtime.memGetInfo()
    if free < 4 * n * 2:
        pytest.skip(f"needs {4 * n * 2 / 2**30:.0f} GiB of free GPU memory, {free / 2**30:.0f} GiB free")
    param = cupy.ones(n, dtype=cupy.float16)
    grad = cupy.full(n, 2.0, dtype=cupy.float16)
    grad[-1] = 4.0
    fastopt.optim.functional.sgd([param], [grad], lr=0.125)
    assert float(param[0]) == 0.75
    assert float(param[2**31]) == 0.75
    assert float(param[-2]) == 0.75
    assert float(param[-1]) == 0.5
    del param, grad


def test_device_counter_steps_functional():
    case = next(c for c in CASES if c.id == "adam-default")
    problem = Problem(MIXED_SHAPES, np.float64)
    cpu_params = problem.initial_params()
    gpu_params = to_device(cupy, problem.initial_params())
    cpu_state = functional_state(case, cpu_params)
    gpu_state = [None if s is None else to_device(cupy, s) for s in functional_state(case, gpu_params)]
    counters = cupy.zeros(len(gpu_params), dtype=cupy.int64)
    for t in range(1, 4):
        case.functional(cpu_params, problem.gradients(t), *cpu_state, step=t, **case.functional_options)
        case.functional(gpu_params, to_device(cupy, problem.gradients(t)), *gpu_state, step=counters,
                        **case.functional_options)
    assert counters.get().tolist() == [3] * len(gpu_params)
    for k, (c, g) in enumerate(zip(cpu_params, gpu_params)):
        np.testing.assert_allclose(g.get(), c, rtol=1e-10, atol=1e-12, err_msg=f"params[{k}]")


def test_mixed_devices_rejected():
    params = [cupy.zeros(4, dtype=cupy.float32)]
    with pytest.raises(TypeError, match=r"grads\[0\] is on the CPU but params\[0\] is on the GPU"):
        fastopt.optim.functional.sgd(params, [np.zeros(4, dtype=np.float32)], lr=0.1)
    with pytest.raises(TypeError, match=r"exp_avgs\[0\] is on the CPU"):
        fastopt.optim.functional.adam(params, [cupy.zeros(4, dtype=cupy.float32)], [np.zeros(4, np.float32)],
                                      [cupy.zeros(4, dtype=cupy.float32)], step=1)
    opt = fastopt.optim.Adam(params)
    with pytest.raises(TypeError, match=r"grads\[0\] is on the CPU"):
        opt.step([np.zeros(4, dtype=np.float32)])


def test_bad_state_dtype_rejected():
    params = [cupy.zeros(4, dtype=cupy.float16)]
    with pytest.raises(TypeError, match=r"exp_avgs\[0\]: expected dtype float32, got float16"):
        fastopt.optim.functional.adam(params, [cupy.zeros(4, dtype=cupy.float16)], [cupy.zeros(4, cupy.float16)],
                                      [cupy.zeros(4, dtype=cupy.float32)], step=1)


def test_step_results_stay_on_device():
    """found_inf and grad_norm are device arrays, so a step never waits for the GPU to report them."""
    params = [cupy.zeros(1 << 20, dtype=cupy.float32)]
    opt = fastopt.optim.Adam(params)
    grads = [cupy.ones(1 << 20, dtype=cupy.float32)]
    result = opt.step(grads, grad_scale=2.0, max_grad_norm=1.0)
    assert isinstance(result.found_inf, cupy.ndarray)
    assert isinstance(result.grad_norm, cupy.ndarray)
    assert not bool(result.found_inf)
    assert float(result.grad_norm) == pytest.approx(0.5 * 1024)
    assert int(opt.state[id(params[0])]["step"]) == 1


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_class_matches_torch_cuda(case):
    torch = torch_cuda()
    if torch is None:
        pytest.skip("torch with CUDA is not installed")
    problem = Problem(MIXED_SHAPES + GPU_SIZES, np.float32)
    torch_params = [torch.tensor(p, device="cuda", requires_grad=True) for p in problem.initial_params()]
    options = dict(case.options)
    torch_class = getattr(torch.optim, case.torch_name)
    extra = {"fused": True} if case.torch_name in ("SGD", "Adam", "AdamW", "Adagrad") else {"foreach": True}
    torch_opt = torch_class(torch_params, **options, **extra)
    gpu_params = to_device(cupy, problem.initial_params())
    opt = case.make(gpu_params)
    for t in range(1, STEPS + 1):
        grads = problem.gradients(t)
        for p, g in zip(torch_params, grads):
            p.grad = torch.tensor(g, device="cuda")
        torch_opt.step()
        opt.step(to_device(cupy, grads))
    for k, (tp, gp) in enumerate(zip(torch_params, gpu_params)):
        np.testing.assert_allclose(gp.get(), tp.detach().cpu().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"{case.id}: params[{k}]")
