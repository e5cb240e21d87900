"""One torch optimizer per fastopt update rule, with torch.optim's arguments and state names.

Each class checks its hyperparameters with the same function as the NumPy
optimizer of :mod:`fastopt.optim` and steps through the rule's function in
:mod:`fastopt.optim.functional`, which runs the fused kernel.
"""

from __future__ import annotations

import torch

from fastopt.optim import functional
from fastopt.optim._checks import check_bool, check_number
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

# GradScaler has already checked the gradients when it passes a scale, so the
# kernel only divides by it and never reads the gradients a second time.
_AMP = dict(check_finite=False)


def _new_step() -> torch.Tensor:
    return torch.tensor(0.0, dtype=scalar_dtype())


def _zero_states(optimizer: Optimizer, param: torch.Tensor, state: dict, names) -> None:
    state["step"] = _new_step()
    for name in names:
        state[name] = optimizer.zeros(param)


def _missing_zeros(optimizer: Optimizer, bucket: Bucket, name: str) -> list:
    """Return the arrays of state ``name``, creating zeros where a parameter has none.

    An option switched on after the first step (RMSprop's momentum or
    centering) finds parameters without the matching buffer.
    """
    for param, state in zip(bucket.tensors, bucket.states):
        if name not in state:
            state[name] = optimizer.zeros(param)
    return bucket.state(name)


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    The rule is written out in :func:`fastopt.optim.functional.sgd`. State per
    parameter: ``momentum_buffer`` when ``momentum`` is nonzero, created from
    the first gradient as torch creates it. Like torch's SGD it keeps no
    ``step``.

    Parameters
    ----------
    params : iterable of tensors or of dicts (parameter groups)
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0, in [0, 1]
    weight_decay : float, default 0; L2 penalty added to the gradient
    nesterov : bool, default False; requires ``momentum > 0`` and ``dampening == 0``
    maximize : bool, default False
    master_weights : bool, default False
        Keep a float32 copy of each float16/bfloat16 parameter in the state
        (``master_param``), step it, and round it into the parameter.
    """

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
        # Step 1 sets a new buffer to the gradient; 2 continues an existing one.
        steps = [2] * len(bucket.tensors)
        if group["momentum"] != 0.0:
            for i, state in enumerate(bucket.states):
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = self.zeros(bucket.tensors[i])
                    steps[i] = 1
            buffers = bucket.state("momentum_buffer")
        functional.sgd(
            bucket.params, bucket.grads, buffers, step=steps, lr=group["lr"],
            momentum=group["momentum"], dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"],
            maximize=group["maximize"], grad_scale=grad_scale, **_AMP,
        )


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (``decoupled_weight_decay=True`` is AdamW).

    The rule is written out in :func:`fastopt.optim.functional.adam`. State
    per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with
    ``amsgrad``, ``max_exp_avg_sq``.

    Parameters
    ----------
    params : iterable of tensors or of dicts (parameter groups)
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    amsgrad : bool, default False
    maximize : bool, default False
    decoupled_weight_decay : bool, default False
    master_weights : bool, default False
        As in :class:`SGD`.
    """

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
        names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if group["amsgrad"] else [])
        _zero_states(self, param, state, names)

    def update(self, group, bucket, grad_scale):
        maxes = _missing_zeros(self, bucket, "max_exp_avg_sq") if group["amsgrad"] else None
        functional.adam(
            bucket.params, bucket.grads, bucket.state("exp_avg"), bucket.state("exp_avg_sq"),
            maxes, step=bucket.steps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
            weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
            maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"],
            grad_scale=grad_scale, **_AMP,
        )


class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay, default 1e-2.

    Parameters are those of :class:`Adam`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, master_weights=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         master_weights=master_weights)


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    The rule is written out in :func:`fastopt.optim.functional.adagrad`.
    State per parameter: ``step`` and ``sum`` (starting at
    ``initial_accumulator_value``).
    """

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
        state["step"] = _new_step()
        state["sum"] = torch.full(param.shape, group["initial_accumulator_value"],
                                  dtype=kernel_dtype(param), device=param.device)

    def update(self, group, bucket, grad_scale):
        functional.adagrad(
            bucket.params, bucket.grads, bucket.state("sum"), step=bucket.steps, lr=group["lr"],
            lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
            maximize=group["maximize"], grad_scale=grad_scale, **_AMP,
        )


class RMSprop(Optimizer):
    r"""RMSprop, plain or centered, with optional momentum, as ``torch.optim.RMSprop``.

    The rule is written out in :func:`fastopt.optim.functional.rmsprop`.
    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (when
    ``momentum > 0``) and ``grad_avg`` (when ``centered``).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize),
                         master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_rmsprop(group, prefix)

    def init_state(self, group, param, state):
        names = ["square_avg"]
        if group["momentum"] > 0.0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        _zero_states(self, param, state, names)

    def update(self, group, bucket, grad_scale):
        buffers = _missing_zeros(self, bucket, "momentum_buffer") if group["momentum"] > 0 else None
        averages = _missing_zeros(self, bucket, "grad_avg") if group["centered"] else None
        functional.rmsprop(
            bucket.params, bucket.grads, bucket.state("square_avg"), buffers, averages,
            step=bucket.steps, lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
            weight_decay=group["weight_decay"], momentum=group["momentum"],
            centered=group["centered"], maximize=group["maximize"], grad_scale=grad_scale, **_AMP,
        )


