"""Simulated annealing and the genetic algorithm as search strategies of fastopt.tune.

A strategy runs its optimizer as a generator (``annealing_steps``, ``genetic_steps``):
:meth:`ask` turns the batch the optimizer yields into parameter dicts, and :meth:`tell`
hands back minus the validation scores, since the optimizers minimize and the scores are
higher-is-better. The next batch depends only on earlier scores, so a search gives the
same candidates on any number of threads.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from fastopt.dfo._annealing import annealing_steps
from fastopt.dfo._checks import check_int, check_seed
from fastopt.dfo._genetic import genetic_steps
from fastopt.tune._space import (
    Categorical,
    Distribution,
    IntUniform,
    LogUniform,
    Uniform,
    check_space,
)
from fastopt.tune._strategy import SearchStrategy


class BinaryMask(Distribution):
    """Boolean masks of ``size`` entries, such as a subset of features.

    Each entry is drawn True with probability 1/2.

    Parameters
    ----------
    size : int
        Number of entries, >= 1.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.dfo import BinaryMask
    >>> BinaryMask(5).sample(np.random.default_rng(0))
    array([False,  True,  True,  True, False])
    """

    def __init__(self, size):
        self.size = check_int("size", size, 1)

    def sample(self, rng):
        return rng.random(self.size) < 0.5

    def __repr__(self):
        return f"BinaryMask({self.size})"


class _Encoding:
    """Maps a search space to the genomes of the optimizers and back.

    A space of one :class:`BinaryMask` is a binary genome. Otherwise every parameter is
    one real variable: Uniform on [low, high], LogUniform and IntUniform(log=True) on the
    logarithms, IntUniform on [low - 0.5, high + 0.5] rounded, and a list or Categorical
    on [0, k) truncated to an index.
    """

    def __init__(self, space):
        self.space = check_space(space)
        self.names = sorted(self.space)
        masks = [name for name in self.names if isinstance(self.space[name], BinaryMask)]
        if masks and len(self.names) > 1:
            raise ValueError(f"space: a BinaryMask must be the only parameter, got "
                             f"{self.names}")
        self.mask = masks[0] if masks else None
        self.bounds = None if masks else [self._bounds(name) for name in self.names]

    def _bounds(self, name):
        entry = self.space[name]
        if isinstance(entry, Uniform):
            return entry.low, entry.high
        if isinstance(entry, LogUniform):
            return math.log(entry.low), math.log(entry.high)
        if isinstance(entry, IntUniform):
            if entry.log:
                return math.log(entry.low - 0.5), math.log(entry.high + 0.5)
            return entry.low - 0.5, entry.high + 0.5
        values = entry.values if isinstance(entry, Categorical) else entry
        if isinstance(entry, Distribution) and not isinstance(entry, Categorical):
            raise ValueError(f"space[{name!r}]: expected Uniform, LogUniform, IntUniform, "
                             f"Categorical, BinaryMask or a list, got {entry!r}")
        return 0.0, float(len(values))

    def decode(self, genome):
        if self.mask is not None:
            return {self.mask: np.asarray(genome, dtype=bool).copy()}
        candidate = {}
        for name, value in zip(self.names, genome):
            entry = self.space[name]
            if isinstance(entry, Uniform):
                candidate[name] = float(value)
            elif isinstance(entry, LogUniform):
                candidate[name] = float(min(max(math.exp(value), entry.low), entry.high))
            elif isinstance(entry, IntUniform):
                raw = math.exp(value) if entry.log else value
                candidate[name] = int(min(max(round(raw), entry.low), entry.high))
            else:
                values = entry.values if isinstance(entry, Categorical) else entry
                candidate[name] = values[min(int(value), len(values) - 1)]
        return candidate


class _GeneratorStrategy(SearchStrategy):
    """Drives an optimizer generator by ask and tell; subclasses build the generator."""

    def _steps(self):
        raise NotImplementedError

    def reset(self):
        self._generator = self._steps()
        self._values = None
        self._started = False
        self.result_ = None

    def ask(self):
        if self._generator is None:
            return []
        if self._started and self._values is None:
            raise RuntimeError("ask: the scores of the last batch are missing; call tell() "
                               "between two ask() calls")
        try:
            batch = self._generator.send(self._values) if self._started else next(
                self._generator)
        except StopIteration as stop:
            self.result_ = stop.value
            self._generator = None
            return []
        self._started = True
        self._values = None
        return [self.encoding.decode(genome) for genome in batch]

    def tell(self, candidates, scores):
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (len(candidates),):
            raise ValueError(f"scores: expected {len(candidates)} scores, one per candidate, "
                             f"got shape {scores.shape}")
        # The optimizers minimize; failed candidates (NaN) lose every comparison.
        self._values = np.ascontiguousarray(-scores)


class GeneticStrategy(_GeneratorStrategy):
    """The genetic algorithm as a fastopt.tune search strategy.

    Each generation is one batch. A space of one :class:`BinaryMask` runs the binary
    encoding (feature selection); other spaces run the real encoding over the variables
    that :class:`_Encoding` describes.

    Parameters
    ----------
    space : dict
        Parameter name to a distribution or a list of values.
    population_size : int, default 20
        Individuals per generation, the candidates of one batch.
    n_generations : int, default 10
        The search evaluates ``population_size + n_generations * (population_size -
        elitism)`` candidates.
    random_state : int or None
        Seed of the GA; None draws one at construction, so :meth:`reset` replays the run.
    **options
        Further arguments of :func:`fastopt.dfo.genetic_algorithm` (crossover, mutation,
        probabilities, elitism, patience, ...).

    References
    ----------
    Goldberg, D. E. "Genetic Algorithms in Search, Optimization and Machine Learning",
    Addison-Wesley, 1989.

    Examples
    --------
    Feature selection on heart_scale: each candidate is a mask of the 13 columns:

    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.dfo import BinaryMask, FeatureSubset, GeneticStrategy
    >>> from fastopt.linear_model import LogisticRegression
    >>> from fastopt.tune import Search
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> strategy = GeneticStrategy({"mask": BinaryMask(13)}, population_size=6,
    ...                            n_generations=2, random_state=0)
    >>> search = Search(FeatureSubset(LogisticRegression()), strategy, cv=3).fit(X, y)
    >>> len(search.results_), round(search.best_score_, 4)
    (14, 0.8333)
    """

    def __init__(self, space, *, population_size=20, n_generations=10, random_state=None,
                 **options):
        self.encoding = _Encoding(space)
        self.population_size = check_int("population_size", population_size, 2)
        self.n_generations = check_int("n_generations", n_generations, 0)
        self.random_state = check_seed(random_state)
        defaults = dict(crossover=None, mutation=None, crossover_prob=0.9, mutation_prob=None,
                        tournament_size=3, elitism=2, eta_crossover=15.0, eta_mutation=20.0,
                        blend_alpha=0.5, mutation_sigma=0.1, maxfev=None, target=None,
                        patience=None, initial_population=None, callback=None)
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise TypeError(f"GeneticStrategy: unexpected arguments {unknown}")
        self.options = {**defaults, **options}
        self.reset()

    def _steps(self):
        mask = self.encoding.mask
        return genetic_steps(
            encoding="binary" if mask else "real",
            n_genes=self.encoding.space[mask].size if mask else None,
            bounds=self.encoding.bounds, population_size=self.population_size,
            maxiter=self.n_generations, seed=self.random_state, **self.options)


def _flip_one_bit(masks, rng):
    """Neighbour of binary states: each row flips one entry chosen uniformly."""
    out = masks.copy()
    columns = rng.integers(masks.shape[1], size=masks.shape[0])
    out[np.arange(masks.shape[0]), columns] ^= True
    return out


class AnnealingStrategy(_GeneratorStrategy):
    """Simulated annealing as a fastopt.tune search strategy.

    Each iteration of the chains is one batch of ``n_chains`` candidates. A space of one
    :class:`BinaryMask` starts every chain from the full mask and flips one entry per
    move; other spaces anneal the real variables that :class:`_Encoding` describes.

    Parameters
    ----------
    space : dict
        Parameter name to a distribution, a list of values, or one :class:`BinaryMask`.
    n_iter : int, default 100
        Candidates to evaluate, rounded down to whole batches.
    n_chains : int, default 4
        Chains annealed in parallel, the candidates of one batch.
    steps_per_temperature : int, default 5
        Iterations between two temperature changes.
    random_state : int or None
        Seed of the annealing.
    **options
        Further arguments of :func:`fastopt.dfo.simulated_annealing` (schedule, cooling,
        initial_temperature, restarts, ...).

    Notes
    -----
    The default initial temperature is the spread of the first batch's scores, or 1 when
    they agree, as they do when every chain starts from the full mask. A temperature of 1
    accepts almost every move for scores such as accuracy, whose differences are about
    0.01, so pass ``initial_temperature`` on the scale of the score differences that matter.

    Examples
    --------
    >>> import os
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.dfo import AnnealingStrategy
    >>> from fastopt.linear_model import LogisticRegression
    >>> from fastopt.tune import LogUniform, Search
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> strategy = AnnealingStrategy({"alpha": LogUniform(1e-4, 1.0)}, n_iter=8, n_chains=4,
    ...                              random_state=0)
    >>> search = Search(LogisticRegression(), strategy, cv=3).fit(X, y)
    >>> len(search.results_)
    8
    """

    def __init__(self, space, *, n_iter=100, n_chains=4, steps_per_temperature=5,
                 random_state=None, **options):
        self.encoding = _Encoding(space)
        self.n_chains = check_int("n_chains", n_chains, 1)
        self.n_iter = check_int("n_iter", n_iter, self.n_chains)
        self.steps_per_temperature = check_int("steps_per_temperature",
                                               steps_per_temperature, 1)
        self.random_state = check_seed(random_state)
        defaults = dict(schedule="geometric", initial_temperature=None, cooling=0.95,
                        adaptive_lambda=0.7, final_temperature=None, restarts=0,
                        patience=None, target=None, callback=None, x0=None)
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise TypeError(f"AnnealingStrategy: unexpected arguments {unknown}")
        self.options = {**defaults, **options}
        self.reset()

    def _steps(self):
        options = dict(self.options)
        mask = self.encoding.mask
        if mask is not None:
            x0 = options.pop("x0")
            if x0 is None:
                x0 = np.ones(self.encoding.space[mask].size, dtype=bool)
            return annealing_steps(bounds=None, x0=np.asarray(x0, dtype=bool),
                                   neighbor=_flip_one_bit, n_chains=self.n_chains,
                                   steps_per_temperature=self.steps_per_temperature,
                                   maxfev=self.n_iter, seed=self.random_state, **options)
        return annealing_steps(bounds=self.encoding.bounds, neighbor=None,
                               n_chains=self.n_chains,
                               steps_per_temperature=self.steps_per_temperature,
                               maxfev=self.n_iter, seed=self.random_state, **options)


class FeatureSubset:
    """An estimator fitted on the columns of X that ``mask`` selects.

    Searching ``mask`` with a :class:`BinaryMask` space selects features: every candidate
    fits a clone of ``estimator`` on its columns. Prediction methods select the same
    columns before delegating. A mask with no True entry raises ValueError at fit.

    Parameters
    ----------
    estimator : object
        An estimator with scikit-learn's interface.
    mask : array of bool, optional
        Columns to keep; all of them by default.

    Examples
    --------
    >>> import os
    >>> import numpy as np
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.dfo import FeatureSubset
    >>> from fastopt.linear_model import LogisticRegression
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> model = FeatureSubset(LogisticRegression(), mask=np.arange(13) < 5).fit(X, y)
    >>> model.estimator_.coef_.shape
    (1, 5)
    """

    def __init__(self, estimator, mask=None):
        self.estimator = estimator
        self.mask = mask

    def get_params(self, deep=True):
        """Return the parameters, with those of ``estimator`` as ``estimator__<name>``.

        Parameters
        ----------
        deep : bool, default True
            Include the parameters of ``estimator``.

        Returns
        -------
        dict
            Parameter name to value.
        """
        params = {"estimator": self.estimator, "mask": self.mask}
        if deep and hasattr(self.estimator, "get_params"):
            for key, value in self.estimator.get_params(deep=True).items():
                params[f"estimator__{key}"] = value
        return params

    def set_params(self, **params):
        """Set ``estimator``, ``mask`` or ``estimator__<name>`` parameters.

        Parameters
        ----------
        **params
            New values by name.

        Returns
        -------
        self
            This estimator.
        """
        nested = {}
        for key, value in params.items():
            if key.startswith("estimator__"):
                nested[key[len("estimator__"):]] = value
            elif key in ("estimator", "mask"):
                setattr(self, key, value)
            else:
                raise ValueError(f"set_params: FeatureSubset has no parameter {key!r}")
        if nested:
            self.estimator.set_params(**nested)
        return self

    @property
    def _estimator_type(self):
        return getattr(self.estimator, "_estimator_type", None)

    def _columns(self, X):
        if self.mask is None:
            return X
        mask = np.asarray(self.mask, dtype=bool)
        if mask.shape != (X.shape[1],):
            raise ValueError(f"mask: expected {X.shape[1]} entries, one per column of X, got "
                             f"shape {mask.shape}")
        if not mask.any():
            raise ValueError("mask: expected at least one selected column, got none")
        return X[:, np.flatnonzero(mask)]

    def fit(self, X, y, **fit_params):
        """Fit a clone of ``estimator`` on the selected columns of ``X``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Samples with all the columns; the mask selects among them.
        y : array_like of shape (n_samples,)
            Targets or class labels.
        **fit_params
            Keyword arguments of the estimator's ``fit``.

        Returns
        -------
        self
            This estimator, with the fitted clone in ``estimator_``.
        """
        from fastopt.tune import clone

        self.estimator_ = clone(self.estimator)
        self.estimator_.fit(self._columns(X), y, **fit_params)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        """Predict with the fitted clone on the selected columns.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Samples with all the columns; the mask selects among them.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predictions.
        """
        return self.estimator_.predict(self._columns(X))

    def predict_proba(self, X):
        """Compute the class probabilities with the fitted clone on the selected columns.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Samples with all the columns; the mask selects among them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probabilities.
        """
        return self.estimator_.predict_proba(self._columns(X))

    def decision_function(self, X):
        """Compute the decision function of the fitted clone on the selected columns.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Samples with all the columns; the mask selects among them.

        Returns
        -------
        ndarray
            The margins.
        """
        return self.estimator_.decision_function(self._columns(X))

    def score(self, X, y, sample_weight=None):
        """Score the fitted clone on the selected columns.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Samples with all the columns; the mask selects among them.
        y : array_like of shape (n_samples,)
            True targets or labels.
        sample_weight : array_like of shape (n_samples,), optional
            Weights of the samples.

        Returns
        -------
        float
            The estimator's score.
        """
        return self.estimator_.score(self._columns(X), y, sample_weight=sample_weight)
