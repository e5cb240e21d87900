"""Fused one-vs-rest passes of plain SGD must keep each output's own result.

``partial_fit_many`` runs several outputs of plain SGD (no L1, momentum or averaging) in
one pass over the rows, with their weights interleaved. Every output must still end with
exactly the state and loss of its own ``partial_fit``, bit for bit, on one thread and on
two, and a bad row must leave every output as it was.
"""
import numpy as np
import pytest
import scipy.sparse as sp

from fastopt import _core
from fastopt.online import LazySGD, SGDClassifier
from fastopt.online._solvers import partial_fit_many


def make_rows(num_rows, num_features, density, seed, dtype=np.float64, index_dtype=np.int32):
    rng = np.random.default_rng(seed)
    X = sp.random(num_rows, num_features, density=density, random_state=rng, format="csr",
                  data_rvs=lambda k: rng.uniform(-1.0, 1.0, k)).astype(dtype)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X, rng


def targets_for(loss, rng, num_rows, outputs):
    if loss in ("log_loss", "hinge"):
        return [np.where(rng.random(num_rows) < 0.4, 1.0, -1.0) for _ in range(outputs)]
    return [rng.normal(size=num_rows) for _ in range(outputs)]


def states_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def run_many(make, X, targets, threads, passes, **kwargs):
    saved = _core.get_num_threads()
    try:
        _core.set_num_threads(threads)
        solvers = [make() for _ in targets]
        losses = [partial_fit_many(solvers, X, targets, **kwargs) for _ in range(passes)]
    finally:
        _core.set_num_threads(saved)
    return solvers, losses


def run_each(make, X, targets, passes, sample_weight=None, order=None):
    solvers, losses = [], []
    for y in targets:
        solver = make()
        losses.append([solver.partial_fit(X, y, sample_weight=sample_weight, order=order)
                       for _ in range(passes)])
        solvers.append(solver)
    return solvers, np.array(losses).T


@pytest.mark.parametrize("outputs", [2, 3, 11])
@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error", "huber"])
@pytest.mark.parametrize("schedule", ["optimal", "invscaling", "constant"])
def test_fused_outputs_equal_own_passes(outputs, loss, schedule):
    X, rng = make_rows(300, 40, 0.2, seed=outputs)
    targets = targets_for(loss, rng, X.shape[0], outputs)
    weights = rng.uniform(0.2, 2.0, X.shape[0])

    def make():
        return LazySGD(X.shape[1], loss=loss, learning_rate=schedule, eta0=0.05, alpha=1e-3)

    alone, alone_losses = run_each(make, X, targets, 3, sample_weight=weights)
    for threads in (1, 2):
        together, losses = run_many(make, X, targets, threads, 3, sample_weight=weights)
        for a, b in zip(together, alone):
            states_equal(a.get_state(), b.get_state())
        np.testing.assert_array_equal(np.array(losses), alone_losses)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fused_dtypes_order_intercept(dtype, index_dtype, fit_intercept):
    X, rng = make_rows(500, 70, 0.15, seed=5, dtype=dtype, index_dtype=index_dtype)
    targets = targets_for("log_loss", rng, X.shape[0], 5)
    # Repeats and skips, so the pass reads rows out of storage order.
    order = rng.integers(0, X.shape[0], 900)

    def make():
        return LazySGD(X.shape[1], alpha=1e-3, fit_intercept=fit_intercept, dtype=dtype)

    alone, alone_losses = run_each(make, X, targets, 2, order=order)
    together, losses = run_many(make, X, targets, 1, 2, order=order)
    for a, b in zip(together, alone):
        states_equal(a.get_state(), b.get_state())
    np.testing.assert_array_equal(np.array(losses), alone_losses)


@pytest.mark.parametrize("unused_globals", [None, (0.25, 3.0)], ids=["zero", "set"])
def test_fused_scale_folds(unused_globals):
    # alpha * eta near 1 shrinks the global scale below its floor within a few rows, so the
    # scale is folded into the weights many times. With alpha * eta >= 1 (decay <= 0) every
    # weight becomes zero. set_state accepts any values in the L1 and averaging slots of the
    # globals, which plain SGD does not read, and a fold must change them as a single pass does.
    X, rng = make_rows(200, 30, 0.3, seed=9)
    targets = targets_for("log_loss", rng, X.shape[0], 4)
    for eta0, alpha in ((0.9, 1.0), (2.0, 1.0)):
        def make():
            solver = LazySGD(X.shape[1], learning_rate="constant", eta0=eta0, alpha=alpha)
            if unused_globals is not None:
                state = solver.get_state()
                state["globals"][1], state["globals"][6] = unused_globals
                solver.set_state(state)
            return solver

        alone, _ = run_each(make, X, targets, 2)
        together, _ = run_many(make, X, targets, 1, 2)
        for a, b in zip(together, alone):
            states_equal(a.get_state(), b.get_state())


def test_fused_bad_row_restores_outputs():
    # Enough stored values per state element that the pass checks rows as it reaches them.
    X, rng = make_rows(2000, 25, 0.3, seed=4)
    targets = targets_for("log_loss", rng, X.shape[0], 3)
    solvers, _ = run_many(lambda: LazySGD(X.shape[1]), X, targets, 1, 1)
    before = [s.get_state() for s in solvers]
    bad = X.copy()
    bad.data[bad.indptr[1500]] = np.nan
    with pytest.raises(ValueError, match="finite"):
        partial_fit_many(solvers, bad, targets)
    for solver, state in zip(solvers, before):
        states_equal(state, solver.get_state())


def test_multiclass_estimator_equals_binary_estimators():
    X, rng = make_rows(600, 50, 0.2, seed=2)
    y = rng.integers(0, 6, X.shape[0])
    # A fixed number of epochs: the stopping rule watches the mean loss of all classes.
    settings = dict(loss="log_loss", alpha=1e-3, shuffle=False, max_iter=6, tol=None)
    multi = SGDClassifier(**settings).fit(X, y)
    for k, label in enumerate(multi.classes_):
        binary = SGDClassifier(**settings)
        binary.fit(X, np.where(y == label, 1, -1))
        np.testing.assert_array_equal(multi.coef_[k], binary.coef_[0])
        np.testing.assert_array_equal(multi.intercept_[k], binary.intercept_[0])


@pytest.mark.parametrize("settings", [
    dict(momentum=0.5), dict(l1_ratio=0.3), dict(average=10), dict(method="adagrad"),
    dict(method="adam", learning_rate="constant"),
], ids=["momentum", "l1", "average", "adagrad", "adam"])
def test_unfused_settings_equal_own_passes(settings):
    # The fused pass covers plain SGD without L1 or averaging; these run output by output.
    X, rng = make_rows(300, 40, 0.2, seed=7)
    targets = targets_for("log_loss", rng, X.shape[0], 5)

    def make():
        return LazySGD(X.shape[1], alpha=1e-3, **settings)

    alone, alone_losses = run_each(make, X, targets, 2)
    together, losses = run_many(make, X, targets, 1, 2)
    for a, b in zip(together, alone):
        states_equal(a.get_state(), b.get_state())
    np.testing.assert_array_equal(np.array(losses), alone_losses)

