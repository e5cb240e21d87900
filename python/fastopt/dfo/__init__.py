"""Derivative-free optimization: simulated annealing and a genetic algorithm.

Both evaluate a whole batch of candidates per call of the objective, so a vectorized
objective runs at NumPy speed, and both run their random operators in C++ with a
counter-based generator: a seed reproduces a run on any number of threads.
"""

from fastopt.dfo import operators
from fastopt.dfo._annealing import simulated_annealing
from fastopt.dfo._genetic import genetic_algorithm

__all__ = ["genetic_algorithm", "operators", "simulated_annealing"]
