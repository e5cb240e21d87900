"""fastopt.torch's optimizers against torch.optim and the NumPy oracle.

Every registry case runs through the torch adapter on the CPU. It is compared
with the torch.optim class of the same name (same gradients, same steps) and
with the float64 NumPy oracle of tests/reference.py, which also covers Lion
and LAMB, the rules torch lacks.
"""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastopt.torch as ft  # noqa: E402
from helpers import MIXED_SHAPES, Problem, run_reference, tolerance  # noqa: E402
from registry import CASES, TORCH_CASES  # noqa: E402

STEPS = 50


def _params(problem, dtype=None):
    return [torch.nn.Parameter(torch.from_numpy(p)) for p in problem.initial_params(dtype)]


def _run(make, problem, steps, dtype=None):
    params = _params(problem, dtype)
    opt = make(params)
    for t in range(1, steps + 1):
        for p, g in zip(params, problem.gradients(t, dtype)):
            p.grad = torch.from_numpy(g)
        opt.step()
    return opt, params


def _adapter(case, **overrides):
    return lambda params: getattr(ft, case.class_name)(params, **{**case.options, **overrides})


def _torch_optim(case, **overrides):
    return lambda params: getattr(torch.optim, case.torch_name)(params, **{**case.options, **overrides})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_adapter_matches_torch_optim(case, dtype):
    problem = Problem(MIXED_SHAPES, dtype, seed=3)
    # torch keeps scalar state (step, NAdam's mu_product) and computes NAdam's
    # momentum schedule in its default dtype, so float64 runs use a float64 default.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    try:
        ours, params = _run(_adapter(case), problem, STEPS)
        theirs, expected = _run(_torch_optim(case), problem, STEPS)
    finally:
        torch.set_default_dtype(previous)
    tol = tolerance(case, dtype)
    for k, (p, q) in enumerate(zip(params, expected)):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **tol,
                                   err_msg=f"{case.id}: params[{k}]")
        mine, torch_state = ours.state[p], theirs.state[q]
        assert set(mine) == set(torch_state), f"{case.id}: state keys of params[{k}]"
        for name, value in torch_state.items():
            assert torch.is_tensor(mine[name]), f"{case.id}: {name}[{k}] is not a tensor"
            np.testing.assert_allclose(mine[name].numpy(), value.numpy(), **tol,
                                       err_msg=f"{case.id}: {name}[{k}]")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_adapter_matches_numpy_oracle(case):
    problem = Problem(MIXED_SHAPES, np.float32, seed=4)
    opt, params = _run(_adapter(case), problem, STEPS)
    ref_params, ref_states = run_reference(case, problem, STEPS)
    tol = tolerance(case, np.float32)
    for k, (p, ref_p, ref_s) in enumerate(zip(params, ref_params, ref_states)):
        np.testing.assert_allclose(p.detach().numpy(), ref_p, **tol, err_msg=f"{case.id}: params[{k}]")
        for name, expected in ref_s.items():
            value = opt.state[p][name]
            value = value.numpy() if torch.is_tensor(value) else value
            np.testing.assert_allclose(value, expected, **tol, err_msg=f"{case.id}: {name}[{k}]")


# -- a small MLP on scikit-learn's digits -------------------------------------


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return torch.from_numpy((X / 16.0).astype(np.float32)), torch.from_numpy(y)


def _mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(64, 48), torch.nn.Tanh(), torch.nn.Linear(48, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 10),
    )


def _train(model, opt, X, y, steps, batch=256, scheduler=None):
    """Train on fixed mini-batches (a cyclic pass over the data); return the losses."""
    losses = []
    loss_fn = torch.nn.CrossEntropyLoss()
    for t in range(steps):
        start = (t * batch) % (len(X) - batch)
        xb, yb = X[start:start + batch], y[start:start + batch]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return np.array(losses)


MLP_CASES = {
    "adam": ("Adam", dict(lr=3e-3)),
    "adam-amsgrad-decay": ("Adam", dict(lr=3e-3, amsgrad=True, weight_decay=1e-3)),
    "adamw": ("AdamW", dict(lr=3e-3, weight_decay=5e-2)),
    "sgd-momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd-nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)),
    "rmsprop": ("RMSprop", dict(lr=1e-3)),
    "rmsprop-centered": ("RMSprop", dict(lr=1e-3, momentum=0.5, centered=True)),
}


