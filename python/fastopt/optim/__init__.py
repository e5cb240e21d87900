"""Fused first-order optimizers for NumPy arrays, following torch.optim."""

from fastopt.optim import functional, lr_scheduler
from fastopt.optim._step import StepResult
from fastopt.optim.adam import Adam, AdamW
from fastopt.optim.clip import clip_grad_norm_
from fastopt.optim.optimizer import Optimizer

__all__ = [
    "Adam",
    "AdamW",
    "Optimizer",
    "StepResult",
    "clip_grad_norm_",
    "functional",
    "lr_scheduler",
]
