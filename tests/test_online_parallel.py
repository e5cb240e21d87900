"""Tests of block-parallel lazy SGD (n_jobs > 1) against its eager NumPy oracle."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from online_reference import EagerSGD, block_parallel_pass
from test_online_solvers import LOSSES, PENALTIES, TOL, make_problem, targets_for

from fastopt.online import LazySGD, SGDClassifier, SGDRegressor

EPOCHS = 4


def run_both(settings, X, y, weights=None, *, n_jobs, block_rows, epochs=EPOCHS, seed=1):
    rng = np.random.default_rng(seed)
    lazy = LazySGD(X.shape[1], n_jobs=n_jobs, block_rows=block_rows, **settings)
    eager = EagerSGD(X.shape[1], **settings)
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        loss_lazy = lazy.partial_fit(X, y, sample_weight=weights, order=order)
        loss_eager = block_parallel_pass(eager, X, y, weights, order, n_jobs=n_jobs,
                                         block_rows=block_rows)
        np.testing.assert_allclose(loss_lazy, loss_eager, rtol=TOL, atol=TOL)
    assert lazy.t_ == eager.t
    np.testing.assert_allclose(lazy.coef_, eager.coef, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(lazy.intercept_, eager.intercept, rtol=TOL, atol=TOL)
    return lazy, eager


#: Problems for each form of the parts' copies. 25 columns are few against a block's
#: stored values, so the parts copy the whole model. 2000 columns of 8 values a row are
#: many, so the parts keep only the columns their rows touch.
WIDTHS = {"narrow": dict(num_features=25, density=0.3),
          "wide": dict(num_features=2000, density=0.004)}


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "optimal"])
@pytest.mark.parametrize("penalty", sorted(PENALTIES))
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n_jobs,block_rows", [(2, 16), (3, 7), (2, 1000)])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_parallel_matches_eager(width, n_jobs, block_rows, loss, penalty, schedule):
    X, labels, targets, weights = make_problem(num_rows=60, **WIDTHS[width])
    y = targets_for(loss, labels, targets)
    settings = dict(loss=loss, learning_rate=schedule, eta0=0.2, alpha=0.02,
                    l1_ratio=PENALTIES[penalty], epsilon=0.3)
    lazy, _ = run_both(settings, X, y, weights, n_jobs=n_jobs, block_rows=block_rows)
    assert lazy.coef_[3] == 0.0  # a column with no entries is never touched


@pytest.mark.parametrize("penalty", sorted(PENALTIES))
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize("num_features,density", [(25, 0.3), (2000, 0.004)])
def test_parallel_copy_modes_match_eager(num_features, density, loss, penalty):
    # The kernel copies the whole model into each part when the copies hold at most 8
    # columns per stored value of a block. 2000 columns against about 128 values are
    # past that bound, so the parts keep only the columns that their rows touch.
    X, labels, targets, weights = make_problem(num_rows=80, num_features=num_features,
                                               density=density)
    block_nnz = X.nnz * 16 / X.shape[0]
    assert (2 * num_features <= 8 * block_nnz) == (num_features == 25)
    y = targets_for(loss, labels, targets)
    settings = dict(loss=loss, learning_rate="optimal", alpha=0.02,
                    l1_ratio=PENALTIES[penalty])
    lazy, _ = run_both(settings, X, y, weights, n_jobs=2, block_rows=16)
    assert lazy.coef_[3] == 0.0


def test_parallel_wide_growing_rows():
    # Each block's rows are longer than the last block's, so every part's table of
    # touched columns must grow between blocks.
    rng = np.random.default_rng(9)
    rows, num_features = 48, 3000
    lengths = np.repeat([2, 6, 20, 60, 150, 400], 8)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([np.sort(rng.choice(num_features, size=n, replace=False))
                              for n in lengths])
    X = sp.csr_matrix((rng.uniform(-0.3, 0.3, indices.size), indices, indptr),
                      shape=(rows, num_features))
    labels = np.where(rng.random(rows) < 0.5, -1.0, 1.0)
    settings = dict(learning_rate="constant", eta0=0.1, alpha=0.01, l1_ratio=0.5)
    lazy = LazySGD(num_features, n_jobs=2, block_rows=8, **settings)
    eager = EagerSGD(num_features, **settings)
    for _ in range(2):
        np.testing.assert_allclose(
            lazy.partial_fit(X, labels),
            block_parallel_pass(eager, X, labels, n_jobs=2, block_rows=8),
            rtol=TOL, atol=TOL)
    np.testing.assert_allclose(lazy.coef_, eager.coef, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(lazy.intercept_, eager.intercept, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_parallel_more_jobs_than_block_rows(width):
    # Parts beyond block_rows hold no rows, so they cannot change the model, and a
    # large n_jobs must not cost a thread or a merge per part.
    X, labels, _, weights = make_problem(num_rows=70, seed=11, **WIDTHS[width])
    settings = dict(learning_rate="constant", eta0=0.2, alpha=0.01, l1_ratio=0.3)
    capped = LazySGD(X.shape[1], n_jobs=16, block_rows=16, **settings)
    huge = LazySGD(X.shape[1], n_jobs=1_000_000, block_rows=16, **settings)
    for _ in range(2):
        capped.partial_fit(X, labels, weights)
        huge.partial_fit(X, labels, weights)
    np.testing.assert_array_equal(huge.coef_, capped.coef_)
    assert huge.intercept_ == capped.intercept_


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_parallel_huge_block_rows(width):
    # With block_rows near 2^63 the pass runs one block. Rounding the block count up
    # must not overflow, because an overflow made the pass skip every row.
    X, labels, _, _ = make_problem(num_rows=50, **WIDTHS[width])
    models = [LazySGD(X.shape[1], n_jobs=2, block_rows=rows, l1_ratio=0.3)
              for rows in (X.shape[0], 2**63 - 1)]
    losses = [model.partial_fit(X, labels) for model in models]
    assert losses[1] == losses[0]
    assert models[1].t_ == X.shape[0]
    np.testing.assert_array_equal(models[1].coef_, models[0].coef_)


def test_parallel_differs_from_sequential():
    # The oracle above would also pass if n_jobs were ignored; the parts must see
    # the block's starting model, not each other's updates.
    X, labels, _, _ = make_problem(num_rows=60)
    settings = dict(learning_rate="constant", eta0=0.2, alpha=0.02)
    sequential = LazySGD(X.shape[1], **settings)
    parallel = LazySGD(X.shape[1], n_jobs=2, block_rows=16, **settings)
    sequential.partial_fit(X, labels)
    parallel.partial_fit(X, labels)
    assert np.abs(sequential.coef_ - parallel.coef_).max() > 1e-6


def test_parallel_single_row_blocks_are_sequential():
    # Parts of at most one row each: every row starts from the block's model, so with
    # block_rows == 1 the pass is the sequential one.
    X, labels, _, weights = make_problem(num_rows=50)
    settings = dict(learning_rate="invscaling", eta0=0.3, alpha=0.01, l1_ratio=0.4)
    sequential = LazySGD(X.shape[1], **settings)
    parallel = LazySGD(X.shape[1], n_jobs=2, block_rows=1, **settings)
    for _ in range(3):
        sequential.partial_fit(X, labels, weights)
        parallel.partial_fit(X, labels, weights)
    np.testing.assert_allclose(parallel.coef_, sequential.coef_, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(parallel.intercept_, sequential.intercept_, rtol=TOL, atol=TOL)


def test_parallel_l1_produces_exact_zeros():
    X, labels, _, _ = make_problem(num_rows=60, seed=3)
    settings = dict(learning_rate="constant", eta0=0.2, alpha=0.05, l1_ratio=1.0)
    lazy, eager = run_both(settings, X, labels, n_jobs=2, block_rows=10)
    zeros = lazy.coef_ == 0.0
    assert zeros.sum() >= 5
    np.testing.assert_array_equal(zeros, eager.coef == 0.0)


def test_parallel_scale_fold_matches_eager():
    # eta * alpha = 0.1 per step: the block's scale falls below 1e-9 and is folded.
    X, labels, _, _ = make_problem(num_rows=60, seed=4)
    for l1_ratio in (0.0, 0.3):
        settings = dict(learning_rate="constant", eta0=0.5, alpha=0.2, l1_ratio=l1_ratio)
        run_both(settings, X, labels, n_jobs=2, block_rows=24, epochs=8)


def test_parallel_zeroing_block_runs_sequentially():
    # eta * l2 >= 1 in the first steps of "invscaling" only: those blocks run in turn.
    X, labels, _, _ = make_problem(num_rows=60, seed=5)
    settings = dict(learning_rate="invscaling", eta0=4.0, power_t=0.5, alpha=0.6,
                    l1_ratio=0.2)
    run_both(settings, X, labels, n_jobs=2, block_rows=8, epochs=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_parallel_input_dtypes_and_no_order(dtype, index_dtype):
    X, labels, _, weights = make_problem(num_rows=45, seed=6, dtype=dtype)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    settings = dict(learning_rate="constant", eta0=0.3, alpha=0.01, l1_ratio=0.5)
    lazy = LazySGD(X.shape[1], n_jobs=3, block_rows=11, **settings)
    eager = EagerSGD(X.shape[1], **settings)
    for _ in range(2):
        np.testing.assert_allclose(
            lazy.partial_fit(X, labels, weights),
            block_parallel_pass(eager, X, labels, weights, n_jobs=3, block_rows=11),
            rtol=TOL, atol=TOL)
    np.testing.assert_allclose(lazy.coef_, eager.coef, rtol=TOL, atol=TOL)


_SCHEDULING_SCRIPT = textwrap.dedent("""
    import os
    import sys
    import numpy as np
    import scipy.sparse as sp
    from fastopt.online import LazySGD
    if sys.argv[2] == "one-cpu":
        # Helper threads inherit the affinity, so every thread shares one core.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = np.random.default_rng(0)
    X = sp.random(3000, 400, density=0.02, random_state=rng, format="csr")
    y = np.where(rng.random(3000) < 0.5, -1.0, 1.0)
    model = LazySGD(400, n_jobs=int(sys.argv[1]), block_rows=64, alpha=1e-3, l1_ratio=0.3)
    for _ in range(3):
        model.partial_fit(X, y, order=rng.permutation(3000))
    sys.stdout.write(model.coef_.tobytes().hex() + repr(model.intercept_))
