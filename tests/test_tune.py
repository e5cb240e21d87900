"""Grid and random search: exhaustive references, scikit-learn's GridSearchCV, seeds, threads."""

import warnings

import numpy as np
import pytest

from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.tune import (
    Categorical,
    GridSearch,
    GridStrategy,
    Holdout,
    IntUniform,
    KFold,
    LogUniform,
    RandomSearch,
    RandomStrategy,
    Search,
    SearchStrategy,
    StratifiedKFold,
    Uniform,
    clone,
)


def regression_data(n=120, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n)
    return X, y


def classification_data(n=200, p=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    margin = X @ rng.standard_normal(p)
    y = (margin + rng.standard_normal(n) > 0).astype(int)
    return X, y


class RecordingRegressor:
    """A ridge estimator with scikit-learn's interface that records its fits in ``fits``.

    The record is a class attribute because a search fits clones, and cloning deep-copies
    parameters.
    """

    _estimator_type = "regressor"
    fits = []

    def __init__(self, alpha=1.0, shift=0.0, warm_start=False):
        self.alpha = alpha
        self.shift = shift
        self.warm_start = warm_start

    def get_params(self, deep=True):
        return {"alpha": self.alpha, "shift": self.shift, "warm_start": self.warm_start}

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, X, y):
        warm = self.warm_start and hasattr(self, "coef_")
        self.fits.append((self.shift, self.alpha, warm, X.shape[0]))
        if self.alpha < 0:
            raise ValueError(f"alpha: negative ({self.alpha})")
        p = X.shape[1]
        self.coef_ = np.linalg.solve(X.T @ X + self.alpha * np.eye(p), X.T @ (y - self.shift))
        return self

    def predict(self, X):
        return X @ self.coef_ + self.shift

    def score(self, X, y):
        residual = y - self.predict(X)
        return 1.0 - residual @ residual / ((y - y.mean()) @ (y - y.mean()))


# -- spaces and strategies --------------------------------------------------------------

def test_grid_order_matches_parameter_grid():
    sklearn_model_selection = pytest.importorskip("sklearn.model_selection")
    grid = {"b": [1, 2, 3], "a": ["x", "y"], "c": [0.5]}
    expected = list(sklearn_model_selection.ParameterGrid(grid))
    assert GridStrategy(grid).ask() == expected
    assert GridStrategy([grid, {"a": ["z"]}]).ask() == expected + [{"a": "z"}]


def test_random_strategy_draws_within_bounds():
    space = {"alpha": LogUniform(1e-4, 1e2), "ratio": Uniform(0.2, 0.4),
             "depth": IntUniform(2, 5), "steps": IntUniform(1, 1000, log=True),
             "kind": Categorical(["a", "b"]), "flag": [True, False]}
    candidates = RandomStrategy(space, 400, random_state=3).ask()
    alphas = np.array([c["alpha"] for c in candidates])
    assert alphas.min() >= 1e-4 and alphas.max() <= 1e2
    # Log-uniform: about as many draws in each decade.
    decades = np.histogram(np.log10(alphas), bins=6, range=(-4, 2))[0]
    assert decades.min() > 400 / 6 * 0.5
    assert all(0.2 <= c["ratio"] <= 0.4 for c in candidates)
    assert {c["depth"] for c in candidates} == {2, 3, 4, 5}
    steps = [c["steps"] for c in candidates]
    assert min(steps) >= 1 and max(steps) <= 1000
    assert all(isinstance(s, int) for s in steps)
    assert {c["kind"] for c in candidates} == {"a", "b"}
    assert {c["flag"] for c in candidates} == {True, False}


def test_random_strategy_seed_and_reset():
    space = {"alpha": LogUniform(1e-3, 1.0), "kind": Categorical(["a", "b", "c"])}
    first = RandomStrategy(space, 8, random_state=11)
    drawn = first.ask()
    assert first.ask() == []
    first.reset()
    assert first.ask() == drawn
    assert RandomStrategy(space, 8, random_state=11).ask() == drawn
    assert RandomStrategy(space, 8, random_state=12).ask() != drawn
    batched = RandomStrategy(space, 8, random_state=11, batch_size=3)
    batches = [batched.ask() for _ in range(4)]
    assert [len(b) for b in batches] == [3, 3, 2, 0]
    assert [c for b in batches for c in b] == drawn


