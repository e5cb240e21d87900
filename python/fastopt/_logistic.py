r"""Mini-batch training of binary logistic regression with a fastopt optimizer.

The objective is the mean log loss plus an optional L2 penalty on the weights
(not the intercept),

.. math:: f(w, b) = \frac1n \sum_i \log(1 + e^{z_i}) - y_i z_i + \frac{\lambda}{2} \|w\|^2,
          \quad z = X w + b, \quad y_i \in \{0, 1\},

whose mini-batch gradient is ``X_B^T (sigmoid(z_B) - y_B) / |B| + lambda w``
for the weights and the sum of ``(sigmoid(z_B) - y_B) / |B|`` for the
intercept. Products with the sparse matrix go through scipy.sparse; the update
is one fused optimizer step over the two parameter arrays.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from fastopt.optim import lr_scheduler
from fastopt.optim.optimizer import Optimizer

logger = logging.getLogger("fastopt.train")

SCHEDULES = ("none", "cosine", "warmup-cosine")

# Share of all steps spent in linear warm-up with "warmup-cosine", and the
# factor of the learning rate at the first step.
WARMUP_FRACTION = 0.1
WARMUP_START_FACTOR = 0.01


@dataclass
class EpochRecord:
    """Training progress after one epoch."""

    epoch: int
    train_loss: float  #: mean log loss over the whole training set, without the penalty
    objective: float  #: ``train_loss`` plus the L2 penalty
    lr: float  #: learning rate of the last step of the epoch
    seconds: float  #: wall time of the epoch's updates, excluding the loss pass


@dataclass
class LogisticModel:
    """Weights and intercept of a trained binary logistic regression, and its training history."""

    coef: np.ndarray
    intercept: np.ndarray
    history: list[EpochRecord] = field(default_factory=list)

    def decision_function(self, X) -> np.ndarray:
        """Return the logits ``X @ coef + intercept``."""
        return X @ self.coef + self.intercept[0]

    def predict_proba(self, X) -> np.ndarray:
        """Return the probability of the positive class for each row of ``X``."""
        return expit(self.decision_function(X))


def mean_log_loss(z: np.ndarray, y: np.ndarray) -> float:
    """Return the mean of ``log(1 + exp(z)) - y z``, computed without overflow."""
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def make_scheduler(optimizer: Optimizer, schedule: str, total_steps: int):
    """Return the per-step learning-rate schedule named ``schedule``, or None for "none".

    "cosine" decays to 0 over ``total_steps``. "warmup-cosine" first rises
    linearly from ``WARMUP_START_FACTOR`` times the rate over
    ``WARMUP_FRACTION`` of the steps (at least one), then decays by cosine
    over the rest.
    """
    if schedule == "none":
        return None
    if schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps))
    if schedule == "warmup-cosine":
        warmup = max(1, int(WARMUP_FRACTION * total_steps))
        return lr_scheduler.SequentialLR(
            optimizer,
            [
                lr_scheduler.LinearLR(optimizer, start_factor=WARMUP_START_FACTOR, total_iters=warmup),
                lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warmup)),
            ],
            milestones=[warmup],
        )
    raise ValueError(f"schedule: expected one of {', '.join(SCHEDULES)}, got {schedule!r}")


def fit_logistic_regression(
    X: sp.csr_matrix,
    y: np.ndarray,
    optimizer_class: type[Optimizer],
    *,
    lr: float,
    epochs: int,
    batch_size: int,
    l2: float = 0.0,
    seed: int = 0,
    schedule: str = "none",
    optimizer_args: dict | None = None,
) -> LogisticModel:
    """Train binary logistic regression by mini-batch steps of ``optimizer_class``.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features), float32 or float64
        The parameters take its dtype.
    y : numpy.ndarray of shape (n_samples,)
        Labels 0 and 1.
    optimizer_class : subclass of fastopt.optim.Optimizer
        Constructed as ``optimizer_class([coef, intercept], lr=lr, **optimizer_args)``,
        so both arrays form one parameter group and each step is one fused call.
    lr, epochs, batch_size
        Learning rate, passes over the data, and rows per step. Rows are
        shuffled at each epoch; the last batch of an epoch may be smaller.
    l2 : float, default 0
        Coefficient ``lambda`` of the penalty ``lambda / 2 * ||coef||^2``.
    seed : int, default 0
        Seed of the shuffling; weights start at zero.
    schedule : {"none", "cosine", "warmup-cosine"}
        Learning-rate schedule over all steps, see :func:`make_scheduler`.

    Returns
    -------
    LogisticModel
    """
    n_samples, n_features = X.shape
    dtype = X.dtype
    coef = np.zeros(n_features, dtype=dtype)
    intercept = np.zeros(1, dtype=dtype)
    # The gradient buffers are allocated once and filled in place at every step.
    grad_coef = np.zeros_like(coef)
    grad_intercept = np.zeros_like(intercept)
    y = np.asarray(y, dtype=dtype)

    optimizer = optimizer_class([coef, intercept], lr=lr, **(optimizer_args or {}))
    steps_per_epoch = math.ceil(n_samples / batch_size)
    scheduler = make_scheduler(optimizer, schedule, epochs * steps_per_epoch)
    rng = np.random.default_rng(seed)
    model = LogisticModel(coef, intercept)

    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        order = rng.permutation(n_samples)
        # One shuffled copy per epoch, so that every batch is a contiguous row slice.
        X_epoch = X[order]
        y_epoch = y[order]
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            X_batch = X_epoch[start:stop]
            z = X_batch @ coef
            z += intercept[0]
            residual = expit(z)
            residual -= y_epoch[start:stop]
            residual /= stop - start
            # NOTE: scipy.sparse has no public product into an existing array, so
            # this allocates one n_features-sized temporary per step.
            grad_coef[...] = X_batch.T @ residual
            if l2:
                grad_coef += l2 * coef
            grad_intercept[0] = residual.sum()
            last_lr = optimizer.param_groups[0]["lr"]
            optimizer.step([grad_coef, grad_intercept])
            if scheduler is not None:
                scheduler.step()
        seconds = time.perf_counter() - started

        # A diverged run overflows here; the check below reports it instead of NumPy's warning.
        with np.errstate(over="ignore", invalid="ignore"):
            train_loss = mean_log_loss(model.decision_function(X), y)
            objective = train_loss + 0.5 * l2 * float(np.dot(coef, coef))
        record = EpochRecord(epoch, train_loss, objective, float(last_lr), seconds)
        model.history.append(record)
        logger.info(
            "epoch %d/%d: train loss %.6f, objective %.6f, lr %.3g, %.2f s",
            epoch, epochs, train_loss, objective, record.lr, seconds,
        )
        if not math.isfinite(objective):
            raise FloatingPointError(
                f"training diverged at epoch {epoch}: the objective is {objective}; try a smaller --lr"
            )
    return model
