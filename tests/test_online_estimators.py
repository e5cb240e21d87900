"""Online estimators: the scikit-learn contract, chunked training, one-vs-rest, stopping, accuracy."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import fastopt
from fastopt.datasets import load_svmlight, load_svmlight_files
from fastopt.metrics import log_loss
from fastopt.online import FTRLClassifier, SGDClassifier, SGDRegressor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CLASSIFIERS = [
    lambda: SGDClassifier(loss="log_loss", random_state=0, max_iter=5),
    lambda: SGDClassifier(loss="hinge", penalty="elasticnet", random_state=0, max_iter=5),
    lambda: SGDClassifier(loss="log_loss", method="adagrad", learning_rate="constant", eta0=0.1, max_iter=5),
    lambda: SGDClassifier(loss="log_loss", method="adam", learning_rate="constant", eta0=0.01, max_iter=5),
    lambda: SGDClassifier(loss="log_loss", average=True, random_state=0, max_iter=5),
    lambda: FTRLClassifier(epochs=3, random_state=0),
]


def binary_data(n=400, d=30, seed=0, labels=(0, 1)):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.2, random_state=rng, format="csr")
    w = rng.normal(size=d)
    y = np.where(X @ w > np.median(X @ w), labels[1], labels[0])
    return X, y


@pytest.fixture(scope="module")
def a9a(data_dir):
    return load_svmlight_files([os.path.join(data_dir, "a9a"), os.path.join(data_dir, "a9a.t")], n_features=123)


def l2_optimum_log_loss(X_train, y_train, X_test, y_test, alpha):
    """Test log-loss of the full-batch optimum of the same L2-regularized objective."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    model = linear_model.LogisticRegression(C=1.0 / (alpha * X_train.shape[0]), tol=1e-10, max_iter=5000)
    model.fit(X_train, y_train)
    return log_loss((y_test > 0).astype(int), model.predict_proba(X_test)[:, 1])


# ----- contract


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classifier_contract(make):
    X, y = binary_data(labels=("no", "yes"))
    model = make()
    assert model.fit(X, y) is model
    np.testing.assert_array_equal(model.classes_, ["no", "yes"])
    assert model.coef_.shape == (1, 30)
    assert model.intercept_.shape == (1,)
    scores = model.decision_function(X)
    assert scores.shape == (400,)
    np.testing.assert_array_equal(model.predict(X), np.where(scores > 0, "yes", "no"))
    assert model.score(X, y) > 0.8
    assert model.n_iter_ >= 1
    assert model.t_ == model.n_iter_ * 400


@pytest.mark.parametrize("make", [CLASSIFIERS[0], CLASSIFIERS[5]])
def test_predict_proba_rows_sum_to_one(make):
    X, y = binary_data()
    model = make().fit(X, y)
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (400, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    expected = 1.0 / (1.0 + np.exp(-model.decision_function(X)))
    np.testing.assert_allclose(probabilities[:, 1], expected)


def test_predict_proba_needs_log_loss():
    X, y = binary_data()
    model = SGDClassifier(loss="hinge").fit(X, y)
    with pytest.raises(AttributeError, match=r"predict_proba needs loss='log_loss', got loss='hinge'"):
        model.predict_proba(X)


def test_dense_input_equals_sparse_without_intercept():
    X, y = binary_data()
    sparse_model = SGDClassifier(random_state=1, max_iter=3, fit_intercept=False).fit(X, y)
    dense_model = SGDClassifier(random_state=1, max_iter=3, fit_intercept=False).fit(X.toarray(), y)
    np.testing.assert_array_equal(sparse_model.coef_, dense_model.coef_)


@pytest.mark.parametrize("sparse", [True, False])
def test_intercept_damping_follows_sklearn(sparse):
    # scikit-learn damps the intercept's steps by 0.01 on sparse input only.
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = binary_data()
    X = X if sparse else X.toarray()
    ours = SGDClassifier(loss="log_loss", alpha=1e-3, shuffle=False)
    theirs = linear_model.SGDClassifier(loss="log_loss", alpha=1e-3, shuffle=False)
    for _ in range(3):
        ours.partial_fit(X, y, classes=[0, 1])
        theirs.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0, max_iter=3, tol=None),
    lambda: SGDClassifier(loss="hinge", penalty="l1", alpha=1e-3, random_state=0, max_iter=3,
                          tol=None),
    lambda: SGDClassifier(loss="log_loss", method="adam", average=True, random_state=0,
                          max_iter=3, tol=None, class_weight={2: 3.0}),
    lambda: FTRLClassifier(l1=0.01, random_state=0, epochs=3),
])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_one_vs_rest_classes_in_parallel_equal_one_at_a_time(make, threads):
    # Each class's solver, trained alone on its +-1 targets, must give bit-identical weights.
    rng = np.random.default_rng(5)
    X = sp.random(300, 40, density=0.2, random_state=3, format="csr")
    y = rng.integers(0, 5, size=300)
    previous = fastopt.get_num_threads()
    fastopt.set_num_threads(threads)
    try:
        model = make().fit(X, y)
    finally:
        fastopt.set_num_threads(previous)
    reference = make()
    rng_order = np.random.default_rng(0)
    solvers = [reference._new_solver(40) for _ in range(5)]
    weights = np.where(y == 2, 3.0, 1.0) if getattr(reference, "class_weight", None) else None
    for solver in solvers:
        if hasattr(solver, "intercept_decay"):
            solver.intercept_decay = 0.01
    for _ in range(3):
        order = rng_order.permutation(300)
        for k, solver in enumerate(solvers):
            solver.partial_fit(X, np.where(y == k, 1.0, -1.0), weights, order)
    np.testing.assert_array_equal(model.coef_, np.vstack([s.coef_ for s in solvers]))
    np.testing.assert_array_equal(model.intercept_, [s.intercept_ for s in solvers])


