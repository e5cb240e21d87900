"""fastopt.torch.LBFGS against torch.optim.LBFGS on logistic regression of scikit-learn's digits."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastopt.torch as ft  # noqa: E402


def _problem(dtype=torch.float64):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = torch.from_numpy(X / 16.0).to(dtype)
    return X, torch.from_numpy(y)


def _model(dtype, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(64, 10).to(dtype)


def _closure(model, opt, X, y, alpha=1e-3):
    """Multinomial logistic loss with an L2 penalty, so the minimizer is unique."""

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss = loss + 0.5 * alpha * model.weight.pow(2).sum()
        loss.backward()
        return loss

    return closure


def _fit(optimizer_class, dtype, calls, **options):
    X, y = _problem(dtype)
    model = _model(dtype)
    opt = optimizer_class(model.parameters(), **options)
    closure = _closure(model, opt, X, y)
    losses = [opt.step(closure).item() for _ in range(calls)]
    return model, opt, losses, closure().item()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_strong_wolfe_reaches_torch_minimum(dtype):
    options = dict(lr=1, max_iter=50, history_size=10, line_search_fn="strong_wolfe",
                   tolerance_grad=1e-9, tolerance_change=1e-12)
    model, opt, losses, final = _fit(ft.LBFGS, dtype, 10, **options)
    ref_model, _, ref_losses, ref_final = _fit(torch.optim.LBFGS, dtype, 10, **options)
    assert losses[0] == ref_losses[0]
    rtol = 1e-9 if dtype == torch.float64 else 1e-5
    assert final == pytest.approx(ref_final, rel=rtol)
    # The minimizer is unique, so both runs end at the same weights.
    atol = 1e-4 if dtype == torch.float64 else 2e-2
    torch.testing.assert_close(model.weight, ref_model.weight, rtol=0, atol=atol)
    state = opt.state[next(model.parameters())]
    assert state["func_evals"] <= 10 * 50 * 5 // 4
    assert state["n_iter"] > 0


def test_fixed_step_matches_torch_iterates():
    # Without a line search both take the same steps: only the summation order
    # of the two-loop recursion differs.
    options = dict(lr=0.5, max_iter=15, history_size=5)
    model, opt, losses, final = _fit(ft.LBFGS, torch.float64, 3, **options)
    ref_model, ref_opt, ref_losses, ref_final = _fit(torch.optim.LBFGS, torch.float64, 3, **options)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    assert final == pytest.approx(ref_final, rel=1e-10)
    torch.testing.assert_close(model.weight, ref_model.weight, rtol=1e-8, atol=1e-10)
    first, ref_first = next(model.parameters()), next(ref_model.parameters())
    assert opt.state[first]["func_evals"] == ref_opt.state[ref_first]["func_evals"]
    assert opt.state[first]["n_iter"] == ref_opt.state[ref_first]["n_iter"]


def test_tolerance_grad_stops_at_start():
    X, y = _problem()
    model = _model(torch.float64)
    opt = ft.LBFGS(model.parameters(), tolerance_grad=1e3)
    before = model.weight.detach().clone()
    loss = opt.step(_closure(model, opt, X, y))
    assert torch.is_tensor(loss)
    assert torch.equal(model.weight.detach(), before)
    assert opt.state[next(model.parameters())]["func_evals"] == 1


@pytest.mark.parametrize("direction", ["torch-to-fastopt", "fastopt-to-torch"])
def test_state_dict_round_trip(direction):
    options = dict(lr=0.5, max_iter=10, history_size=5)
    X, y = _problem()
    classes = (torch.optim.LBFGS, ft.LBFGS)
    if direction == "fastopt-to-torch":
        classes = classes[::-1]
    # Reference: three uninterrupted calls of torch's optimizer.
    _, _, ref_losses, ref_final = _fit(torch.optim.LBFGS, torch.float64, 3, **options)

    model = _model(torch.float64)
    first = classes[0](model.parameters(), **options)
    losses = [first.step(_closure(model, first, X, y)).item()]
    saved = first.state_dict()
    state = saved["state"][0]
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
            "prev_flat_grad", "prev_loss"} <= set(state)
    second = classes[1](model.parameters(), **options)
    second.load_state_dict(saved)
    closure = _closure(model, second, X, y)
    losses += [second.step(closure).item() for _ in range(2)]
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)
    assert closure().item() == pytest.approx(ref_final, rel=1e-9)


def test_rejects_bad_arguments():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="line_search_fn: expected None or 'strong_wolfe', got 'armijo'"):
        ft.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match=r"history_size: expected an integer in \[1, 256\], got 0"):
        ft.LBFGS([p], history_size=0)
    with pytest.raises(ValueError, match="max_iter: expected an integer >= 1, got 0"):
        ft.LBFGS([p], max_iter=0)
    with pytest.raises(ValueError, match="lr: expected a value > 0.0, got 0"):
        ft.LBFGS([p], lr=0)
    with pytest.raises(ValueError, match="LBFGS takes one parameter group"):
        ft.LBFGS([{"params": [p]}, {"params": [torch.nn.Parameter(torch.ones(2))]}])
    with pytest.raises(TypeError, match="expected one dtype for every parameter"):
        ft.LBFGS([p, torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError, match="LBFGS runs on CPU float32 or float64 tensors"):
        ft.LBFGS([torch.nn.Parameter(torch.ones(2, dtype=torch.bfloat16))])
    with pytest.raises(ValueError, match="closure: LBFGS needs a closure"):
        ft.LBFGS([p]).step(None)


def test_rejects_sparse_grad():
    emb = torch.nn.Embedding(5, 2, sparse=True).double()
    opt = ft.LBFGS(emb.parameters())

    def closure():
        opt.zero_grad()
        loss = emb(torch.tensor([0, 3])).pow(2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match=r"params\[0\]\.grad: LBFGS does not support sparse gradients"):
        opt.step(closure)
