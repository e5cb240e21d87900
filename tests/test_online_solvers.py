"""Tests of fastopt.online's LazySGD and FTRLProximal against eager dense oracles."""

import itertools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from online_reference import EagerFTRL, EagerSGD

from fastopt import _core
from fastopt.online import FTRLProximal, LazySGD
from fastopt.online._solvers import partial_fit_many

LOSSES = ("log_loss", "squared_error", "hinge", "huber")
SCHEDULES = ("constant", "invscaling", "optimal", "adaptive")
PENALTIES = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.4}
# (method, momentum). With momentum 0.9 and the "optimal" schedule's first steps
# (eta_1 = alpha^(-1/4)) the iteration amplifies rounding: perturbing the sample weights
# by 2e-16 moves the eager weights by 1e-11, so the matrix uses 0.5.
METHODS = (("sgd", 0.0), ("sgd", 0.5), ("adagrad", 0.0), ("adam", 0.0))
EPOCHS = 4
TOL = 1e-12


def make_problem(num_rows=40, num_features=25, density=0.3, seed=0, dtype=np.float64):
    """Sparse rows with entries in [-0.4, 0.4], one empty column and one empty row."""
    rng = np.random.default_rng(seed)
    X = sp.random(num_rows, num_features, density=density, random_state=rng, format="csr",
                  data_rvs=lambda k: rng.uniform(-0.4, 0.4, k))
    X = X.tolil()
    X[:, 3] = 0.0
    X[5, :] = 0.0
    X = X.tocsr().astype(dtype)
    X.eliminate_zeros()
    labels = np.where(rng.random(num_rows) < 0.5, -1.0, 1.0)
    targets = rng.normal(size=num_rows)
    weights = rng.uniform(0.2, 2.0, num_rows)
    return X, labels, targets, weights


def targets_for(loss, labels, targets):
    return labels if loss in ("log_loss", "hinge") else targets


def run_both(settings, X, y, weights=None, epochs=EPOCHS, seed=1):
    rng = np.random.default_rng(seed)
    lazy = LazySGD(X.shape[1], **settings)
    eager = EagerSGD(X.shape[1], **{**settings, "average": int(settings.get("average", 0))})
    for epoch in range(epochs):
        order = rng.permutation(X.shape[0])
        loss_lazy = lazy.partial_fit(X, y, sample_weight=weights, order=order)
        loss_eager = eager.fit_pass(X, y, sample_weight=weights, order=order)
        np.testing.assert_allclose(loss_lazy, loss_eager, rtol=TOL, atol=TOL)
        if settings.get("learning_rate") == "adaptive" and epoch == 1:
            lazy.decay_learning_rate()
            eager.decay_learning_rate()
    return lazy, eager


