"""fastopt.torch keeps views of parameters and state across steps; each change must reach them.

Every test runs fastopt's optimizer and the torch.optim class of the same
name in lockstep and applies the same change to both mid-training: a
parameter rebound to new memory, a state dict loaded, a gradient dropped, a
group added, a state tensor replaced or written. Then it compares the
parameters.
"""

import copy
import pickle

import pytest

torch = pytest.importorskip("torch")

import fastopt.torch as ft  # noqa: E402

SHAPES = ((5, 3), (7,), (2, 2, 3), (1,))
TOL = dict(rtol=1e-5, atol=1e-6)


def _pair(name, **options):
    """Return (fastopt params, torch params, fastopt optimizer, torch optimizer), same start."""
    gen = torch.Generator().manual_seed(11)
    start = [torch.randn(s, generator=gen) for s in SHAPES]
    ours = [torch.nn.Parameter(t.clone()) for t in start]
    theirs = [torch.nn.Parameter(t.clone()) for t in start]
    return ours, theirs, getattr(ft, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)


def _grads(step, params):
    gen = torch.Generator().manual_seed(100 + step)
    return [torch.randn(p.shape, generator=gen) for p in params]


def _step(step, ours, theirs, opt, ref, skip=()):
    for i, (p, q, g) in enumerate(zip(ours, theirs, _grads(step, ours))):
        p.grad = None if i in skip else g.clone()
        q.grad = None if i in skip else g.clone()
    opt.step()
    ref.step()


def _assert_same(ours, theirs, label):
    for k, (p, q) in enumerate(zip(ours, theirs)):
        torch.testing.assert_close(p.detach(), q.detach(), **TOL, msg=lambda m: f"{label} params[{k}]: {m}")


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
    ("SGD", dict(lr=1e-2, momentum=0.9)),
])
def test_param_data_replaced(name, options):
    ours, theirs, opt, ref = _pair(name, **options)
    for t in range(1, 4):
        _step(t, ours, theirs, opt, ref)
    # New memory of the same shape, then of another shape with fresh state.
    fresh = torch.randn(5, 3, generator=torch.Generator().manual_seed(3))
    ours[0].data, theirs[0].data = fresh.clone(), fresh.clone()
    for t in range(4, 7):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "after p.data = new tensor")

    ours[1].data, theirs[1].data = torch.zeros(4), torch.zeros(4)
    for opt_ in (opt, ref):
        opt_.state[opt_.param_groups[0]["params"][1]].clear()
    for t in range(7, 10):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "after p.data = tensor of a new shape")


def test_param_data_replaced_in_double_precision():
    ours, theirs, opt, ref = _pair("SGD", lr=1e-2)
    _step(1, ours, theirs, opt, ref)
    for p, q in zip(ours, theirs):
        p.data, q.data = p.data.double(), q.data.double()
    for t in range(2, 5):
        gen = [g.double() for g in _grads(t, ours)]
        for p, q, g in zip(ours, theirs, gen):
            p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
    _assert_same(ours, theirs, "after a float64 rebind")
    assert ours[0].dtype == torch.float64


@pytest.mark.parametrize("name", ["Adam", "NAdam", "SGD"])
def test_load_state_dict_mid_training_rewinds(name):
    options = dict(lr=1e-2, momentum=0.9) if name == "SGD" else dict(lr=1e-2)
    ours, theirs, opt, ref = _pair(name, **options)
    for t in range(1, 6):
        _step(t, ours, theirs, opt, ref)
    # state_dict() returns the live tensors, which the next steps change.
    saved_ours, saved_ref = copy.deepcopy(opt.state_dict()), copy.deepcopy(ref.state_dict())
    for t in range(6, 9):
        _step(t, ours, theirs, opt, ref)
    # Load the older state, so the step counts go back from 8 to 5.
    opt.load_state_dict(saved_ours)
    ref.load_state_dict(saved_ref)
    for t in range(9, 13):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "after loading an older state")
    if name != "SGD":
        assert float(opt.state[ours[0]]["step"]) == float(ref.state[theirs[0]]["step"]) == 9


def test_parameter_gains_and_loses_grad():
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2, weight_decay=0.1)
    for t in range(1, 3):
        _step(t, ours, theirs, opt, ref, skip={1, 3})  # 1 and 3 gain a grad later
    for t in range(3, 6):
        _step(t, ours, theirs, opt, ref)
    for t in range(6, 9):
        _step(t, ours, theirs, opt, ref, skip={0, 2})  # 0 and 2 lose theirs
    for t in range(9, 11):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "grads dropped and regained")
    assert [float(opt.state[p]["step"]) for p in ours] == [7.0, 8.0, 7.0, 8.0]


