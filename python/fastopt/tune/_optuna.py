"""Bayesian search with Optuna's TPE sampler over fastopt's search spaces, with pruning.

Optuna is an optional dependency, imported when an :class:`OptunaStrategy` is built, so this
module imports without it.
"""

from __future__ import annotations

import math
import numbers

from fastopt.tune._search import Search
from fastopt.tune._space import Categorical, IntUniform, LogUniform, Uniform, check_space
from fastopt.tune._strategy import SearchStrategy, _check_positive_int

_INSTALL = ("OptunaSearch and OptunaStrategy need optuna; install it with "
            "pip install 'fastopt[optuna]' (or pip install optuna)")


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise ImportError(f"{_INSTALL} ({exc})") from None
    return optuna


def _plain(value):
    return value is None or isinstance(value, (bool, int, float, str))


class OptunaStrategy(SearchStrategy):
    """Candidates from an Optuna study, by default TPE with median pruning.

    Parameters
    ----------
    space : dict
        Parameter name to a :class:`Uniform`, :class:`LogUniform`, :class:`IntUniform`,
        :class:`Categorical` or a list of values (a categorical choice).
    n_trials : int, default 20
        Number of candidates, >= 1.
    sampler : optuna.samplers.BaseSampler, optional
        Default ``TPESampler(seed=random_state)``.
    pruner : optuna.pruners.BasePruner or None or "default", default "default"
        Stops trials whose intermediate validation scores fall behind: "default" is
        ``MedianPruner(n_startup_trials=5, n_warmup_steps=2)``, None never prunes.
    random_state : int or None
        Seed of the default sampler.
    batch_size : int, default 1
        Trials asked per batch. The trials of one batch are chosen without the scores of each
        other, and a pruner compares them only with the trials of earlier batches, so results
        depend on ``batch_size`` but not on the number of threads.

    Attributes
    ----------
    study : optuna.Study or None
        The study of the last search; :meth:`reset`, which every search calls first,
        creates a new one.

    Examples
    --------
    The example needs optuna, so the documentation build does not run it:

    >>> from fastopt.tune import LogUniform, OptunaStrategy
    >>> strategy = OptunaStrategy({"alpha": LogUniform(1e-4, 1e-1)}, n_trials=5,
    ...                           random_state=0)  # doctest: +SKIP
    >>> strategy.reset()  # doctest: +SKIP
    >>> strategy.ask()  # doctest: +SKIP
    """

    def __init__(self, space, n_trials=20, *, sampler=None, pruner="default", random_state=None,
                 batch_size=1):
        self._optuna = _import_optuna()
        self.space = check_space(space)
        for name, entry in self.space.items():
            if not isinstance(entry, (Uniform, LogUniform, IntUniform, Categorical, list)):
                raise ValueError(f"space[{name!r}]: OptunaStrategy supports Uniform, "
                                 f"LogUniform, IntUniform, Categorical and lists, got {entry!r}")
        self.n_trials = _check_positive_int("n_trials", n_trials)
        self.batch_size = _check_positive_int("batch_size", batch_size)
        self.sampler = sampler
        self.pruner = pruner
        self.random_state = random_state
        self.prunes = pruner is not None
        self.study = None

    def reset(self):
        optuna = self._optuna
        sampler = self.sampler
        if sampler is None:
            sampler = optuna.samplers.TPESampler(seed=self.random_state)
        pruner = self.pruner
        if isinstance(pruner, str) and pruner == "default":
            pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
        elif pruner is None:
            pruner = optuna.pruners.NopPruner()
        self.study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
        self._asked = 0
        self._trials = []
        self._pruned = []

    def ask(self):
        if self.study is None:
            self.reset()
        size = min(self.batch_size, self.n_trials - self._asked)
        self._asked += size
        self._trials = [self.study.ask() for _ in range(size)]
        self._pruned = [False] * size
        return [self._suggest(trial) for trial in self._trials]

    def _suggest(self, trial):
        candidate = {}
        for name in sorted(self.space):
            entry = self.space[name]
            if isinstance(entry, LogUniform):
                candidate[name] = trial.suggest_float(name, entry.low, entry.high, log=True)
            elif isinstance(entry, Uniform):
                candidate[name] = trial.suggest_float(name, entry.low, entry.high)
            elif isinstance(entry, IntUniform):
                candidate[name] = trial.suggest_int(name, entry.low, entry.high, log=entry.log)
            else:
                values = entry.values if isinstance(entry, Categorical) else entry
                if all(_plain(v) for v in values):
                    candidate[name] = trial.suggest_categorical(name, values)
                else:
                    # Optuna stores only plain values; other objects are chosen by position.
                    index = trial.suggest_categorical(name, list(range(len(values))))
                    candidate[name] = values[index]
        return candidate

    def report(self, position, step, score):
        trial = self._trials[position]
        if not math.isfinite(score):
            return False
        trial.report(float(score), int(step))
        if trial.should_prune():
            self._pruned[position] = True
            return True
        return False

    def tell(self, candidates, scores):
        state = self._optuna.trial.TrialState
        for trial, pruned, score in zip(self._trials, self._pruned, scores):
            if pruned:
                self.study.tell(trial, state=state.PRUNED)
            elif isinstance(score, numbers.Real) and math.isfinite(score):
                self.study.tell(trial, float(score))
            else:
                self.study.tell(trial, state=state.FAIL)


