"""Problems, runners and comparisons shared by the optimizer tests."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

import reference
from registry import Case

DTYPES = (np.float32, np.float64)

#: Sizes on both sides of the SIMD widths (4 and 8 doubles, 8 and 16 floats) and their tails.
SMALL_SIZES = (0, 1, 7, 8, 15, 16, 17, 63, 64, 65)

#: Larger than the 8192-element blocks of the reductions and odd, so every thread gets a tail.
BIG_SIZE = 1_000_003

#: One multi-tensor list: empty, scalar-sized, matrices and a 3-D array of odd sizes.
MIXED_SHAPES = ((0,), (1,), (7,), (3, 5), (8, 8), (17,), (2, 3, 11), (65,))

# Tolerances of a run in the given dtype against the float64 oracle after up to
# 200 steps. A float32 run rounds each parameter once or twice per step, and
# those errors add up, so float32 gets about 170 ulps at 1 (the parameters'
# scale). The oracle itself run in float32 stayed within 0.4 of this bound for
# every registry case on MIXED_SHAPES. float64 results differ from the oracle
# only in the order of operations.
TOLERANCE = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}


def tolerance(case: Case, dtype) -> dict[str, float]:
    """Return the rtol/atol of ``case`` in ``dtype`` against the float64 oracle."""
    tol = dict(TOLERANCE[np.dtype(dtype)])
    if case.rule == "lion" and np.dtype(dtype) == np.float32:
        # Lion moves by lr * sign(c). Where c rounds to the other sign in
        # float32, an element ends up 2 lr away, so allow two such flips.
        tol["atol"] = max(tol["atol"], 4 * case.hyperparameters["lr"])
    return tol


class Problem:
    """Initial parameters and the gradient of every step, for a list of shapes.

    Gradients are drawn from a normal distribution that depends only on the
    seed and the step, not on the parameters. So a float32 run and its
    float64 oracle see the same values, and rounding errors cannot feed back
    into the gradients. They are cached, so every run of one problem reads
    the same arrays.
    """

    def __init__(self, shapes, dtype, seed: int = 0):
        self.shapes = [tuple(s) for s in shapes]
        self.dtype = np.dtype(dtype)
        self.seed = seed
        rng = np.random.default_rng([seed, 0])
        self._initial = [rng.standard_normal(s).astype(self.dtype) for s in self.shapes]
        self._grads: dict[int, list[np.ndarray]] = {}

    def initial_params(self, dtype=None) -> list[np.ndarray]:
        """Return new copies of the initial parameters, in ``dtype`` (default: the problem's)."""
        return [p.astype(dtype or self.dtype) for p in self._initial]

    def gradients(self, step: int, dtype=None) -> list[np.ndarray]:
        """Return new copies of the gradients of step ``step`` (1-based), in ``dtype``."""
        if step not in self._grads:
            rng = np.random.default_rng([self.seed, step])
            self._grads[step] = [rng.standard_normal(s).astype(self.dtype) for s in self.shapes]
        return [g.astype(dtype or self.dtype) for g in self._grads[step]]


def run_fastopt(case: Case, problem: Problem, steps: int, *, single: bool = False, **step_kwargs):
    """Run ``steps`` steps of ``case``'s class on ``problem``; return (optimizer, params).

    With ``single`` the problem's one array is passed as an array, not a list.
    """
    params = problem.initial_params()
    opt = case.make(params[0] if single else params)
    for t in range(1, steps + 1):
        grads = problem.gradients(t)
        opt.step(grads[0] if single else grads, **step_kwargs)
    return opt, params


def run_reference(case: Case, problem: Problem, steps: int):
    """Run the NumPy oracle of ``case`` in float64; return (params, states)."""
    rule = reference.RULES[case.rule]
    options = case.hyperparameters
    params = problem.initial_params(np.float64)
    states = [rule.init(p, options) for p in params]
    for t in range(1, steps + 1):
        for p, g, s in zip(params, problem.gradients(t, np.float64), states):
            rule.update(p, g, s, t, options)
    return params, states


def assert_matches_reference(case, opt, params, problem, steps):
    """Assert that ``opt``'s parameters and state after ``steps`` steps match the oracle."""
    ref_params, ref_states = run_reference(case, problem, steps)
    tol = tolerance(case, problem.dtype)
    for k, (p, ref_p, ref_s) in enumerate(zip(params, ref_params, ref_states)):
        np.testing.assert_allclose(p, ref_p, **tol, err_msg=f"{case.id}: params[{k}]")
        state = opt.state[id(p)]
        assert state["step"] == steps, f"{case.id}: state of params[{k}]"
        for name, expected in ref_s.items():
            np.testing.assert_allclose(
                state[name], expected, **tol, err_msg=f"{case.id}: {name}[{k}]"
            )


def assert_bitwise_equal(actual: np.ndarray, expected: np.ndarray, context: str) -> None:
    """Assert that two arrays have the same dtype, shape and bytes (so -0.0 != 0.0, NaN == NaN)."""
    assert actual.dtype == expected.dtype, f"{context}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{context}: shape {actual.shape} != {expected.shape}"
    bits = np.dtype(f"u{actual.dtype.itemsize}")
    differ = np.flatnonzero(actual.view(bits) != expected.view(bits))
    assert differ.size == 0, (
        f"{context}: {differ.size} of {actual.size} elements differ, the first at flat index "
        f"{differ[0] if differ.size else None}: "
        f"{actual.flat[differ[0]] if differ.size else None!r} != "
        f"{expected.flat[differ[0]] if differ.size else None!r}"
    )


def snapshot(opt, params) -> dict[str, Any]:
    """Return deep copies of ``params``, their state (None if absent) and the hyperparameters."""
    return {
        "params": [p.copy() for p in params],
        "state": [copy.deepcopy(opt.state.get(id(p))) for p in params],
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
    }


def assert_same_optimizer(actual, expected, context: str) -> None:
    """Assert bit-identical parameters and state between two :func:`snapshot` results."""
    for k, (p, q) in enumerate(zip(actual["params"], expected["params"])):
        assert_bitwise_equal(p, q, f"{context}: params[{k}]")
    for k, (other, state) in enumerate(zip(actual["state"], expected["state"])):
        if state is None:
            assert other is None, f"{context}: state of params[{k}] exists"
            continue
        assert other is not None, f"{context}: state of params[{k}] is missing"
        assert sorted(other) == sorted(state), f"{context}: state entries of params[{k}]"
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                assert_bitwise_equal(other[name], value, f"{context}: {name} of params[{k}]")
            else:
                assert other[name] == value, f"{context}: {name} of params[{k}]"
    assert actual["groups"] == expected["groups"], f"{context}: param_groups"


def functional_state(case: Case, params: list[np.ndarray]) -> list[list[Any] | None]:
    """Return fresh state lists for ``case``'s functional form, one per entry of
    ``case.functional_states``, or None for an entry these options do not use."""
    rule = reference.RULES[case.rule]
    options = case.hyperparameters
    per_param = [rule.init(p, options) for p in params]
    lists: list[list[Any] | None] = []
    for name in case.functional_states:
        if params and name in per_param[0]:
            lists.append([state[name] for state in per_param])
        else:
            lists.append(None)
    return lists


def call_functional(case: Case, params, grads, state_lists, step: int, **kwargs):
    """Call ``case``'s functional form with its options; return its StepResult.

    ``step`` is passed only where the function takes it, so that a rule
    without it fails test_functional_takes_step alone.
    """
    options = {**case.functional_options, **kwargs}
    if "step" in inspect.signature(case.functional).parameters:
        options["step"] = step
    return case.functional(params, grads, *state_lists, **options)
