"""Simulated annealing and the genetic algorithm as fastopt.tune search strategies, with
feature selection for a fastopt linear model on a real dataset."""

import itertools

import numpy as np
import pytest

from fastopt import dfo
from fastopt.datasets import load_svmlight_files
from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.tune import Categorical, GridSearch, IntUniform, LogUniform, Search, Uniform

N_FEATURES = 8


@pytest.fixture(scope="module")
def heart(data_file):
    """heart_scale (270 samples, 13 features), its first N_FEATURES columns, dense."""
    X, y = load_svmlight_files([data_file("heart_scale")])[:2]
    X = np.asarray(X.todense())[:, :N_FEATURES]
    return np.ascontiguousarray(X), np.asarray(y)


def splits(n, k=3):
    order = np.random.default_rng(0).permutation(n)
    folds = np.array_split(order, k)
    return [(np.sort(np.concatenate(folds[:i] + folds[i + 1:])), np.sort(folds[i]))
            for i in range(k)]


def subset_model():
    return dfo.FeatureSubset(LogisticRegression(alpha=1e-2))


def test_genetic_feature_selection_finds_exhaustive_best(heart):
    X, y = heart
    cv = splits(len(y))
    masks = [np.array(bits, dtype=bool)
             for bits in itertools.product([False, True], repeat=N_FEATURES) if any(bits)]
    exhaustive = GridSearch(subset_model(), {"mask": masks}, cv=cv, refit=False).fit(X, y)

    strategy = dfo.GeneticStrategy({"mask": dfo.BinaryMask(N_FEATURES)}, population_size=12,
                                   n_generations=8, random_state=1)
    search = Search(subset_model(), strategy, cv=cv).fit(X, y)
    # 12 + 8 * (12 - 2 elite) candidates, well under the 255 masks of the exhaustive search.
    assert len(search.results_) == 92
    assert search.best_score_ == pytest.approx(exhaustive.best_score_, abs=1e-12)
    # The refitted model uses the selected columns only.
    chosen = np.flatnonzero(search.best_params_["mask"])
    assert search.best_estimator_.estimator_.coef_.shape[-1] == chosen.size
    assert strategy.result_.fun == pytest.approx(-search.best_score_, abs=1e-12)


def test_annealing_feature_selection_improves_on_full_mask(heart):
    X, y = heart
    cv = splits(len(y))
    full = GridSearch(subset_model(), {"mask": [np.ones(N_FEATURES, bool)]}, cv=cv,
                      refit=False).fit(X, y)
    strategy = dfo.AnnealingStrategy({"mask": dfo.BinaryMask(N_FEATURES)}, n_iter=60,
                                     n_chains=4, random_state=2)
    search = Search(subset_model(), strategy, cv=cv, refit=False).fit(X, y)
    assert len(search.results_) == 60
    # Every chain starts from the full mask, which the search therefore evaluates.
    assert search.results_[0]["params"]["mask"].all()
    assert search.best_score_ >= full.best_score_


def test_strategies_reproduce_with_threads(heart):
    X, y = heart
    space = {"alpha": LogUniform(1e-4, 1.0)}
    runs = []
    for n_jobs in (1, 2):
        for make in (lambda: dfo.GeneticStrategy(space, population_size=6, n_generations=2,
                                                 random_state=3),
                     lambda: dfo.AnnealingStrategy(space, n_iter=12, random_state=3)):
            search = Search(LogisticRegression(), make(), cv=splits(len(y)), n_jobs=n_jobs,
                            refit=False).fit(X, y)
            runs.append([record["params"]["alpha"] for record in search.results_])
    assert runs[0] == runs[2]
    assert runs[1] == runs[3]
    assert runs[0] != runs[1]


def test_encoding_decodes_within_space():
    space = {"alpha": LogUniform(1e-3, 10.0), "max_iter": IntUniform(5, 9),
             "penalty": Categorical(["l1", "l2"]), "l1_ratio": Uniform(0.2, 0.4),
             "tol": [1e-4, 1e-6, 1e-8], "depth": IntUniform(1, 1000, log=True)}
    strategy = dfo.GeneticStrategy(space, population_size=200, n_generations=0,
                                   random_state=4)
    batch = strategy.ask()
    assert len(batch) == 200
    alphas = np.array([c["alpha"] for c in batch])
    assert alphas.min() >= 1e-3
    assert alphas.max() <= 10.0
    assert set(c["max_iter"] for c in batch) == {5, 6, 7, 8, 9}
    assert set(c["penalty"] for c in batch) == {"l1", "l2"}
    assert set(c["tol"] for c in batch) == {1e-4, 1e-6, 1e-8}
    assert all(0.2 <= c["l1_ratio"] <= 0.4 for c in batch)
    assert all(1 <= c["depth"] <= 1000 for c in batch)
    strategy.tell(batch, np.zeros(200))
    assert strategy.ask() == []


def test_strategy_asks_scores_first():
    strategy = dfo.AnnealingStrategy({"alpha": Uniform(0.0, 1.0)}, n_iter=8, n_chains=4,
                                     random_state=0)
    strategy.ask()
    with pytest.raises(RuntimeError, match="tell"):
        strategy.ask()


@pytest.mark.parametrize("call, match", [
    (lambda: dfo.GeneticStrategy({"mask": dfo.BinaryMask(3), "alpha": Uniform(0, 1)}),
     r"space: a BinaryMask must be the only parameter"),
    (lambda: dfo.GeneticStrategy({}), r"space: expected at least one parameter"),
    (lambda: dfo.GeneticStrategy({"alpha": Uniform(0, 1)}, population_size=1),
     r"population_size: expected an int >= 2, got 1"),
    (lambda: dfo.BinaryMask(0), r"size: expected an int >= 1, got 0"),
    (lambda: dfo.AnnealingStrategy({"alpha": Uniform(0, 1)}, n_iter=2, n_chains=4),
     r"n_iter: expected an int >= 4, got 2"),
])
def test_strategy_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_feature_subset_rejects_empty_mask():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="mask: expected at least one selected column"):
        dfo.FeatureSubset(Ridge(), mask=np.zeros(3, bool)).fit(X, np.arange(4.0))
