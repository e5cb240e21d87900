"""Regression tests for reported defects, and end-to-end checks of behaviours
that users rely on across modules (torch parity with groups, resuming from a
state dict, minimize against SciPy, the loader against scikit-learn).
"""

import math
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastopt
from fastopt.minimize import minimize
from fastopt.optim import functional

O = fastopt.optim


def run_fastopt(*args, cwd=None):
    """Run ``python -m fastopt`` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "fastopt", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


# -- defects ----------------------------------------------------------------


def test_step_error_index_after_none():
    # The bad gradient is grads[1]. The kernel receives only the gradients
    # that are not None, so its message used to count from the first of those.
    a, b = np.zeros(4), np.zeros(3)
    opt = O.Adam([a, b], lr=0.1)
    with pytest.raises(ValueError) as info:
        opt.step([None, np.ones(4)])
    assert "grads[1]" in str(info.value)
    assert not np.any(a)
    assert not np.any(b)


def test_step_error_index_second_group():
    a, b = np.zeros(4), np.zeros(3)
    opt = O.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(TypeError) as info:
        opt.step([np.ones(4), np.ones(3, dtype=np.float32)])
    assert "grads[1]" in str(info.value)
    assert not np.any(a)
    assert not np.any(b)


def test_clip_error_index():
    # grad_stats checks each gradient in a list of one, so every error
    # named grads[0] whatever the position of the bad array.
    grads = [np.ones(3), np.ones(6)[::2]]
    with pytest.raises(ValueError) as info:
        O.clip_grad_norm_(grads, 1.0)
    assert "grads[1]" in str(info.value)


def test_cross_group_shared_memory_rejected():
    # Overlapping views in two groups were updated twice where they overlap.
    # The optimizer now rejects them when it is built, as torch rejects a
    # parameter listed twice.
    buffer = np.zeros(10)
    groups = [{"params": [buffer[:6]]}, {"params": [buffer[4:]]}]
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['params'\]\[0\] and .* share memory"):
        O.SGD(groups, lr=0.1)
    assert not np.any(buffer)


@pytest.mark.parametrize("step", [-5, 2.5, "3"])
def test_load_state_dict_bad_step(step):
    # load_state_dict promises to validate everything before it changes the
    # optimizer. A bad step count used to load, and every later step()
    # raised an error about "steps" that did not name the state dict.
    p = np.ones(3)
    opt = O.Adam([p], lr=0.1)
    opt.step([np.ones(3)])
    saved = opt.state_dict()
    saved["state"][0]["step"] = step
    target = O.Adam([p.copy()], lr=0.1)
    with pytest.raises((TypeError, ValueError), match=r"state_dict\['state'\]\[0\]\['step'\]"):
        target.load_state_dict(saved)
    assert target.state == {}


def test_changed_lr_bool_rejected():
    # The constructor rejects lr=True. After a step with lr=1.0 the cached
    # validation compared {lr: 1.0} == {lr: True}, which is True in Python,
    # so the bool was used as a learning rate.
    p = np.zeros(3)
    opt = O.SGD([p], lr=1.0)
    opt.step([np.ones(3)])
    opt.param_groups[0]["lr"] = True
    with pytest.raises(TypeError, match="lr"):
        opt.step([np.ones(3)])
    np.testing.assert_array_equal(p, np.full(3, -1.0))


def test_clip_inf_norm_like_torch():
    # torch.nn.utils.clip_grad_norm_ (2.13) returns inf for a gradient
    # holding inf and no NaN, and multiplies by 1 / inf = 0, so the finite
    # entries become 0. fastopt returned nan and set every entry to nan.
    grad = np.array([np.inf, 1.0])
    norm = O.clip_grad_norm_([grad], 1.0)
    assert norm == math.inf
    assert grad[1] == 0.0


def test_functional_float_step_message():
    p, g = np.zeros(3), np.ones(3)
    with pytest.raises(TypeError, match="step"):
        functional.adam([p], [g], [np.zeros(3)], [np.zeros(3)], step=1.5)
    assert not np.any(p)


def test_step_scalar_grads_message():
    opt = O.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="grads"):
        opt.step(3.0)


def test_minimize_complex_f_rejected():
    # The docstring promises ValueError when fun returns the wrong type, and
    # a complex gradient is rejected. A complex f only warned (ComplexWarning)
    # and its imaginary part was dropped.
    def fun(x):
        return x @ x + 1j, 2 * x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="fun"):
            minimize(fun, np.ones(3), jac=True)


def test_train_huge_index_error(tmp_path):
    # An index of 10**15 makes the weight vector 8 PB, more than the 128 TiB
    # of x86-64 user address space, so allocation fails at once. The command printed a MemoryError
    # traceback instead of an error line.
    path = tmp_path / "huge.svm"
    path.write_text("1 1:1\n-1 1000000000000000:1\n")
    result = run_fastopt("train", "--data", str(path), "-q", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "fastopt train: error:" in result.stderr


def test_train_directory_data_message(tmp_path):
    # A directory exists, so "file not found" is false and sends the user
    # looking for a typo in the path.
    result = run_fastopt("train", "--data", str(tmp_path), "-q", cwd=tmp_path)
    assert result.returncode == 1
    assert "file not found" not in result.stderr
    assert "is a directory" in result.stderr


# -- behaviours checked and found correct ---------------------------------------


def test_torch_parity_groups_none_grads():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(37), rng.standard_normal((5, 3))]
    ours = [a.copy() for a in init]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    group_options = {"lr": 0.005, "weight_decay": 0.05}
    opt = O.Adam([{"params": [ours[0]]}, {"params": [ours[1]], **group_options}],
                 lr=0.01, amsgrad=True, maximize=True)
    ref = torch.optim.Adam([{"params": [theirs[0]]}, {"params": [theirs[1]], **group_options}],
                           lr=0.01, amsgrad=True, maximize=True)
    for t in range(200):
        grads = []
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if i == 1 and t % 7 == 3:
                grads.append(None)
                b.grad = None
                continue
            g = 0.3 * a + rng.standard_normal(a.shape)
            grads.append(g)
            b.grad = torch.tensor(g.copy())
        opt.step(grads)
        ref.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=0, atol=1e-12)


def test_scale_clip_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(33), rng.standard_normal(7)]
    ours = [a.copy() for a in init]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    opt = O.AdamW(ours, lr=0.01)
    ref = torch.optim.AdamW(theirs, lr=0.01)
    for _ in range(100):
        grads = [rng.standard_normal(a.shape) * 3 * 1024 for a in ours]
        result = opt.step(grads, grad_scale=1024.0, max_grad_norm=1.0)
        for b, g in zip(theirs, grads):
            b.grad = torch.tensor(g) / 1024.0
        torch_norm = float(torch.nn.utils.clip_grad_norm_(theirs, 1.0))
        ref.step()
        assert result.grad_norm == pytest.approx(torch_norm, rel=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("cls", [O.Adam, O.SGD, O.RMSprop, O.NAdam, O.LAMB, O.Lion])
def test_state_dict_resume_exact(cls):
    options = {"SGD": {"lr": 0.05, "momentum": 0.9}, "RMSprop": {"centered": True, "momentum": 0.3}}
    kwargs = options.get(cls.__name__, {})
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(7) for _ in range(40)]
    p = np.ones(7)
    opt = cls([p], **kwargs)
    for g in grads[:20]:
        opt.step([g + p])
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    q = p.copy()
    resumed = cls([q], **kwargs)
    resumed.load_state_dict(saved)
    for g in grads[20:]:
        opt.step([g + p])
        resumed.step([g + q])
    np.testing.assert_array_equal(p, q)


def test_nan_lr_rejected_unchanged():
    p = np.zeros(3)
    opt = O.Adam([p], lr=0.1)
    opt.step([np.ones(3)])
    before = p.copy()
    exp_avg = opt.state[id(p)]["exp_avg"].copy()
    opt.param_groups[0]["lr"] = float("nan")
    with pytest.raises(ValueError, match="lr: expected a finite number, got nan"):
        opt.step([np.ones(3)])
    np.testing.assert_array_equal(p, before)
    np.testing.assert_array_equal(opt.state[id(p)]["exp_avg"], exp_avg)
    assert opt.state[id(p)]["step"] == 1


def test_sequential_lr_matches_torch():
    torch = pytest.importorskip("torch")
    schedulers = O.lr_scheduler
    ours = O.SGD([{"params": [np.zeros(2)], "lr": 0.1}, {"params": [np.zeros(2)], "lr": 0.03}])
    theirs = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": 0.1},
                              {"params": [torch.zeros(2, requires_grad=True)], "lr": 0.03}])
    ours_schedule = schedulers.SequentialLR(
        ours, [schedulers.LinearLR(ours, 0.1, total_iters=5), schedulers.StepLR(ours, 3, 0.5),
               schedulers.CosineAnnealingLR(ours, 7)], [5, 12])
    tl = torch.optim.lr_scheduler
    theirs_schedule = tl.SequentialLR(
        theirs, [tl.LinearLR(theirs, 0.1, total_iters=5), tl.StepLR(theirs, 3, 0.5),
                 tl.CosineAnnealingLR(theirs, 7)], [5, 12])
    for _ in range(30):
        for ours_group, theirs_group in zip(ours.param_groups, theirs.param_groups):
            assert ours_group["lr"] == pytest.approx(theirs_group["lr"], rel=1e-12, abs=1e-15)
        theirs.step()
        ours_schedule.step()
        theirs_schedule.step()


def test_owlqn_matches_lasso():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20))
    y = X[:, :3] @ np.array([1.0, -2.0, 3.0]) + 0.1 * rng.standard_normal(50)
    strength = 5.0

    def fun(w):
        r = X @ w - y
        return 0.5 * r @ r, X.T @ r

    result = minimize(fun, np.zeros(20), jac=True, method="owlqn",
                      options={"l1": strength, "ftol": 1e-14, "gtol": 1e-10})
    # sklearn's Lasso minimizes ||Xw - y||^2 / (2 n) + alpha ||w||_1.
    lasso = linear_model.Lasso(alpha=strength / 50, fit_intercept=False, tol=1e-12, max_iter=100000)
    w = lasso.fit(X, y).coef_
    expected = fun(w)[0] + strength * np.abs(w).sum()
    assert result.fun == pytest.approx(expected, rel=1e-9)
    np.testing.assert_array_equal(result.x == 0.0, w == 0.0)


def test_maxfun_hard_limit():
    from scipy.optimize import rosen, rosen_der

    calls = []

    def fun(x):
        calls.append(1)
        return rosen(x), rosen_der(x)

    for maxfun in (1, 2, 5, 17):
        calls.clear()
        result = minimize(fun, np.array([-1.2, 1.0] * 5), jac=True, options={"maxfun": maxfun})
        assert len(calls) == maxfun
        assert result.nfev == maxfun
        assert result.fun == rosen(result.x)


def test_bounded_rosen_matches_scipy():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    x0 = np.array([-1.2, 1.0] * 5)
    bounds = [(-2.0, 0.5)] * 10

    def fun(x):
        return scipy_optimize.rosen(x), scipy_optimize.rosen_der(x)

    ours = minimize(fun, x0, jac=True, bounds=bounds)
    theirs = scipy_optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds)
    assert ours.success
    assert ours.fun == pytest.approx(theirs.fun, rel=1e-7)
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-4)


def test_loader_edge_files_match_sklearn(tmp_path):
    datasets = pytest.importorskip("sklearn.datasets")
    texts = {
        "qid.svm": "1 qid:3 1:1 # comment\n-1 qid:4 3:1\n# line comment\n",
        "blank.svm": "1 1:1\n\n-1 3:1 \n   \n",
        "crlf.svm": "1 1:1\r\n-1 3:1\r\n",
        "no_newline.svm": "1 1:1\n-1 3:1",
        "zero_based.svm": "1 0:1 2:1\n-1 3:1\n",
        "empty_row.svm": "1 1:1\n-1\n",
    }
    for name, text in texts.items():
        path = tmp_path / name
        path.write_bytes(text.encode())
        X, y = fastopt.datasets.load_svmlight(str(path))
        X_ref, y_ref = datasets.load_svmlight_file(str(path))
        assert X.shape == X_ref.shape, name
        np.testing.assert_array_equal(X.toarray(), X_ref.toarray(), err_msg=name)
        np.testing.assert_array_equal(y, y_ref, err_msg=name)