""")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity")
def test_parallel_result_does_not_depend_on_thread_scheduling():
    # Which thread runs which part depends on timing (a helper takes the parts it reaches
    # first, and none on a busy core): with every thread on one core or free to spread,
    # the bits of the model must not change.
    results = []
    for affinity in ("one-cpu", "all", "all"):
        for n_jobs in ("1", "3"):
            out = subprocess.run([sys.executable, "-c", _SCHEDULING_SCRIPT, n_jobs, affinity],
                                 capture_output=True, text=True, check=True).stdout
            results.append((n_jobs, out))
    by_jobs = {}
    for n_jobs, out in results:
        by_jobs.setdefault(n_jobs, set()).add(out)
    assert len(by_jobs["1"]) == 1
    assert len(by_jobs["3"]) == 1
    assert by_jobs["1"] != by_jobs["3"]


def test_parallel_repeated_passes_agree():
    # Successive passes adapt how many blocks they share with helper threads (the state
    # carries over between passes); every copy must still get the same bits.
    X, labels, _, weights = make_problem(num_rows=600, seed=7)
    settings = dict(learning_rate="constant", eta0=0.1, alpha=1e-3, l1_ratio=0.2)
    models = [LazySGD(X.shape[1], n_jobs=2, block_rows=8, **settings) for _ in range(6)]
    for _ in range(3):
        losses = {model.partial_fit(X, labels, weights) for model in models}
        assert len(losses) == 1
    for model in models[1:]:
        np.testing.assert_array_equal(model.coef_, models[0].coef_)
        assert model.intercept_ == models[0].intercept_


def test_parallel_n_jobs_one_is_the_sequential_pass():
    X, labels, _, weights = make_problem(num_rows=60)
    settings = dict(learning_rate="optimal", alpha=0.02, l1_ratio=0.4)
    default = LazySGD(X.shape[1], **settings)
    one = LazySGD(X.shape[1], n_jobs=1, block_rows=5, **settings)
    for _ in range(2):
        assert default.partial_fit(X, labels, weights) == one.partial_fit(X, labels, weights)
    np.testing.assert_array_equal(default.coef_, one.coef_)


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_jobs=0), "n_jobs: expected an integer >= 1, got 0"),
    (dict(n_jobs=2.0), "n_jobs: expected an integer >= 1, got 2.0"),
    (dict(block_rows=0), "block_rows: expected an integer >= 1, got 0"),
    (dict(n_jobs=2, method="adagrad"), "n_jobs: values above 1 need method='sgd'"),
    (dict(n_jobs=2, momentum=0.5), "n_jobs: values above 1 need method='sgd'"),
    (dict(n_jobs=2, average=True), "n_jobs: values above 1 need method='sgd'"),
])
def test_parallel_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LazySGD(10, **kwargs)


def test_estimator_n_jobs_checks():
    X, labels, _, _ = make_problem(num_rows=60)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match=f"n_jobs: expected None, -1 or an integer >= 1, got {bad!r}"):
            SGDClassifier(n_jobs=bad).fit(X, labels)
    with pytest.raises(ValueError, match="n_jobs: values above 1 need method='sgd'"):
        SGDClassifier(n_jobs=2, method="adam").fit(X, labels)
    assert SGDClassifier().get_params()["n_jobs"] is None


def test_estimator_one_vs_rest_models_equal_binary_parallel_passes():
    rng = np.random.default_rng(7)
    X = sp.random(300, 40, density=0.15, random_state=rng, format="csr")
    y = rng.integers(0, 3, 300)
    model = SGDClassifier(loss="log_loss", n_jobs=2, max_iter=3, tol=None, random_state=0,
                          learning_rate="constant", eta0=0.1).fit(X, y)
    order_rng = np.random.default_rng(0)
    orders = [order_rng.permutation(300) for _ in range(3)]
    for k in range(3):
        solver = LazySGD(40, n_jobs=2, learning_rate="constant", eta0=0.1, alpha=1e-4)
        for order in orders:
            solver.partial_fit(X, np.where(y == k, 1.0, -1.0), order=order)
        np.testing.assert_array_equal(model.coef_[k], solver.coef_)
        assert model.intercept_[k] == solver.intercept_


def test_estimator_parallel_fit_is_reproducible_and_close_to_sequential():
    rng = np.random.default_rng(8)
    X = sp.random(4000, 200, density=0.05, random_state=rng, format="csr")
    w = rng.normal(size=200)
    y = (X @ w + 0.3 * rng.normal(size=4000) > 0).astype(int)
    fits = [SGDClassifier(loss="log_loss", n_jobs=n_jobs, max_iter=5, tol=None,
                          random_state=1).fit(X, y) for n_jobs in (None, 2, 2)]
    np.testing.assert_array_equal(fits[1].coef_, fits[2].coef_)
    assert fits[1].score(X, y) > fits[0].score(X, y) - 0.02
    # Columns that both parts of a block touch take the mean of their two changes, half
    # the sequential step: on these rows, where nearly every column is shared, the
    # parallel regressor with twice the epochs comes within 20% of the sequential R^2.
    regressors = [SGDRegressor(n_jobs=n_jobs, max_iter=epochs, tol=None, random_state=1)
                  .fit(X, X @ w) for n_jobs, epochs in ((1, 3), (2, 6))]
    assert regressors[1].score(X, X @ w) > 0.8 * regressors[0].score(X, X @ w) > 0.3


@pytest.mark.parametrize("bad_row", [200, 250])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_checked_parallel_pass_matches_and_restores(l1_ratio, bad_row):
    # With a small state the estimators' passes check each block of rows before its parts
    # read them, where LazySGD.partial_fit checks all of X first. Both give one result, and
    # a bad row in a later block leaves the state as it was.
    from fastopt.online._solvers import partial_fit_many
    from test_online_solvers import states_equal

    X, labels, _, _ = make_problem(num_rows=400)
    settings = dict(n_jobs=2, block_rows=64, l1_ratio=l1_ratio)
    inside = LazySGD(X.shape[1], **settings)
    first = LazySGD(X.shape[1], **settings)
    for _ in range(2):
        partial_fit_many([inside], X, [labels])
        first.partial_fit(X, labels)
    states_equal(first.get_state(), inside.get_state())
    before = inside.get_state()
    bad = X.copy()
    # Rows 200 and 250 lie in the first and the second part of the block of rows 192-255.
    bad.data[int(bad.indptr[bad_row])] = np.inf
    with pytest.raises(ValueError, match=f"X: expected finite values, got inf at row {bad_row}"):
        partial_fit_many([inside], bad, [labels])
    states_equal(before, inside.get_state())
