"""Functional form of every update rule, for callers that own their state.

Each function takes the parameters, gradients and state arrays as lists
(updated in place), the step number of this update where the rule uses one,
and the rule's hyperparameters, and returns a :class:`fastopt.optim.StepResult`.
"""

from fastopt.optim.adam import adam, adamw
from fastopt.optim.lamb import lamb
from fastopt.optim.lion import lion
from fastopt.optim.nadam import nadam
from fastopt.optim.radam import radam

__all__ = ["adam", "adamw", "lamb", "lion", "nadam", "radam"]
