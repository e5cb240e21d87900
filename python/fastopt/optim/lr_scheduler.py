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
        Optimizer whose parameter groups' ``lr`` the schedule sets.
    last_epoch : int, default -1
        Index of the last step taken; -1 starts a new schedule. A value >= 0
        resumes one, which needs ``initial_lr`` in every parameter group, as
        in torch.

    Raises
    ------
    TypeError
        If ``optimizer`` is not a :class:`fastopt.optim.Optimizer`.
    KeyError
        If ``last_epoch >= 0`` and a parameter group has no ``initial_lr``.

    Examples
    --------
    A subclass defines the rate as a function of the step count; here it halves
    the rate every step:

    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> from fastopt.optim.lr_scheduler import LRScheduler
    >>> class Halving(LRScheduler):
    ...     def lr_at(self, epoch, base_lr):
    ...         return base_lr * 0.5 ** epoch
    >>> scheduler = Halving(SGD([np.zeros(2)], lr=1.0))
    >>> scheduler.step(); scheduler.step()
    >>> scheduler.get_last_lr()
    [0.25]
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
        """Return the learning rate after ``epoch`` steps for a group starting at ``base_lr``.

        Parameters
        ----------
        epoch : int
            Number of steps taken, 0 for the initial rate.
        base_lr : float
            The group's initial rate, ``initial_lr``.

        Returns
        -------
        float
            The rate to use after ``epoch`` steps.
        """
        raise NotImplementedError

    def step(self) -> None:
        """Advance the schedule by one step and write the new rates into the optimizer."""
        self.last_epoch += 1
        self._last_lr = [self.lr_at(self.last_epoch, base) for base in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        """Return the rates last written into the optimizer.

        Returns
        -------
        list of float
            One rate per parameter group.
        """
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Return the schedule's position and settings, without the optimizer.

        Returns
        -------
        dict
            Attributes that :meth:`load_state_dict` restores.
        """
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a position saved by :meth:`state_dict`.

        Parameters
        ----------
        state_dict : dict
            A dict returned by :meth:`state_dict`.
        """
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """Multiply each group's initial rate by ``lr_lambda(epoch)``.

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
        Optimizer whose parameter groups' ``lr`` the schedule sets.
    lr_lambda : callable or list of callables
        Function of the step count returning the factor, or a list with one
        function per parameter group.
    last_epoch : int, default -1
        As in :class:`LRScheduler`.

    Raises
    ------
    ValueError
        If ``lr_lambda`` is a list whose length differs from the number of groups.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> from fastopt.optim.lr_scheduler import LambdaLR
    >>> opt = SGD([np.zeros(2)], lr=0.1)
    >>> scheduler = LambdaLR(opt, lambda epoch: 1.0 / (1 + epoch))
    >>> scheduler.step()
    >>> scheduler.get_last_lr()
    [0.05]
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
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}

    with :math:`s` = ``step_size``.

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
        Optimizer whose parameter groups' ``lr`` the schedule sets.
    step_size : int
        Number of steps between two decays. Must be >= 1.
    gamma : float, default 0.1
        Factor of each decay. Must be >= 0.
    last_epoch : int, default -1
        As in :class:`LRScheduler`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> from fastopt.optim.lr_scheduler import StepLR
    >>> opt = SGD([np.zeros(2)], lr=1.0)
    >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for _ in range(5):
    ...     scheduler.step()
    ...     rates.append(scheduler.get_last_lr()[0])
    >>> rates
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

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

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
        Optimizer whose parameter groups' ``lr`` the schedule sets.
    T_max : int
        Number of steps of the half period. Must be >= 1.
    eta_min : float, default 0
        Rate reached after ``T_max`` steps. Must be >= 0.
    last_epoch : int, default -1
        As in :class:`LRScheduler`.

    References
    ----------
    Loshchilov, I. and Hutter, F. "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.

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

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
        Optimizer whose parameter groups' ``lr`` the schedule sets.
    start_factor : float, default 1/3
        Factor of the first step. Must be in (0, 1].
    end_factor : float, default 1
        Factor from step ``total_iters`` on. Must be in [0, 1].
    total_iters : int, default 5
        Number of steps of the ramp. Must be >= 1.
    last_epoch : int, default -1
        As in :class:`LRScheduler`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> from fastopt.optim.lr_scheduler import LinearLR
    >>> opt = SGD([np.zeros(2)], lr=1.0)
    >>> scheduler = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> [round(scheduler.lr_at(t, 1.0), 4) for t in range(5)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
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

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
        Optimizer whose parameter groups' ``lr`` the schedule sets.
    schedulers : list of LRScheduler
        Schedules bound to ``optimizer``, none of them a SequentialLR.
    milestones : list of int
        Increasing step counts at which the next schedule takes over, one fewer
        than ``schedulers``.
    last_epoch : int, default -1
        As in :class:`LRScheduler`.

    Raises
    ------
    ValueError
        If the milestones are not increasing or not one fewer than the schedules,
        or a schedule is bound to another optimizer.

    Examples
    --------
    Two steps of linear warm-up, then a cosine decay over four steps:

    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> from fastopt.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
    >>> opt = SGD([np.zeros(2)], lr=1.0)
    >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> scheduler = SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=4)], milestones=[2])
    >>> rates = [scheduler.get_last_lr()[0]]
    >>> for _ in range(6):
    ...     scheduler.step()
    ...     rates.append(round(scheduler.get_last_lr()[0], 4))
    >>> rates
    [0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464, 0.0]
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
