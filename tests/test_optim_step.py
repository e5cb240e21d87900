"""The step driver for every rule: gradient scaling, non-finite gradients,
clipping, parameter groups, missing gradients, checkpoints and the
functional form."""

import inspect
import math

import numpy as np
import pytest

import fastopt.optim
from helpers import (
    DTYPES,
    MIXED_SHAPES,
    Problem,
    assert_bitwise_equal,
    assert_same_optimizer,
    call_functional,
    functional_state,
    run_fastopt,
    snapshot,
)
from registry import CASES, FIRST_CASES

STEPS = 5
dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
cases = pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
first_cases = pytest.mark.parametrize("case", FIRST_CASES, ids=lambda c: c.id)


def _close(dtype):
    """Tolerance of two computations that differ by a rounding of the gradient."""
    return (
        dict(rtol=1e-5, atol=1e-6)
        if np.dtype(dtype) == np.float32
        else dict(rtol=1e-12, atol=1e-13)
    )


def _bad_gradients(problem, step, value):
    grads = problem.gradients(step)
    grads[3].flat[4] = value
    return grads


# -- grad_scale ---------------------------------------------------------------


@dtypes
@cases
def test_grad_scale_power_of_two_exact(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=10)
    expected = snapshot(*run_fastopt(case, problem, STEPS))

    params = problem.initial_params()
    opt = case.make(params)
    for t in range(1, STEPS + 1):
        result = opt.step([g * 1024 for g in problem.gradients(t)], grad_scale=1024.0)
        assert result.found_inf is False
    assert_same_optimizer(snapshot(opt, params), expected, case.id)


@dtypes
@cases
def test_grad_scale_matches_divided_gradient(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=11)
    divided = problem.initial_params()
    scaled = problem.initial_params()
    opt_divided = case.make(divided)
    opt_scaled = case.make(scaled)
    for t in range(1, STEPS + 1):
        grads = [g * dtype(3) for g in problem.gradients(t)]
        opt_divided.step([g / dtype(3) for g in grads])
        opt_scaled.step(grads, grad_scale=3.0)
    for k, (p, q) in enumerate(zip(scaled, divided)):
        np.testing.assert_allclose(p, q, **_close(dtype), err_msg=f"params[{k}]")


# -- non-finite gradients -----------------------------------------------------


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("via", ["check_finite", "grad_scale"])
@cases
def test_found_inf_skips_step(case, via, bad):
    problem = Problem(MIXED_SHAPES, np.float32, seed=12)
    params = problem.initial_params()
    opt = case.make(params)
    for t in (1, 2):
        opt.step(problem.gradients(t))
    before = snapshot(opt, params)

    kwargs = {"check_finite": True} if via == "check_finite" else {"grad_scale": 1.0}
    result = opt.step(_bad_gradients(problem, 3, bad), **kwargs)

    assert result.found_inf is True
    assert_same_optimizer(snapshot(opt, params), before, f"{case.id} after the skipped step")
    opt.step(problem.gradients(3))
    expected = snapshot(*run_fastopt(case, problem, 3))
    assert_same_optimizer(snapshot(opt, params), expected, f"{case.id} after the next step")


@cases
def test_found_inf_first_step_no_state(case):
    problem = Problem(MIXED_SHAPES, np.float64, seed=13)
    params = problem.initial_params()
    opt = case.make(params)
    result = opt.step(_bad_gradients(problem, 1, math.nan), check_finite=True)
    assert result.found_inf is True
    for k, (p, p0) in enumerate(zip(params, problem.initial_params())):
        assert_bitwise_equal(p, p0, f"params[{k}]")
        assert opt.state.get(id(p), {"step": 0})["step"] == 0, f"step of params[{k}]"


@first_cases
def test_unchecked_inf_not_reported(case):
    problem = Problem(MIXED_SHAPES, np.float64, seed=14)
    params = problem.initial_params()
    opt = case.make(params)
    result = opt.step(_bad_gradients(problem, 1, math.inf))
    assert result.found_inf is False
    assert result.grad_norm is None
    assert opt.state[id(params[3])]["step"] == 1


@dtypes
@first_cases
def test_grad_norm_of_unscaled_gradients(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=15)
    grads = problem.gradients(1)
    expected = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    opt = case.make(problem.initial_params())
    result = opt.step([g * 8 for g in grads], grad_scale=8.0)
    assert result.grad_norm == pytest.approx(expected, rel=1e-12)


# -- max_grad_norm ------------------------------------------------------------


@dtypes
@cases
def test_max_grad_norm_matches_clip_first(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=16)
    clipped = problem.initial_params()
    fused = problem.initial_params()
    opt_clipped = case.make(clipped)
    opt_fused = case.make(fused)
    for t in range(1, STEPS + 1):
        grads = problem.gradients(t)
        norm = fastopt.optim.clip_grad_norm_(grads, 1.0)
        opt_clipped.step(grads)
        result = opt_fused.step(problem.gradients(t), max_grad_norm=1.0)
        assert result.grad_norm == pytest.approx(norm, rel=1e-12)
    for k, (p, q) in enumerate(zip(fused, clipped)):
        np.testing.assert_allclose(p, q, **_close(dtype), err_msg=f"params[{k}]")


@cases
def test_max_grad_norm_above_norm_exact(case):
    problem = Problem(MIXED_SHAPES, np.float32, seed=17)
    expected = snapshot(*run_fastopt(case, problem, STEPS))
    actual = snapshot(*run_fastopt(case, problem, STEPS, max_grad_norm=1e6))
    assert_same_optimizer(actual, expected, case.id)


