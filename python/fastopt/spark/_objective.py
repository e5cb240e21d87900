"""The GLM data term summed over the cached blocks of a Spark RDD.

For blocks b with weight sums W_b (the row count when unweighted) and W = sum_b W_b,

    f(w) = sum_b (W_b / W) f_b(w),

where f_b is the mean loss of block b that ``fastopt.linear_model.GLMObjective`` computes with
the C++ GLM kernels. So f is the single-machine objective of all rows together, and the
solvers of ``fastopt.linear_model._quasi_newton`` run on it unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from fastopt.linear_model._objective import GLMObjective

# Parameter vectors up to this size (512 KiB of float64) are sent inside the task closure,
# and larger ones go through a broadcast variable.
CLOSURE_MAX_PARAMS = 1 << 16

__all__ = ["DistributedGLMObjective", "block_hessian", "local_objective", "ordered_tree_sum",
           "partition_value_grad"]


def local_objective(block, spec):
    """Return the GLMObjective of one block, or None when it has no positive weight.

    ``spec`` is ``(loss, n_classes, n_features, fit_intercept)``. For the binary logistic
    loss the labels 0/1 become -1/+1.
    """
    loss, n_classes, n_features, fit_intercept = spec
    if block.n_rows == 0:
        return None
    weights = block.weights
    if weights is not None and not weights.sum() > 0:
        return None
    labels = 2.0 * block.labels - 1.0 if loss == "logistic" else block.labels
    return GLMObjective(block.matrix(n_features), labels, loss=loss, sample_weight=weights,
                        fit_intercept=fit_intercept,
                        n_classes=n_classes if loss == "multinomial" else None)


def block_weight(block) -> float:
    return float(block.n_rows if block.weights is None else block.weights.sum())


def block_hessian(objective, w):
    """Return the dense Hessian of a block's mean loss at w, of shape (n_params, n_params).

    The Hessian is ``A^T D A`` for the augmented design ``A = [X, 1]`` (``A = X`` without an
    intercept), with D the per-sample curvature that ``GLMObjective.hessp`` uses. Only the
    binary logistic and squared losses have this form, so the multinomial loss has no dense
    Hessian here. The C++ kernel ``GlmDesign.gram`` forms it in a fixed order of additions
    whatever the thread count, so a retried task gets the same bits, and it writes both
    triangles from one sum, so H is exactly symmetric.
    """
    curvature = objective._curvature_at(w)
    return objective.design.native.gram(curvature, objective.fit_intercept)


def partition_value_grad(index, pairs, w, spec, hessian=False):
    """Return ``[(index, (W_b, W_b f_b(w), W_b grad f_b(w)[, W_b hess f_b(w)]))]``.

    Evaluates one partition, with the dense Hessian when ``hessian`` is true. Runs on the
    executors and is deterministic for a given block, so a retried task returns the same
    numbers (the kernels sum in a fixed order whatever the thread count).
    """
    n_params = w.shape[0]
    weight, value, grad = 0.0, 0.0, np.zeros(n_params)
    hess = np.zeros((n_params, n_params)) if hessian else None
    for block, _ in pairs:
        objective = local_objective(block, spec)
        if objective is None:
            continue
        f, g = objective.value_grad(w)
        b = block_weight(block)
        weight += b
        value += b * f
        grad += b * g
        if hessian:
            hess += b * block_hessian(objective, w)
    totals = (weight, value, grad) if hess is None else (weight, value, grad, hess)
    return [(index, totals)]


def _add(total, part):
    return tuple(a + b for a, b in zip(total, part))


def _sum_in_order(items):
    """Sum ``(index, value)`` pairs in increasing index and return (smallest index, sum)."""
    ordered = sorted(items, key=lambda item: item[0])
    total = ordered[0][1]
    for _, part in ordered[1:]:
        total = _add(total, part)
    return ordered[0][0], total


def ordered_tree_sum(keyed, depth):
    """Sum the ``(partition index, tuple of numbers and arrays)`` pairs of an RDD.

    The tree has the shape of ``RDD.treeAggregate``'s: while there are more than
    ``scale + n / scale`` partial sums, with ``scale = max(ceil(n ** (1 / depth)), 2)``, the
    partials are grouped ``scale`` at a time by a shuffle. Unlike ``treeAggregate``, whose
    ``reduceByKey`` adds the partials of a group in the order they arrive, each group is added
    in partition order, so the sum is the same in every run and after any task retry.
    """
    n = keyed.getNumPartitions()
    scale = max(int(math.ceil(n ** (1.0 / depth))), 2)
    while n > scale + n / scale:
        n = int(math.ceil(n / scale))
        keyed = (keyed.map(lambda item, s=scale: (item[0] // s, item))
                 .partitionBy(n, lambda key: key)
                 .mapPartitions(lambda items: _group_sums(items)))
    partials = keyed.collect()
    return _sum_in_order(partials)[1]


def _group_sums(items):
    groups = {}
    for key, item in items:
        groups.setdefault(key, []).append(item)
    return [(key, _sum_in_order(groups[key])[1]) for key in sorted(groups)]


class DistributedGLMObjective:
    """The data term of a GLM over cached blocks, with the interface the solvers use.

    Parameters
    ----------
    blocks : CachedBlocks
        The persisted blocks of the fit.
    loss : {"logistic", "squared", "multinomial"}
    n_classes : int or None
        K for the multinomial loss.
    fit_intercept : bool
    depth : int
        Depth of the summation tree (see :func:`ordered_tree_sum`).

    Notes
    -----
    Each ``value_grad`` or ``value_grad_hess`` call runs one Spark job over the blocks. A
    ``w`` of up to ``CLOSURE_MAX_PARAMS`` entries is sent with the tasks. A larger one is
    broadcast for that job, and the broadcast is destroyed when the job ends.
    """

    def __init__(self, blocks, *, loss, n_classes, fit_intercept, depth):
        self.blocks = blocks
        self.loss = loss
        self.n_features = blocks.n_features
        self.n_outputs = n_classes if loss == "multinomial" else 1
        self.fit_intercept = fit_intercept
        self.n_params = self.n_outputs * self.n_features + (
            self.n_outputs if fit_intercept else 0)
        self.depth = depth
        self.spec = (loss, n_classes, self.n_features, fit_intercept)
        # The quasi-Newton solvers pick NumPy or CuPy from the type of ``y``, and w and its
        # gradient live on the driver as NumPy arrays.
        self.y = np.zeros(0)
        self.n_evaluations = 0
        self._last = None

    def value_grad(self, w, out=None):
        """Return f(w) and its gradient from one Spark job over the blocks."""
        weight, value, grad = self._totals(w, hessian=False)
        if out is None:
            out = np.empty(self.n_params)
        np.divide(grad, weight, out=out)
        return value / weight, out

    def value_grad_hess(self, w):
        """Return f(w), its gradient and its dense Hessian from one Spark job over the blocks.

        Defined for the binary logistic and squared losses (see :func:`block_hessian`).
        """
        if self.loss == "multinomial":
            raise ValueError("loss: the dense Hessian is defined for the binary logistic and "
                             "squared losses, got 'multinomial'")
        weight, value, grad, hess = self._totals(w, hessian=True)
        return value / weight, grad / weight, hess / weight

    def _totals(self, w, *, hessian):
        """Return the sums of :meth:`_evaluate`, reusing the last ones when w repeats.

        L-BFGS and OWL-QN evaluate w = 0 twice, once for the stopping threshold and once as
        the start, and each evaluation is a pass over all blocks.
        """
        last = self._last
        if last is not None and (last[1] or not hessian) and np.array_equal(last[0], w):
            return last[2] if hessian else last[2][:3]
        totals = self._evaluate(w, hessian=hessian)
        self._last = (np.array(w, dtype=np.float64), hessian, totals)
        return totals

    def _evaluate(self, w, *, hessian):
        """Run one job and return the weight sum and the weighted sums of the block results."""
        w = np.ascontiguousarray(w, dtype=np.float64)
        if w.shape != (self.n_params,):
            raise ValueError(f"w: expected shape ({self.n_params},), got {w.shape}")
        spec = self.spec
        evaluate = partition_value_grad
        broadcast = None
        if w.size > CLOSURE_MAX_PARAMS:
            broadcast = self.blocks.rdd.context.broadcast(w)
        try:
            if broadcast is None:
                # A small w travels in the task closure as raw float64 bytes, which saves
                # creating and destroying a broadcast variable for every evaluation.
                keyed = self.blocks.rdd.mapPartitionsWithIndex(
                    lambda index, pairs: evaluate(index, pairs, w, spec, hessian))
            else:
                keyed = self.blocks.rdd.mapPartitionsWithIndex(
                    lambda index, pairs: evaluate(index, pairs, broadcast.value, spec,
                                                  hessian))
            totals = ordered_tree_sum(keyed, self.depth)
        finally:
            if broadcast is not None:
                broadcast.destroy()
        self.n_evaluations += 1
        return totals

    def value(self, w) -> float:
        """Return f(w), at the cost of the same job as :meth:`value_grad`."""
        return self.value_grad(w)[0]