@pytest.mark.parametrize("make, match", [
    (lambda: GridSearch(Ridge(), {}), r"space: expected at least one parameter"),
    (lambda: GridSearch(Ridge(), {"alpha": []}), r"space\['alpha'\]: expected at least one"),
    (lambda: GridSearch(Ridge(), []), r"space: expected a dict or a non-empty list"),
    (lambda: GridSearch(Ridge(), {"alpha": LogUniform(1e-3, 1.0)}),
     r"space\['alpha'\]: a grid search needs a list"),
    (lambda: GridSearch(Ridge(), {"alpha": 0.1}), r"space\['alpha'\]: expected a list"),
    (lambda: RandomSearch(Ridge(), {}), r"space: expected at least one parameter"),
    (lambda: RandomSearch(Ridge(), {"alpha": [0.1]}, n_iter=0), r"n_iter: .* got 0"),
    (lambda: Uniform(2.0, 1.0), r"Uniform: low must be <= high, got low=2.0 > high=1.0"),
    (lambda: Uniform(0.0, float("inf")), r"Uniform: high must be a finite .* got inf"),
    (lambda: LogUniform(1.0, 1e-3), r"LogUniform: low must be <= high, got low=1.0 > "
                                    r"high=0.001"),
    (lambda: LogUniform(0.0, 1.0), r"LogUniform: low must be > 0, got low=0.0"),
    (lambda: LogUniform(-1.0, 1.0), r"LogUniform: low must be > 0, got low=-1.0"),
    (lambda: LogUniform(1e-3, -2.0), r"LogUniform: high must be > 0, got high=-2.0"),
    (lambda: IntUniform(5, 1), r"IntUniform: low must be <= high, got low=5 > high=1"),
    (lambda: IntUniform(0, 10, log=True), r"IntUniform: low must be >= 1 with log=True, "
                                          r"got low=0"),
    (lambda: IntUniform(0.5, 10), r"IntUniform: low must be an integer, got 0.5"),
    (lambda: Categorical([]), r"Categorical: values must contain at least one value"),
])
def test_bad_space_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_search_arguments_raise():
    X, y = regression_data()
    with pytest.raises(ValueError, match=r"n_jobs: expected an integer >= 1 or -1, got 0"):
        GridSearch(Ridge(), {"alpha": [1.0]}, n_jobs=0).fit(X, y)
    with pytest.raises(ValueError, match=r"n_splits: expected an integer >= 2, got 1"):
        GridSearch(Ridge(), {"alpha": [1.0]}, cv=1).fit(X, y)
    with pytest.raises(ValueError, match=r"test_size: expected a fraction in \(0, 1\), got 1.5"):
        GridSearch(Ridge(), {"alpha": [1.0]}, cv=1.5).fit(X, y)
    with pytest.raises(ValueError, match=r"scoring: expected None, a callable or one of"):
        GridSearch(Ridge(), {"alpha": [1.0]}, scoring="f2").fit(X, y)
    with pytest.raises(ValueError, match=r"cv\[0\]: test indices must be integers in \[0, 120\)"):
        GridSearch(Ridge(), {"alpha": [1.0]}, cv=[(np.arange(10), np.array([500]))]).fit(X, y)
    with pytest.raises(ValueError, match=r"warm_start_path: 'l1_ratio' needs an estimator"):
        GridSearch(Ridge(), {"alpha": [1.0]}, warm_start_path="l1_ratio").fit(X, y)
    with pytest.raises(TypeError, match=r"strategy: expected a fastopt.tune.SearchStrategy"):
        Search(Ridge(), [{"alpha": 1.0}]).fit(X, y)


# -- splits ---------------------------------------------------------------------------

