"""NAdam and RAdam against torch.optim; Lion and LAMB against NumPy references
written from the papers' update rules; state handling and input checks."""

import math

import numpy as np
import pytest

import fastopt
from fastopt.optim import LAMB, Lion, NAdam, RAdam, functional

DTYPES = [np.float32, np.float64]
# Kept below the size where kernels start using several threads, so the
# reference runs stay fast; test_same_bits_for_any_thread_count covers that path.
SIZES = [1, 17, 4099]
STEPS = 200


def tolerances(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def random_params(rng, dtype, sizes=SIZES):
    return [rng.standard_normal(n).astype(dtype) for n in sizes]


def random_grads(rng, dtype, sizes=SIZES):
    return [rng.standard_normal(n).astype(dtype) for n in sizes]


# -- NAdam and RAdam against torch ------------------------------------------


def run_against_torch(torch, rule, dtype, **kwargs):
    rng = np.random.default_rng(0)
    params = random_params(rng, dtype)
    previous = torch.get_default_dtype()
    # torch keeps NAdam's mu_product in the default dtype; fastopt keeps it in
    # float64, so a float64 comparison needs torch to do the same.
    if dtype == np.float64:
        torch.set_default_dtype(torch.float64)
    try:
        tensors = [torch.tensor(p.copy(), requires_grad=True) for p in params]
        if rule == "nadam":
            reference = torch.optim.NAdam(tensors, foreach=False, **kwargs)
            opt = NAdam(params, **kwargs)
        else:
            reference = torch.optim.RAdam(tensors, foreach=False, **kwargs)
            opt = RAdam(params, **kwargs)
        for _ in range(STEPS):
            grads = random_grads(rng, dtype)
            for t, g in zip(tensors, grads):
                t.grad = torch.from_numpy(g.copy())
            reference.step()
            opt.step(grads)
    finally:
        torch.set_default_dtype(previous)
    return params, tensors, opt, reference


@pytest.mark.parametrize("rule", ["nadam", "radam"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
def test_matches_torch(rule, dtype, decoupled, weight_decay):
    torch = pytest.importorskip("torch")
    params, tensors, opt, reference = run_against_torch(
        torch, rule, dtype, weight_decay=weight_decay, decoupled_weight_decay=decoupled
    )
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.detach().numpy(), **tolerances(dtype))
    for p, t in zip(params, tensors):
        mine, theirs = opt.state[id(p)], reference.state[t]
        assert mine["step"] == STEPS
        np.testing.assert_allclose(mine["exp_avg"], theirs["exp_avg"].numpy(), **tolerances(dtype))
        np.testing.assert_allclose(mine["exp_avg_sq"], theirs["exp_avg_sq"].numpy(), **tolerances(dtype))
        if rule == "nadam":
            assert mine["mu_product"] == pytest.approx(theirs["mu_product"].item(), rel=1e-6)


@pytest.mark.parametrize("rule", ["nadam", "radam"])
def test_maximize_matches_torch(rule):
    torch = pytest.importorskip("torch")
    params, tensors, _, _ = run_against_torch(torch, rule, np.float64, weight_decay=1e-2, maximize=True)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.detach().numpy(), **tolerances(np.float64))


def test_radam_branch_chosen_per_tensor():
    # With beta2 = 0.999, rho_t <= 5 for t <= 5: step 3 is unrectified, step 10 rectified.
    rng = np.random.default_rng(3)
    params = random_params(rng, np.float64, [100, 100])
    original = [p.copy() for p in params]
    grads = random_grads(rng, np.float64, [100, 100])
    exp_avgs, exp_avg_sqs = [np.full(100, 0.1) for _ in range(2)], [np.full(100, 0.2) for _ in range(2)]
    functional.radam(params, grads, exp_avgs, exp_avg_sqs, step=[3, 10])

    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-8
    m = [0.9 * 0.1 + 0.1 * g for g in grads]
    v = [0.999 * 0.2 + 0.001 * g * g for g in grads]
    unrectified = original[0] - lr * m[0] / (1 - beta1**3)
    np.testing.assert_allclose(params[0], unrectified, rtol=1e-14, atol=1e-16)

    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * 10 * beta2**10 / (1 - beta2**10)
    assert rho > 5
    rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    adaptive = math.sqrt(1 - beta2**10) / (np.sqrt(v[1]) + eps)
    rectified = original[1] - lr * m[1] / (1 - beta1**10) * adaptive * rect
    np.testing.assert_allclose(params[1], rectified, rtol=1e-14, atol=1e-16)


# -- NAdam's mu_product -------------------------------------------------------


def nadam_mu(step, beta1=0.9, momentum_decay=4e-3):
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


def test_nadam_mu_product_follows_steps():
    p = np.ones(10)
    opt = NAdam([p])
    for _ in range(3):
        opt.step([np.full(10, 0.5)])
    expected = nadam_mu(1) * nadam_mu(2) * nadam_mu(3)
    assert opt.state[id(p)]["mu_product"] == pytest.approx(expected, rel=1e-15)


def test_nadam_mu_product_unchanged_on_found_inf():
    p = np.ones(10)
    opt = NAdam([p])
    opt.step([np.full(10, 0.5)])
    before = dict(opt.state[id(p)])
    result = opt.step([np.full(10, np.inf)], check_finite=True)
    assert result.found_inf
    assert opt.state[id(p)]["mu_product"] == before["mu_product"]
    assert opt.state[id(p)]["step"] == 1


def test_nadam_mu_product_unchanged_when_validation_fails():
    good, bad = np.ones(10), np.ones(4)
    opt = NAdam([{"params": [good]}, {"params": [bad]}])
    opt.step([np.full(10, 0.5), np.full(4, 0.5)])
    product = opt.state[id(good)]["mu_product"]
    with pytest.raises(ValueError, match=r"grads\[1\]"):
        opt.step([np.full(10, 0.5), np.full(5, 0.5)])
    assert opt.state[id(good)]["mu_product"] == product
    assert opt.state[id(good)]["step"] == 1


def test_nadam_functional_mu_products():
    p, g = np.ones(10), np.full(10, 0.5)
    m, v = np.zeros(10), np.zeros(10)
    products = [1.0]
    result = functional.nadam(p, g, m, v, products, step=1, check_finite=True)
    assert not result.found_inf
    assert products == [pytest.approx(nadam_mu(1), rel=1e-15)]
    skipped = functional.nadam(p, np.full(10, np.nan), m, v, products, step=2, check_finite=True)
    assert skipped.found_inf
    assert products == [pytest.approx(nadam_mu(1), rel=1e-15)]
    with pytest.raises(ValueError, match=r"mu_products\[0\]"):
        functional.nadam(p, g, m, v, [1.5], step=2)
    with pytest.raises(TypeError, match="mu_products"):
        functional.nadam(p, g, m, v, (1.0,), step=2)


def test_nadam_state_dict_round_trip():
    p = np.ones(10)
    opt = NAdam([p])
    opt.step([np.full(10, 0.5)])
    saved = opt.state_dict()
    q = p.copy()
    restored = NAdam([q])
    restored.load_state_dict(saved)
    assert restored.state[id(q)]["mu_product"] == opt.state[id(p)]["mu_product"]
    opt.step([np.full(10, 0.25)])
    restored.step([np.full(10, 0.25)])
    np.testing.assert_array_equal(p, q)


# -- Lion against a NumPy reference -------------------------------------------


def lion_reference(p, g, m, lr, beta1, beta2, weight_decay):
    """Chen et al. (2023), Algorithm 2, in the dtype of p."""
    cast = p.dtype.type
    c = cast(beta1) * m + cast(1 - beta1) * g
    p = p * cast(1 - lr * weight_decay) - cast(lr) * np.sign(c)
    m = cast(beta2) * m + cast(1 - beta2) * g
    return p, m


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
def test_lion_matches_reference(dtype, weight_decay, maximize):
    rng = np.random.default_rng(1)
    params = random_params(rng, dtype)
    expected = [p.copy() for p in params]
    momenta = [np.zeros_like(p) for p in params]
    opt = Lion(params, lr=1e-3, weight_decay=weight_decay, maximize=maximize)
    for _ in range(STEPS):
        grads = random_grads(rng, dtype)
        opt.step(grads)
        for k, g in enumerate(grads):
            expected[k], momenta[k] = lion_reference(
                expected[k], -g if maximize else g, momenta[k], 1e-3, 0.9, 0.99, weight_decay
            )
    for p, e in zip(params, expected):
        # The reference evaluates the same expressions in the same dtype, so a
        # single flipped sign would show as a difference of lr.
        np.testing.assert_allclose(p, e, rtol=0, atol=1e-6 if dtype == np.float32 else 1e-14)


def test_lion_sign_of_zero_is_zero():
    p = np.array([1.0, -2.0, 3.0])
    opt = Lion([p], lr=0.1)
    opt.step([np.array([0.0, 1.0, -1.0])])
    np.testing.assert_array_equal(p, [1.0, -2.1, 3.1])


def test_lion_nan_gradient_reaches_param():
    p = np.array([1.0, 1.0])
    opt = Lion([p], lr=0.1)
    opt.step([np.array([np.nan, np.inf])])
    assert np.isnan(p[0])
    assert p[1] == pytest.approx(0.9)


# -- LAMB against a NumPy reference -------------------------------------------


def lamb_reference(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay, bias_correction):
    """You et al. (2020), Algorithm 2 with phi the identity, in float64."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**step) if bias_correction else m
    v_hat = v / (1 - beta2**step) if bias_correction else v
    u = m_hat / (np.sqrt(v_hat) + eps) + weight_decay * p
    p_norm, u_norm = np.linalg.norm(p), np.linalg.norm(u)
    ratio = p_norm / u_norm if p_norm > 0 and u_norm > 0 else 1.0
    return p - lr * ratio * u, m, v


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("bias_correction", [True, False])
def test_lamb_matches_reference(dtype, weight_decay, bias_correction):
    rng = np.random.default_rng(2)
    params = random_params(rng, dtype)
    expected = [p.astype(np.float64) for p in params]
    first = [np.zeros_like(e) for e in expected]
    second = [np.zeros_like(e) for e in expected]
    opt = LAMB(params, lr=1e-2, weight_decay=weight_decay, bias_correction=bias_correction)
    for step in range(1, STEPS + 1):
        grads = random_grads(rng, dtype)
        opt.step(grads)
        for k, g in enumerate(grads):
            expected[k], first[k], second[k] = lamb_reference(
                expected[k], g.astype(np.float64), first[k], second[k], step,
                1e-2, 0.9, 0.999, 1e-6, weight_decay, bias_correction,
            )
    # float32 drifts from the float64 reference by rounding alone: up to about
    # 5e-6 over 200 steps on N(0, 1) parameters, with arrays of a million elements.
    atol = 2e-5 if dtype == np.float32 else 1e-12
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=0, atol=atol)


def test_lamb_maximize_negates_gradient():
    rng = np.random.default_rng(4)
    a = random_params(rng, np.float64)
    b = [p.copy() for p in a]
    maximizing, minimizing = LAMB(a, weight_decay=0.1, maximize=True), LAMB(b, weight_decay=0.1)
    for _ in range(5):
        grads = random_grads(rng, np.float64)
        maximizing.step(grads)
        minimizing.step([-g for g in grads])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_lamb_zero_param_uses_ratio_one():
    p = np.zeros(4)
    g = np.array([1.0, -2.0, 0.5, 0.0])
    functional.lamb(p, g, np.zeros(4), np.zeros(4), step=1, lr=0.1, eps=1e-6)
    # Step 1 with bias correction: u = g / (|g| + eps), so the step is lr * sign(g).
    np.testing.assert_allclose(p, -0.1 * g / (np.abs(g) + 1e-6), rtol=1e-15)


def test_lamb_zero_update_leaves_param():
    p = np.zeros(4)
    functional.lamb(p, np.zeros(4), np.zeros(4), np.zeros(4), step=1, weight_decay=0.1)
    np.testing.assert_array_equal(p, np.zeros(4))


# -- Every rule: maximize, instruction sets, and input checks ------------------

CLASSES = {
    "nadam": (NAdam, dict(weight_decay=0.1)),
    "radam": (RAdam, dict(weight_decay=0.1, decoupled_weight_decay=True)),
    "lion": (Lion, dict(weight_decay=0.1)),
    "lamb": (LAMB, dict(weight_decay=0.1)),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_for_any_thread_count(name, dtype):
    # LAMB's norms are summed over fixed blocks, so they too must not depend
    # on how the blocks are spread over threads.
    cls, kwargs = CLASSES[name]
    sizes = [100003, 40001, 5, 8192 * 3]

    def run(threads):
        previous = fastopt.get_num_threads()
        fastopt.set_num_threads(threads)
        try:
            rng = np.random.default_rng(5)
            params = random_params(rng, dtype, sizes)
            opt = cls(params, **kwargs)
            for _ in range(3):
                opt.step(random_grads(rng, dtype, sizes))
        finally:
            fastopt.set_num_threads(previous)
        return params

    for x, y in zip(run(1), run(2)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_maximize_equals_negated_gradient(name):
    cls, kwargs = CLASSES[name]
    rng = np.random.default_rng(6)
    a = random_params(rng, np.float32, [33, 7])
    b = [p.copy() for p in a]
    maximizing, minimizing = cls(a, maximize=True, **kwargs), cls(b, **kwargs)
    for _ in range(10):
        grads = random_grads(rng, np.float32, [33, 7])
        maximizing.step(grads)
        minimizing.step([-g for g in grads])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_instruction_sets_agree(name):
    from fastopt import _core

    cls, kwargs = CLASSES[name]
    previous = _core.active_isa()
    results = []
    try:
        for isa in _core.available_isas():
            _core.select_isa(isa)
            rng = np.random.default_rng(7)
            params = random_params(rng, np.float32, [1000, 3])
            opt = cls(params, **kwargs)
            for _ in range(10):
                opt.step(random_grads(rng, np.float32, [1000, 3]))
            results.append(params)
    finally:
        _core.select_isa(previous)
    for other in results[1:]:
        for x, y in zip(results[0], other):
            np.testing.assert_array_equal(x, y)


BAD_HYPERPARAMETERS = [
    ("lr", -1e-3, "lr"),
    ("lr", math.nan, "lr"),
    ("betas", (1.0, 0.9), r"betas\[0\]"),
    ("betas", (0.9, -0.1), r"betas\[1\]"),
    ("betas", (0.9, math.nan), r"betas\[1\]"),
    ("weight_decay", -0.1, "weight_decay"),
    ("weight_decay", math.nan, "weight_decay"),
]


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("key, value, message", BAD_HYPERPARAMETERS)
def test_rejects_bad_hyperparameter(name, key, value, message):
    cls, _ = CLASSES[name]
    with pytest.raises(ValueError, match=message):
        cls([np.ones(3)], **{key: value})


@pytest.mark.parametrize("name", ["nadam", "radam", "lamb"])
@pytest.mark.parametrize("eps", [0.0, -1e-8, math.nan])
def test_rejects_bad_eps(name, eps):
    cls, _ = CLASSES[name]
    with pytest.raises(ValueError, match="eps"):
        cls([np.ones(3)], eps=eps)


@pytest.mark.parametrize("momentum_decay", [-1e-3, math.nan, math.inf])
def test_nadam_rejects_bad_momentum_decay(momentum_decay):
    with pytest.raises(ValueError, match="momentum_decay"):
        NAdam([np.ones(3)], momentum_decay=momentum_decay)


@pytest.mark.parametrize("name", ["decoupled_weight_decay", "maximize"])
def test_radam_rejects_non_bool_flag(name):
    with pytest.raises(TypeError, match=name):
        RAdam([np.ones(3)], **{name: 1})


def test_lamb_rejects_non_bool_bias_correction():
    with pytest.raises(TypeError, match="bias_correction"):
        LAMB([np.ones(3)], bias_correction="yes")


@pytest.mark.parametrize(
    "call",
    [
        lambda p, g, s: functional.nadam(p, g, s[0], s[1], [1.0, 1.0], step=1),
        lambda p, g, s: functional.radam(p, g, s[0], s[1], step=1),
        lambda p, g, s: functional.lion(p, g, s[0]),
        lambda p, g, s: functional.lamb(p, g, s[0], s[1], step=1),
    ],
    ids=["nadam", "radam", "lion", "lamb"],
)
def test_bad_state_array_rejected_before_write(call):
    params = [np.ones(5), np.ones(3)]
    grads = [np.ones(5), np.ones(3)]
    states = [[np.zeros(5), np.zeros(3, dtype=np.float32)], [np.zeros(5), np.zeros(3)]]
    with pytest.raises(TypeError, match=r"exp_avgs\[1\]: expected dtype float64"):
        call(params, grads, states)
    np.testing.assert_array_equal(params[0], np.ones(5))
    np.testing.assert_array_equal(states[0][0], np.zeros(5))
