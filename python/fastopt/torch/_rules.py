"""One torch optimizer per fastopt update rule, with torch.optim's arguments and state names.

Each class checks its hyperparameters with the same function as the NumPy
optimizer of :mod:`fastopt.optim` and steps through the rule's function in
:mod:`fastopt.optim.functional`, which runs the fused kernel. The base class
passes the group's hyperparameters to that function by name, so every
constructor argument but ``master_weights`` is one of its keywords.
"""

from __future__ import annotations

import torch

from fastopt.optim import functional
from fastopt.optim._checks import check_bool, check_number
from fastopt.optim._docstrings import fill_doc
from fastopt.optim.adadelta import _check_adadelta
from fastopt.optim.adagrad import _check_adagrad
from fastopt.optim.adam import _check_adam
from fastopt.optim.adamax import _check_adamax
from fastopt.optim.lamb import _check_lamb
from fastopt.optim.lion import _check_lion
from fastopt.optim.nadam import _check_nadam
from fastopt.optim.radam import _check_radam
from fastopt.optim.rmsprop import _check_rmsprop
from fastopt.optim.sgd import _check_sgd
from fastopt.torch._base import Bucket, Optimizer, kernel_dtype, scalar_dtype


def _with_missing_zeros(optimizer: Optimizer, bucket: Bucket, name: str) -> list:
    """Return the arrays of state ``name``, creating zeros where a parameter has none.

    An option switched on after the first step (AMSGrad, RMSprop's momentum
    or centering) finds parameters without the matching buffer.
    """
    for param, state in zip(bucket.tensors, bucket.states):
        if name not in state:
            state[name] = optimizer.zeros(param)
    return bucket.state(name)


@fill_doc
class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    The rule is written out in :func:`fastopt.optim.functional.sgd`. State per
    parameter: ``momentum_buffer`` when ``momentum`` is nonzero, created from
    the first gradient as torch creates it. Like torch's SGD it keeps no
    ``step``.

    Parameters
    ----------
    {torch_params}
    lr, momentum, dampening, weight_decay : float
        As in :class:`fastopt.optim.SGD`, with the same defaults.
    nesterov : bool
        As in :class:`fastopt.optim.SGD`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    With ``momentum`` and ``nesterov`` the state is torch's ``momentum_buffer``, and the
    steps agree with those of ``torch.optim.SGD`` up to rounding:

    >>> import torch
    >>> from fastopt.torch import SGD
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    >>> reference = torch.nn.Parameter(p.detach().clone())
    >>> pairs = [(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p),
    ...          (torch.optim.SGD([reference], lr=0.1, momentum=0.9, nesterov=True), reference)]
    >>> for _ in range(3):
    ...     for opt, q in pairs:
    ...         opt.zero_grad()
    ...         (q ** 2).sum().backward()
    ...         opt.step()
    >>> torch.allclose(p, reference), sorted(pairs[0][0].state[p])
    (True, ['momentum_buffer'])

    With ``master_weights`` a bfloat16 parameter accumulates steps smaller than its
    rounding unit, which steps on the bfloat16 value itself would lose:

    >>> w = torch.nn.Parameter(torch.ones(3, dtype=torch.bfloat16))
    >>> opt = SGD([w], lr=1e-3, master_weights=True)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     w.sum().backward()
    ...     opt.step()
    >>> opt.state[w]["master_param"]
    tensor([0.9970, 0.9970, 0.9970])
    """

    rule = functional.sgd

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_sgd(group, prefix)

    def init_state(self, group, param, state):
        # The buffer appears with the first step, as in torch.
        pass

    def update(self, group, bucket, grad_scale):
        buffers = None
        # The kernel sets the buffer to the gradient at step 1 and continues it after.
        steps = [2] * len(bucket.tensors)
        if group["momentum"] != 0.0:
            for i, state in enumerate(bucket.states):
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = self.zeros(bucket.tensors[i])
                    steps[i] = 1
            buffers = bucket.state("momentum_buffer")
        self.call_rule(group, bucket, [buffers], steps, grad_scale)


@fill_doc
class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (``decoupled_weight_decay=True`` is AdamW).

    The rule is written out in :func:`fastopt.optim.functional.adam`. State
    per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with
    ``amsgrad``, ``max_exp_avg_sq``.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    {betas}
    eps, weight_decay : float
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    amsgrad : bool
        As in :class:`fastopt.optim.Adam`, with the same defaults.
    {maximize}
    decoupled_weight_decay : bool, default False
        Multiply the parameter by ``1 - lr * weight_decay`` before the update, as
        :class:`AdamW` does, instead of adding ``weight_decay * p`` to the gradient.
    {master_weights}

    Examples
    --------
    ``amsgrad`` adds the state ``max_exp_avg_sq``:

    >>> import torch
    >>> from fastopt.torch import Adam
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adam([p], lr=0.1, amsgrad=True)
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> p.detach(), sorted(opt.state[p])
    (tensor([ 0.9000, -1.9000]), ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step'])
    """

    rule = functional.adam
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay),
                         master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_adam(group, prefix)
        check_bool(f"{prefix}decoupled_weight_decay", group["decoupled_weight_decay"])

    def init_state(self, group, param, state):
        super().init_state(group, param, state)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = self.zeros(param)

    def state_arrays(self, group, bucket):
        maxes = _with_missing_zeros(self, bucket, "max_exp_avg_sq") if group["amsgrad"] else None
        return super().state_arrays(group, bucket) + [maxes]