def test_kfold_matches_sklearn():
    model_selection = pytest.importorskip("sklearn.model_selection")
    X = np.zeros((23, 2))
    ours = list(KFold(4).split(X))
    theirs = list(model_selection.KFold(4).split(X))
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_stratified_kfold_keeps_class_shares():
    y = np.array([0] * 37 + [1] * 11 + [2] * 5)
    X = np.zeros((y.size, 1))
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(y.size))
    sizes = [test.size for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for label, count in zip(range(3), (37, 11, 5)):
        per_fold = [np.sum(y[test] == label) for _, test in folds]
        assert max(per_fold) - min(per_fold) <= 1, (label, per_fold)
        assert sum(per_fold) == count
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == y.size


def test_holdout_split_is_stratified_and_seeded():
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 1))
    (train, test), = Holdout(0.25, random_state=1, stratify=True).split(X, y)
    assert test.size == 25
    assert np.sum(y[test] == 1) == 5
    assert np.intersect1d(train, test).size == 0
    (_, again), = Holdout(0.25, random_state=1, stratify=True).split(X, y)
    np.testing.assert_array_equal(test, again)


# -- search results ---------------------------------------------------------------------

def exhaustive_scores(estimator, candidates, splits, X, y, scorer):
    scores = np.empty((len(candidates), len(splits)))
    for i, params in enumerate(candidates):
        for k, (train, test) in enumerate(splits):
            model = clone(estimator).set_params(**params).fit(X[train], y[train])
            scores[i, k] = scorer(model, X[test], y[test])
    return scores


def test_grid_search_matches_exhaustive_ridge():
    X, y = regression_data()
    grid = {"alpha": [10.0, 1e-3, 1.0, 0.1], "fit_intercept": [True, False]}
    estimator = Ridge(tol=1e-10)
    search = GridSearch(estimator, grid, cv=4).fit(X, y)
    candidates = GridStrategy(grid).ask()
    splits = list(KFold(4).split(X))
    expected = exhaustive_scores(estimator, candidates, splits, X, y,
                                 lambda m, X, y: m.score(X, y))
    assert [r["params"] for r in search.results_] == candidates
    for i, record in enumerate(search.results_):
        for k in range(4):
            assert record[f"split{k}_test_score"] == pytest.approx(expected[i, k], abs=1e-9)
        assert record["mean_test_score"] == pytest.approx(expected[i].mean(), abs=1e-9)
        assert record["status"] == "ok"
    best = int(np.argmax(expected.mean(axis=1)))
    assert search.best_index_ == best
    assert search.best_params_ == candidates[best]
    ranks = [r["rank_test_score"] for r in search.results_]
    assert ranks[best] == 1
    assert sorted(ranks) == list(range(1, len(candidates) + 1))


def test_grid_search_matches_exhaustive_logistic_log_loss():
    X, y = classification_data()
    grid = {"alpha": [1e-4, 1e-2, 1.0], "penalty": ["l2", "l1"]}
    estimator = LogisticRegression(tol=1e-10, max_iter=10_000)
    search = GridSearch(estimator, grid, cv=3, scoring="neg_log_loss").fit(X, y)
    splits = list(StratifiedKFold(3).split(X, y))

    def neg_log_loss(model, X, y):
        p = np.clip(model.predict_proba(X)[:, 1], 1e-15, 1 - 1e-15)
        return np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    expected = exhaustive_scores(estimator, GridStrategy(grid).ask(), splits, X, y,
                                 neg_log_loss)
    actual = np.array([[r[f"split{k}_test_score"] for k in range(3)] for r in search.results_])
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


def test_grid_search_matches_sklearn_gridsearchcv():
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = classification_data(n=300, p=12, seed=4)
    splits = list(model_selection.StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    grid = {"alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]}
    estimator = LogisticRegression(tol=1e-10, max_iter=10_000)
    ours = GridSearch(estimator, grid, cv=splits, n_jobs=2).fit(X, y)
    theirs = model_selection.GridSearchCV(estimator, grid, cv=splits).fit(X, y)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], rtol=0, atol=1e-12)
    for k in range(5):
        np.testing.assert_allclose(ours.cv_results_[f"split{k}_test_score"],
                                   theirs.cv_results_[f"split{k}_test_score"], atol=1e-12)
    assert ours.best_params_ == theirs.best_params_
    np.testing.assert_allclose(ours.best_estimator_.coef_, theirs.best_estimator_.coef_,
                               rtol=1e-9, atol=1e-12)


