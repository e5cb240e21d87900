"""Invalid input to every rule: each error names the argument, the index and
the value, and is raised before any array is written."""

import math
import re

import numpy as np
import pytest

import reference
from helpers import assert_bitwise_equal, call_functional, functional_state
from registry import CASES, CLASS_ONLY_OPTIONS, FIRST_CASES, RULES

first_cases = pytest.mark.parametrize("case", FIRST_CASES, ids=lambda c: c.id)


def _has_state_arrays(case):
    state = reference.RULES[case.rule].init(np.zeros(1), case.hyperparameters)
    return any(isinstance(v, np.ndarray) for v in state.values())


#: The first case of each rule that keeps state arrays (SGD needs momentum for that).
STATEFUL_CASES = [
    c
    for i, c in enumerate(CASES)
    if _has_state_arrays(c)
    and not any(d.rule == c.rule and _has_state_arrays(d) for d in CASES[:i])
]
stateful_cases = pytest.mark.parametrize("case", STATEFUL_CASES, ids=lambda c: c.id)


def _problem(dtype=np.float64):
    rng = np.random.default_rng(30)
    params = [rng.standard_normal(7).astype(dtype), rng.standard_normal(8).astype(dtype)]
    grads = [rng.standard_normal(7).astype(dtype), rng.standard_normal(8).astype(dtype)]
    return params, grads


def _copies(opt, params):
    return [p.copy() for p in params] + [
        v.copy()
        for p in params
        for v in opt.state.get(id(p), {}).values()
        if isinstance(v, np.ndarray)
    ]


def _assert_unchanged(opt, params, before):
    after = _copies(opt, params)
    assert len(after) == len(before), "number of arrays"
    for k, (a, b) in enumerate(zip(after, before)):
        assert_bitwise_equal(a, b, f"array {k} (params, then state arrays)")


def _stepped(case):
    """Return (optimizer, params, grads) after one valid step, so that state exists."""
    params, grads = _problem()
    opt = case.make(params)
    opt.step(grads)
    return opt, params, grads


# -- dtypes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [np.int64, np.int32, np.float16, np.complex128], ids=lambda d: np.dtype(d).name
)
@first_cases
def test_param_dtype_rejected(case, dtype):
    p = np.zeros(4, dtype=dtype)
    name = np.dtype(dtype).name
    with pytest.raises(
        TypeError, match=rf"params\W*\[0\]: expected dtype float32 or float64, got {name}"
    ):
        case.make([p])


@pytest.mark.parametrize("dtype", [np.int64, np.float16], ids=lambda d: np.dtype(d).name)
@first_cases
def test_functional_dtype_rejected(case, dtype):
    params = [np.zeros(4, dtype=dtype)]
    grads = [np.ones(4, dtype=dtype)]
    states = functional_state(case, params)
    name = np.dtype(dtype).name
    with pytest.raises(
        TypeError, match=rf"params\[0\]: expected dtype float32 or float64, got {name}"
    ):
        call_functional(case, params, grads, states, 1)
    assert_bitwise_equal(params[0], np.zeros(4, dtype=dtype), "params[0]")


@pytest.mark.parametrize(
    "param_dtype, grad_dtype",
    [
        (np.float64, np.float32),
        (np.float32, np.float64),
        (np.float64, np.int64),
        (np.float32, np.float16),
    ],
    ids=["f64-f32", "f32-f64", "f64-i64", "f32-f16"],
)
@first_cases
def test_grad_dtype_mismatch(case, param_dtype, grad_dtype):
    params, grads = _problem(param_dtype)
    opt = case.make(params)
    before = _copies(opt, params)
    grads[1] = grads[1].astype(grad_dtype)
    expected, got = np.dtype(param_dtype).name, np.dtype(grad_dtype).name
    with pytest.raises(TypeError, match=rf"grads\[1\]: expected dtype {expected}.*got {got}"):
        opt.step(grads)
    _assert_unchanged(opt, params, before)


# -- shapes and list lengths --------------------------------------------------


@pytest.mark.parametrize("shape", [(9,), (2, 4), (8, 1)], ids=str)
@first_cases
def test_grad_shape_mismatch(case, shape):
    params, grads = _problem()
    opt = case.make(params)
    before = _copies(opt, params)
    grads[1] = np.ones(shape)
    got = re.escape(str(shape))
    with pytest.raises(
        ValueError, match=rf"grads\[1\]: expected shape \(8,\) to match params\[1\], got {got}"
    ):
        opt.step(grads)
    _assert_unchanged(opt, params, before)


@pytest.mark.parametrize("count", [1, 3])
@first_cases
def test_grad_count_mismatch(case, count):
    params, grads = _problem()
    opt = case.make(params)
    before = _copies(opt, params)
    with pytest.raises(
        ValueError, match=rf"grads: expected 2 gradients to match params, got {count}"
    ):
        opt.step((grads * 2)[:count])
    _assert_unchanged(opt, params, before)