def test_get_set_params_and_clone():
    base = pytest.importorskip("sklearn.base")
    model = SGDClassifier(alpha=0.01, method="adam")
    params = model.get_params()
    assert params["alpha"] == 0.01
    assert params["method"] == "adam"
    assert set(params) >= {"loss", "penalty", "l1_ratio", "learning_rate", "eta0", "power_t", "max_iter",
                           "tol", "shuffle", "random_state", "early_stopping", "validation_fraction",
                           "n_iter_no_change", "average", "fit_intercept", "class_weight", "warm_start"}
    assert model.set_params(alpha=0.5) is model
    assert model.alpha == 0.5
    clone = base.clone(model)
    assert clone.get_params() == model.get_params()
    assert FTRLClassifier(l1=3.0).get_params()["l1"] == 3.0
    with pytest.raises(ValueError, match=r"invalid parameter 'alpah' for SGDClassifier"):
        model.set_params(alpah=1.0)


def test_same_seed_same_model_other_seed_differs():
    X, y = binary_data()
    first = SGDClassifier(random_state=5, max_iter=3, tol=None).fit(X, y)
    again = SGDClassifier(random_state=5, max_iter=3, tol=None).fit(X, y)
    other = SGDClassifier(random_state=6, max_iter=3, tol=None).fit(X, y)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert not np.array_equal(first.coef_, other.coef_)


def test_pickle_round_trip_continues_training():
    X, y = binary_data()
    model = SGDClassifier(loss="log_loss", shuffle=False).partial_fit(X[:200], y[:200], classes=[0, 1])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.decision_function(X), model.decision_function(X))
    model.partial_fit(X[200:], y[200:])
    restored.partial_fit(X[200:], y[200:])
    np.testing.assert_array_equal(restored.coef_, model.coef_)


def test_regressor_contract():
    rng = np.random.default_rng(2)
    X = sp.random(500, 10, density=0.5, random_state=rng, format="csr")
    y = X @ rng.normal(size=10) + 1.0
    model = SGDRegressor(random_state=0, max_iter=50, eta0=0.05).fit(X, y)
    assert model.coef_.shape == (10,)
    assert model.predict(X).shape == (500,)
    assert model.score(X, y) > 0.9
    huber = SGDRegressor(loss="huber", epsilon=1.0, random_state=0, max_iter=50, eta0=0.05).fit(X, y)
    assert huber.score(X, y) > 0.8