def test_refit_uses_best_params_on_all_data():
    X, y = regression_data()
    search = GridSearch(Ridge(), {"alpha": [1e-2, 1.0, 100.0]}, cv=3).fit(X, y)
    direct = Ridge(alpha=search.best_params_["alpha"]).fit(X, y)
    np.testing.assert_allclose(search.best_estimator_.coef_, direct.coef_, rtol=1e-10)
    np.testing.assert_allclose(search.predict(X), direct.predict(X), rtol=1e-10)
    assert search.score(X, y) == pytest.approx(direct.score(X, y))
    assert search.refit_time_ >= 0.0
    no_refit = GridSearch(Ridge(), {"alpha": [1.0]}, cv=3, refit=False).fit(X, y)
    with pytest.raises(AttributeError, match="refit=True"):
        no_refit.predict(X)


def test_warm_start_path_runs_alpha_descending():
    X, y = regression_data()
    log = RecordingRegressor.fits
    log.clear()
    grid = {"alpha": [0.1, 10.0, 1.0], "shift": [0.0, 1.0]}
    # Training sets of 70 and 90 rows tell the two splits apart in the record.
    splits = [(np.arange(70), np.arange(70, 120)), (np.arange(90), np.arange(90, 120))]
    GridSearch(RecordingRegressor(), grid, cv=splits).fit(X, y)
    cv_fits = [entry for entry in log if entry[3] != X.shape[0]]
    assert len(cv_fits) == 12
    for shift in (0.0, 1.0):
        for size in {entry[3] for entry in cv_fits}:
            fits = [entry for entry in cv_fits if entry[0] == shift and entry[3] == size]
            assert [alpha for _, alpha, _, _ in fits] == [10.0, 1.0, 0.1]
            # The first fit of a path starts cold, the others from the previous coef_.
            assert [warm for _, _, warm, _ in fits] == [False, True, True]
    log.clear()
    GridSearch(RecordingRegressor(), grid, cv=splits, warm_start_path=None).fit(X, y)
    assert not any(warm for _, _, warm, _ in log)


def test_warm_start_path_fewer_iterations_same_scores():
    X, y = classification_data(n=400, p=20, seed=2)
    grid = {"alpha": list(np.logspace(-4, 0, 8))}
    estimator = LogisticRegression(solver="lbfgs", tol=1e-7, max_iter=5000)
    warm = GridSearch(estimator, grid, cv=3, scoring="neg_log_loss").fit(X, y)
    cold = GridSearch(estimator, grid, cv=3, scoring="neg_log_loss",
                      warm_start_path=None).fit(X, y)
    np.testing.assert_allclose(warm.cv_results_["mean_test_score"],
                               cold.cv_results_["mean_test_score"], rtol=1e-6)
    assert sum(warm.cv_results_["mean_n_iter"]) < sum(cold.cv_results_["mean_n_iter"])


@pytest.mark.parametrize("make", [
    lambda jobs: GridSearch(LogisticRegression(penalty="l1", tol=1e-8),
                            {"alpha": list(np.logspace(-4, -1, 6)), "fit_intercept": [True, False]},
                            cv=4, n_jobs=jobs, scoring="roc_auc"),
    lambda jobs: RandomSearch(LogisticRegression(tol=1e-8),
                              {"alpha": LogUniform(1e-5, 1.0), "penalty": ["l1", "l2"]},
                              n_iter=10, cv=0.3, random_state=5, n_jobs=jobs),
])
def test_thread_count_does_not_change_results(make):
    X, y = classification_data(n=300, p=15, seed=1)
    runs = [make(jobs).fit(X, y) for jobs in (1, 2, 4)]
    first = runs[0].cv_results_
    for other in runs[1:]:
        assert other.cv_results_["params"] == first["params"]
        for name in first:
            if name.startswith("split") or name in ("mean_test_score", "mean_n_iter"):
                np.testing.assert_array_equal(other.cv_results_[name], first[name], err_msg=name)
        assert other.best_params_ == runs[0].best_params_