@fill_doc
class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay, default 1e-2.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.AdamW`, with the same defaults.
    {betas}
    eps, weight_decay : float
        As in :class:`fastopt.optim.AdamW`, with the same defaults.
    amsgrad : bool
        As in :class:`fastopt.optim.AdamW`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    With a zero gradient only the decay acts:

    >>> import torch
    >>> from fastopt.torch import AdamW
    >>> p = torch.nn.Parameter(torch.ones(2))
    >>> opt = AdamW([p], lr=0.1, weight_decay=0.5)
    >>> p.grad = torch.zeros(2)
    >>> opt.step()
    >>> p.detach()
    tensor([0.9500, 0.9500])
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, master_weights=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         master_weights=master_weights)


@fill_doc
class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    The rule is written out in :func:`fastopt.optim.functional.adagrad`.
    State per parameter: ``step`` and ``sum`` (starting at
    ``initial_accumulator_value``).

    Parameters
    ----------
    {torch_params}
    lr, lr_decay, weight_decay, initial_accumulator_value, eps : float
        As in :class:`fastopt.optim.Adagrad`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    >>> import torch
    >>> from fastopt.torch import Adagrad
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adagrad([p], lr=0.5, initial_accumulator_value=0.1)
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> opt.state[p]["sum"]
    tensor([ 4.1000, 16.1000])
    """

    rule = functional.adagrad
    setup_options = ("initial_accumulator_value",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_adagrad(group, prefix)
        group["initial_accumulator_value"] = check_number(
            f"{prefix}initial_accumulator_value", group["initial_accumulator_value"], low=0.0
        )

    def init_state(self, group, param, state):
        state["step"] = torch.tensor(0.0, dtype=scalar_dtype())
        state["sum"] = torch.full(param.shape, group["initial_accumulator_value"],
                                  dtype=kernel_dtype(param), device=param.device)

    def state_arrays(self, group, bucket):
        return [bucket.state("sum")]


@fill_doc
class RMSprop(Optimizer):
    r"""RMSprop, plain or centered, with optional momentum, as ``torch.optim.RMSprop``.

    The rule is written out in :func:`fastopt.optim.functional.rmsprop`.
    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (when
    ``momentum > 0``) and ``grad_avg`` (when ``centered``).

    Parameters
    ----------
    {torch_params}
    lr, alpha, eps, weight_decay, momentum : float
        As in :class:`fastopt.optim.RMSprop`, with the same defaults.
    centered : bool
        As in :class:`fastopt.optim.RMSprop`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    >>> import torch
    >>> from fastopt.torch import RMSprop
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = RMSprop([p], lr=0.01, momentum=0.9, centered=True)
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> sorted(opt.state[p])
    ['grad_avg', 'momentum_buffer', 'square_avg', 'step']
    """

    rule = functional.rmsprop
    state_names = ("square_avg",)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize),
                         master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_rmsprop(group, prefix)

    def init_state(self, group, param, state):
        super().init_state(group, param, state)
        if group["momentum"] > 0.0:
            state["momentum_buffer"] = self.zeros(param)
        if group["centered"]:
            state["grad_avg"] = self.zeros(param)

    def state_arrays(self, group, bucket):
        momentum = group["momentum"] > 0.0
        buffers = _with_missing_zeros(self, bucket, "momentum_buffer") if momentum else None
        averages = _with_missing_zeros(self, bucket, "grad_avg") if group["centered"] else None
        return [bucket.state("square_avg"), buffers, averages]


@fill_doc
class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    The rule is written out in :func:`fastopt.optim.functional.adadelta`.
    State per parameter: ``step``, ``square_avg`` and ``acc_delta``.

    Parameters
    ----------
    {torch_params}
    lr, rho, eps, weight_decay : float
        As in :class:`fastopt.optim.Adadelta`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    >>> import torch
    >>> from fastopt.torch import Adadelta
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adadelta([p])
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> sorted(opt.state[p])
    ['acc_delta', 'square_avg', 'step']
    """

    rule = functional.adadelta
    state_names = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_adadelta(group, prefix)


@fill_doc
class Adamax(Optimizer):
    r"""Adamax, as ``torch.optim.Adamax``.

    The rule is written out in :func:`fastopt.optim.functional.adamax`.
    State per parameter: ``step``, ``exp_avg`` and ``exp_inf``.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    eps, weight_decay : float
        As in :class:`fastopt.optim.Adamax`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    The state ``exp_inf`` starts as the magnitude of the first gradient:

    >>> import torch
    >>> from fastopt.torch import Adamax
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adamax([p], lr=0.1)
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> opt.state[p]["exp_inf"]
    tensor([2., 4.])
    """

    rule = functional.adamax
    state_names = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_adamax(group, prefix)


@fill_doc
class NAdam(Optimizer):
    r"""NAdam, as ``torch.optim.NAdam``.

    The rule is written out in :func:`fastopt.optim.functional.nadam`. State
    per parameter: ``step``, ``mu_product`` (a scalar tensor of torch's
    scalar dtype, float32 by default, rounded to it after every step as
    torch rounds it), ``exp_avg`` and ``exp_avg_sq``.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.NAdam`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.NAdam`, with the same defaults.
    eps, weight_decay, momentum_decay : float
        As in :class:`fastopt.optim.NAdam`, with the same defaults.
    decoupled_weight_decay : bool
        As in :class:`fastopt.optim.NAdam`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    >>> import torch
    >>> from fastopt.torch import NAdam
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = NAdam([p], lr=0.1)
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> opt.state[p]["mu_product"].dtype
    torch.float32
    """

    rule = functional.nadam
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_nadam(group, prefix)

    def init_state(self, group, param, state):
        super().init_state(group, param, state)
        state["mu_product"] = torch.tensor(1.0, dtype=scalar_dtype())

    def state_arrays(self, group, bucket):
        # The function replaces the items of this list by the new products.
        bucket.scalars = [float(s["mu_product"]) for s in bucket.states]
        return super().state_arrays(group, bucket) + [bucket.scalars]

    def update(self, group, bucket, grad_scale):
        super().update(group, bucket, grad_scale)
        for state, product in zip(bucket.states, bucket.scalars):
            state["mu_product"].fill_(product)


@fill_doc
class RAdam(Optimizer):
    r"""RAdam, as ``torch.optim.RAdam``.

    The rule is written out in :func:`fastopt.optim.functional.radam`. State
    per parameter: ``step``, ``exp_avg`` and ``exp_avg_sq``.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    {betas}
    eps, weight_decay : float
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    decoupled_weight_decay : bool
        As in :class:`fastopt.optim.RAdam`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    The first step, while the variance of the adaptive rate is intractable, is a step of
    SGD with momentum:

    >>> import torch
    >>> from fastopt.torch import RAdam
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = RAdam([p], lr=0.1)
    >>> (p ** 2).sum().backward()
    >>> opt.step()
    >>> p.detach()
    tensor([ 0.8000, -1.6000])
    """

    rule = functional.radam
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_radam(group, prefix)


@fill_doc
class Lion(Optimizer):
    r"""Lion (Chen et al., 2023); torch has no Lion, so the arguments follow the paper.

    The rule is written out in :func:`fastopt.optim.functional.lion`. State
    per parameter: ``step`` and ``exp_avg``.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    betas : (float, float)
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    weight_decay : float
        As in :class:`fastopt.optim.Lion`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    >>> import torch
    >>> from fastopt.torch import Lion
    >>> p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Lion([p], lr=0.01)
    >>> p.grad = torch.tensor([3.0, -0.001])
    >>> opt.step()
    >>> p.detach()
    tensor([ 0.9900, -1.9900])
    """

    rule = functional.lion
    state_names = ("exp_avg",)

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_lion(group, prefix)


@fill_doc
class LAMB(Optimizer):
    r"""LAMB (You et al., 2020): Adam with a per-tensor trust ratio; torch has no LAMB.

    The rule is written out in :func:`fastopt.optim.functional.lamb`. State
    per parameter: ``step``, ``exp_avg`` and ``exp_avg_sq``.

    Parameters
    ----------
    {torch_params}
    lr : float
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    {betas}
    eps, weight_decay : float
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    bias_correction : bool
        As in :class:`fastopt.optim.LAMB`, with the same defaults.
    {maximize}
    {master_weights}

    Examples
    --------
    The trust ratio scales each tensor's step to its norm:

    >>> import torch
    >>> from fastopt.torch import LAMB
    >>> large = torch.nn.Parameter(torch.full((2,), 10.0))
    >>> small = torch.nn.Parameter(torch.full((2,), 0.1))
    >>> opt = LAMB([large, small], lr=0.01)
    >>> large.grad, small.grad = torch.ones(2), torch.ones(2)
    >>> opt.step()
    >>> large.detach(), small.detach()
    (tensor([9.9000, 9.9000]), tensor([0.0990, 0.0990]))
    """

    rule = functional.lamb
    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
                 bias_correction=True, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      bias_correction=bias_correction, maximize=maximize),
                         master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_lamb(group, prefix)
