"""Plain NumPy implementations of fastopt's update rules, used as test oracles.

Each rule is written from its published formulas and, for the rules that
torch.optim implements, from the algorithm given in torch.optim's
documentation (PyTorch 2.x), one operation per line of that pseudo-code. The
functions work in the dtype of the arrays they get. The tests pass float64
copies, so the oracle is far more precise than the float32 results it checks.

Every rule is a :class:`Rule`: ``init(param, options)`` returns the state
dict of one parameter (named as torch names it, and holding only the entries
torch creates for those options), and ``update(param, grad, state, step,
options)`` applies step number ``step`` (1-based) in place. ``options``
always contains every hyperparameter: :func:`full_options` fills in defaults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Rule:
    """One update rule: its default hyperparameters, state initializer and step."""

    defaults: dict[str, Any]
    init: Callable[[np.ndarray, dict[str, Any]], dict[str, Any]]
    update: Callable[[np.ndarray, np.ndarray, dict[str, Any], int, dict[str, Any]], None]


def _signed(grad: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    # torch negates the gradient for maximize before anything else, weight decay included.
    return -grad if options["maximize"] else grad.copy()


def _l2(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    return grad + weight_decay * param if weight_decay != 0 else grad


# -- SGD --------------------------------------------------------------------


def _sgd_init(param, options):
    return {"momentum_buffer": np.zeros_like(param)} if options["momentum"] != 0 else {}


def _sgd_update(param, grad, state, step, options):
    """torch.optim.SGD: the buffer starts as the gradient itself on step 1."""
    g = _l2(_signed(grad, options), param, options["weight_decay"])
    momentum = options["momentum"]
    if momentum != 0:
        buf = state["momentum_buffer"]
        if step == 1:
            buf[...] = g
        else:
            buf[...] = momentum * buf + (1 - options["dampening"]) * g
        g = g + momentum * buf if options["nesterov"] else buf.copy()
    param -= options["lr"] * g


# -- Adam and AdamW -----------------------------------------------------------


def _adam_init(param, options):
    state = {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
    if options["amsgrad"]:
        state["max_exp_avg_sq"] = np.zeros_like(param)
    return state


def _adam_update(param, grad, state, step, options, decoupled):
    """Kingma & Ba (2015), Algorithm 1, in torch.optim.Adam's arrangement.

    eps is added after the bias-corrected square root, and AMSGrad keeps the
    maximum of the uncorrected second moment (Reddi et al. 2018).
    """
    lr, wd, eps = options["lr"], options["weight_decay"], options["eps"]
    beta1, beta2 = options["betas"]
    g = _signed(grad, options)
    if decoupled:
        param *= 1 - lr * wd
    else:
        g = _l2(g, param, wd)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    second = v
    if options["amsgrad"]:
        vmax = state["max_exp_avg_sq"]
        vmax[...] = np.maximum(vmax, v)
        second = vmax
    m_hat = m / (1 - beta1**step)
    v_hat = second / (1 - beta2**step)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)


# -- Adagrad ------------------------------------------------------------------


def _adagrad_init(param, options):
    return {"sum": np.full_like(param, options["initial_accumulator_value"])}


def _adagrad_update(param, grad, state, step, options):
    """Duchi et al. (2011) with torch.optim.Adagrad's learning-rate decay."""
    g = _l2(_signed(grad, options), param, options["weight_decay"])
    clr = options["lr"] / (1 + (step - 1) * options["lr_decay"])
    s = state["sum"]
    s += g * g
    param -= clr * g / (np.sqrt(s) + options["eps"])


# -- RMSprop ------------------------------------------------------------------


def _rmsprop_init(param, options):
    state = {"square_avg": np.zeros_like(param)}
    if options["momentum"] > 0:
        state["momentum_buffer"] = np.zeros_like(param)
    if options["centered"]:
        state["grad_avg"] = np.zeros_like(param)
    return state


