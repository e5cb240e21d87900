"""Derivative-free optimization: simulated annealing and a genetic algorithm.

Both evaluate a whole batch of candidates per call of the objective, so a vectorized
objective runs at NumPy speed. Both run their random operators in C++ with a
counter-based generator, so a seed reproduces a run on any number of threads.
:class:`GeneticStrategy` and :class:`AnnealingStrategy` run them as search strategies of
:mod:`fastopt.tune`, for example to select features with a :class:`BinaryMask`.
"""

from fastopt.dfo import operators
from fastopt.dfo._annealing import simulated_annealing
from fastopt.dfo._genetic import genetic_algorithm
from fastopt.dfo._strategies import AnnealingStrategy, BinaryMask, FeatureSubset, GeneticStrategy

__all__ = [
    "AnnealingStrategy",
    "BinaryMask",
    "FeatureSubset",
    "GeneticStrategy",
    "genetic_algorithm",
    "operators",
    "simulated_annealing",
]