# ----- chunked training


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_partial_fit_chunks_equal_fit(make):
    X, y = binary_data(n=300)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=300)
    epochs_name = make()._epochs_name
    fitted = make().set_params(shuffle=False, tol=None, **{epochs_name: 1}).fit(X, y, sample_weight=weights)
    chunked = make().set_params(shuffle=False)
    for start in range(0, 300, 70):
        rows = slice(start, start + 70)
        chunked.partial_fit(X[rows], y[rows], classes=[0, 1], sample_weight=weights[rows])
    np.testing.assert_array_equal(chunked.coef_, fitted.coef_)
    np.testing.assert_array_equal(chunked.intercept_, fitted.intercept_)


def test_partial_fit_regressor_equals_fit():
    rng = np.random.default_rng(2)
    X = sp.random(200, 10, density=0.5, random_state=rng, format="csr")
    y = X @ rng.normal(size=10)
    fitted = SGDRegressor(shuffle=False, max_iter=1, tol=None).fit(X, y)
    chunked = SGDRegressor(shuffle=False)
    for start in range(0, 200, 64):
        chunked.partial_fit(X[start:start + 64], y[start:start + 64])
    np.testing.assert_array_equal(chunked.coef_, fitted.coef_)


def test_warm_start_continues():
    X, y = binary_data()
    model = SGDClassifier(warm_start=True, shuffle=False, max_iter=1, tol=None)
    model.fit(X, y)
    model.fit(X, y)
    two_epochs = SGDClassifier(shuffle=False, max_iter=2, tol=None).fit(X, y)
    np.testing.assert_array_equal(model.coef_, two_epochs.coef_)
    assert model.t_ == 800


# ----- weights


def test_class_weight_equals_sample_weight():
    X, y = binary_data()
    by_class = SGDClassifier(class_weight={1: 3.0}, random_state=0, max_iter=3).fit(X, y)
    by_row = SGDClassifier(random_state=0, max_iter=3).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(by_class.coef_, by_row.coef_)


def test_class_weight_balanced_predicts_more_of_rare_class():
    rng = np.random.default_rng(0)
    X = sp.random(600, 20, density=0.3, random_state=rng, format="csr")
    score = X @ rng.normal(size=20) + rng.normal(scale=1.0, size=600)
    y = (score > np.quantile(score, 0.9)).astype(int)
    plain = SGDClassifier(loss="log_loss", random_state=0, max_iter=10).fit(X, y)
    balanced = SGDClassifier(loss="log_loss", class_weight="balanced", random_state=0, max_iter=10).fit(X, y)
    positives_plain = np.count_nonzero(plain.predict(X) == 1)
    positives_balanced = np.count_nonzero(balanced.predict(X) == 1)
    assert positives_balanced > positives_plain


def test_unit_sample_weight_equals_none():
    X, y = binary_data()
    a = FTRLClassifier(random_state=0).fit(X, y)
    b = FTRLClassifier(random_state=0).fit(X, y, sample_weight=np.ones(400))
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("make", [lambda: SGDClassifier(loss="log_loss", random_state=0),
                                  lambda: FTRLClassifier(random_state=0)])
def test_strided_sample_weight_equals_copy(make):
    X, y = binary_data()
    rng = np.random.default_rng(1)
    strided = rng.uniform(0.5, 2.0, 800)[::2]
    a = make().fit(X, y, sample_weight=strided)
    b = make().fit(X, y, sample_weight=strided.copy())
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    c = make().partial_fit(X, y, classes=[0, 1], sample_weight=strided)
    d = make().partial_fit(X, y, classes=[0, 1], sample_weight=strided.copy())
    np.testing.assert_array_equal(c.coef_, d.coef_)


# ----- stopping


def test_tol_stops_after_n_iter_no_change():
    X, y = binary_data()
    model = SGDClassifier(tol=1e6, n_iter_no_change=2, max_iter=50, random_state=0).fit(X, y)
    assert model.n_iter_ == 3
    assert len(model.loss_curve_) == 3


def test_early_stopping_uses_validation_rows():
    X, y = binary_data(n=500)
    model = SGDClassifier(early_stopping=True, validation_fraction=0.2, tol=1e6, n_iter_no_change=3,
                          max_iter=50, random_state=0).fit(X, y)
    assert model.n_iter_ == 4
    assert len(model.validation_scores_) == 4
    # Only the training rows are visited: 80% of 500 per epoch.
    assert model.t_ == 4 * 400


