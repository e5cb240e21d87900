"""fastopt and the NumPy oracle against torch.optim (CPU), where torch is installed.

Each test imports torch itself, so the rest of the suite runs without it.
torch runs with float64 as its default dtype, because torch.optim keeps
scalar state such as NAdam's ``mu_product`` in the default dtype and
fastopt computes those scalars in double.
"""

import contextlib

import numpy as np
import pytest

import fastopt.optim
from helpers import DTYPES, MIXED_SHAPES, TOLERANCE, Problem, run_fastopt, run_reference, tolerance
from registry import FIRST_CASES, TORCH_CASES

STEPS = 200


@contextlib.contextmanager
def _float64_default(torch):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _run_torch(torch, case, problem, steps, max_grad_norm=None):
    """Run ``case`` in torch.optim; return (params, optimizer, norms from clip_grad_norm_)."""
    params = [torch.nn.Parameter(torch.from_numpy(p)) for p in problem.initial_params()]
    norms = []
    with _float64_default(torch):
        opt = getattr(torch.optim, case.torch_name)(params, **case.options)
        for t in range(1, steps + 1):
            for p, g in zip(params, problem.gradients(t)):
                p.grad = torch.from_numpy(g)
            if max_grad_norm is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_(params, max_grad_norm)))
            opt.step()
    return params, opt, norms


def _assert_matches_torch(context, torch_params, torch_opt, params, states, steps, tol):
    for k, (tp, p, state) in enumerate(zip(torch_params, params, states)):
        np.testing.assert_allclose(p, tp.detach().numpy(), **tol, err_msg=f"{context}: params[{k}]")
        torch_state = torch_opt.state[tp]
        assert state["step"] == steps, f"{context}: step of params[{k}]"
        for name, value in torch_state.items():
            if name == "step" or value is None:
                continue
            expected = value.detach().numpy()
            np.testing.assert_allclose(
                state[name], expected, **tol, err_msg=f"{context}: {name}[{k}]"
            )


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_class_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    problem = Problem(MIXED_SHAPES, dtype, seed=5)
    torch_params, torch_opt, _ = _run_torch(torch, case, problem, STEPS)
    opt, params = run_fastopt(case, problem, STEPS)
    states = [opt.state[id(p)] for p in params]
    _assert_matches_torch(
        case.id, torch_params, torch_opt, params, states, STEPS, tolerance(case, dtype)
    )


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_reference_matches_torch(case):
    torch = pytest.importorskip("torch")
    problem = Problem(MIXED_SHAPES, np.float64, seed=6)
    torch_params, torch_opt, _ = _run_torch(torch, case, problem, STEPS)
    params, states = run_reference(case, problem, STEPS)
    states = [{**s, "step": STEPS} for s in states]
    tol = TOLERANCE[np.dtype(np.float64)]
    _assert_matches_torch(f"oracle {case.id}", torch_params, torch_opt, params, states, STEPS, tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", [c for c in FIRST_CASES if c.torch_name], ids=lambda c: c.id)
def test_max_grad_norm_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    steps = 20
    # The gradients' global norm is about sqrt(400) = 20, so every step clips.
    max_norm = 1.0
    problem = Problem(MIXED_SHAPES, dtype, seed=7)
    torch_params, torch_opt, torch_norms = _run_torch(
        torch, case, problem, steps, max_grad_norm=max_norm
    )

    params = problem.initial_params()
    opt = case.make(params)
    norms = []
    for t in range(1, steps + 1):
        norms.append(opt.step(problem.gradients(t), max_grad_norm=max_norm).grad_norm)
    states = [opt.state[id(p)] for p in params]

    _assert_matches_torch(
        case.id, torch_params, torch_opt, params, states, steps, tolerance(case, dtype)
    )
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(norms, torch_norms, rtol=rtol, err_msg="StepResult.grad_norm")


@pytest.mark.parametrize("max_norm", [0.5, 1e6], ids=["clips", "no-clip"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_clip_grad_norm_matches_torch(dtype, max_norm):
    torch = pytest.importorskip("torch")
    problem = Problem(MIXED_SHAPES, dtype, seed=8)
    grads = problem.gradients(1)
    torch_grads = problem.gradients(1)
    tensors = [
        torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        for g in torch_grads
    ]
    for t, g in zip(tensors, torch_grads):
        t.grad = torch.from_numpy(g)

    norm = fastopt.optim.clip_grad_norm_(grads, max_norm)
    torch_norm = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm))

    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert norm == pytest.approx(torch_norm, rel=rtol)
    for k, (g, t) in enumerate(zip(grads, tensors)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=rtol, atol=0, err_msg=f"grads[{k}]")
