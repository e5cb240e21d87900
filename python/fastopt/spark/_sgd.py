r"""Synchronous mini-batch SGD with parameter averaging once per epoch.

Epoch e (counted from 0) broadcasts the parameters w. Each partition b starts from w and takes
one pass of proximal mini-batch steps over its rows,

.. math:: w \leftarrow \mathrm{prox}_{\eta_e h}\big(w - \eta_e (\nabla f_B(w) + \alpha (1 - \rho)\, coef)\big),
          \qquad \eta_e = \eta_0 / \sqrt{e + 1},

where :math:`f_B` is the weighted mean loss of the mini-batch B (the GLM kernels on a CSR row
slice), h is the L1 part :math:`\alpha \rho \|coef\|_1` (soft-thresholding, intercepts
untouched), and the batches are the partition's rows cut into runs of ``batch_size``, visited
in an order drawn from ``numpy.random.default_rng([seed, e, b])``. The driver then averages the
partitions' parameters weighted by their weight sums W_b. The draw depends only on the seed,
the epoch and the partition index, so a retried task repeats the same steps.
"""

from __future__ import annotations

import numpy as np

from fastopt.linear_model._objective import GLMObjective
from fastopt.prox import soft_threshold
from fastopt.spark._objective import block_weight, ordered_tree_sum

__all__ = ["partition_epoch", "run_sgd"]


def _batch_objective(matrix, labels, weights, start, stop, spec):
    loss, n_classes, _, fit_intercept = spec
    batch_weights = None if weights is None else weights[start:stop]
    if batch_weights is not None and not batch_weights.sum() > 0:
        return None
    return GLMObjective(matrix[start:stop], labels[start:stop], loss=loss,
                        sample_weight=batch_weights, fit_intercept=fit_intercept,
                        n_classes=n_classes if loss == "multinomial" else None)


def partition_epoch(index, pairs, w, spec, options):
    """Return ``[(index, (W_b, W_b w_b))]``: one pass of SGD over the partition's block.

    ``options`` is ``(epoch, seed, batch_size, step_size, alpha, l1_ratio)``.
    """
    epoch, seed, batch_size, step_size, alpha, l1_ratio = options
    loss, _, n_features, fit_intercept = spec
    n_coef = (spec[1] if loss == "multinomial" else 1) * n_features
    a1, a2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    weight, total = 0.0, np.zeros_like(w)
    for block, _ in pairs:
        b = block_weight(block)
        if not b > 0:
            continue
        x = w.copy()
        matrix = block.matrix(n_features)
        labels = 2.0 * block.labels - 1.0 if loss == "logistic" else block.labels
        starts = np.arange(0, block.n_rows, batch_size)
        rng = np.random.default_rng([seed, epoch, index])
        for start in starts[rng.permutation(starts.shape[0])]:
            stop = min(start + batch_size, block.n_rows)
            objective = _batch_objective(matrix, labels, block.weights, start, stop, spec)
            if objective is None:
                continue
            _, grad = objective.value_grad(x)
            if a2 != 0.0:
                grad[:n_coef] += a2 * x[:n_coef]
            x -= step_size * grad
            if a1 != 0.0:
                soft_threshold(x[:n_coef], step_size * a1)
        weight += b
        total += b * x
    return [(index, (weight, total))]


def run_sgd(blocks, w0, *, spec, depth, alpha, l1_ratio, learning_rate, batch_size, max_iter,
            tol, seed, callback=None):
    """Run up to ``max_iter`` epochs and return (w, epochs run, converged).

    The run stops early when an epoch moves no parameter by more than
    ``tol * max(1, max |w|)``.
    """
    evaluate = partition_epoch
    context = blocks.rdd.context
    w = np.array(w0, dtype=np.float64)
    for epoch in range(max_iter):
        broadcast = context.broadcast(w)
        options = (epoch, seed, batch_size, learning_rate / np.sqrt(epoch + 1.0), alpha,
                   l1_ratio)
        try:
            keyed = blocks.rdd.mapPartitionsWithIndex(
                lambda index, pairs: evaluate(index, pairs, broadcast.value, spec, options))
            weight, total = ordered_tree_sum(keyed, depth)
        finally:
            broadcast.destroy()
        previous, w = w, total / weight
        if callback is not None:
            callback(epoch, w)
        change = float(np.abs(w - previous).max())
        if change <= tol * max(1.0, float(np.abs(w).max())):
            return w, epoch + 1, True
    return w, max_iter, False
