"""Functional form of every update rule, for callers that own their state.

Each function takes the parameters, gradients and state arrays as lists
(updated in place), the step number of this update where the rule uses one,
and the rule's hyperparameters, and returns a :class:`fastopt.optim.StepResult`.
"""

from fastopt.optim.adadelta import adadelta
from fastopt.optim.adagrad import adagrad
from fastopt.optim.adam import adam, adamw
from fastopt.optim.adamax import adamax
from fastopt.optim.lamb import lamb
from fastopt.optim.lion import lion
from fastopt.optim.nadam import nadam
from fastopt.optim.radam import radam
from fastopt.optim.rmsprop import rmsprop
from fastopt.optim.sgd import sgd

__all__ = ["adadelta", "adagrad", "adam", "adamax", "adamw", "lamb", "lion", "nadam", "radam", "rmsprop", "sgd"]