def test_new_param_group_after_steps():
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2)
    for t in range(1, 4):
        _step(t, ours, theirs, opt, ref)
    extra = torch.randn(6, generator=torch.Generator().manual_seed(5))
    p_extra, q_extra = torch.nn.Parameter(extra.clone()), torch.nn.Parameter(extra.clone())
    opt.add_param_group({"params": [p_extra], "lr": 0.05})
    ref.add_param_group({"params": [q_extra], "lr": 0.05})
    ours, theirs = ours + [p_extra], theirs + [q_extra]
    for t in range(4, 8):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "after add_param_group")
    # A parameter moved from one group to another keeps its state.
    opt.param_groups[0]["params"].remove(ours[0])
    ref.param_groups[0]["params"].remove(theirs[0])
    opt.param_groups[1]["params"].append(ours[0])
    ref.param_groups[1]["params"].append(theirs[0])
    for t in range(8, 11):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "after moving a parameter between groups")


def test_state_tensors_replaced_or_written():
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2)
    for t in range(1, 4):
        _step(t, ours, theirs, opt, ref)
    for optimizer, p in ((opt, ours[0]), (ref, theirs[0])):
        state = optimizer.state[p]
        state["exp_avg"] = torch.full_like(state["exp_avg"], 0.5)  # a new tensor
        state["exp_avg_sq"].data = torch.ones_like(state["exp_avg_sq"])  # new memory, same tensor
        state["step"].fill_(10.0)  # written in place
    opt.state[ours[1]]["step"] = torch.tensor(20.0)
    ref.state[theirs[1]]["step"] = torch.tensor(20.0)
    for t in range(4, 7):
        _step(t, ours, theirs, opt, ref)
    _assert_same(ours, theirs, "after state changes")
    assert float(opt.state[ours[0]]["step"]) == 13.0
    assert float(opt.state[ours[1]]["step"]) == 23.0
    assert float(opt.state[ours[2]]["step"]) == 6.0


@pytest.mark.parametrize("set_to_none", [True, False])
def test_grads_kept_between_steps(set_to_none):
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2)
    for t in range(1, 6):
        opt.zero_grad(set_to_none=set_to_none)
        ref.zero_grad(set_to_none=set_to_none)
        for p, q, g in zip(ours, theirs, _grads(t, ours)):
            if p.grad is None:
                p.grad, q.grad = g.clone(), g.clone()
            else:
                p.grad.add_(g)
                q.grad.add_(g)
        opt.step()
        ref.step()
    _assert_same(ours, theirs, f"zero_grad(set_to_none={set_to_none})")


def test_strided_grad_after_steps():
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2)
    for t in range(1, 3):
        _step(t, ours, theirs, opt, ref)
    g = torch.randn(3, 5).t()  # the shape of params[0], not contiguous
    ours[0].grad, theirs[0].grad = g.clone().t().contiguous().t(), g.clone()
    assert not ours[0].grad.is_contiguous()
    opt.step()
    ref.step()
    _assert_same(ours[:1], theirs[:1], "strided grad")


def test_errors_after_steps_write_nothing():
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2)
    for t in range(1, 3):
        _step(t, ours, theirs, opt, ref)
    before = [p.detach().clone() for p in ours]
    steps = [float(opt.state[p]["step"]) for p in ours]
    for i, p in enumerate(ours):
        p.grad = torch.ones(p.shape)
    ours[2].grad_dtype = None  # torch rejects a float64 gradient for a float32 tensor otherwise
    ours[2].grad = torch.ones(ours[2].shape, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['params'\]\[2\]\.grad: expected a gradient "
                                        r"of dtype torch.float32, got torch.float64"):
        opt.step()
    ours[2].grad = torch.ones(2, 2, 3)
    ours[3].data = torch.randn(2, 4).t()[0]  # a strided view
    ours[3].grad = torch.ones(2)
    with pytest.raises(ValueError, match=r"\['params'\]\[3\]: expected a contiguous tensor"):
        opt.step()
    for p, b in zip(ours[:3], before):
        assert torch.equal(p.detach(), b)
    assert [float(opt.state[p]["step"]) for p in ours] == steps


def test_deepcopy_and_pickle_rebuild_views():
    ours, theirs, opt, ref = _pair("Adam", lr=1e-2)
    for t in range(1, 4):
        _step(t, ours, theirs, opt, ref)
    clone = copy.deepcopy(opt)
    clone_params = clone.param_groups[0]["params"]
    restored = pickle.loads(pickle.dumps(opt))
    for t in range(4, 6):
        _step(t, ours, theirs, opt, ref)
        for c in (clone, restored):
            for p, g in zip(c.param_groups[0]["params"], _grads(t, ours)):
                p.grad = g.clone()
            c.step()
    _assert_same(ours, theirs, "original after copies")
    _assert_same(clone_params, theirs, "deep copy")
    _assert_same(restored.param_groups[0]["params"], theirs, "pickled copy")