@first_cases
def test_functional_grads_length_mismatch(case):
    params, grads = _problem()
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match=r"grads: expected 2 arrays to match params, got 1"):
        call_functional(case, params, grads[:1], functional_state(case, params), 1)
    for k, (p, q) in enumerate(zip(params, before)):
        assert_bitwise_equal(p, q, f"params[{k}]")


@stateful_cases
def test_functional_state_length_mismatch(case):
    params, grads = _problem()
    before = [p.copy() for p in params]
    states = functional_state(case, params)
    index = next(i for i, s in enumerate(states) if s is not None and isinstance(s[0], np.ndarray))
    name = case.functional_states[index]
    states[index] = states[index][:1]
    with pytest.raises(
        ValueError, match=rf"\w*{name}\w*: expected 2 arrays to match params, got 1"
    ):
        call_functional(case, params, grads, states, 1)
    for k, (p, q) in enumerate(zip(params, before)):
        assert_bitwise_equal(p, q, f"params[{k}]")


# -- memory layout and writeability -------------------------------------------


@first_cases
def test_noncontiguous_grad_rejected(case):
    params, grads = _problem()
    opt = case.make(params)
    before = _copies(opt, params)
    grads[1] = np.ones(16)[::2]
    with pytest.raises(
        ValueError, match=r"grads\[1\]: expected a C-contiguous array, got strides \(16,\)"
    ):
        opt.step(grads)
    _assert_unchanged(opt, params, before)


@pytest.mark.parametrize("layout", ["strided", "fortran"])
@first_cases
def test_noncontiguous_param_rejected(case, layout):
    params, grads = _problem()
    if layout == "strided":
        params[1] = np.ones(16)[::2]
    else:
        params[1] = np.asfortranarray(np.ones((2, 4)))
        grads[1] = np.ones((2, 4))
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match=r"params\W*\[1\]: expected a C-contiguous array"):
        opt = case.make(params)
        opt.step(grads)
    for k, (p, q) in enumerate(zip(params, before)):
        assert_bitwise_equal(p, q, f"params[{k}]")


@first_cases
def test_readonly_param_rejected(case):
    params, grads = _problem()
    params[1].flags.writeable = False
    before = [p.copy() for p in params]
    with pytest.raises(
        ValueError, match=r"params\W*\[1\]: expected a writeable array, got a read-only one"
    ):
        opt = case.make(params)
        opt.step(grads)
    for k, (p, q) in enumerate(zip(params, before)):
        assert_bitwise_equal(p, q, f"params[{k}]")


@stateful_cases
def test_readonly_state_rejected(case):
    opt, params, grads = _stepped(case)
    state = opt.state[id(params[1])]
    names = [name for name, value in state.items() if isinstance(value, np.ndarray)]
    assert names, "no state arrays"
    for name in names:
        before = _copies(opt, params)
        state[name].flags.writeable = False
        with pytest.raises(ValueError, match=rf"\w*{name}\w*\[1\]: expected a writeable array"):
            opt.step(grads)
        _assert_unchanged(opt, params, before)
        state[name].flags.writeable = True


# -- aliasing -----------------------------------------------------------------

_SHARE_0 = r"(params\[0\] and grads\[0\]|grads\[0\] and params\[0\]) share memory"


@pytest.mark.parametrize("alias", ["same", "view", "overlap"])
@first_cases
def test_grad_aliasing_param_rejected(case, alias):
    buffer = np.linspace(-1.0, 1.0, 15)
    param = buffer[:8]
    grad = {"same": param, "view": param[:], "overlap": buffer[7:15]}[alias]
    opt = case.make([param])
    before = buffer.copy()
    with pytest.raises(ValueError, match=_SHARE_0):
        opt.step([grad])
    assert_bitwise_equal(buffer, before, "the shared buffer")


@stateful_cases
def test_state_aliasing_param_rejected(case):
    opt, params, grads = _stepped(case)
    state = opt.state[id(params[1])]
    names = [name for name, value in state.items() if isinstance(value, np.ndarray)]
    for name in names:
        saved = state[name]
        state[name] = params[1][:]
        before = _copies(opt, params)
        role = rf"\w*{name}\w*\[1\]"
        with pytest.raises(
            ValueError, match=rf"(params\[1\] and {role}|{role} and params\[1\]) share memory"
        ):
            opt.step(grads)
        _assert_unchanged(opt, params, before)
        state[name] = saved


@first_cases
def test_same_param_twice_rejected(case):
    p = np.zeros(4)
    with pytest.raises(
        ValueError, match=r"param_groups\[0\]\['params'\]\[1\]: this array already appears"
    ):
        case.make([p, p])


@first_cases
def test_same_param_two_groups_rejected(case):
    p = np.zeros(4)
    with pytest.raises(
        ValueError, match=r"param_groups\[1\]\['params'\]\[0\]: this array already appears"
    ):
        case.make([{"params": [p]}, {"params": [p]}])


@first_cases
def test_params_sharing_memory_rejected(case):
    # Rejected when the optimizer is built, before any step can write.
    buffer = np.linspace(-1.0, 1.0, 12)
    params = [buffer[:8], buffer[4:12]]
    before = buffer.copy()
    with pytest.raises(ValueError, match=r"\['params'\]\[[01]\] and .*\['params'\]\[[01]\] share memory"):
        case.make(params)
    assert_bitwise_equal(buffer, before, "the shared buffer")