def test_early_stopping_runs_to_max_iter_without_tol():
    X, y = binary_data()
    model = FTRLClassifier(early_stopping=True, epochs=4, random_state=0).fit(X, y)
    assert model.n_iter_ == 4


def test_adaptive_rate_decays_before_stopping():
    X, y = binary_data()
    model = SGDClassifier(learning_rate="adaptive", eta0=0.1, tol=1e6, n_iter_no_change=1, max_iter=100,
                          random_state=0).fit(X, y)
    # 0.1 / 5**k stays >= 1e-6 for k <= 7, so seven decays and then a stop: 1 + 7 + 1 epochs.
    assert model.n_iter_ == 9


# ----- one-vs-rest


def test_one_vs_rest_structure():
    rng = np.random.default_rng(0)
    X = sp.random(600, 15, density=0.4, random_state=rng, format="csr")
    y = np.argmax(X @ rng.normal(size=(15, 3)), axis=1) * 10
    model = SGDClassifier(loss="log_loss", random_state=0, max_iter=20).fit(X, y)
    np.testing.assert_array_equal(model.classes_, [0, 10, 20])
    assert model.coef_.shape == (3, 15)
    scores = model.decision_function(X)
    assert scores.shape == (600, 3)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(scores, axis=1)])
    probabilities = model.predict_proba(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert model.score(X, y) > 0.8


def test_mushrooms_labels_one_and_two(data_file):
    X, y = load_svmlight(data_file("mushrooms"))
    model = FTRLClassifier(epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_, [1.0, 2.0])
    assert model.score(X, y) > 0.99


def news20_ovr(data_file, n_train, n_test):
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y = load_svmlight(data_file("news20.bz2"), n_features=62061)
    order = np.random.default_rng(0).permutation(X.shape[0])
    train, test = order[:n_train], order[n_train:n_train + n_test]
    ours = SGDClassifier(loss="hinge", alpha=1e-4, max_iter=5, tol=None, random_state=0).fit(X[train], y[train])
    theirs = sklearn_linear.SGDClassifier(loss="hinge", alpha=1e-4, max_iter=5, tol=None, random_state=0)
    theirs.fit(X[train], y[train])
    assert ours.coef_.shape == (20, 62061)
    return ours.score(X[test], y[test]), theirs.score(X[test], y[test])


def test_news20_subset_one_vs_rest(data_file):
    ours, theirs = news20_ovr(data_file, 1500, 1000)
    assert ours > theirs - 0.03, (ours, theirs)


def test_news20_full_one_vs_rest(data_file):
    ours, theirs = news20_ovr(data_file, 12000, 3935)
    assert ours > theirs - 0.01, (ours, theirs)


# ----- accuracy against the full-batch optimum


def test_a9a_asgd_reaches_l2_optimum(a9a):
    X_train, y_train, X_test, y_test = a9a
    alpha = 1e-4
    optimum = l2_optimum_log_loss(X_train, y_train, X_test, y_test, alpha)
    model = SGDClassifier(loss="log_loss", alpha=alpha, learning_rate="constant", eta0=0.02,
                          average=X_train.shape[0], max_iter=5, tol=None, random_state=0)
    model.fit(X_train, y_train)
    reached = log_loss((y_test > 0).astype(int), model.predict_proba(X_test)[:, 1])
    assert reached <= 1.01 * optimum, (reached, optimum)


def test_a9a_ftrl_reaches_l2_optimum(a9a):
    X_train, y_train, X_test, y_test = a9a
    optimum = l2_optimum_log_loss(X_train, y_train, X_test, y_test, 1e-4)
    model = FTRLClassifier(alpha=0.1, beta=1.0, l1=0.1, l2=1.0, epochs=3, random_state=0).fit(X_train, y_train)
    reached = log_loss((y_test > 0).astype(int), model.predict_proba(X_test)[:, 1])
    assert reached <= 1.01 * optimum, (reached, optimum)


def test_w8a_asgd_reaches_l2_optimum(data_file):
    X, y = load_svmlight(data_file("w8a"), n_features=300)
    order = np.random.default_rng(0).permutation(X.shape[0])
    cut = int(0.8 * X.shape[0])
    train, test = order[:cut], order[cut:]
    alpha = 1e-4
    optimum = l2_optimum_log_loss(X[train], y[train], X[test], y[test], alpha)
    model = SGDClassifier(loss="log_loss", alpha=alpha, learning_rate="constant", eta0=0.2,
                          average=train.size, max_iter=5, tol=None, random_state=0)
    model.fit(X[train], y[train])
    reached = log_loss((y[test] > 0).astype(int), model.predict_proba(X[test])[:, 1])
    assert reached <= 1.01 * optimum, (reached, optimum)


# ----- errors


@pytest.mark.parametrize(
    "model, match",
    [
        (SGDClassifier(loss="logistic"), r"loss: expected one of .*got 'logistic'"),
        (SGDClassifier(penalty="l3"), r"penalty: expected 'l2', 'l1', 'elasticnet' or None, got 'l3'"),
        (SGDClassifier(penalty=None), r"penalty: None needs a learning_rate other than 'optimal'"),
        (SGDClassifier(alpha=-1.0), r"alpha: expected a value >= 0.0, got -1.0"),
        (SGDClassifier(max_iter=0), r"max_iter: expected an integer >= 1, got 0"),
        (SGDClassifier(method="rmsprop"), r"method: expected one of .*got 'rmsprop'"),
        (SGDClassifier(learning_rate="fast"), r"learning_rate: expected one of .*got 'fast'"),
        (SGDClassifier(validation_fraction=1.5), r"validation_fraction: expected a number in \(0, 1\), got 1.5"),
        (SGDClassifier(n_iter_no_change=0), r"n_iter_no_change: expected an integer >= 1, got 0"),
        (SGDClassifier(class_weight={7: 2.0}), r"class_weight: label 7 is not a class"),
        (SGDClassifier(class_weight="equal"), r"class_weight: expected None, 'balanced' or a dict, got 'equal'"),
        (SGDClassifier(average=-1), r"average: expected a bool or an integer >= 0, got -1"),
        (SGDRegressor(loss="hinge"), r"loss: expected 'squared_error' or 'huber' for regression, got 'hinge'"),
        (FTRLClassifier(alpha=0.0), r"alpha: expected a value > 0.0, got 0.0"),
        (FTRLClassifier(l1=-1.0), r"l1: expected a value >= 0.0, got -1.0"),
        (FTRLClassifier(epochs=0), r"epochs: expected an integer >= 1, got 0"),
    ],
)
def test_bad_parameter_names_value(model, match):
    X, y = binary_data(n=20)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)


