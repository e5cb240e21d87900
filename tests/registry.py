"""The registry of update rules and option combinations that the optimizer tests cross.

One :class:`Case` per (rule, options) pair that exercises a distinct code path:
the tests cross this list with dtypes, sizes, layouts, thread counts and
instruction sets. Classes and functional forms are looked up when a test runs,
not at import. So the whole suite collects even where a rule is missing from
the build, and only the tests of that rule fail, with AttributeError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import fastopt.optim
import fastopt.optim.functional

import reference


@dataclass(frozen=True)
class Case:
    """One update rule with one set of hyperparameters.

    Attributes
    ----------
    rule : str
        Key of the rule in :data:`reference.RULES` and name of its functional form.
    class_name : str
        Name of the class in :mod:`fastopt.optim`.
    label : str
        Short description of the options, used in test ids.
    options : dict
        Keyword arguments of the class and of the functional form.
    torch_name : str or None
        Name of the same algorithm in :mod:`torch.optim`, None where torch has none.
    functional_states : tuple of str
        State names in the order the functional form takes their lists, after
        ``params`` and ``grads``.
    """

    rule: str
    class_name: str
    label: str
    options: dict[str, Any] = field(default_factory=dict)
    torch_name: str | None = None
    functional_states: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.label}"

    @property
    def optimizer_class(self) -> type:
        return getattr(fastopt.optim, self.class_name)

    @property
    def functional(self):
        return getattr(fastopt.optim.functional, self.rule)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """Every hyperparameter of the rule, the defaults completed by ``options``."""
        return reference.full_options(self.rule, self.options)

    @property
    def functional_options(self) -> dict[str, Any]:
        """``options`` without those the functional form does not take."""
        return {k: v for k, v in self.options.items() if k not in CLASS_ONLY_OPTIONS}

    def make(self, params, **overrides):
        """Return a new optimizer of this case over ``params``."""
        return self.optimizer_class(params, **{**self.options, **overrides})


#: Options that only set up the state a class creates; a functional form
#: receives that state instead (as torch.optim.functional does).
CLASS_ONLY_OPTIONS = frozenset({"initial_accumulator_value"})

# The state lists each functional form takes after params and grads, in order.
# NAdam's mu_product is a list of floats that the functional form updates in place.
_STATES = {
    "sgd": ("momentum_buffer",),
    "adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg", "momentum_buffer", "grad_avg"),
    "adadelta": ("square_avg", "acc_delta"),
    "adamax": ("exp_avg", "exp_inf"),
    "nadam": ("exp_avg", "exp_avg_sq", "mu_product"),
    "radam": ("exp_avg", "exp_avg_sq"),
    "lion": ("exp_avg",),
    "lamb": ("exp_avg", "exp_avg_sq"),
}

_NAMES = {
    # rule: (fastopt class, torch.optim class or None)
    "sgd": ("SGD", "SGD"),
    "adam": ("Adam", "Adam"),
    "adamw": ("AdamW", "AdamW"),
    "adagrad": ("Adagrad", "Adagrad"),
    "rmsprop": ("RMSprop", "RMSprop"),
    "adadelta": ("Adadelta", "Adadelta"),
    "adamax": ("Adamax", "Adamax"),
    "nadam": ("NAdam", "NAdam"),
    "radam": ("RAdam", "RAdam"),
    "lion": ("Lion", None),
    "lamb": ("LAMB", None),
}


def _case(rule: str, label: str, **options) -> Case:
    class_name, torch_name = _NAMES[rule]
    reference.full_options(rule, options)  # a misspelled option fails at import
    return Case(rule, class_name, label, options, torch_name, _STATES[rule])


CASES: list[Case] = [
    _case("sgd", "plain", lr=1e-2),
    _case("sgd", "momentum", lr=1e-2, momentum=0.9),
    _case("sgd", "dampening", lr=1e-2, momentum=0.9, dampening=0.5, weight_decay=1e-2),
    _case("sgd", "nesterov", lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-2),
    _case("sgd", "maximize", lr=1e-2, momentum=0.5, weight_decay=0.1, maximize=True),
    _case("adam", "default", lr=1e-2),
    _case("adam", "amsgrad", lr=1e-2, amsgrad=True),
    _case("adam", "decay", lr=1e-2, weight_decay=0.1, betas=(0.8, 0.99)),
    _case("adam", "maximize", lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True),
    _case("adamw", "default", lr=1e-2),
    _case("adamw", "amsgrad", lr=1e-2, weight_decay=0.1, amsgrad=True, eps=1e-6),
    _case("adagrad", "default", lr=5e-2),
    _case("adagrad", "lr-decay", lr=5e-2, lr_decay=1e-2, weight_decay=1e-2),
    _case(
        "adagrad",
        "accumulator",
        lr_decay=1e-3,
        initial_accumulator_value=0.5,
        eps=1e-3,
        maximize=True,
    ),
    _case("rmsprop", "default", lr=1e-3),
    _case("rmsprop", "alpha-eps", lr=1e-3, alpha=0.9, eps=1e-4, weight_decay=1e-2),
    _case("rmsprop", "momentum", lr=1e-3, momentum=0.9),
    _case("rmsprop", "centered", lr=1e-3, centered=True, momentum=0.5, maximize=True),
    _case("adadelta", "default"),
    _case("adadelta", "decay", rho=0.95, eps=1e-5, weight_decay=1e-2, maximize=True),
    _case("adamax", "default"),
    _case("adamax", "decay", betas=(0.8, 0.99), weight_decay=1e-2, maximize=True),
    _case("nadam", "default"),
    _case("nadam", "l2", weight_decay=1e-2, maximize=True),
    _case("nadam", "decoupled", weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=1e-2),
    _case("radam", "default"),
    _case("radam", "l2", weight_decay=1e-2, maximize=True),
    # rho_inf = 2 / (1 - 0.6) - 1 = 4 <= 5, so every step takes the unrectified branch.
    _case("radam", "unrectified", betas=(0.9, 0.6)),
    _case("radam", "decoupled", weight_decay=0.1, decoupled_weight_decay=True),
    _case("lion", "default"),
    _case("lion", "decay", betas=(0.95, 0.98), weight_decay=0.1, maximize=True),
    _case("lamb", "default", lr=1e-2),
    _case("lamb", "decay", lr=1e-2, weight_decay=1e-2),
    _case("lamb", "no-bias-correction", lr=1e-2, weight_decay=1e-2, bias_correction=False),
    _case("lamb", "maximize", lr=1e-2, weight_decay=1e-2, maximize=True),
]

#: The first case of each rule, with the fewest options.
FIRST_CASES: list[Case] = [
    c for i, c in enumerate(CASES) if all(d.rule != c.rule for d in CASES[:i])
]

#: The last case of each rule, with the most options: the subset for tests on big arrays.
LAST_CASES: list[Case] = [
    c for i, c in enumerate(CASES) if all(d.rule != c.rule for d in CASES[i + 1 :])
]

TORCH_CASES: list[Case] = [c for c in CASES if c.torch_name is not None]

RULES: list[str] = list(_NAMES)
