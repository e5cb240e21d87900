"""fastopt's fused update rules as ``torch.optim`` optimizers.

Each class subclasses ``torch.optim.Optimizer``, takes the arguments of the
torch optimizer of the same name and keeps its state under torch's names, so
learning-rate schedulers, ``torch.amp.GradScaler`` and state dicts work as
with torch's own classes. The update runs fastopt's kernels on views of the
tensors' memory: NumPy arrays for CPU tensors and CuPy arrays (through
DLPack, on torch's current stream) for CUDA tensors.

:class:`Dropout` and :func:`dropout` run fastopt's dropout kernels under autograd.

Importing :mod:`fastopt` does not import torch; importing this module does.
"""

from fastopt.torch._base import Optimizer
from fastopt.torch._dropout import Dropout, DropoutFunction, dropout
from fastopt.torch._lbfgs import LBFGS
from fastopt.torch._rules import (
    LAMB,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    NAdam,
    RAdam,
    RMSprop,
)

__all__ = [
    "LAMB",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Dropout",
    "DropoutFunction",
    "Lion",
    "NAdam",
    "Optimizer",
    "dropout",
    "RAdam",
    "RMSprop",
]
