"""Optuna search: TPE over fastopt's spaces, pruning from solver iterations, seeds, threads."""

import builtins
import sys

import numpy as np
import pytest

from fastopt.linear_model import LogisticRegression, Ridge
from fastopt.tune import Categorical, IntUniform, KFold, LogUniform, Uniform


def classification_data(n=300, p=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X @ rng.standard_normal(p) + rng.standard_normal(n) > 0).astype(int)
    return X, y


def test_missing_optuna_raises_import_error(monkeypatch):
    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "optuna", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_optuna)
    from fastopt.tune import OptunaSearch

    with pytest.raises(ImportError, match=r"pip install 'fastopt\[optuna\]'"):
        OptunaSearch(Ridge(), {"alpha": LogUniform(1e-3, 1.0)})


optuna = pytest.importorskip("optuna")
from fastopt.tune import OptunaSearch, OptunaStrategy  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def lbfgs_logistic():
    # lbfgs takes tens of iterations here, which gives the pruner intermediate scores.
    return LogisticRegression(solver="lbfgs", tol=1e-7, max_iter=500)


def test_optuna_search_finds_best_of_its_trials():
    X, y = classification_data()
    search = OptunaSearch(lbfgs_logistic(), {"alpha": LogUniform(1e-5, 10.0)}, n_trials=12,
                          random_state=0, scoring="neg_log_loss", cv=3, pruner=None).fit(X, y)
    scores = np.array(search.cv_results_["mean_test_score"])
    assert search.cv_results_["status"] == ["ok"] * 12
    assert search.best_score_ == scores.max()
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(scores))]
    # The study holds the same trials and values as the results table.
    values = [trial.value for trial in search.study_.trials]
    np.testing.assert_array_equal(values, scores)
    alphas = [c["alpha"] for c in search.cv_results_["params"]]
    assert min(alphas) >= 1e-5 and max(alphas) <= 10.0


def test_optuna_scores_match_exhaustive_evaluation():
    X, y = classification_data(seed=1)
    search = OptunaSearch(lbfgs_logistic(), {"alpha": LogUniform(1e-4, 1.0)}, n_trials=5,
                          random_state=3, cv=KFold(3), pruner=None).fit(X, y)
    for record in search.results_:
        for k, (train, test) in enumerate(KFold(3).split(X)):
            model = lbfgs_logistic().set_params(**record["params"]).fit(X[train], y[train])
            assert record[f"split{k}_test_score"] == pytest.approx(model.score(X[test], y[test]))


def test_optuna_pruning_stops_bad_trials():
    X, y = classification_data(n=400, seed=2)
    # Half the range over-regularizes badly, so those trials fall behind the median early.
    space = {"alpha": LogUniform(1e-4, 1e2)}
    search = OptunaSearch(lbfgs_logistic(), space, n_trials=30, random_state=0,
                          scoring="neg_log_loss", cv=3).fit(X, y)
    statuses = search.cv_results_["status"]
    pruned = [i for i, s in enumerate(statuses) if s == "pruned"]
    complete = [i for i, s in enumerate(statuses) if s == "ok"]
    assert len(pruned) >= 3
    assert len(complete) >= 5
    study_states = [trial.state for trial in search.study_.trials]
    assert sum(s == optuna.trial.TrialState.PRUNED for s in study_states) == len(pruned)
    means = np.array(search.cv_results_["mean_test_score"])
    assert np.all(np.isnan(means[pruned]))
    # A pruned trial skipped its other splits and stopped its solver early.
    for i in pruned:
        record = search.results_[i]
        assert np.isnan(record["split1_test_score"]) and np.isnan(record["split2_test_score"])
    # The pruned trials were the worse ones: each was behind the best complete trial at its
    # last reported step.
    best_complete = max(means[complete])
    for trial in search.study_.trials:
        if trial.state == optuna.trial.TrialState.PRUNED:
            last_step = max(trial.intermediate_values)
            assert trial.intermediate_values[last_step] < best_complete
    assert search.best_index_ in complete


def test_optuna_seed_reproduces_and_threads_do_not_matter():
    X, y = classification_data(seed=4)
    space = {"alpha": LogUniform(1e-4, 10.0), "penalty": Categorical(["l1", "l2"])}

    def run(seed, jobs):
        return OptunaSearch(LogisticRegression(tol=1e-8), space, n_trials=10, cv=3,
                            random_state=seed, n_jobs=jobs, batch_size=2).fit(X, y).cv_results_

    first = run(5, 1)
    again = run(5, 3)
    assert first["params"] == again["params"]
    assert first["status"] == again["status"]
    np.testing.assert_array_equal(first["mean_test_score"], again["mean_test_score"])
    assert run(6, 1)["params"] != first["params"]


def test_optuna_strategy_suggests_every_space_type():
    class Marker:
        pass

    marker = Marker()
    space = {"a": LogUniform(1e-3, 1.0), "b": Uniform(-1.0, 1.0), "c": IntUniform(1, 64, log=True),
             "d": IntUniform(0, 3), "e": Categorical(["x", "y"]), "f": [None, marker]}
    strategy = OptunaStrategy(space, n_trials=20, random_state=0, batch_size=20)
    candidates = strategy.ask()
    assert len(candidates) == 20
    for c in candidates:
        assert 1e-3 <= c["a"] <= 1.0 and -1.0 <= c["b"] <= 1.0
        assert 1 <= c["c"] <= 64 and 0 <= c["d"] <= 3
        assert c["e"] in ("x", "y") and c["f"] in (None, marker)
    assert any(c["f"] is marker for c in candidates)
    strategy.tell(candidates, [float(i) for i in range(20)])
    assert len(strategy.study.trials) == 20
    assert strategy.study.best_value == 19.0
    assert strategy.ask() == []


def test_optuna_bad_space_raises():
    with pytest.raises(ValueError, match=r"n_trials: expected an integer >= 1, got 0"):
        OptunaStrategy({"alpha": LogUniform(1e-3, 1.0)}, n_trials=0)
    with pytest.raises(ValueError, match=r"space: expected at least one parameter"):
        OptunaStrategy({})
    with pytest.raises(ValueError, match=r"LogUniform: low must be > 0, got low=-1"):
        OptunaSearch(Ridge(), {"alpha": LogUniform(-1, 1.0)})