class OptunaSearch(Search):
    """Bayesian search with Optuna (TPE by default) and pruning of unpromising trials.

    ``param_distributions`` is a space as for :class:`RandomSearch`. For an estimator with a
    ``callbacks`` parameter (fastopt's linear and online models), the first split of each
    trial reports its validation score every ``report_every`` solver iterations, and the
    pruner stops trials that fall behind. A pruned trial skips its other splits and is
    recorded with status "pruned". The other keywords are those of :class:`Search`; see
    :class:`OptunaStrategy` for ``n_trials``, ``sampler``, ``pruner``, ``batch_size`` and
    ``random_state``.

    Parameters
    ----------
    estimator : object
        As in :class:`Search`.
    param_distributions : dict
        Parameter name to a distribution or a list of values.
    n_trials : int, default 20
        Number of candidates.
    sampler : optuna.samplers.BaseSampler, optional
        As in :class:`OptunaStrategy`.
    pruner : optuna.pruners.BasePruner or None or "default", default "default"
        As in :class:`OptunaStrategy`.
    random_state : int or None
        Seed of the default sampler and of a holdout split.
    batch_size : int, default 1
        As in :class:`OptunaStrategy`.
    **kwargs
        Keywords of :class:`Search`.

    Raises
    ------
    ImportError
        When optuna is not installed, naming what to install.

    References
    ----------
    Bergstra, J., Bardenet, R., Bengio, Y. and Kegl, B. "Algorithms for hyper-parameter
    optimization", NIPS 2011 (TPE).
    Akiba, T., Sano, S., Yanase, T., Ohta, T. and Koyama, M. "Optuna: a next-generation
    hyperparameter optimization framework", KDD 2019.

    Examples
    --------
    The example needs optuna, so the documentation build does not run it:

    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.linear_model import LogisticRegression
    >>> from fastopt.tune import LogUniform, OptunaSearch
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> search = OptunaSearch(LogisticRegression(), {"alpha": LogUniform(1e-4, 1e-1)},
    ...                       n_trials=10, random_state=0)  # doctest: +SKIP
    >>> search.fit(X, y).best_params_  # doctest: +SKIP
    """

    def __init__(self, estimator, param_distributions, *, n_trials=20, sampler=None,
                 pruner="default", random_state=None, batch_size=1, **kwargs):
        strategy = OptunaStrategy(param_distributions, n_trials, sampler=sampler, pruner=pruner,
                                  random_state=random_state, batch_size=batch_size)
        super().__init__(estimator, strategy, random_state=random_state, **kwargs)
        self.param_distributions = param_distributions
        self.n_trials = n_trials

    @property
    def study_(self):
        """The Optuna study of the last fit."""
        return self.strategy.study