@pytest.mark.parametrize("name", list(MLP_CASES))
def test_mlp_digits_loss_trajectory(name):
    class_name, options = MLP_CASES[name]
    X, y = _digits()
    model, reference_model = _mlp(), _mlp()
    ours = _train(model, getattr(ft, class_name)(model.parameters(), **options), X, y, 200)
    theirs = _train(reference_model, getattr(torch.optim, class_name)(
        reference_model.parameters(), **options), X, y, 200)
    assert theirs[-1] < 0.5 * theirs[0], f"{name}: the reference run did not learn"
    # float32 training: each step rounds differently by a few ulps, and the
    # nonlinear model amplifies it slowly over 200 steps.
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5, err_msg=name)
    for (pname, p), q in zip(model.named_parameters(), reference_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-3, atol=1e-4,
                                   err_msg=f"{name}: {pname}")


# -- state dicts --------------------------------------------------------------

STATE_DICT_CASES = [c for c in TORCH_CASES if c.label in ("default", "momentum", "amsgrad", "centered",
                                                          "nesterov", "decoupled")]


def _grads(problem, t):
    return [torch.from_numpy(g) for g in problem.gradients(t)]


def _continue(opt, params, problem, first, last):
    for t in range(first, last + 1):
        for p, g in zip(params, _grads(problem, t)):
            p.grad = g
        opt.step()


@pytest.mark.parametrize("direction", ["torch-to-fastopt", "fastopt-to-torch"])
@pytest.mark.parametrize("case", STATE_DICT_CASES, ids=lambda c: c.id)
def test_state_dict_round_trip(case, direction):
    problem = Problem(MIXED_SHAPES, np.float32, seed=5)
    first, second = (_torch_optim(case), _adapter(case))
    if direction == "fastopt-to-torch":
        first, second = second, first
    # An uninterrupted torch run is the reference.
    reference, expected = _run(_torch_optim(case), problem, 20)

    opt, params = _run(first, problem, 10)
    saved = opt.state_dict()
    resumed = second(params)
    resumed.load_state_dict(saved)
    for p in params:
        assert set(resumed.state[p]) == set(opt.state[p]), f"{case.id}: state keys"
    _continue(resumed, params, problem, 11, 20)
    tol = tolerance(case, np.float32)
    for k, (p, q) in enumerate(zip(params, expected)):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **tol,
                                   err_msg=f"{case.id}: params[{k}]")
    if "step" in reference.state[expected[0]]:
        assert float(resumed.state[params[0]]["step"]) == 20


def test_state_dict_is_torch_format():
    problem = Problem(((3, 2),), np.float32)
    opt, params = _run(lambda ps: ft.Adam(ps, lr=1e-2, amsgrad=True), problem, 3)
    state = opt.state_dict()["state"][0]
    assert sorted(state) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert torch.is_tensor(state["step"])
    assert state["step"].dtype == torch.float32
    assert state["step"].item() == 3.0


def test_nadam_mu_product_is_tensor():
    problem = Problem(((4,),), np.float32)
    opt, params = _run(lambda ps: ft.NAdam(ps), problem, 2)
    ref, _ = _run(lambda ps: torch.optim.NAdam(ps), problem, 2)
    mine = opt.state[params[0]]["mu_product"]
    assert torch.is_tensor(mine)
    assert mine.item() == ref.state[ref.param_groups[0]["params"][0]]["mu_product"].item()


# -- groups, closures, schedulers ----------------------------------------------