def assert_same_model(lazy, eager):
    np.testing.assert_allclose(lazy.coef_, eager.coef, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(lazy.intercept_, eager.intercept, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("penalty", sorted(PENALTIES))
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("method,momentum", METHODS)
def test_lazy_matches_eager(method, momentum, loss, penalty, schedule):
    X, labels, targets, weights = make_problem()
    y = targets_for(loss, labels, targets)
    settings = dict(loss=loss, method=method, momentum=momentum, learning_rate=schedule,
                    eta0=0.2, alpha=0.02, l1_ratio=PENALTIES[penalty], epsilon=0.3)
    lazy, eager = run_both(settings, X, y, weights)
    assert lazy.t_ == EPOCHS * X.shape[0]
    assert_same_model(lazy, eager)
    assert lazy.coef_[3] == 0.0  # a column with no entries is never touched


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("method,momentum", METHODS)
@pytest.mark.parametrize("average", [True, 7])
def test_lazy_averaging_matches_eager(method, momentum, loss, average):
    X, labels, targets, weights = make_problem(seed=2)
    y = targets_for(loss, labels, targets)
    settings = dict(loss=loss, method=method, momentum=momentum, learning_rate="invscaling",
                    eta0=0.3, alpha=0.01, average=average, epsilon=0.3)
    lazy, eager = run_both(settings, X, y, weights)
    assert_same_model(lazy, eager)


def test_lazy_l1_produces_exact_zeros():
    X, labels, _, _ = make_problem(seed=3)
    settings = dict(learning_rate="constant", eta0=0.2, alpha=0.05, l1_ratio=1.0)
    lazy, eager = run_both(settings, X, labels)
    assert_same_model(lazy, eager)
    zeros = lazy.coef_ == 0.0
    assert zeros.sum() >= 5
    np.testing.assert_array_equal(zeros, eager.coef == 0.0)


def test_lazy_scale_fold_matches_eager():
    # eta * alpha = 0.1 per step: the global scale drops below 1e-9 after ~200 rows
    # and is folded into the weights several times.
    X, labels, _, _ = make_problem(seed=4)
    for l1_ratio, average in ((0.0, False), (0.3, False), (0.0, True)):
        settings = dict(learning_rate="constant", eta0=0.5, alpha=0.2, l1_ratio=l1_ratio,
                        average=average)
        lazy, eager = run_both(settings, X, labels, epochs=8)
        assert_same_model(lazy, eager)


def test_lazy_decay_factor_zero_matches_eager():
    # eta * alpha >= 1 zeroes every weight at each step, as scikit-learn's max(0, .) does.
    X, labels, _, _ = make_problem(seed=5)
    settings = dict(learning_rate="constant", eta0=1.0, alpha=1.5, l1_ratio=0.2)
    lazy, eager = run_both(settings, X, labels)
    assert_same_model(lazy, eager)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_lazy_input_dtypes_match_eager(dtype, index_dtype):
    X, labels, _, weights = make_problem(seed=6, dtype=dtype)
    # Set directly: the csr_matrix constructor would narrow int64 indices to int32.
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    assert X.indices.dtype == index_dtype
    settings = dict(method="adagrad", learning_rate="constant", eta0=0.3, alpha=0.01,
                    l1_ratio=0.5)
    lazy, eager = run_both(settings, X, labels, weights)
    assert_same_model(lazy, eager)


def test_lazy_dense_input_equals_sparse():
    X, labels, _, _ = make_problem(seed=7)
    sparse = LazySGD(X.shape[1], alpha=0.01, l1_ratio=0.5)
    dense = LazySGD(X.shape[1], alpha=0.01, l1_ratio=0.5)
    sparse.partial_fit(X, labels)
    dense.partial_fit(X.toarray(), labels)
    np.testing.assert_array_equal(sparse.coef_, dense.coef_)


@pytest.mark.parametrize("loss", ("log_loss", "hinge", "squared_error"))
def test_ftrl_matches_reference(loss):
    X, labels, targets, weights = make_problem(seed=8)
    y = targets_for(loss, labels, targets)
    settings = dict(alpha=0.5, beta=1.0, l1=0.3, l2=0.1, loss=loss)
    lazy = FTRLProximal(X.shape[1], **settings)
    eager = EagerFTRL(X.shape[1], **settings)
    rng = np.random.default_rng(0)
    for _ in range(EPOCHS):
        order = rng.permutation(X.shape[0])
        loss_lazy = lazy.partial_fit(X, y, sample_weight=weights, order=order)
        loss_eager = eager.fit_pass(X, y, sample_weight=weights, order=order)
        np.testing.assert_allclose(loss_lazy, loss_eager, rtol=TOL, atol=TOL)
    assert_same_model(lazy, eager)


def test_ftrl_unsorted_rows_match_sorted():
    # The compiled pass updates rows with increasing columns in vectorized loops and
    # other rows one entry at a time. Without repeated columns both give the same model,
    # up to the rounding of the margins, whose terms are summed in another order.
    X, labels, _, weights = make_problem(num_rows=60, seed=10)
    rng = np.random.default_rng(1)
    shuffled = X.copy()
    for r in range(X.shape[0]):
        lo, hi = X.indptr[r], X.indptr[r + 1]
        perm = lo + rng.permutation(hi - lo)
        shuffled.indices[lo:hi] = X.indices[perm]
        shuffled.data[lo:hi] = X.data[perm]
    states = []
    for rows in (X, shuffled):
        model = FTRLProximal(X.shape[1], alpha=0.5, l1=0.3, l2=0.1)
        for _ in range(3):
            _core.ftrl_pass(rows.data, rows.indices, rows.indptr, labels, weights, None,
                            *model._state_arrays(), **model._kernel_arguments(),
                            compute_loss=True)
        states.append(model.get_state())
    np.testing.assert_allclose(states[1]["z"], states[0]["z"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(states[1]["n"], states[0]["n"], rtol=1e-12, atol=1e-15)


def test_ftrl_exact_zeros():
    X, labels, _, _ = make_problem(seed=9)
    model = FTRLProximal(X.shape[1], alpha=0.5, l1=2.0, l2=1.0)
    for _ in range(EPOCHS):
        model.partial_fit(X, labels)
    coef = model.coef_
    assert coef[3] == 0.0  # a column with no entries
    assert (coef == 0.0).sum() >= 5
    assert (coef != 0.0).sum() >= 1
    np.testing.assert_array_equal(coef == 0.0, np.abs(model.get_state()["z"]) <= 2.0)


SOLVER_CASES = {
    "sgd_l1_fold": lambda n: LazySGD(n, learning_rate="constant", eta0=0.5, alpha=0.2,
                                     l1_ratio=0.3),
    "sgd_average": lambda n: LazySGD(n, learning_rate="invscaling", eta0=0.5, alpha=0.01,
                                     average=5),
    "momentum": lambda n: LazySGD(n, momentum=0.9, alpha=0.01, l1_ratio=0.5),
    "adagrad": lambda n: LazySGD(n, method="adagrad", loss="hinge", alpha=0.01, l1_ratio=0.5),
    "adam": lambda n: LazySGD(n, method="adam", loss="huber", learning_rate="constant",
                              alpha=0.01, l1_ratio=0.2),
    "ftrl": lambda n: FTRLProximal(n),
}


def states_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("case", sorted(SOLVER_CASES))
def test_partial_fit_chunks_equal_one_call(case):
    X, labels, targets, weights = make_problem(num_rows=60, seed=10)
    y = labels if case != "adam" else targets
    order = np.random.default_rng(3).permutation(60)
    whole = SOLVER_CASES[case](X.shape[1])
    chunked = SOLVER_CASES[case](X.shape[1])
    for _ in range(3):
        whole.partial_fit(X, y, sample_weight=weights, order=order)
        Xp, yp, wp = X[order], y[order], weights[order]
        for lo, hi in ((0, 7), (7, 31), (31, 60)):
            chunked.partial_fit(Xp[lo:hi], yp[lo:hi], sample_weight=wp[lo:hi])
    states_equal(whole.get_state(), chunked.get_state())
    assert np.array_equal(whole.coef_, chunked.coef_)


@pytest.mark.parametrize("case", sorted(SOLVER_CASES))
def test_long_shuffled_pass_equals_permuted_rows(case):
    # A shuffled pass copies its rows into visit order in chunks of 2048 visits, except a
    # chunk of consecutive rows, which runs in place. This order starts with such a chunk and
    # then spans three copied chunks, with repeats. partial_fit_many runs on 1 and 2 threads.
    X, labels, targets, weights = make_problem(num_rows=2500, num_features=40, density=0.1,
                                               seed=12)
    y = labels if case != "adam" else targets
    rng = np.random.default_rng(4)
    order = np.concatenate([np.arange(100, 2148), rng.permutation(2500),
                            rng.integers(0, 2500, 3000)])
    saved = _core.get_num_threads()
    try:
        models = {}
        for threads in (1, 2):
            _core.set_num_threads(threads)
            model = SOLVER_CASES[case](X.shape[1])
            losses = [partial_fit_many([model], X, [y], sample_weight=weights, order=order)[0]
                      for _ in range(2)]
            models[threads] = (model, losses)
    finally:
        _core.set_num_threads(saved)
    in_order = SOLVER_CASES[case](X.shape[1])
    losses = [in_order.partial_fit(X[order], y[order], sample_weight=weights[order])
              for _ in range(2)]
    for model, model_losses in models.values():
        states_equal(model.get_state(), in_order.get_state())
        assert model_losses == losses


@pytest.mark.parametrize("case", sorted(SOLVER_CASES))
def test_state_round_trip(case):
    X, labels, targets, _ = make_problem(seed=11)
    y = labels if case != "adam" else targets
    first = SOLVER_CASES[case](X.shape[1])
    first.partial_fit(X, y)
    second = SOLVER_CASES[case](X.shape[1])
    second.set_state(first.get_state())
    third = pickle.loads(pickle.dumps(first))
    for model in (first, second, third):
        model.partial_fit(X, y)
    states_equal(first.get_state(), second.get_state())
    states_equal(first.get_state(), third.get_state())
    assert second.t_ == 2 * X.shape[0]


def test_get_state_returns_copies():
    X, labels, _, _ = make_problem()
    model = LazySGD(X.shape[1])
    model.partial_fit(X, labels)
    state = model.get_state()
    state["coef"][:] = 5.0
    assert not np.array_equal(model.get_state()["coef"], state["coef"])


def test_decision_function_uses_coef():
    X, labels, _, _ = make_problem()
    model = LazySGD(X.shape[1], alpha=0.01, l1_ratio=0.5)
    model.partial_fit(X, labels)
    np.testing.assert_allclose(model.decision_function(X), X @ model.coef_ + model.intercept_)


def test_progressive_loss_of_first_row():
    X, labels, _, _ = make_problem()
    model = LazySGD(X.shape[1])
    loss = model.partial_fit(X[:1], labels[:1])
    assert loss == pytest.approx(np.log(2.0), rel=1e-15)


# scikit-learn anchor --------------------------------------------------------------

SKLEARN_CASES = [
    # (loss, penalty, learning_rate, average, rtol)
    *[(loss, "l2", schedule, False, 1e-9) for loss in LOSSES for schedule in
      ("constant", "invscaling", "optimal")],
    *[(loss, "l1", "optimal", False, 1e-9) for loss in LOSSES],
    ("log_loss", "l2", "optimal", True, 1e-9),
    ("hinge", "l2", "invscaling", 5, 1e-9),
]
# Elastic net is left out: scikit-learn's L1 clip keeps the owed penalty u and the
# applied amounts q in unscaled units, not shrunk by the L2 decay, while LazySGD shrinks
# them with the weights (the rule that makes the lazy form exact). On this problem the
# two differ by 0.5% on most weights and one weight is zero in one and 0.27 in the
# other after 3 epochs.


@pytest.mark.parametrize("loss,penalty,schedule,average,rtol", SKLEARN_CASES)
def test_matches_sklearn_sgd_on_dense_data(loss, penalty, schedule, average, rtol):
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(12)
    # Dense rows with no zeros, where scikit-learn's per-row L1 reaches every weight at
    # every step and its intercept is not damped (it uses 0.01 on sparse input).
    X = rng.uniform(0.05, 0.6, (80, 6)) * rng.choice([-1.0, 1.0], (80, 6))
    y = np.where(X @ rng.normal(size=6) + 0.3 * rng.normal(size=80) > 0, 1.0, -1.0)
    alpha, eta0, epochs = 0.01, 0.05, 3
    l1_ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.5}[penalty]
    reference = sklearn_linear.SGDClassifier(
        loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, learning_rate=schedule,
        eta0=eta0, shuffle=False, average=average, max_iter=epochs, tol=None, epsilon=0.3,
    ).fit(X, y)
    model = LazySGD(6, loss=loss, learning_rate=schedule, eta0=eta0, alpha=alpha,
                    l1_ratio=l1_ratio, average=average, epsilon=0.3)
    for _ in range(epochs):
        model.partial_fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_[0], rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(model.intercept_, reference.intercept_[0], rtol=rtol,
                               atol=rtol * 1e-2)


# a9a --------------------------------------------------------------------------------


def test_a9a_log_loss_near_full_batch_optimum(data_file):
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    from fastopt.datasets import load_svmlight_files

    X, y, X_test, y_test = load_svmlight_files(
        [data_file("a9a"), data_file("a9a.t")], n_features=123
    )
    alpha = 1e-4
    n = X.shape[0]
    optimum = sklearn_linear.LogisticRegression(C=1.0 / (alpha * n), tol=1e-10,
                                                max_iter=2000).fit(X, y)

    def test_log_loss(coef, intercept):
        margin = y_test * (X_test @ coef + intercept)
        return float(np.mean(np.logaddexp(0.0, -margin)))

    best = test_log_loss(optimum.coef_[0], optimum.intercept_[0])
    # Averaged SGD with eta_t = 0.5 / sqrt(t). The default "optimal" schedule starts with
    # steps of alpha^(-1/4) = 10 at this alpha and needs more passes: 5.3% above the
    # optimum after 5 passes in file order, where this setting is 0.56% above after 3.
    model = LazySGD(123, alpha=alpha, learning_rate="invscaling", eta0=0.5, average=True)
    for _ in range(3):
        model.partial_fit(X, y)
    reached = test_log_loss(model.coef_, model.intercept_)
    print(f"a9a test log-loss: LazySGD {reached:.6f}, full-batch optimum {best:.6f}")
    assert reached <= 1.01 * best, (reached, best)


# errors -----------------------------------------------------------------------------

CONSTRUCTOR_ERRORS = [
    (dict(loss="logistic"), "loss"),
    (dict(method="sag"), "method"),
    (dict(learning_rate="pa1"), "learning_rate"),
    (dict(alpha=-1.0), "alpha"),
    (dict(l1_ratio=1.5), "l1_ratio"),
    (dict(l1_ratio=-0.1), "l1_ratio"),
    (dict(eta0=0.0), "eta0"),
    (dict(eta0=-0.1), "eta0"),
    (dict(alpha=0.0), "alpha"),  # the default "optimal" schedule needs alpha > 0
    (dict(momentum=1.0), "momentum"),
    (dict(method="adam", momentum=0.5), "momentum"),
    (dict(average=-1), "average"),
    (dict(average=True, l1_ratio=0.5), "average"),
    (dict(beta1=1.0), "beta1"),
    (dict(epsilon=float("nan")), "epsilon"),
    (dict(dtype=np.int32), "dtype"),
]


@pytest.mark.parametrize("kwargs,name", CONSTRUCTOR_ERRORS)
def test_lazy_sgd_rejects_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LazySGD(5, **kwargs)


@pytest.mark.parametrize("kwargs,name", [
    (dict(alpha=0.0), "alpha"), (dict(beta=-1.0), "beta"), (dict(l1=-1.0), "l1"),
    (dict(l2=-0.5), "l2"), (dict(loss="huber"), "loss"),
])
def test_ftrl_rejects_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FTRLProximal(5, **kwargs)


@pytest.mark.parametrize("n_features", [0, -3, 2.5, True])
def test_rejects_bad_n_features(n_features):
    with pytest.raises(ValueError, match="n_features"):
        LazySGD(n_features)
    with pytest.raises(ValueError, match="n_features"):
        FTRLProximal(n_features)


def fit_errors(X, labels):
    nan_X = X.copy()
    nan_X.data[4] = np.nan
    bad_labels = labels.copy()
    bad_labels[2] = 0.0
    nan_y = labels.copy()
    nan_y[1] = np.nan
    negative = np.ones(X.shape[0])
    negative[6] = -0.5
    return [
        (dict(X=X[:, :-1]), r"X: expected 25 features \(columns\), got 24"),
        (dict(X=nan_X), r"X: expected finite values, got nan"),
        (dict(y=bad_labels), r"y\[2\]: loss 'log_loss' expects labels -1 or \+1, got 0.0"),
        (dict(y=nan_y), r"y\[1\]: expected a finite value, got nan"),
        (dict(y=labels[:-1]), r"y: expected shape \(40,\)"),
        (dict(sample_weight=negative), r"sample_weight\[6\]: expected a finite value >= 0, "
                                       r"got -0.5"),
        (dict(order=np.array([0, 40])), r"order\[1\]: expected a row index in \[0, 40\), got 40"),
        (dict(order=np.array([0.0, 1.0])), r"order: expected a 1-D array of row indices"),
    ]


@pytest.mark.parametrize("make", [lambda n: LazySGD(n), lambda n: FTRLProximal(n)])
def test_partial_fit_rejects_bad_input_before_writing(make):
    X, labels, _, _ = make_problem()
    model = make(X.shape[1])
    model.partial_fit(X, labels)
    before = model.get_state()
    for override, message in fit_errors(X, labels):
        args = {"X": X, "y": labels, "sample_weight": None, "order": None, **override}
        with pytest.raises(ValueError, match=message):
            model.partial_fit(args["X"], args["y"], sample_weight=args["sample_weight"],
                              order=args["order"])
        states_equal(before, model.get_state())


def _late_defects(X):
    """Copies of X with one defect in its last row, which a pass reaches after the others."""
    nan_X = X.copy()
    nan_X.data[-1] = np.nan
    wide = X.copy()
    wide.indices[-1] = X.shape[1]
    return [(nan_X, r"X: expected finite values, got nan at row 399"),
            (wide, rf"indices\[{X.nnz - 1}\]: expected a column in \[0, 25\), got 25 "
                   r"\(row 399\)")]


LATE_CHECK_SOLVERS = {
    f"{method}-l1_ratio={l1_ratio}": (lambda n, m=method, r=l1_ratio: LazySGD(n, method=m,
                                                                          l1_ratio=r))
    for method in ("sgd", "adagrad", "adam") for l1_ratio in (0.0, 0.5)
}
LATE_CHECK_SOLVERS["ftrl"] = FTRLProximal


@pytest.mark.parametrize("name", sorted(LATE_CHECK_SOLVERS))
def test_late_bad_row_restores_state(name):
    # Enough stored values per state element that the pass checks each row as it reaches
    # it, after updating the state for the rows before, instead of checking all of X first.
    # The state must come back unchanged.
    X, labels, _, _ = make_problem(num_rows=400)
    assert X.nnz >= 8 * (X.shape[1] * 3 + 9)
    model = LATE_CHECK_SOLVERS[name](X.shape[1])
    partial_fit_many([model], X, [labels])
    before = model.get_state()
    for bad, message in _late_defects(X):
        with pytest.raises(ValueError, match=message):
            partial_fit_many([model], bad, [labels])
        states_equal(before, model.get_state())


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("defect", ["negative", "wide", "inf", "nan"])
@pytest.mark.parametrize("name", ["sgd-l1_ratio=0.0", "ftrl"])
def test_checked_run_finds_defect(name, defect, index_dtype):
    # The pass checks rows in runs before it reads them. A defect in the middle of a run
    # must stop the pass before the bad row and leave the state as it was.
    X, labels, _, _ = make_problem(num_rows=400)
    model = LATE_CHECK_SOLVERS[name](X.shape[1])
    partial_fit_many([model], X, [labels])
    before = model.get_state()
    # scipy stores small int64 index arrays as int32 when it builds or copies a matrix, so
    # the arrays are set after the copy.
    bad = X.copy()
    bad.indices = bad.indices.astype(index_dtype)
    bad.indptr = bad.indptr.astype(index_dtype)
    assert bad.indices.dtype == index_dtype
    # The first or the last entry of row 150, so that its indices stay sorted and reach the
    # compiled pass.
    e = int(bad.indptr[150]) if defect == "negative" else int(bad.indptr[151]) - 1
    assert bad.indptr[151] > bad.indptr[150]
    if defect == "negative":
        bad.indices[e] = -1
        message = rf"indices\[{e}\]: expected a column in \[0, 25\), got -1"
    elif defect == "wide":
        bad.indices[e] = 2**31 - 1
        message = rf"indices\[{e}\]: expected a column in \[0, 25\), got {2**31 - 1}"
    else:
        bad.data[e] = np.inf if defect == "inf" else np.nan
        message = rf"X: expected finite values, got {defect} at row 150"
    with pytest.raises(ValueError, match=message):
        partial_fit_many([model], bad, [labels])
    states_equal(before, model.get_state())


def test_late_bad_offset_restores_state():
    # Straight to the compiled pass, which checks each row's offsets itself.
    X, labels, _, _ = make_problem(num_rows=400)
    model = LazySGD(X.shape[1])
    partial_fit_many([model], X, [labels])
    before = model.get_state()
    indptr = X.indptr.copy()
    indptr[-2] = X.nnz + 5
    with pytest.raises(ValueError, match=rf"indptr\[399\]: expected a value in "
                                         rf"\[{indptr[-3]}, {X.nnz}\], got {X.nnz + 5}"):
        _core.lazy_sgd_pass_many(X.data, X.indices, indptr, labels[None, :], None, None,
                                 [model._state_arrays()], **model._kernel_arguments(),
                                 compute_loss=False)
    states_equal(before, model.get_state())


@pytest.mark.parametrize("edit", ["first", "last"])
def test_offsets_must_span_every_entry(edit):
    # A row-by-row check reads only entries inside some row. So offsets that leave entries
    # out (here a NaN and a column past the end) make the pass check all of X first, as the
    # single-solver pass does.
    X, labels, _, _ = make_problem(num_rows=400)
    data = np.concatenate([[np.nan], X.data]) if edit == "first" else np.append(X.data, np.nan)
    indices = (np.concatenate([[10**6], X.indices]) if edit == "first"
               else np.append(X.indices, 10**6)).astype(X.indices.dtype)
    indptr = X.indptr + 1 if edit == "first" else X.indptr.copy()
    model = LazySGD(X.shape[1])
    with pytest.raises(ValueError, match=r"indptr\[0\]: expected 0, got 1"
                       if edit == "first" else r"indices\[\d+\]: expected a column"):
        _core.lazy_sgd_pass_many(data, indices, indptr, labels[None, :], None, None,
                                 [model._state_arrays()], **model._kernel_arguments(),
                                 compute_loss=False)
    assert model.t_ == 0


def test_checked_pass_matches_separate_check():
    # The estimators' passes check rows inside the pass, while LazySGD.partial_fit checks
    # X first. Both run the same arithmetic.
    X, labels, _, _ = make_problem(num_rows=400)
    for make in (LazySGD, FTRLProximal):
        inside = make(X.shape[1])
        first = make(X.shape[1])
        for _ in range(2):
            partial_fit_many([inside], X, [labels])
            first.partial_fit(X, labels)
        states_equal(first.get_state(), inside.get_state())


def test_malformed_offsets_raise_early():
    X, labels, _, _ = make_problem(num_rows=400)
    model = LazySGD(X.shape[1])
    bad = X.copy()
    bad.indptr[-2] = X.nnz + 5
    with pytest.raises(ValueError, match=r"indptr\[399\]: expected a value in"):
        model.partial_fit(bad, labels)
    decreasing = X.copy()
    decreasing.indptr[10] = decreasing.indptr[12] + 1
    with pytest.raises(ValueError, match=r"indptr\[1[01]\]: expected a value in"):
        partial_fit_many([model], decreasing, [labels])
    assert model.t_ == 0


def test_regression_losses_accept_real_targets():
    X, _, targets, _ = make_problem()
    for loss in ("squared_error", "huber"):
        LazySGD(X.shape[1], loss=loss).partial_fit(X, targets)


def test_set_state_rejects_bad_state_before_writing():
    X, labels, _, _ = make_problem()
    model = LazySGD(X.shape[1], l1_ratio=0.5)
    model.partial_fit(X, labels)
    before = model.get_state()
    bad_cases = []
    for key in ("coef", "l1_applied", "globals"):
        wrong_shape = dict(before)
        wrong_shape[key] = before[key][:-1]
        bad_cases.append((wrong_shape, key))
    missing = dict(before)
    del missing["l1_applied"]
    bad_cases.append((missing, "l1_applied"))
    zero_scale = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in before.items()}
    zero_scale["globals"][0] = 0.0
    bad_cases.append((zero_scale, "scale"))
    bad_cases.append(({**before, "t": -1}, "t"))
    for state, name in bad_cases:
        with pytest.raises(ValueError, match=name):
            model.set_state(state)
        states_equal(before, model.get_state())


def test_decay_learning_rate_needs_adaptive():
    with pytest.raises(ValueError, match="adaptive"):
        LazySGD(3).decay_learning_rate()
    model = LazySGD(3, learning_rate="adaptive", eta0=0.5)
    assert model.decay_learning_rate() == pytest.approx(0.1)


def test_every_method_loss_penalty_combination_runs():
    X, labels, _, _ = make_problem()
    for (method, momentum), loss, l1_ratio in itertools.product(METHODS, LOSSES, (0.0, 0.5)):
        model = LazySGD(X.shape[1], method=method, momentum=momentum, loss=loss,
                        l1_ratio=l1_ratio)
        assert np.isfinite(model.partial_fit(X, labels))


@pytest.mark.parametrize("make", [
    lambda n: LazySGD(n, loss="log_loss", learning_rate="constant", eta0=0.1, alpha=1e-3),
    lambda n: LazySGD(n, loss="huber", learning_rate="constant", eta0=0.1, alpha=1e-3,
                      l1_ratio=0.5),
    lambda n: FTRLProximal(n, alpha=0.1, l1=0.01),
])
def test_skipped_loss_same_weights(make):
    X, labels, targets, _ = make_problem()
    with_loss = make(X.shape[1])
    without_loss = make(X.shape[1])
    y = labels if with_loss._loss in ("log_loss", "hinge") else targets
    for _ in range(3):
        loss = with_loss.partial_fit(X, y)
        skipped = without_loss.partial_fit(X, y, compute_loss=False)
        assert loss > 0.0
        assert skipped == 0.0
    np.testing.assert_array_equal(with_loss.coef_, without_loss.coef_)
    assert with_loss.intercept_ == without_loss.intercept_


def test_skipped_loss_reports_overflow():
    X, labels, _, _ = make_problem()
    solver = LazySGD(X.shape[1], loss="squared_error", learning_rate="constant", eta0=1e200,
                     alpha=0.0)
    with np.errstate(all="ignore"):
        result = solver.partial_fit(X * 1e100, labels, compute_loss=False)
    assert np.isnan(result)


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_pass_rejects_nonfinite_data(bad):
    X, labels, _, _ = make_problem()
    X = X.tocsr(copy=True)
    X.data[5] = bad
    row = int(np.searchsorted(X.indptr, 5, side="right") - 1)
    solver = LazySGD(X.shape[1], loss="log_loss", learning_rate="constant")
    before = solver.get_state()
    with pytest.raises(ValueError, match=f"at row {row}, column {X.indices[5]}"):
        solver.partial_fit(X, labels)
    np.testing.assert_array_equal(solver.get_state()["coef"], before["coef"])


@pytest.mark.parametrize("case", sorted(SOLVER_CASES))
def test_default_order_equals_every_row(case):
    X, labels, targets, weights = make_problem(num_rows=60, seed=11)
    y = labels if case != "adam" else targets
    default = SOLVER_CASES[case](X.shape[1])
    explicit = SOLVER_CASES[case](X.shape[1])
    for _ in range(2):
        loss_default = default.partial_fit(X, y, sample_weight=weights)
        loss_explicit = explicit.partial_fit(X, y, sample_weight=weights, order=np.arange(60))
        assert loss_default == loss_explicit
    states_equal(default.get_state(), explicit.get_state())


def corrupted_rows(num_rows):
    """Rows with 20 of 40 columns each, and copies with one bad entry in one of their arrays.

    Each bad entry sits in the last quarter of its array, so that a check that read only
    the first thread's share would miss it.
    """
    rng = np.random.default_rng(12)
    indices = np.tile(np.arange(0, 40, 2, dtype=np.int32), num_rows)
    indptr = np.arange(0, 20 * num_rows + 1, 20, dtype=np.int32)
    X = sp.csr_matrix((rng.uniform(-0.4, 0.4, indices.size), indices, indptr),
                      shape=(num_rows, 40))
    labels = np.where(rng.random(num_rows) < 0.5, -1.0, 1.0)
    bad_index = X.indices.copy()
    position = 3 * X.nnz // 4
    bad_index[position] = 40
    bad_indptr = X.indptr.copy()
    row = 3 * num_rows // 4
    bad_indptr[row + 1] = bad_indptr[row] - 1
    bad_data = X.data.copy()
    bad_data[position] = np.inf
    bad_order = np.arange(num_rows, dtype=np.int64)
    bad_order[row] = -1
    cases = [
        (dict(indices=bad_index), rf"indices\[{position}\]: expected a column in \[0, 40\), "
                                  r"got 40"),
        (dict(indptr=bad_indptr), rf"indptr\[{row + 1}\]: expected a value in"),
        (dict(data=bad_data), rf"X: expected finite values, got inf at row "),
        (dict(order=bad_order), rf"order\[{row}\]: expected a row in \[0, {num_rows}\), got -1"),
    ]
    return X, labels, cases


# 220,000 rows make 4.4e6 stored values, above the size from which the check is threaded.
@pytest.mark.parametrize("num_rows", [30, 220_000])
def test_core_pass_names_bad_entry_before_writing(num_rows):
    X, labels, cases = corrupted_rows(num_rows)
    solver = LazySGD(X.shape[1], loss="log_loss")
    solver.partial_fit(X, labels)
    before = solver.get_state()
    for override, message in cases:
        arrays = {"data": X.data, "indices": X.indices, "indptr": X.indptr, "order": None,
                  **override}
        with pytest.raises(ValueError, match=message):
            _core.lazy_sgd_pass(arrays["data"], arrays["indices"], arrays["indptr"], labels,
                                None, arrays["order"], *solver._state_arrays(),
                                **solver._kernel_arguments())
        states_equal(before, solver.get_state())