def test_clip_grad_norm_scales_in_place():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]
    norm = fastopt.optim.clip_grad_norm_(grads, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(grads[0], [3.0 / (5.0 + 1e-6), 0.0], rtol=1e-15)
    np.testing.assert_allclose(grads[1], [[4.0 / (5.0 + 1e-6)]], rtol=1e-15)


def test_clip_grad_norm_nonfinite_raises():
    grads = [np.array([1.0, math.inf])]
    with pytest.raises(RuntimeError, match=r"total gradient norm is inf"):
        fastopt.optim.clip_grad_norm_(grads, 1.0, error_if_nonfinite=True)
    assert grads[0][0] == 1.0


# -- parameter groups and missing gradients -----------------------------------


@cases
def test_param_groups_own_hyperparameters(case):
    problem = Problem(MIXED_SHAPES, np.float64, seed=18)
    lr = case.hyperparameters["lr"]
    first, second = problem.initial_params()[:4], problem.initial_params()[4:]
    opt = case.make([{"params": first}, {"params": second, "lr": lr / 2, "weight_decay": 0.05}])
    alone_first = problem.initial_params()[:4]
    alone_second = problem.initial_params()[4:]
    opt_first = case.make(alone_first)
    opt_second = case.make(alone_second, lr=lr / 2, weight_decay=0.05)

    for t in range(1, STEPS + 1):
        grads = problem.gradients(t)
        opt.step(grads)
        opt_first.step(grads[:4])
        opt_second.step(grads[4:])

    assert opt.param_groups[0]["lr"] == lr
    assert opt.param_groups[1]["lr"] == lr / 2
    assert opt.param_groups[1]["weight_decay"] == 0.05
    for k, (p, q) in enumerate(zip(first + second, alone_first + alone_second)):
        assert_bitwise_equal(p, q, f"params[{k}]")


@cases
def test_none_gradient_skips_parameter(case):
    problem = Problem([(7,), (9,), (5,)], np.float64, seed=19)
    params = problem.initial_params()
    opt = case.make(params)
    others = [params[0].copy(), params[2].copy()]
    opt_others = case.make(others)
    for t in range(1, STEPS + 1):
        grads = problem.gradients(t)
        opt.step([grads[0], None, grads[2]])
        opt_others.step([grads[0], grads[2]])

    assert_bitwise_equal(params[1], problem.initial_params()[1], "params[1]")
    assert id(params[1]) not in opt.state
    assert_bitwise_equal(params[0], others[0], "params[0]")
    assert_bitwise_equal(params[2], others[1], "params[2]")

    opt.step([None, problem.gradients(1)[1], None])
    assert opt.state[id(params[1])]["step"] == 1
    assert opt.state[id(params[0])]["step"] == STEPS


# -- state_dict ---------------------------------------------------------------


@dtypes
@cases
def test_state_dict_round_trip(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=20)
    params = problem.initial_params()
    opt = case.make(params)
    for t in range(1, STEPS + 1):
        opt.step(problem.gradients(t))
    saved = opt.state_dict()
    saved_copy = snapshot(opt, params)

    restored_params = [p.copy() for p in params]
    restored = case.make(restored_params, lr=0.5)
    restored.load_state_dict(saved)
    for t in range(STEPS + 1, 2 * STEPS + 1):
        opt.step(problem.gradients(t))
        restored.step(problem.gradients(t))

    assert_same_optimizer(snapshot(restored, restored_params), snapshot(opt, params), case.id)
    for k, state in saved["state"].items():
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                assert_bitwise_equal(value, saved_copy["state"][k][name], f"saved {name}[{k}]")


@first_cases
def test_state_dict_keyed_by_position(case):
    problem = Problem(MIXED_SHAPES, np.float64, seed=21)
    params = problem.initial_params()
    opt = case.make([{"params": params[:3]}, {"params": params[3:]}])
    opt.step(problem.gradients(1))
    saved = opt.state_dict()
    assert sorted(saved["state"]) == list(range(len(params)))
    assert saved["param_groups"][0]["params"] == [0, 1, 2]
    assert saved["param_groups"][1]["params"] == list(range(3, len(params)))
    assert saved["state"][4]["step"] == 1


# -- functional form and maximize ---------------------------------------------


@first_cases
def test_functional_takes_step(case):
    # A uniform signature lets one training loop drive every functional form.
    parameter = inspect.signature(case.functional).parameters.get("step")
    assert parameter is not None
    assert parameter.kind == inspect.Parameter.KEYWORD_ONLY


@dtypes
@cases
def test_functional_matches_class(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=22)
    opt, params = run_fastopt(case, problem, STEPS)
    f_params = problem.initial_params()
    state_lists = functional_state(case, f_params)
    for t in range(1, STEPS + 1):
        result = call_functional(case, f_params, problem.gradients(t), state_lists, t)
        assert result.found_inf is False

    for k, (p, q) in enumerate(zip(f_params, params)):
        assert_bitwise_equal(p, q, f"params[{k}]")
    for name, values in zip(case.functional_states, state_lists):
        if values is None:
            continue
        for k, (value, p) in enumerate(zip(values, params)):
            expected = opt.state[id(p)][name]
            if isinstance(expected, np.ndarray):
                assert_bitwise_equal(value, expected, f"{name}[{k}]")
            else:
                assert value == expected, f"{name}[{k}]"


@cases
def test_maximize_negates_gradient(case):
    problem = Problem(MIXED_SHAPES, np.float64, seed=23)
    maximize = case.hyperparameters["maximize"]
    expected = snapshot(*run_fastopt(case, problem, STEPS))
    params = problem.initial_params()
    opt = case.make(params, maximize=not maximize)
    for t in range(1, STEPS + 1):
        opt.step([-g for g in problem.gradients(t)])
    actual = snapshot(opt, params)
    actual["groups"] = expected["groups"]
    assert_same_optimizer(actual, expected, case.id)