def test_param_groups_and_add_param_group():
    torch.manual_seed(1)
    a, b, c = (torch.nn.Parameter(torch.randn(4)) for _ in range(3))
    copies = [torch.nn.Parameter(t.detach().clone()) for t in (a, b, c)]
    ours = ft.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [copies[0]]}, {"params": [copies[1]], "lr": 0.5}],
                             lr=0.1, momentum=0.9)
    ours.add_param_group({"params": [c], "momentum": 0.0})
    theirs.add_param_group({"params": [copies[2]], "momentum": 0.0})
    assert ours.param_groups[2]["lr"] == 0.1
    assert ours.param_groups[2]["momentum"] == 0.0
    for _ in range(3):
        grads = [torch.randn(4) for _ in range(3)]
        for p, q, g in zip((a, b, c), copies, grads):
            p.grad, q.grad = g.clone(), g.clone()
        ours.step()
        theirs.step()
    for p, q in zip((a, b, c), copies):
        torch.testing.assert_close(p, q)
    assert "momentum_buffer" not in ours.state[c]


def test_add_param_group_takes_generator():
    first, second = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    opt = ft.SGD(first.parameters(), lr=0.1)
    opt.add_param_group({"params": second.parameters(), "lr": 0.2})
    assert len(opt.param_groups[1]["params"]) == 2
    assert opt.param_groups[1]["params"][0] is second.weight


def test_zero_grad_sets_none():
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    opt = ft.Adam([p])
    opt.zero_grad()
    assert p.grad is None


def test_parameter_without_grad_is_skipped():
    p, q = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    opt = ft.Adam([p, q], lr=0.1)
    opt.step()
    assert torch.equal(q.detach(), torch.ones(3))
    assert len(opt.state[q]) == 0
    assert float(opt.state[p]["step"]) == 1


def test_closure_returns_loss():
    X, y = _digits()
    model = _mlp()
    opt = ft.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(X[:64]), y[:64])
        loss.backward()
        return loss

    first = opt.step(closure)
    assert torch.is_tensor(first)
    for _ in range(20):
        last = opt.step(closure)
    assert last.item() < first.item()


def test_step_hooks_run():
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    opt = ft.SGD([p], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"]


@pytest.mark.parametrize("scheduler", ["step", "onecycle", "cosine"])
def test_lr_scheduler_matches_torch(scheduler):
    X, y = _digits()

    def make(optimizer_class, model):
        opt = optimizer_class(model.parameters(), lr=1e-2)
        if scheduler == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        elif scheduler == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=60)
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=60, eta_min=1e-4)
        return opt, sched

    model, reference_model = _mlp(), _mlp()
    opt, sched = make(ft.Adam, model)
    ref_opt, ref_sched = make(torch.optim.Adam, reference_model)
    ours = _train(model, opt, X, y, 60, scheduler=sched)
    theirs = _train(reference_model, ref_opt, X, y, 60, scheduler=ref_sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12)
    assert sched.get_last_lr() == pytest.approx(ref_sched.get_last_lr())
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    if scheduler == "onecycle":
        # OneCycleLR also schedules Adam's beta1 through the group's betas.
        assert opt.param_groups[0]["betas"][0] == pytest.approx(ref_opt.param_groups[0]["betas"][0])


def test_lr_scheduler_state_dict_round_trip():
    p = torch.nn.Parameter(torch.ones(2))
    opt = ft.Adam([p], lr=1.0)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        p.grad = torch.ones(2)
        opt.step()
        sched.step()
    other_opt = ft.Adam([torch.nn.Parameter(torch.ones(2))], lr=1.0)
    other = torch.optim.lr_scheduler.ExponentialLR(other_opt, gamma=0.5)
    other.load_state_dict(sched.state_dict())
    other_opt.load_state_dict(opt.state_dict())
    assert other_opt.param_groups[0]["lr"] == 0.125
    assert other.get_last_lr() == [0.125]


# -- mixed precision -------------------------------------------------------------


def _scaled_run(optimizer_class, model, X, y, steps, inf_at=None, init_scale=2.0**10):
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=4)
    opt = optimizer_class(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses, scales = [], []
    for t in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(X[:128]), y[:128])
        scaler.scale(loss).backward()
        if t == inf_at:
            next(model.parameters()).grad[0, 0] = float("inf")
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
        scales.append(scaler.get_scale())
    return opt, np.array(losses), scales


def test_grad_scaler_matches_torch():
    X, y = _digits()
    model, reference_model = _mlp(), _mlp()
    opt, ours, scales = _scaled_run(ft.Adam, model, X, y, 30, inf_at=7)
    ref_opt, theirs, ref_scales = _scaled_run(torch.optim.Adam, reference_model, X, y, 30, inf_at=7)
    assert scales == ref_scales
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    first = next(model.parameters())
    assert float(opt.state[first]["step"]) == 29