def _rmsprop_update(param, grad, state, step, options):
    """Hinton's RMSprop as torch.optim.RMSprop documents it (centered: Graves 2013)."""
    alpha, eps = options["alpha"], options["eps"]
    g = _l2(_signed(grad, options), param, options["weight_decay"])
    sq = state["square_avg"]
    sq[...] = alpha * sq + (1 - alpha) * g * g
    if options["centered"]:
        ga = state["grad_avg"]
        ga[...] = alpha * ga + (1 - alpha) * g
        denom = np.sqrt(sq - ga * ga) + eps
    else:
        denom = np.sqrt(sq) + eps
    if options["momentum"] > 0:
        buf = state["momentum_buffer"]
        buf[...] = options["momentum"] * buf + g / denom
        param -= options["lr"] * buf
    else:
        param -= options["lr"] * g / denom


# -- Adadelta -----------------------------------------------------------------


def _adadelta_init(param, options):
    return {"square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}


def _adadelta_update(param, grad, state, step, options):
    """Zeiler (2012), Algorithm 1, with torch's learning rate on the step."""
    rho, eps = options["rho"], options["eps"]
    g = _l2(_signed(grad, options), param, options["weight_decay"])
    sq, acc = state["square_avg"], state["acc_delta"]
    sq[...] = rho * sq + (1 - rho) * g * g
    delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
    acc[...] = rho * acc + (1 - rho) * delta * delta
    param -= options["lr"] * delta


# -- Adamax -------------------------------------------------------------------


def _adamax_init(param, options):
    return {"exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}


def _adamax_update(param, grad, state, step, options):
    """Kingma & Ba (2015), Algorithm 2, with torch's u_t = max(beta2 u, |g| + eps)."""
    beta1, beta2 = options["betas"]
    g = _l2(_signed(grad, options), param, options["weight_decay"])
    m, u = state["exp_avg"], state["exp_inf"]
    m[...] = beta1 * m + (1 - beta1) * g
    u[...] = np.maximum(beta2 * u, np.abs(g) + options["eps"])
    param -= options["lr"] / (1 - beta1**step) * m / u


# -- NAdam --------------------------------------------------------------------


def _nadam_init(param, options):
    return {"mu_product": 1.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}


def _nadam_update(param, grad, state, step, options):
    """Dozat (2016) with the momentum schedule of torch.optim.NAdam.

    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) with psi the momentum decay; the
    product of all mu up to t is kept in the state as ``mu_product``.
    """
    lr, wd, eps, psi = (
        options["lr"],
        options["weight_decay"],
        options["eps"],
        options["momentum_decay"],
    )
    beta1, beta2 = options["betas"]
    g = _signed(grad, options)
    if options["decoupled_weight_decay"]:
        param *= 1 - lr * wd
    else:
        g = _l2(g, param, wd)
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * psi))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * psi))
    state["mu_product"] *= mu
    mu_product = state["mu_product"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    denom = np.sqrt(v / (1 - beta2**step)) + eps
    param -= lr * (1 - mu) / (1 - mu_product) * g / denom
    param -= lr * mu_next / (1 - mu_product * mu_next) * m / denom


# -- RAdam --------------------------------------------------------------------


def _radam_update(param, grad, state, step, options):
    """Liu et al. (2020), Algorithm 2, as torch.optim.RAdam documents it.

    While rho_t <= 5 the variance is not tractable and the step is plain
    momentum SGD on the bias-corrected first moment.
    """
    lr, wd, eps = options["lr"], options["weight_decay"], options["eps"]
    beta1, beta2 = options["betas"]
    g = _signed(grad, options)
    if options["decoupled_weight_decay"]:
        param *= 1 - lr * wd
    else:
        g = _l2(g, param, wd)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**step)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2**step / (1 - beta2**step)
    if rho_t > 5:
        adaptive = math.sqrt(1 - beta2**step) / (np.sqrt(v) + eps)
        rect = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        param -= lr * m_hat * adaptive * rect
    else:
        param -= lr * m_hat


# -- Lion ---------------------------------------------------------------------


def _lion_init(param, options):
    return {"exp_avg": np.zeros_like(param)}


