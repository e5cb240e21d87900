"""SGD, Adagrad, RMSprop, Adadelta and Adamax against torch.optim, plus their argument checks."""

import math

import numpy as np
import pytest

import fastopt.optim as fo
from fastopt.optim import functional as F

SIZES = (1, 17, 1031)
STEPS = 30

# (class name, constructor keywords) shared by fastopt and torch.optim.
TORCH_CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "dampening": 0.3, "weight_decay": 1e-2}),
    ("SGD", {"momentum": 0.8, "nesterov": True, "weight_decay": 1e-2, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr_decay": 1e-2, "weight_decay": 1e-2, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"maximize": True, "eps": 1e-6}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"momentum": 0.9, "weight_decay": 1e-2}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "alpha": 0.9, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"rho": 0.5, "weight_decay": 1e-2, "lr": 0.5}),
    ("Adadelta", {"maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"betas": (0.5, 0.9), "weight_decay": 1e-2}),
    ("Adamax", {"maximize": True, "eps": 1e-4}),
]

# Tolerances for STEPS steps. fastopt's kernels are built without FMA
# contraction, while torch 2.13's AVX2 kernels for add(alpha=...) and addcmul
# use FMA, so results differ by a few ulps per step instead of matching bitwise.
TOLERANCES = {np.float32: {"rtol": 1e-4, "atol": 1e-6}, np.float64: {"rtol": 1e-11, "atol": 1e-14}}


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", TORCH_CASES, ids=_case_id)
def test_rule_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    rng = np.random.default_rng(7)
    ours = [rng.standard_normal(n).astype(dtype) for n in SIZES]
    theirs = [torch.tensor(p) for p in ours]
    opt = getattr(fo, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(STEPS):
        grads = [(rng.standard_normal(n) * 0.1 + 0.01).astype(dtype) for n in SIZES]
        for t, g in zip(theirs, grads):
            t.grad = torch.from_numpy(g)
        ref.step()
        opt.step(grads)

    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p, t.numpy(), **TOLERANCES[dtype])
        ref_state = {k: v for k, v in ref.state[t].items() if k != "step"}
        our_state = opt.state[id(p)]
        assert set(our_state) - {"step"} == set(ref_state)
        assert our_state["step"] == STEPS
        for key, value in ref_state.items():
            assert our_state[key].dtype == p.dtype
            np.testing.assert_allclose(our_state[key], value.numpy(), **TOLERANCES[dtype], err_msg=key)


@pytest.mark.parametrize("case", [("SGD", {"momentum": 0.9, "dampening": 0.5}), ("RMSprop", {"momentum": 0.9})],
                         ids=_case_id)
def test_momentum_switched_on_later_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    rng = np.random.default_rng(3)
    ours = [rng.standard_normal(65)]
    theirs = [torch.tensor(ours[0])]
    opt = getattr(fo, name)(ours)
    ref = getattr(torch.optim, name)(theirs)
    for step in range(6):
        if step == 3:
            opt.param_groups[0].update(kwargs)
            ref.param_groups[0].update(kwargs)
            if name == "RMSprop":
                # torch's RMSprop only creates buffers on a parameter's first step.
                ref.state[theirs[0]]["momentum_buffer"] = torch.zeros_like(theirs[0])
        g = rng.standard_normal(65)
        theirs[0].grad = torch.from_numpy(g)
        ref.step()
        opt.step([g])
    np.testing.assert_allclose(ours[0], theirs[0].numpy(), rtol=1e-12, atol=1e-14)


def test_sgd_without_momentum_keeps_no_buffer():
    p = np.ones(4)
    opt = fo.SGD([p], lr=0.5)
    opt.step([np.full(4, 2.0)])
    assert set(opt.state[id(p)]) == {"step"}
    np.testing.assert_array_equal(p, np.zeros(4))


def test_sgd_first_step_ignores_buffer_contents():
    p = np.zeros(3, dtype=np.float32)
    buf = np.full(3, np.nan, dtype=np.float32)
    g = np.array([1.0, -0.0, 2.0], dtype=np.float32)
    F.sgd([p], [g], [buf], step=1, lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(buf, g)
    assert math.copysign(1.0, buf[1]) == -1.0
    np.testing.assert_allclose(p, -0.1 * g)


def test_sgd_later_step_applies_dampening():
    p = np.zeros(2)
    buf = np.array([1.0, 2.0])
    g = np.array([4.0, 8.0])
    F.sgd([p], [g], [buf], step=2, lr=1.0, momentum=0.5, dampening=0.25)
    np.testing.assert_allclose(buf, 0.5 * np.array([1.0, 2.0]) + 0.75 * g)
    np.testing.assert_allclose(p, -buf)


def test_sgd_functional_requires_step_with_momentum():
    p, g, buf = np.zeros(2), np.ones(2), np.zeros(2)
    with pytest.raises(ValueError, match="step"):
        F.sgd([p], [g], [buf], momentum=0.9)
    with pytest.raises(ValueError, match="momentum_buffers"):
        F.sgd([p], [g], None, step=1, momentum=0.9)
    np.testing.assert_array_equal(p, np.zeros(2))


def test_adagrad_initial_accumulator_value():
    p = np.ones(3, dtype=np.float32)
    opt = fo.Adagrad([p], lr=1.0, initial_accumulator_value=3.0, eps=1e-10)
    opt.step([np.ones(3, dtype=np.float32)])
    np.testing.assert_array_equal(opt.state[id(p)]["sum"], np.full(3, 4.0, dtype=np.float32))
    np.testing.assert_allclose(p, np.full(3, 0.5), rtol=1e-6)


def test_adagrad_lr_decay_uses_step():
    p, s = np.zeros(1), np.zeros(1)
    F.adagrad([p], [np.ones(1)], [s], step=5, lr=1.0, lr_decay=0.25, eps=1e-10)
    # clr = 1 / (1 + 4 * 0.25) = 0.5 and the accumulated sum is 1.
    np.testing.assert_allclose(p, [-0.5], rtol=1e-9)


def test_adamax_exp_inf_propagates_nan():
    p = np.zeros(3)
    m = np.zeros(3)
    u = np.array([np.nan, 1.0, 1.0])
    g = np.array([1.0, np.nan, 0.5])
    F.adamax([p], [g], [m], [u], step=1, betas=(0.9, 0.5), eps=1e-8)
    assert np.isnan(u[0])
    assert np.isnan(u[1])
    assert u[2] == max(0.5 * 1.0, 0.5 + 1e-8)


def test_rmsprop_centered_subtracts_mean_square():
    p, v, a = np.zeros(1), np.zeros(1), np.zeros(1)
    F.rmsprop([p], [np.array([2.0])], [v], None, [a], lr=1.0, alpha=0.5, eps=1e-8, centered=True)
    np.testing.assert_allclose(v, [2.0])
    np.testing.assert_allclose(a, [1.0])
    np.testing.assert_allclose(p, [-2.0 / (1.0 + 1e-8)])


def test_rmsprop_requires_enabled_buffers():
    p, g, v = np.zeros(2), np.ones(2), np.zeros(2)
    with pytest.raises(ValueError, match="grad_avgs"):
        F.rmsprop([p], [g], [v], centered=True)
    with pytest.raises(ValueError, match="momentum_buffers"):
        F.rmsprop([p], [g], [v], momentum=0.9)
    np.testing.assert_array_equal(p, np.zeros(2))


def test_adadelta_first_step():
    p, v, u = np.zeros(1), np.zeros(1), np.zeros(1)
    F.adadelta([p], [np.array([1.0])], [v], [u], lr=1.0, rho=0.5, eps=1e-6)
    delta = math.sqrt(1e-6) / math.sqrt(0.5 + 1e-6)
    np.testing.assert_allclose(v, [0.5])
    np.testing.assert_allclose(u, [0.5 * delta * delta])
    np.testing.assert_allclose(p, [-delta])


@pytest.mark.parametrize(
    "name, kwargs, pattern",
    [
        ("SGD", {"lr": -1.0}, "lr"),
        ("SGD", {"lr": math.nan}, "lr"),
        ("SGD", {"momentum": -0.1}, "momentum"),
        ("SGD", {"dampening": 1.5}, "dampening"),
        ("SGD", {"nesterov": True}, "nesterov"),
        ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
        ("Adagrad", {"lr_decay": -1.0}, "lr_decay"),
        ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        ("Adagrad", {"eps": 0.0}, "eps"),
        ("RMSprop", {"alpha": 1.5}, "alpha"),
        ("RMSprop", {"momentum": math.inf}, "momentum"),
        ("RMSprop", {"weight_decay": -1e-3}, "weight_decay"),
        ("Adadelta", {"rho": -0.1}, "rho"),
        ("Adadelta", {"rho": math.nan}, "rho"),
        ("Adamax", {"betas": (0.9, 1.0)}, r"betas\[1\]"),
        ("Adamax", {"eps": -1e-8}, "eps"),
    ],
)
def test_invalid_hyperparameter_rejected(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(fo, name)([np.zeros(2)], **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adamax"])
def test_bad_gradient_leaves_arrays_unchanged(name):
    p = np.ones(4, dtype=np.float32)
    opt = getattr(fo, name)([p])
    with pytest.raises(TypeError, match="grads"):
        opt.step([np.ones(4, dtype=np.float64)])
    np.testing.assert_array_equal(p, np.ones(4, dtype=np.float32))
    assert opt.state == {}


def test_functional_rejects_step_zero():
    p, g, m, u = (np.zeros(2) for _ in range(4))
    with pytest.raises(ValueError, match="step"):
        F.adamax([p], [g], [m], [u], step=0)
