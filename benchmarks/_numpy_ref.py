"""Plain-NumPy optimizer steps: the fastest form NumPy alone allows.

Every operation is an in-place ufunc with ``out=`` into the state or into one
scratch buffer shared by all tensors, so a step allocates nothing. Each ufunc
is still a separate pass over memory, which is the cost a fused kernel avoids.
NumPy ufuncs run on one thread.
"""

from __future__ import annotations

import math

import numpy as np


class _NumpyOptimizer:
    def __init__(self, params: list[np.ndarray], state_names: tuple[str, ...], num_scratch: int = 1):
        self.params = params
        self.state = {name: [np.zeros_like(p) for p in params] for name in state_names}
        largest = max(p.size for p in params)
        self._scratch = [np.empty(largest, dtype=params[0].dtype) for _ in range(num_scratch)]
        self.step_count = 0

    def _scratch_for(self, p: np.ndarray, index: int = 0) -> np.ndarray:
        return self._scratch[index][: p.size].reshape(p.shape)


class NumpyAdam(_NumpyOptimizer):
    """Adam, or AdamW with ``decoupled=True``, as torch.optim.Adam computes it.

    ``m = beta1 m + (1 - beta1) g``, ``v = beta2 v + (1 - beta2) g^2``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``;
    AdamW first multiplies ``p`` by ``1 - lr * weight_decay`` and Adam adds
    ``weight_decay * p`` to the gradient.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        l2 = weight_decay != 0.0 and not decoupled
        super().__init__(params, ("exp_avg", "exp_avg_sq"), num_scratch=2 if l2 else 1)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.decoupled = weight_decay, decoupled

    def step(self, grads: list[np.ndarray]) -> None:
        self.step_count += 1
        t = self.step_count
        step_size = self.lr / (1.0 - self.beta1**t)
        bc2_sqrt = math.sqrt(1.0 - self.beta2**t)
        for p, g, m, v in zip(self.params, grads, self.state["exp_avg"], self.state["exp_avg_sq"]):
            tmp = self._scratch_for(p)
            if self.weight_decay != 0.0 and self.decoupled:
                np.multiply(p, 1.0 - self.lr * self.weight_decay, out=p)
            if self.weight_decay != 0.0 and not self.decoupled:
                decayed = self._scratch_for(p, 1)
                np.multiply(p, self.weight_decay, out=decayed)
                np.add(decayed, g, out=decayed)
                g = decayed
            np.multiply(m, self.beta1, out=m)
            np.multiply(g, 1.0 - self.beta1, out=tmp)
            np.add(m, tmp, out=m)
            np.multiply(v, self.beta2, out=v)
            np.multiply(g, g, out=tmp)
            np.multiply(tmp, 1.0 - self.beta2, out=tmp)
            np.add(v, tmp, out=v)
            np.sqrt(v, out=tmp)
            np.divide(tmp, bc2_sqrt, out=tmp)
            np.add(tmp, self.eps, out=tmp)
            np.divide(m, tmp, out=tmp)
            np.multiply(tmp, step_size, out=tmp)
            np.subtract(p, tmp, out=p)


class NumpySGD(_NumpyOptimizer):
    """SGD with momentum (dampening 0, no Nesterov), as torch.optim.SGD computes it.

    ``buf = g`` on the first step, then ``buf = momentum * buf + g``; ``p -= lr * buf``.
    """

    def __init__(self, params, lr=1e-2, momentum=0.9):
        super().__init__(params, ("momentum_buffer",))
        self.lr, self.momentum = lr, momentum

    def step(self, grads: list[np.ndarray]) -> None:
        self.step_count += 1
        for p, g, buf in zip(self.params, grads, self.state["momentum_buffer"]):
            if self.step_count == 1:
                np.copyto(buf, g)
            else:
                np.multiply(buf, self.momentum, out=buf)
                np.add(buf, g, out=buf)
            tmp = self._scratch_for(p)
            np.multiply(buf, self.lr, out=tmp)
            np.subtract(p, tmp, out=p)