def test_grad_scaler_skips_step_with_inf():
    X, y = _digits()
    model = _mlp()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    opt = ft.AdamW(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    for t in range(2):
        opt.zero_grad()
        scaler.scale(loss_fn(model(X[:64]), y[:64])).backward()
        if t == 1:
            before = [p.detach().clone() for p in model.parameters()]
            states = [{k: v.clone() for k, v in opt.state[p].items()} for p in model.parameters()]
            model[0].weight.grad[3, 5] = float("inf")
        scaler.step(opt)
        scaler.update()
    for p, old, old_state in zip(model.parameters(), before, states):
        assert torch.equal(p.detach(), old)
        for name, value in old_state.items():
            assert torch.equal(opt.state[p][name], value), name
    assert float(opt.state[model[0].weight]["step"]) == 1
    assert scaler.get_scale() == 2.0**7
    assert not hasattr(opt, "found_inf")


def test_grad_scaler_after_unscale():
    X, y = _digits()
    model, reference_model = _mlp(), _mlp()
    results = []
    for optimizer_class, net in ((ft.SGD, model), (torch.optim.SGD, reference_model)):
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**6)
        opt = optimizer_class(net.parameters(), lr=0.1, momentum=0.9)
        for _ in range(5):
            opt.zero_grad()
            scaler.scale(torch.nn.functional.cross_entropy(net(X[:64]), y[:64])).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
        results.append([p.detach().clone() for p in net.parameters()])
    for p, q in zip(*results):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_with_master_weights(dtype):
    problem = Problem(((37,), (4, 9)), np.float32, seed=6)
    params = [torch.nn.Parameter(torch.from_numpy(p).to(dtype)) for p in problem.initial_params()]
    # The reference steps float32 copies of the same starting values with the
    # same (16-bit) gradients in torch.optim.AdamW.
    masters = [torch.nn.Parameter(p.detach().float()) for p in params]
    opt = ft.AdamW(params, lr=1e-2, master_weights=True)
    ref = torch.optim.AdamW(masters, lr=1e-2)
    for t in range(1, 31):
        for p, m, g in zip(params, masters, _grads(problem, t)):
            p.grad = g.to(dtype)
            m.grad = p.grad.float()
        opt.step()
        ref.step()
    for p, m in zip(params, masters):
        state = opt.state[p]
        assert state["master_param"].dtype == torch.float32
        assert state["exp_avg"].dtype == torch.float32
        torch.testing.assert_close(state["master_param"], m.detach(), rtol=1e-6, atol=1e-6)
        assert torch.equal(p.detach(), m.detach().to(dtype))


def test_low_precision_without_master_weights():
    problem = Problem(((50,),), np.float32, seed=7)
    p = torch.nn.Parameter(torch.from_numpy(problem.initial_params()[0]).bfloat16())
    m = torch.nn.Parameter(p.detach().float())
    opt = ft.Adam([p], lr=1e-2)
    ref = torch.optim.Adam([m], lr=1e-2)
    for t in range(1, 21):
        p.grad = _grads(problem, t)[0].bfloat16()
        m.grad = p.grad.float()
        opt.step()
        ref.step()
        # Without a master copy the parameter is rounded to bfloat16 every step.
        with torch.no_grad():
            m.copy_(m.bfloat16().float())
    assert "master_param" not in opt.state[p]
    assert opt.state[p]["exp_avg"].dtype == torch.float32
    torch.testing.assert_close(p.detach().float(), m.detach(), rtol=0, atol=0)


def test_master_weights_state_dict_keeps_float32():
    p = torch.nn.Parameter(torch.randn(8).bfloat16())
    opt = ft.Adam([p], lr=1e-3, master_weights=True)
    p.grad = torch.randn(8).bfloat16()
    opt.step()
    master = opt.state[p]["master_param"].clone()
    other = ft.Adam([p], lr=1e-3, master_weights=True)
    other.load_state_dict(opt.state_dict())
    assert other.state[p]["master_param"].dtype == torch.float32
    assert torch.equal(other.state[p]["master_param"], master)
    assert other.state[p]["exp_avg"].dtype == torch.float32