def test_bad_inputs_name_value():
    X, y = binary_data(n=20)
    with pytest.raises(ValueError, match=r"classes: expected all class labels on the first call, got None"):
        SGDClassifier().partial_fit(X, y)
    model = SGDClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y\[0\]: label 5 is not one of the classes \[0, 1\]"):
        model.partial_fit(X[:1], [5])
    with pytest.raises(ValueError, match=r"X: expected 30 features as in the fitted model, got 29"):
        model.partial_fit(X[:, :29], y)
    with pytest.raises(ValueError, match=r"classes: expected at least 2 classes, got \[1.0\]"):
        SGDClassifier().fit(X, np.ones(20))
    with pytest.raises(ValueError, match=r"sample_weight\[3\]: expected a finite value >= 0, got -1.0"):
        SGDClassifier().fit(X, y, sample_weight=np.r_[np.ones(3), -1.0, np.ones(16)])
    with pytest.raises(ValueError, match=r"y: expected shape \(20,\), got \(19,\)"):
        SGDClassifier().fit(X, y[:19])
    with pytest.raises(ValueError, match=r"class_weight: 'balanced' needs the whole training set"):
        SGDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    with pytest.raises(AttributeError, match=r"SGDClassifier is not fitted yet"):
        SGDClassifier().predict(X)


def test_failed_call_leaves_model_unchanged():
    X, y = binary_data(n=40)
    model = SGDClassifier(loss="log_loss").partial_fit(X, y, classes=[0, 1])
    before = model.coef_.copy()
    with pytest.raises(ValueError):
        model.partial_fit(X, np.r_[y[:-1], 9])
    np.testing.assert_array_equal(model.coef_, before)


# ----- example


