"""Fused first-order optimizers for NumPy arrays, following torch.optim."""

from fastopt.optim import functional, lr_scheduler
from fastopt.optim._step import StepResult
from fastopt.optim.adadelta import Adadelta
from fastopt.optim.adagrad import Adagrad
from fastopt.optim.adam import Adam, AdamW
from fastopt.optim.adamax import Adamax
from fastopt.optim.clip import clip_grad_norm_
from fastopt.optim.lamb import LAMB
from fastopt.optim.lion import Lion
from fastopt.optim.nadam import NAdam
from fastopt.optim.optimizer import Optimizer
from fastopt.optim.radam import RAdam
from fastopt.optim.rmsprop import RMSprop
from fastopt.optim.sgd import SGD

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LAMB",
    "Lion",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "SGD",
    "StepResult",
    "clip_grad_norm_",
    "functional",
    "lr_scheduler",
]