class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    The rule is written out in :func:`fastopt.optim.functional.adadelta`.
    State per parameter: ``step``, ``square_avg`` and ``acc_delta``.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_adadelta(group, prefix)

    def init_state(self, group, param, state):
        _zero_states(self, param, state, ["square_avg", "acc_delta"])

    def update(self, group, bucket, grad_scale):
        functional.adadelta(
            bucket.params, bucket.grads, bucket.state("square_avg"), bucket.state("acc_delta"),
            step=bucket.steps, lr=group["lr"], rho=group["rho"], eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"],
            grad_scale=grad_scale, **_AMP,
        )


class Adamax(Optimizer):
    r"""Adamax, as ``torch.optim.Adamax``.

    The rule is written out in :func:`fastopt.optim.functional.adamax`.
    State per parameter: ``step``, ``exp_avg`` and ``exp_inf``.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_adamax(group, prefix)

    def init_state(self, group, param, state):
        _zero_states(self, param, state, ["exp_avg", "exp_inf"])

    def update(self, group, bucket, grad_scale):
        functional.adamax(
            bucket.params, bucket.grads, bucket.state("exp_avg"), bucket.state("exp_inf"),
            step=bucket.steps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"],
            grad_scale=grad_scale, **_AMP,
        )


class NAdam(Optimizer):
    r"""NAdam, as ``torch.optim.NAdam``.

    The rule is written out in :func:`fastopt.optim.functional.nadam`. State
    per parameter: ``step``, ``mu_product`` (a scalar tensor of torch's
    scalar dtype, float32 by default, rounded to it after every step as
    torch rounds it), ``exp_avg`` and ``exp_avg_sq``.
    """

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
        _zero_states(self, param, state, ["exp_avg", "exp_avg_sq"])
        state["mu_product"] = torch.tensor(1.0, dtype=scalar_dtype())

    def update(self, group, bucket, grad_scale):
        products = [float(s["mu_product"]) for s in bucket.states]
        functional.nadam(
            bucket.params, bucket.grads, bucket.state("exp_avg"), bucket.state("exp_avg_sq"),
            products, step=bucket.steps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
            weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
            grad_scale=grad_scale, **_AMP,
        )
        for state, product in zip(bucket.states, products):
            state["mu_product"].fill_(product)


class RAdam(Optimizer):
    r"""RAdam, as ``torch.optim.RAdam``.

    The rule is written out in :func:`fastopt.optim.functional.radam`. State
    per parameter: ``step``, ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_radam(group, prefix)

    def init_state(self, group, param, state):
        _zero_states(self, param, state, ["exp_avg", "exp_avg_sq"])

    def update(self, group, bucket, grad_scale):
        functional.radam(
            bucket.params, bucket.grads, bucket.state("exp_avg"), bucket.state("exp_avg_sq"),
            step=bucket.steps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
            grad_scale=grad_scale, **_AMP,
        )


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023); torch has no Lion, so the arguments follow the paper.

    The rule is written out in :func:`fastopt.optim.functional.lion`. State
    per parameter: ``step`` and ``exp_avg``.
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False,
                 master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize), master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_lion(group, prefix)

    def init_state(self, group, param, state):
        _zero_states(self, param, state, ["exp_avg"])

    def update(self, group, bucket, grad_scale):
        functional.lion(
            bucket.params, bucket.grads, bucket.state("exp_avg"), step=bucket.steps,
            lr=group["lr"], betas=group["betas"], weight_decay=group["weight_decay"],
            maximize=group["maximize"], grad_scale=grad_scale, **_AMP,
        )


class LAMB(Optimizer):
    r"""LAMB (You et al., 2020): Adam with a per-tensor trust ratio; torch has no LAMB.

    The rule is written out in :func:`fastopt.optim.functional.lamb`. State
    per parameter: ``step``, ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
                 bias_correction=True, *, maximize=False, master_weights=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      bias_correction=bias_correction, maximize=maximize),
                         master_weights)

    def check_hyperparameters(self, group, prefix):
        _check_lamb(group, prefix)

    def init_state(self, group, param, state):
        _zero_states(self, param, state, ["exp_avg", "exp_avg_sq"])

    def update(self, group, bucket, grad_scale):
        functional.lamb(
            bucket.params, bucket.grads, bucket.state("exp_avg"), bucket.state("exp_avg_sq"),
            step=bucket.steps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
            weight_decay=group["weight_decay"], bias_correction=group["bias_correction"],
            maximize=group["maximize"], grad_scale=grad_scale, **_AMP,
        )