def test_random_search_seed_reproduces():
    X, y = classification_data()
    space = {"alpha": LogUniform(1e-4, 10.0), "l1_ratio": Uniform(0.0, 1.0)}

    def run(seed):
        return RandomSearch(LogisticRegression(penalty="elasticnet"), space, n_iter=6, cv=3,
                            random_state=seed).fit(X, y).cv_results_

    first, again, other = run(7), run(7), run(8)
    assert first["params"] == again["params"]
    np.testing.assert_array_equal(first["mean_test_score"], again["mean_test_score"])
    assert first["params"] != other["params"]


def test_random_search_matches_exhaustive_on_its_candidates():
    X, y = regression_data(seed=3)
    space = {"alpha": LogUniform(1e-3, 1e2)}
    search = RandomSearch(Ridge(tol=1e-10), space, n_iter=5,
                          cv=3, random_state=0).fit(X, y)
    candidates = RandomStrategy(space, 5, random_state=0).ask()
    assert search.cv_results_["params"] == candidates
    expected = exhaustive_scores(Ridge(tol=1e-10), candidates,
                                 list(KFold(3).split(X)), X, y, lambda m, X, y: m.score(X, y))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected.mean(axis=1),
                               atol=1e-9)


def test_search_takes_other_estimators_and_sample_weight():
    X, y = regression_data()
    weights = np.linspace(0.5, 2.0, X.shape[0])
    search = GridSearch(RecordingRegressor(), {"alpha": [0.1, 1.0]}, cv=3).fit(X, y)
    assert search.best_estimator_.coef_.shape == (X.shape[1],)
    weighted = GridSearch(Ridge(), {"alpha": [0.1, 1.0]}, cv=3).fit(X, y, sample_weight=weights)
    direct = Ridge(alpha=weighted.best_params_["alpha"]).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.best_estimator_.coef_, direct.coef_, rtol=1e-10)


def test_error_score_records_failed_candidates():
    X, y = regression_data()
    grid = {"alpha": [-1.0, 1.0]}
    with pytest.raises(ValueError, match=r"alpha: negative"):
        GridSearch(RecordingRegressor(), grid, cv=2, warm_start_path=None).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = GridSearch(RecordingRegressor(), grid, cv=2, warm_start_path=None,
                            error_score=np.nan).fit(X, y)
    assert any("fit failed" in str(w.message) for w in caught)
    statuses = search.cv_results_["status"]
    assert statuses == ["failed", "ok"]
    assert np.isnan(search.cv_results_["mean_test_score"][0])
    assert search.best_params_ == {"alpha": 1.0}
    assert search.cv_results_["rank_test_score"] == [2, 1]


def test_results_table_to_pandas():
    pd = pytest.importorskip("pandas")
    X, y = regression_data()
    search = GridSearch(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    frame = search.results_.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 3
    np.testing.assert_array_equal(frame["param_alpha"], [0.1, 1.0, 10.0])
    np.testing.assert_array_equal(frame["mean_test_score"], search.cv_results_["mean_test_score"])


class HalvingStrategy(SearchStrategy):
    """Asks two alphas, then two more around the better one: a strategy that learns."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.batches = [[{"alpha": 1e-3}, {"alpha": 10.0}]]
        self.told = []

    def ask(self):
        if len(self.told) == 2:
            return []
        return self.batches[len(self.told)]

    def tell(self, candidates, scores):
        self.told.append(list(scores))
        best = candidates[int(np.argmax(scores))]["alpha"]
        self.batches.append([{"alpha": best * 2}, {"alpha": best / 2}])


def test_custom_strategy_is_told_scores_in_order():
    X, y = regression_data()
    strategy = HalvingStrategy()
    search = Search(Ridge(), strategy, cv=3).fit(X, y)
    assert len(search.results_) == 4
    assert [len(t) for t in strategy.told] == [2, 2]
    np.testing.assert_array_equal(strategy.told[0], search.cv_results_["mean_test_score"][:2])
    np.testing.assert_array_equal(strategy.told[1], search.cv_results_["mean_test_score"][2:])