@first_cases
def test_shared_gradient_accepted(case):
    params, _ = _problem()
    params = [params[1], params[1] + 1.0]
    grad = np.linspace(-1.0, 1.0, 8)
    separate = [p.copy() for p in params]
    case.make(params).step([grad, grad])
    case.make(separate).step([grad.copy(), grad.copy()])
    for k, (p, q) in enumerate(zip(params, separate)):
        assert_bitwise_equal(p, q, f"params[{k}]")


# -- hyperparameters ----------------------------------------------------------

_BETAS = ["adam", "adamw", "adamax", "nadam", "radam", "lion", "lamb"]
_EPS = ["adam", "adamw", "adagrad", "rmsprop", "adadelta", "adamax", "nadam", "radam", "lamb"]


def _bad_hyperparameters():
    """Yield (rule, bad options, name in the message, value in the message)."""
    nan = math.nan
    for rule in RULES:
        yield rule, {"lr": -0.1}, "lr", "-0.1"
        yield rule, {"lr": nan}, "lr", "nan"
        yield rule, {"lr": math.inf}, "lr", "inf"
        yield rule, {"weight_decay": -0.1}, "weight_decay", "-0.1"
        yield rule, {"weight_decay": nan}, "weight_decay", "nan"
        if rule in _BETAS:
            yield rule, {"betas": (1.0, 0.5)}, "betas[0]", "1.0"
            yield rule, {"betas": (-0.1, 0.5)}, "betas[0]", "-0.1"
            yield rule, {"betas": (0.5, 1.0)}, "betas[1]", "1.0"
            yield rule, {"betas": (0.5, nan)}, "betas[1]", "nan"
        if rule in _EPS:
            yield rule, {"eps": 0.0}, "eps", "0.0"
            yield rule, {"eps": -1e-8}, "eps", "-1e-08"
            yield rule, {"eps": nan}, "eps", "nan"
    yield "sgd", {"momentum": -0.1}, "momentum", "-0.1"
    yield "sgd", {"dampening": nan}, "dampening", "nan"
    yield "sgd", {"nesterov": True}, "nesterov", "momentum"
    yield "sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.5}, "nesterov", "dampening"
    yield "rmsprop", {"momentum": -0.1}, "momentum", "-0.1"
    yield "rmsprop", {"alpha": -0.1}, "alpha", "-0.1"
    yield "rmsprop", {"alpha": nan}, "alpha", "nan"
    yield "adagrad", {"lr_decay": -0.1}, "lr_decay", "-0.1"
    yield "adagrad", {"initial_accumulator_value": -0.1}, "initial_accumulator_value", "-0.1"
    yield "adadelta", {"rho": 1.5}, "rho", "1.5"
    yield "adadelta", {"rho": -0.1}, "rho", "-0.1"
    yield "nadam", {"momentum_decay": -0.1}, "momentum_decay", "-0.1"


BAD = [
    pytest.param(
        next(c for c in FIRST_CASES if c.rule == rule),
        bad,
        name,
        value,
        id=f"{rule}-" + "-".join(f"{k}={v}" for k, v in bad.items()),
    )
    for rule, bad, name, value in _bad_hyperparameters()
]
bad_hyperparameters = pytest.mark.parametrize("case, bad, name, value", BAD)


def _message(name, value, prefix=""):
    """Return a pattern for a message that names ``prefix + name`` and then the value."""
    return re.escape(prefix + name) + r"(?!\w).*" + re.escape(value)


@bad_hyperparameters
def test_constructor_rejects_hyperparameter(case, bad, name, value):
    params, _ = _problem()
    with pytest.raises(ValueError, match=_message(name, value)):
        case.make(params, **bad)


@pytest.mark.parametrize(
    "case, bad, name, value", [p for p in BAD if not CLASS_ONLY_OPTIONS & set(p.values[1])]
)
def test_functional_rejects_hyperparameter(case, bad, name, value):
    params, grads = _problem()
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match=_message(name, value)):
        call_functional(case, params, grads, functional_state(case, params), 1, **bad)
    for k, (p, q) in enumerate(zip(params, before)):
        assert_bitwise_equal(p, q, f"params[{k}]")


@bad_hyperparameters
def test_param_group_rejects_hyperparameter(case, bad, name, value):
    params, _ = _problem()
    opt = case.make([params[0]])
    with pytest.raises(ValueError, match=_message(name, value, "param_groups[1].")):
        opt.add_param_group({"params": [params[1]], **bad})
    assert len(opt.param_groups) == 1


@bad_hyperparameters
def test_step_rejects_changed_hyperparameter(case, bad, name, value):
    params, grads = _problem()
    opt = case.make([{"params": [params[0]]}, {"params": [params[1]]}])
    opt.step(grads)
    before = _copies(opt, params)
    opt.param_groups[1].update(bad)
    with pytest.raises(ValueError, match=_message(name, value, "param_groups[1].")):
        opt.step(grads)
    _assert_unchanged(opt, params, before)