def test_ctr_example_runs(data_dir):
    script = os.path.join(REPO, "examples", "ctr_click_prediction.py")
    result = subprocess.run([sys.executable, script, os.path.join(data_dir, "ctr", "criteo_sample.txt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "FTRLClassifier" in result.stdout
    assert "log-loss" in result.stdout
    assert "ROC-AUC" in result.stdout


def test_estimators_work_in_sklearn_cross_validation():
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = binary_data(n=150)
    for model in (SGDClassifier(random_state=0), FTRLClassifier(random_state=0)):
        scores = model_selection.cross_val_score(model, X, y, cv=3)
        assert scores.shape == (3,)
        assert np.all(scores > 0.5)


def test_overflowing_fit_raises_instead_of_nan():
    X, y = binary_data(n=100)
    with pytest.raises(ValueError, match=r"training loss became nan after \d+ rows"):
        SGDClassifier(loss="log_loss", random_state=0).fit(X * 1e200, y)


def _corrupt(kind):
    """A sparse matrix whose arrays were edited into a state scipy cannot read safely."""
    X = sp.random(2000, 20, density=0.3, format="csr" if kind.startswith("csr") else "csc",
                  random_state=1)
    if kind == "csr_offset":
        X.indptr[5] += 3_000_000
        return X, r"indptr\[5\]: expected a value in"
    if kind == "csc_offset":
        X.indptr[5] = X.indptr[6] + 50_000_000
        return X, r"indptr\[5\]: expected a value in"
    if kind == "csc_index":
        X.indices[3] = 50_000_000
        return X, r"indices\[3\]: expected an index in \[0, 2000\), got 50000000"
    X = X.tocoo()
    X.row[7] = -1
    return X, r"row\[7\]: expected an index in \[0, 2000\), got -1"


@pytest.mark.parametrize("kind", ["csr_offset", "csc_offset", "csc_index", "coo_row"])
@pytest.mark.parametrize("make", [
    pytest.param(lambda: SGDClassifier(), id="partial_fit"),
    pytest.param(lambda: SGDClassifier(early_stopping=True, validation_fraction=0.5, max_iter=1),
                 id="fit_early_stopping"),
])
def test_corrupt_sparse_input_raises(kind, make):
    # scipy follows these arrays without checking them (a conversion or a row
    # selection past the end corrupted memory), so the check comes first.
    X, message = _corrupt(kind)
    y = np.arange(2000) % 2
    model = make()
    with pytest.raises(ValueError, match=message):
        if model.early_stopping:
            model.fit(X, y)
        else:
            model.partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("make", [SGDClassifier, FTRLClassifier, SGDRegressor])
def test_failed_first_partial_fit_leaves_model_unfitted(make):
    X, y = binary_data()
    bad = X.toarray()
    bad[5, 3] = np.nan
    model = make()
    kwargs = {} if make is SGDRegressor else {"classes": [0, 1]}
    with pytest.raises(ValueError, match="X: expected finite values"):
        model.partial_fit(bad, y, **kwargs)
    assert not hasattr(model, "classes_")
    assert not hasattr(model, "n_features_in_")
    with pytest.raises(AttributeError, match="not fitted"):
        model.coef_
    model.partial_fit(X, y, **kwargs)
    assert model.t_ == X.shape[0]


@pytest.mark.parametrize("make", [SGDClassifier, FTRLClassifier, SGDRegressor])
@pytest.mark.parametrize("warm_start", [False, True])
def test_failed_fit_keeps_previous_model(make, warm_start):
    X, y = binary_data()
    model = make(warm_start=warm_start).fit(X, y)
    coef, intercept, t = model.coef_.copy(), model.intercept_.copy(), model.t_
    bad = X.copy()
    bad.data[-1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        model.fit(bad, y)
    np.testing.assert_array_equal(model.coef_, coef)
    np.testing.assert_array_equal(model.intercept_, intercept)
    assert model.t_ == t


@pytest.mark.parametrize("make", [SGDClassifier, FTRLClassifier, SGDRegressor])
def test_failed_first_fit_leaves_model_unfitted(make):
    X, y = binary_data()
    bad = X.copy()
    bad.data[-1] = np.nan
    model = make()
    with pytest.raises(ValueError, match="finite"):
        model.fit(bad, y)
    with pytest.raises(AttributeError, match="not fitted"):
        model.predict(X)


def test_failed_fit_stream_keeps_previous_model():
    X, y = binary_data()
    model = SGDClassifier().fit(X, y)
    coef = model.coef_.copy()
    bad = X.copy()
    bad.data[-1] = np.inf
    with pytest.raises(ValueError, match="finite"):
        model.fit_stream([(X[:200], y[:200]), (bad[200:], y[200:])], classes=[0, 1])
    np.testing.assert_array_equal(model.coef_, coef)


def test_infinite_class_weight_raises_before_training():
    X, y = binary_data()
    model = SGDClassifier().partial_fit(X, y, classes=[0, 1])
    coef = model.coef_.copy()
    model.set_params(class_weight={1: float("inf")})
    with pytest.raises(ValueError, match=r"class_weight\[1\]: expected a finite number"):
        model.partial_fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)


def test_overflowing_weight_product_raises_before_training():
    X, y = binary_data()
    weights = np.full(X.shape[0], 1e300)
    model = SGDClassifier(class_weight={1: 1e10}).partial_fit(X, y, classes=[0, 1])
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=r"sample_weight\[\d+\]: times the class weight"):
        model.partial_fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("make", [SGDClassifier, FTRLClassifier, SGDRegressor])
def test_zero_rows_raise(make):
    X, y = binary_data()
    kwargs = {} if make is SGDRegressor else {"classes": [0, 1]}
    model = make().partial_fit(X, y, **kwargs)
    with pytest.raises(ValueError, match="X: expected at least one row, got 0"):
        model.partial_fit(X[:0], y[:0], **kwargs)
    with pytest.raises(ValueError, match="X: expected at least one row, got 0"):
        make().fit(X[:0], y[:0])


def test_fit_stream_skips_empty_chunks():
    X, y = binary_data()
    chunks = [(X[:150], y[:150]), (X[:0], y[:0]), (X[150:], y[150:])]
    streamed = SGDClassifier(shuffle=False).fit_stream(chunks, classes=[0, 1])
    whole = SGDClassifier(shuffle=False).fit_stream([(X, y)], classes=[0, 1])
    np.testing.assert_array_equal(streamed.coef_, whole.coef_)
    assert streamed.t_ == X.shape[0]


def test_fit_stream_skips_empty_first_chunk():
    X, y = binary_data()
    empty = np.empty((0, 0))
    streamed = SGDClassifier(shuffle=False).fit_stream([(empty, y[:0]), (X, y)], classes=[0, 1])
    assert streamed.n_features_in_ == X.shape[1]
    assert streamed.t_ == X.shape[0]


def test_fit_stream_errors_name_the_chunk():
    X, y = binary_data()
    bad = X.copy()
    bad.indptr[3] = 10**6
    with pytest.raises(ValueError, match=r"chunk 1: indptr\[3\]"):
        SGDClassifier().fit_stream([(X, y), (bad, y)], classes=[0, 1])


def test_huge_integer_class_weight_raises():
    X, y = binary_data()
    model = SGDClassifier(class_weight={0: 10**400})
    with pytest.raises(ValueError, match=r"class_weight\[0\]: expected a finite number"):
        model.fit(X, y)


def test_fit_stream_of_empty_chunks_raises():
    X, y = binary_data()
    model = SGDClassifier()
    with pytest.raises(ValueError, match="the stream has no rows"):
        model.fit_stream([(X[:0], y[:0])], classes=[0, 1])
    assert not hasattr(model, "classes_")


@pytest.mark.parametrize("make", [SGDClassifier, FTRLClassifier, SGDRegressor])
@pytest.mark.parametrize("sparse", [False, True])
def test_complex_input_raises(make, sparse):
    # A cast would keep only the real part, so complex X is rejected as scikit-learn does.
    X, y = binary_data()
    complex_X = X.toarray() + 1j
    if sparse:
        complex_X = sp.csr_matrix(complex_X)
    kwargs = {} if make is SGDRegressor else {"classes": [0, 1]}
    with pytest.raises(ValueError, match="X: expected real numbers, got dtype complex128"):
        make().partial_fit(complex_X, y, **kwargs)
    with pytest.raises(ValueError, match="X: expected real numbers, got dtype complex128"):
        make().fit(complex_X, y)
