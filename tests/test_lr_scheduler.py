import math

import numpy as np
import pytest

import fastopt
from fastopt.optim import lr_scheduler as sched


def make_optimizer(lr=0.1, groups=1):
    params = [{"params": [np.zeros(3)], "lr": lr * (i + 1)} for i in range(groups)]
    return fastopt.optim.Adam(params, lr=lr)


def run(scheduler, steps):
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr())
        scheduler.step()
    return rates


def test_step_lr_formula():
    opt = make_optimizer()
    rates = run(sched.StepLR(opt, step_size=3, gamma=0.5), 10)
    assert [r[0] for r in rates] == [0.1 * 0.5 ** (t // 3) for t in range(10)]


def test_cosine_endpoints():
    opt = make_optimizer()
    rates = run(sched.CosineAnnealingLR(opt, T_max=8, eta_min=0.01), 9)
    assert rates[0][0] == pytest.approx(0.1, rel=1e-15)
    assert rates[4][0] == pytest.approx(0.055, rel=1e-12)
    assert rates[8][0] == pytest.approx(0.01, rel=1e-12)


def test_linear_warmup_holds_end():
    opt = make_optimizer()
    rates = run(sched.LinearLR(opt, start_factor=0.25, total_iters=4), 8)
    assert [r[0] for r in rates] == pytest.approx([0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1, 0.1])


def test_scheduler_writes_every_group():
    opt = make_optimizer(groups=2)
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    s.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.1]


def test_sequential_warmup_then_cosine():
    opt = make_optimizer()
    warm = sched.LinearLR(opt, start_factor=0.1, total_iters=2)
    cos = sched.CosineAnnealingLR(opt, T_max=4)
    rates = [r[0] for r in run(sched.SequentialLR(opt, [warm, cos], milestones=[2]), 7)]
    expected = [0.01, 0.055] + [0.05 * (1 + math.cos(math.pi * t / 4)) for t in range(5)]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_state_dict_resumes_schedule():
    opt = make_optimizer()
    s = sched.CosineAnnealingLR(opt, T_max=10)
    run(s, 4)
    saved = s.state_dict()
    other = sched.CosineAnnealingLR(make_optimizer(), T_max=10)
    other.load_state_dict(saved)
    assert run(other, 3) == run(s, 3)


def test_lambda_lr_per_group():
    opt = make_optimizer(groups=2)
    s = sched.LambdaLR(opt, [lambda t: 1.0 / (t + 1), lambda t: 2.0])
    s.step()
    assert s.get_last_lr() == [0.05, 0.4]


def test_invalid_scheduler_arguments():
    opt = make_optimizer()
    with pytest.raises(ValueError, match=r"step_size: expected an integer >= 1, got 0"):
        sched.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match=r"T_max: expected an integer >= 1, got 2.5"):
        sched.CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ValueError, match=r"start_factor: expected a value > 0.0, got 0"):
        sched.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match=r"milestones: expected 1 values for 2 schedulers, got 2"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 1), sched.StepLR(opt, 1)], milestones=[1, 2])
    with pytest.raises(ValueError, match=r"gamma: expected a finite number, got nan"):
        sched.StepLR(opt, step_size=1, gamma=float("nan"))


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", dict(step_size=3, gamma=0.5)),
        ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
        ("LinearLR", dict(start_factor=0.1, total_iters=4)),
    ],
)
def test_schedule_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt = make_optimizer()
    ours = getattr(sched, name)(opt, **kwargs)
    t = torch.zeros(3, requires_grad=True)
    topt = torch.optim.Adam([t], lr=0.1)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(25):
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], rel=1e-12, abs=1e-15)
        topt.step()
        ours.step()
        theirs.step()


def test_sequential_matches_torch():
    torch = pytest.importorskip("torch")
    opt = make_optimizer()
    ours = sched.SequentialLR(
        opt, [sched.LinearLR(opt, 0.01, total_iters=5), sched.CosineAnnealingLR(opt, 20)], [5]
    )
    t = torch.zeros(3, requires_grad=True)
    topt = torch.optim.Adam([t], lr=0.1)
    tl = torch.optim.lr_scheduler
    theirs = tl.SequentialLR(topt, [tl.LinearLR(topt, 0.01, total_iters=5), tl.CosineAnnealingLR(topt, 20)], [5])
    for _ in range(30):
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], rel=1e-12, abs=1e-15)
        topt.step()
        ours.step()
        theirs.step()
