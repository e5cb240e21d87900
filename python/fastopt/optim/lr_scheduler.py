"""Learning-rate schedules that set ``lr`` in an optimizer's parameter groups.

They follow ``torch.optim.lr_scheduler``: create one after the optimizer and
call :meth:`LRScheduler.step` once per epoch (or per iteration, as the
schedule is meant), after ``optimizer.step``. Each schedule is computed in
closed form from the step count, so a restored scheduler gives the same
values as one that never stopped. Any other schedule can be applied by
setting ``group["lr"]`` before a step, or with :class:`LambdaLR`.
"""

from __future__ import annotations

import bisect
import math
import numbers
from typing import Callable, Sequence

from fastopt.optim._checks import check_number
from fastopt.optim.optimizer import Optimizer


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


class LRScheduler:
    """Base class: subclasses define :meth:`lr_at`, the rate at a step count.

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
    last_epoch : int, default -1
        Index of the last step taken; -1 starts a new schedule. A value >= 0
        resumes one, which needs ``initial_lr`` in every parameter group, as
        in torch.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a fastopt.optim.Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        last_epoch = _check_int("last_epoch", last_epoch, -1)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param_groups[{i}]: 'initial_lr' is required to resume a schedule at "
                               f"last_epoch={last_epoch}")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """Return the learning rate after ``epoch`` steps for a group starting at ``base_lr``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance the schedule by one step and write the new rates into the optimizer."""
        self.last_epoch += 1
        self._last_lr = [self.lr_at(self.last_epoch, base) for base in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        """Return the rates last written, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Return the schedule's position and settings (not the optimizer)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a position saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """Multiply each group's initial rate by ``lr_lambda(epoch)``.

    ``lr_lambda`` is one callable, or a list with one per parameter group.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1):
        count = len(optimizer.param_groups)
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * count
        else:
            self.lr_lambdas = list(lr_lambda)
            if len(self.lr_lambdas) != count:
                raise ValueError(f"lr_lambda: expected {count} functions, one per parameter group, "
                                 f"got {len(self.lr_lambdas)}")
        self._group = 0
        super().__init__(optimizer, last_epoch)

    def step(self) -> None:
        self.last_epoch += 1
        self._last_lr = [base * float(fn(self.last_epoch)) for base, fn in zip(self.base_lrs, self.lr_lambdas)]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.pop("lr_lambdas", None)
        return state


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``lr_0 * gamma ** (t // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _check_int("step_size", step_size, 1)
        self.gamma = check_number("gamma", gamma, low=0.0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    r"""Cosine decay from the initial rate to ``eta_min`` over ``T_max`` steps.

    .. math:: \eta_t = \eta_{min} + \tfrac12 (\eta_0 - \eta_{min}) (1 + \cos(\pi t / T_{max}))

    This is the closed form of ``torch.optim.lr_scheduler.CosineAnnealingLR``
    (Loshchilov & Hutter, "SGDR", 2017, without restarts). Past ``T_max`` it
    keeps following the cosine, as torch's closed form does.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> from fastopt.optim.lr_scheduler import CosineAnnealingLR
    >>> opt = SGD([np.zeros(2)], lr=1.0)
    >>> scheduler = CosineAnnealingLR(opt, T_max=4)
    >>> rates = []
    >>> for _ in range(4):
    ...     _ = opt.step([np.ones(2)])
    ...     scheduler.step()
    ...     rates.append(round(opt.param_groups[0]["lr"], 4))
    >>> rates
    [0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = _check_int("T_max", T_max, 1)
        self.eta_min = check_number("eta_min", eta_min, low=0.0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0


class LinearLR(LRScheduler):
    """Scale the rate linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps.

    With ``start_factor`` small and ``end_factor=1`` this is linear warm-up;
    after ``total_iters`` the factor stays at ``end_factor``.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        self.start_factor = check_number("start_factor", start_factor, low=0.0, high=1.0, low_open=True)
        self.end_factor = check_number("end_factor", end_factor, low=0.0, high=1.0)
        self.total_iters = _check_int("total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        fraction = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * fraction)


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the steps in ``milestones``.

    The usual warm-up then decay is
    ``SequentialLR(opt, [LinearLR(opt, 0.01, total_iters=w), CosineAnnealingLR(opt, T)], [w])``.
    Each scheduler counts its own steps from zero when it takes over, as in torch.
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1):
        self.schedulers = list(schedulers)
        self.milestones = [_check_int(f"milestones[{i}]", m, 1) for i, m in enumerate(milestones)]
        if len(self.milestones) != len(self.schedulers) - 1:
            raise ValueError(f"milestones: expected {len(self.schedulers) - 1} values for "
                             f"{len(self.schedulers)} schedulers, got {len(self.milestones)}")
        if self.milestones != sorted(self.milestones):
            raise ValueError(f"milestones: expected increasing values, got {list(milestones)}")
        for i, s in enumerate(self.schedulers):
            if not isinstance(s, LRScheduler) or isinstance(s, SequentialLR) or s.optimizer is not optimizer:
                raise ValueError(f"schedulers[{i}]: expected a schedule bound to the same optimizer")
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int, base_lr: float) -> float:
        index = bisect.bisect_right(self.milestones, epoch)
        start = self.milestones[index - 1] if index > 0 else 0
        return self.schedulers[index].lr_at(epoch - start, base_lr)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["schedulers"] = [s.state_dict() for s in self.schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        for s, saved in zip(self.schedulers, state.pop("schedulers")):
            s.load_state_dict(saved)
        super().load_state_dict(state)