def _lion_update(param, grad, state, step, options):
    """Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms", Program 1."""
    lr = options["lr"]
    beta1, beta2 = options["betas"]
    g = _signed(grad, options)
    m = state["exp_avg"]
    c = beta1 * m + (1 - beta1) * g
    param[...] = param * (1 - lr * options["weight_decay"]) - lr * np.sign(c)
    m[...] = beta2 * m + (1 - beta2) * g


# -- LAMB ---------------------------------------------------------------------


def _lamb_update(param, grad, state, step, options):
    """You et al. (2020), "Large Batch Optimization for Deep Learning", Algorithm 2.

    The trust ratio ||p|| / ||u|| is taken over the whole tensor, and is 1
    when either norm is 0.
    """
    lr, wd, eps = options["lr"], options["weight_decay"], options["eps"]
    beta1, beta2 = options["betas"]
    g = _signed(grad, options)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    if options["bias_correction"]:
        m_hat = m / (1 - beta1**step)
        v_hat = v / (1 - beta2**step)
    else:
        m_hat, v_hat = m, v
    u = m_hat / (np.sqrt(v_hat) + eps) + wd * param
    p_norm = float(np.linalg.norm(param.ravel()))
    u_norm = float(np.linalg.norm(u.ravel()))
    ratio = p_norm / u_norm if p_norm > 0 and u_norm > 0 else 1.0
    param -= lr * ratio * u


def _moments_init(param, options):
    return {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}


_BETAS = (0.9, 0.999)

RULES: dict[str, Rule] = {
    "sgd": Rule(
        dict(
            lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
        ),
        _sgd_init,
        _sgd_update,
    ),
    "adam": Rule(
        dict(lr=1e-3, betas=_BETAS, eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False),
        _adam_init,
        lambda p, g, s, t, o: _adam_update(p, g, s, t, o, decoupled=False),
    ),
    "adamw": Rule(
        dict(lr=1e-3, betas=_BETAS, eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False),
        _adam_init,
        lambda p, g, s, t, o: _adam_update(p, g, s, t, o, decoupled=True),
    ),
    "adagrad": Rule(
        dict(
            lr=1e-2,
            lr_decay=0.0,
            weight_decay=0.0,
            initial_accumulator_value=0.0,
            eps=1e-10,
            maximize=False,
        ),
        _adagrad_init,
        _adagrad_update,
    ),
    "rmsprop": Rule(
        dict(
            lr=1e-2,
            alpha=0.99,
            eps=1e-8,
            weight_decay=0.0,
            momentum=0.0,
            centered=False,
            maximize=False,
        ),
        _rmsprop_init,
        _rmsprop_update,
    ),
    "adadelta": Rule(
        dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
        _adadelta_init,
        _adadelta_update,
    ),
    "adamax": Rule(
        dict(lr=2e-3, betas=_BETAS, eps=1e-8, weight_decay=0.0, maximize=False),
        _adamax_init,
        _adamax_update,
    ),
    "nadam": Rule(
        dict(
            lr=2e-3,
            betas=_BETAS,
            eps=1e-8,
            weight_decay=0.0,
            momentum_decay=4e-3,
            decoupled_weight_decay=False,
            maximize=False,
        ),
        _nadam_init,
        _nadam_update,
    ),
    "radam": Rule(
        dict(
            lr=1e-3,
            betas=_BETAS,
            eps=1e-8,
            weight_decay=0.0,
            decoupled_weight_decay=False,
            maximize=False,
        ),
        _moments_init,
        _radam_update,
    ),
    "lion": Rule(
        dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False),
        _lion_init,
        _lion_update,
    ),
    "lamb": Rule(
        dict(
            lr=1e-3, betas=_BETAS, eps=1e-6, weight_decay=0.0, bias_correction=True, maximize=False
        ),
        _moments_init,
        _lamb_update,
    ),
}


def full_options(rule: str, options: dict[str, Any]) -> dict[str, Any]:
    """Return ``options`` completed with the rule's defaults; unknown names raise KeyError."""
    defaults = RULES[rule].defaults
    unknown = set(options) - set(defaults)
    if unknown:
        raise KeyError(f"{rule}: unknown hyperparameters {sorted(unknown)}")
    return {**defaults, **options}
