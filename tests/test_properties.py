"""Property-based tests (hypothesis) of the update rules, proximal operators,
ROC-AUC, the LIBSVM writer and reader, and the estimators.

Examples per test come from the hypothesis profile: "ci" (few examples, fixed
seed, picked when CI=true) or "long" (HYPOTHESIS_PROFILE=long); see conftest.py.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the test extra")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fastopt.prox  # noqa: E402
import reference  # noqa: E402
from fastopt.datasets import dump_svmlight, load_svmlight  # noqa: E402
from fastopt.linear_model import Lasso, LogisticRegression, Ridge  # noqa: E402
from fastopt.metrics import roc_auc_score  # noqa: E402
from helpers import call_functional, functional_state, tolerance  # noqa: E402
from registry import CASES  # noqa: E402

DTYPES = st.sampled_from([np.float32, np.float64])
# Lists of up to four tensors of up to three dimensions, sizes straddling the SIMD widths.
SHAPES = st.lists(st.lists(st.integers(0, 19), min_size=0, max_size=3).map(tuple), min_size=1, max_size=4)


def _case_with(case, **overrides):
    """Return ``case`` with its options overridden where the rule has them."""
    defaults = reference.RULES[case.rule].defaults
    options = {**case.options, **{k: v for k, v in overrides.items() if k in defaults}}
    return dataclasses.replace(case, options=options)


# --- update rules against the NumPy reference ---------------------------------------

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@given(
    shapes=SHAPES,
    dtype=DTYPES,
    steps=st.integers(1, 4),
    lr=st.floats(1e-4, 0.1),
    weight_decay=st.sampled_from([0.0, 1e-3, 0.1]),
    seed=st.integers(0, 2**32 - 1),
)
def test_functional_step_matches_reference(case, shapes, dtype, steps, lr, weight_decay, seed):
    case = _case_with(case, lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    state_lists = functional_state(case, params)
    rule = reference.RULES[case.rule]
    options = case.hyperparameters
    ref_params = [p.astype(np.float64) for p in params]
    ref_states = [rule.init(p, options) for p in ref_params]
    for t in range(1, steps + 1):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        call_functional(case, params, grads, state_lists, t)
        for p, g, s in zip(ref_params, grads, ref_states):
            rule.update(p, g.astype(np.float64), s, t, options)

    tol = tolerance(case, dtype)
    if case.rule == "lion" and np.dtype(dtype) == np.float32:
        tol["atol"] = max(tol["atol"], 4 * lr)
    for k, (p, ref_p) in enumerate(zip(params, ref_params)):
        np.testing.assert_allclose(p, ref_p, **tol, err_msg=f"{case.id}: params[{k}]")
    for name, values in zip(case.functional_states, state_lists):
        if values is None or not isinstance(values[0], np.ndarray):
            continue
        for k, (value, ref_s) in enumerate(zip(values, ref_states)):
            np.testing.assert_allclose(value, ref_s[name], **tol, err_msg=f"{case.id}: {name}[{k}]")


# --- proximal operators ------------------------------------------------------------

def _vectors(n_max=40):
    """Two vectors of one length and dtype, with entries in [-10, 10]."""
    return st.tuples(st.integers(1, n_max), DTYPES, st.integers(0, 2**32 - 1)).map(_draw_pair)


def _draw_pair(args):
    n, dtype, seed = args
    rng = np.random.default_rng(seed)
    scale = rng.choice([1e-3, 1.0, 10.0])
    return (scale * rng.standard_normal(n)).astype(dtype), (scale * rng.standard_normal(n)).astype(dtype)


def _operators(n, dtype, rng):
    """Return (name, prox) pairs of every operator for vectors of length ``n``."""
    threshold = float(rng.uniform(0, 2))
    per_element = rng.uniform(0, 2, n)
    lower = -rng.uniform(0, 2, n)
    upper = rng.uniform(0, 2, n)
    cuts = np.unique(rng.integers(1, max(n, 2), size=3)) if n > 1 else np.array([], dtype=np.int64)
    groups = np.concatenate([[0], cuts[cuts < n], [n]]).astype(np.int64)
    return [
        ("soft_threshold", lambda x: fastopt.prox.soft_threshold(x.copy(), threshold)),
        ("soft_threshold per element", lambda x: fastopt.prox.soft_threshold(x.copy(), per_element)),
        ("elastic_net", lambda x: fastopt.prox.elastic_net(x.copy(), threshold, 0.7, step=0.5)),
        ("l2_shrink", lambda x: fastopt.prox.l2_shrink(x.copy(), threshold)),
        ("group_soft_threshold", lambda x: fastopt.prox.group_soft_threshold(x.copy(), groups, threshold)),
        ("project_box", lambda x: fastopt.prox.project_box(x.copy(), lower, upper)),
        ("project_nonneg", lambda x: fastopt.prox.project_nonneg(x.copy())),
    ]


@given(pair=_vectors(), seed=st.integers(0, 2**32 - 1))
def test_prox_firmly_nonexpansive(pair, seed):
    # The proximal operator of a closed convex function is firmly non-expansive:
    # ||p(x) - p(y)||^2 <= <p(x) - p(y), x - y>, which implies ||p(x) - p(y)|| <= ||x - y||.
    x, y = pair
    eps = 8 * np.finfo(x.dtype).eps
    for name, prox in _operators(x.size, x.dtype, np.random.default_rng(seed)):
        dp = prox(x).astype(np.float64) - prox(y).astype(np.float64)
        dx = x.astype(np.float64) - y.astype(np.float64)
        bound = eps * (1 + np.dot(dx, dx) + np.abs(x).max() ** 2 + np.abs(y).max() ** 2)
        assert np.dot(dp, dp) <= np.dot(dp, dx) + bound, name
        assert np.linalg.norm(dp) <= np.linalg.norm(dx) * (1 + eps) + np.sqrt(bound), name


@given(pair=_vectors(), seed=st.integers(0, 2**32 - 1))
def test_projections_idempotent(pair, seed):
    # Projections onto a convex set are idempotent; shrinkage operators are not.
    x, _ = pair
    for name, prox in _operators(x.size, x.dtype, np.random.default_rng(seed)):
        if not name.startswith("project"):
            continue
        once = prox(x)
        np.testing.assert_array_equal(prox(once), once, err_msg=name)


@given(pair=_vectors(), seed=st.integers(0, 2**32 - 1))
def test_soft_threshold_zero_is_identity(pair, seed):
    x, _ = pair
    np.testing.assert_array_equal(fastopt.prox.soft_threshold(x.copy(), 0.0), x)
    np.testing.assert_array_equal(fastopt.prox.l2_shrink(x.copy(), 0.0), x)


# --- ROC-AUC ----------------------------------------------------------------------

@given(
    n=st.integers(2, 300),
    levels=st.sampled_from([2, 5, 50, 10**6]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_roc_auc_of_negated_scores(n, levels, weighted, seed):
    # Reversing the order of the scores swaps every pair's win and loss; tied
    # pairs count one half either way, so the areas add up to exactly 1.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    scores = rng.integers(0, levels, n).astype(np.float64)
    weight = rng.uniform(0.1, 3.0, n) if weighted else None
    auc = roc_auc_score(y, scores, sample_weight=weight)
    negated = roc_auc_score(y, -scores, sample_weight=weight)
    assert 0.0 <= auc <= 1.0
    assert negated == pytest.approx(1.0 - auc, abs=1e-12)


# --- LIBSVM dump and load ---------------------------------------------------------

@given(
    n_rows=st.integers(0, 30),
    n_features=st.integers(1, 40),
    density=st.floats(0.0, 1.0),
    kind=st.sampled_from(["float64", "float32", "int64", "extreme"]),
    zero_based=st.booleans(),
    with_qid=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_dump_then_load_roundtrip(n_rows, n_features, density, kind, zero_based, with_qid, seed):
    rng = np.random.default_rng(seed)
    dense = rng.standard_normal((n_rows, n_features)) * 10.0 ** rng.integers(-5, 5, (n_rows, n_features))
    if kind == "extreme":
        # Subnormals, the largest finite values and negative zero: the shortest round-trip
        # text must bring each back bit for bit.
        dense = rng.choice([5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 1e-300],
                           size=(n_rows, n_features))
    dense[rng.random((n_rows, n_features)) >= density] = 0.0
    if kind == "int64":
        dense = np.round(dense * 100).astype(np.int64)
    dtype = np.float32 if kind == "float32" else np.float64
    dense = dense.astype(dtype) if kind != "int64" else dense
    y = rng.integers(-3, 3, n_rows).astype(np.float64) + 0.5 * (kind != "int64")
    qid = rng.integers(0, 5, n_rows) if with_qid else None

    buffer = io.BytesIO()
    dump_svmlight(dense, y, buffer, zero_based=zero_based, query_id=qid)
    buffer.seek(0)
    loaded = load_svmlight(buffer, n_features=n_features, zero_based=zero_based, dtype=np.float64,
                           query_id=with_qid)
    X, y_loaded = loaded[0], loaded[1]

    expected = dense.astype(np.float64)
    assert X.shape == (n_rows, n_features)
    np.testing.assert_array_equal(X.toarray(), expected)
    # Bit-level equality of the stored values, so that -0.0 and subnormals count.
    stored = expected[expected != 0]
    np.testing.assert_array_equal(np.sort(X.data.view(np.uint64)), np.sort(stored.view(np.uint64)))
    np.testing.assert_array_equal(y_loaded, y)
    if with_qid:
        np.testing.assert_array_equal(loaded[2], qid)


# --- estimators on permuted rows --------------------------------------------------

ESTIMATORS = {
    "ridge": lambda: Ridge(alpha=0.5, tol=1e-12),
    "lasso": lambda: Lasso(alpha=0.05, tol=1e-12, max_iter=100_000),
    "logistic": lambda: LogisticRegression(alpha=0.05, tol=1e-12, max_iter=10_000),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@given(n_rows=st.integers(8, 60), n_features=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
@settings(deadline=None)
def test_fit_on_permuted_rows(name, n_rows, n_features, seed):
    # The objectives are sums over rows, so the order of the rows changes only the
    # rounding of the sums; a strongly convex objective has one minimizer.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    coef = rng.standard_normal(n_features)
    if name == "logistic":
        y = (X @ coef + 0.5 * rng.standard_normal(n_rows) > 0).astype(np.float64)
        y[:2] = [0.0, 1.0]
    else:
        y = X @ coef + 0.1 * rng.standard_normal(n_rows)
    order = rng.permutation(n_rows)
    first = ESTIMATORS[name]().fit(X, y)
    second = ESTIMATORS[name]().fit(X[order], y[order])
    np.testing.assert_allclose(second.coef_, first.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(second.intercept_, first.intercept_, rtol=1e-6, atol=1e-8)