# -- bad input ---------------------------------------------------------------------


def test_rejects_non_contiguous_param():
    base = torch.randn(4, 6)
    p = torch.nn.Parameter(base.t())
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[0\]: expected a contiguous tensor"):
        ft.Adam([p])


def test_rejects_param_made_non_contiguous_later():
    p = torch.nn.Parameter(torch.randn(4, 6))
    opt = ft.Adam([p])
    p.data = torch.randn(6, 4).t()
    p.grad = torch.ones(4, 6)
    before = p.detach().clone()
    with pytest.raises(ValueError, match="expected a contiguous tensor"):
        opt.step()
    assert torch.equal(p.detach(), before)


def test_rejects_integer_param():
    with pytest.raises(TypeError, match=r"expected dtype float32, float64, float16 or bfloat16, got torch.int64"):
        ft.SGD([torch.zeros(3, dtype=torch.int64)])


def test_rejects_sparse_grad():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = ft.Adam(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="do not support sparse gradients"):
        opt.step()


def test_rejects_bad_hyperparameter():
    p = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match=r"lr: expected a value >= 0.0, got -1"):
        ft.Adam([p], lr=-1)
    with pytest.raises(ValueError, match=r"betas\[1\]: expected a value < 1.0, got 1.5"):
        ft.Adam([p], betas=(0.9, 1.5))
    with pytest.raises(TypeError, match="master_weights: expected a bool, got str 'yes'"):
        ft.Adam([p], master_weights="yes")


def test_bad_group_leaves_every_param_unchanged():
    a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt = ft.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = torch.ones(3), torch.ones(3)
    opt.param_groups[1]["lr"] = -0.5  # as a faulty schedule could set it
    with pytest.raises(ValueError, match=r"param_groups\[1\]\.lr: expected a value >= 0.0, got -0.5"):
        opt.step()
    assert torch.equal(a.detach(), torch.ones(3))
    assert torch.equal(b.detach(), torch.ones(3))


def test_add_param_group_rejects_bad_group():
    opt = ft.Adam([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError, match=r"param_groups\[1\]\.eps: expected a value > 0.0, got 0"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], "eps": 0})
    assert len(opt.param_groups) == 1


def test_rejects_nesterov_without_momentum():
    with pytest.raises(ValueError, match="nesterov: Nesterov momentum requires momentum > 0"):
        ft.SGD([torch.nn.Parameter(torch.ones(2))], nesterov=True)


def test_import_fastopt_does_not_import_torch():
    code = "import sys, fastopt, fastopt.optim; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- CUDA ------------------------------------------------------------------------------

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@needs_cuda
def test_cuda_without_backend_raises():
    from fastopt.torch._device import gpu_backend_error

    if gpu_backend_error() is None:
        pytest.skip("fastopt's GPU backend is available, so CUDA tensors are stepped")
    p = torch.nn.Parameter(torch.ones(4, device="cuda"))
    p.grad = torch.ones(4, device="cuda")
    opt = ft.Adam([p])
    with pytest.raises(RuntimeError, match="cannot step a CUDA tensor"):
        opt.step()


@needs_cuda
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_cuda_matches_cpu(case):
    from fastopt.torch._device import gpu_backend_error

    reason = gpu_backend_error()
    if reason is not None:
        pytest.skip(reason)
    problem = Problem(MIXED_SHAPES, np.float32, seed=8)
    cpu_opt, cpu_params = _run(_adapter(case), problem, 10)
    params = [torch.nn.Parameter(torch.from_numpy(p).cuda()) for p in problem.initial_params()]
    opt = getattr(ft, case.class_name)(params, **case.options)
    for t in range(1, 11):
        for p, g in zip(params, problem.gradients(t)):
            p.grad = torch.from_numpy(g).cuda()
        opt.step()
    torch.cuda.synchronize()
    tol = tolerance(case, np.float32)
    for k, (p, q) in enumerate(zip(params, cpu_params)):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(), **tol,
                                   err_msg=f"{case.id}: params[{k}]")
