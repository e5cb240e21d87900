"""L-BFGS with torch.optim.LBFGS's arguments and closure protocol, on fastopt's kernels."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from fastopt import _core
from fastopt.minimize._linesearch import more_thuente
from fastopt.minimize._state import LBFGSState, check_history_size
from fastopt.optim._checks import check_number
from fastopt.torch._base import check_param

# Constants of torch.optim.LBFGS's strong Wolfe search (torch 2.13, optim/lbfgs.py).
_C1, _C2 = 1e-4, 0.9


def _value(loss) -> float:
    """Return the closure's loss as a float (detached first, so torch does not warn)."""
    return float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


class LBFGS(torch.optim.Optimizer):
    r"""L-BFGS as a drop-in for ``torch.optim.LBFGS``.

    The arguments, the closure protocol (``step(closure)`` calls the closure,
    which zeroes the gradients, computes the loss, calls ``backward`` and
    returns the loss) and the stopping tests are torch's. The search
    direction comes from fastopt's two-loop kernel over a ring buffer of
    curvature pairs (:class:`fastopt.minimize.LBFGSState`), and
    ``line_search_fn="strong_wolfe"`` runs fastopt's More-Thuente search,
    which accepts a step under the same strong Wolfe conditions
    (:math:`c_1 = 10^{-4}`, :math:`c_2 = 0.9`) as torch's search.

    Parameters
    ----------
    params : iterable of tensors
        One parameter group of CPU tensors of one dtype, float32 or float64.
    lr : float, default 1
        Step length, or the first trial step of the line search.
    max_iter : int, default 20
        Iterations per ``step`` call.
    max_eval : int, optional
        Closure evaluations per ``step`` call; ``max_iter * 5 // 4`` when None.
    tolerance_grad : float, default 1e-7
        Stop when the largest absolute gradient element is at most this.
    tolerance_change : float, default 1e-9
        Stop when the step or the change of the loss is at most this.
    history_size : int, default 100
        Curvature pairs kept, at most 256.
    line_search_fn : None or "strong_wolfe"
        Without a line search every iteration takes the step ``lr``, as in torch.

    Notes
    -----
    A pair ``(s, y)`` enters the history when :math:`s^\top y > \epsilon\, y^\top y`
    (``epsilon`` the machine epsilon of the dtype), a test that does not change
    when the loss is scaled, where torch requires :math:`s^\top y > 10^{-10}`.
    With ``line_search_fn="strong_wolfe"`` the trial steps differ from torch's
    search, so the iterates match torch's only at convergence.

    ``state_dict()`` stores torch's entries (``func_evals``, ``n_iter``, ``d``,
    ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``,
    ``prev_loss``), so a run can continue in either class.

    References
    ----------
    Liu, D. C. and Nocedal, J. "On the limited memory BFGS method for large scale
    optimization", Math. Programming 45, 1989.
    More, J. J. and Thuente, D. J. "Line search algorithms with guaranteed sufficient
    decrease", ACM Trans. Math. Software 20(3), 1994.

    Examples
    --------
    Minimize the quadratic :math:`\frac12 x^\top A x - b^\top x`, whose minimizer solves
    :math:`A x = b`:

    >>> import torch
    >>> from fastopt.torch import LBFGS
    >>> A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    >>> b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    >>> x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = 0.5 * x @ A @ x - b @ x
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> x.detach()
    tensor([ 0.6000, -0.8000], dtype=torch.float64)
    """

    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None and isinstance(max_iter, numbers.Integral):
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        self._check_group(defaults)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"params: LBFGS takes one parameter group (per-parameter options are not "
                f"supported), got {len(self.param_groups)}"
            )
        self._params = self.param_groups[0]["params"]
        dtypes = {p.dtype for p in self._params}
        for i, p in enumerate(self._params):
            check_param(p, f"params[{i}]")
            if p.device.type != "cpu" or p.dtype not in (torch.float32, torch.float64):
                raise ValueError(
                    f"params[{i}]: LBFGS runs on CPU float32 or float64 tensors, got "
                    f"{p.dtype} on {p.device}"
                )
        if len(dtypes) != 1:
            raise TypeError(
                f"params: expected one dtype for every parameter, got {sorted(map(str, dtypes))}"
            )
        self._dtype = torch_to_numpy_dtype(next(iter(dtypes)))
        self._n = sum(p.numel() for p in self._params)
        self._history: LBFGSState | None = None

    @staticmethod
    def _check_group(group) -> None:
        group["lr"] = check_number("lr", group["lr"], low=0.0, low_open=True)
        group["max_iter"] = _check_int("max_iter", group["max_iter"], 1)
        group["max_eval"] = _check_int("max_eval", group["max_eval"], 1)
        group["tolerance_grad"] = check_number("tolerance_grad", group["tolerance_grad"], low=0.0)
        group["tolerance_change"] = check_number("tolerance_change", group["tolerance_change"],
                                                 low=0.0)
        group["history_size"] = check_history_size(group["history_size"])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"line_search_fn: expected None or 'strong_wolfe', got {group['line_search_fn']!r}"
            )

    # -- flat views ---------------------------------------------------------

    def _views(self):
        return [p.detach().numpy().reshape(-1) for p in self._params]

    def _gather_params(self, out: np.ndarray) -> None:
        offset = 0
        for view in self._views():
            out[offset:offset + view.size] = view
            offset += view.size

    def _scatter_params(self, x: np.ndarray) -> None:
        offset = 0
        for view in self._views():
            view[...] = x[offset:offset + view.size]
            offset += view.size

    def _gather_grad(self, out: np.ndarray) -> None:
        offset = 0
        for i, p in enumerate(self._params):
            n = p.numel()
            if p.grad is None:
                out[offset:offset + n] = 0.0
            elif p.grad.is_sparse:
                raise RuntimeError(f"params[{i}].grad: LBFGS does not support sparse gradients")
            else:
                out[offset:offset + n] = p.grad.detach().reshape(-1).numpy()
            offset += n

    # -- the step -----------------------------------------------------------

    @torch.no_grad()
    def step(self, closure):
        """Run up to ``max_iter`` iterations; return the loss of the first closure call.

        Parameters
        ----------
        closure : callable
            Function that zeroes the gradients, computes the loss, calls ``backward``
            and returns the loss.

        Returns
        -------
        torch.Tensor
            The loss at the parameters before this call.
        """
        if closure is None:
            raise ValueError("closure: LBFGS needs a closure that returns the loss, got None")
        group = self.param_groups[0]
        self._check_group(group)
        closure = torch.enable_grad()(closure)
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        history = self._history_for(group["history_size"])

        n, dtype = self._n, self._dtype
        x0 = np.empty(n, dtype)
        trial = np.empty(n, dtype)
        g = np.empty(n, dtype)
        d = state["d"].numpy() if "d" in state else np.zeros(n, dtype)
        prev_g = state["prev_flat_grad"].numpy() if "prev_flat_grad" in state else None
        t = state.get("t")
        zero = np.zeros(n, dtype)
        s = np.empty(n, dtype)

        orig_loss = closure()
        loss = _value(orig_loss)
        evals = 1
        state["func_evals"] += 1
        self._gather_grad(g)
        if np.abs(g).max(initial=0.0) <= group["tolerance_grad"]:
            return orig_loss

        prev_loss = state.get("prev_loss")
        iteration = 0
        while iteration < group["max_iter"]:
            iteration += 1
            state["n_iter"] += 1

            # 1. Direction: store the last step's pair, then d = -H g by the two-loop kernel.
            if state["n_iter"] > 1 and prev_g is not None:
                np.multiply(d, t, out=s)
                history.add_pair(s, zero, g, prev_g)
            gtd = history.direction_and_slope(g, d)
            if prev_g is None:
                prev_g = g.copy()
            else:
                prev_g[...] = g
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(g).sum(dtype=np.float64))) * group["lr"]
            else:
                t = group["lr"]
            if gtd > -group["tolerance_change"]:
                break

            # 2. Move along d, by the line search or by the fixed step t.
            self._gather_params(x0)
            if group["line_search_fn"] == "strong_wolfe":
                loss, t, used = self._strong_wolfe(closure, x0, d, t, loss, gtd, g,
                                                   group["max_eval"] - evals)
            else:
                _core.lbfgs_trial(x0, d, t, trial)
                self._scatter_params(trial)
                used = 0
                if iteration != group["max_iter"]:
                    loss = _value(closure())
                    self._gather_grad(g)
                    used = 1
            evals += used
            state["func_evals"] += used

            # 3. Torch's stopping tests, in torch's order.
            if iteration == group["max_iter"] or evals >= group["max_eval"]:
                break
            if np.abs(g).max(initial=0.0) <= group["tolerance_grad"]:
                break
            if np.abs(d).max(initial=0.0) * abs(t) <= group["tolerance_change"]:
                break
            if abs(loss - prev_loss) < group["tolerance_change"]:
                break

        state["d"] = torch.from_numpy(d)
        state["t"] = t
        state["prev_flat_grad"] = torch.from_numpy(prev_g)
        state["prev_loss"] = prev_loss
        return orig_loss

    def _strong_wolfe(self, closure, x0, d, t, loss, gtd, g, budget):
        """Search along ``d`` from ``x0``; leave the parameters and ``g`` at the accepted step.

        Returns ``(loss, step, evaluations)``. The gradient of every trial is
        kept until a lower sufficient-decrease trial replaces it, so the
        accepted point needs no extra evaluation.
        """
        x = np.empty_like(x0)
        g0 = g.copy()
        last = best = None
        evals = 0

        def phi(step):
            nonlocal last, best, evals
            _core.lbfgs_trial(x0, d, step, x)
            self._scatter_params(x)
            f = _value(closure())
            evals += 1
            self._gather_grad(g)
            slope = _core.lbfgs_dot(g, d)
            last = (step, f, g.copy())
            if math.isfinite(f) and f <= loss + _C1 * step * gtd and (best is None or f < best[1]):
                best = last
            return f, slope

        result = more_thuente(phi, loss, gtd, t, c1=_C1, c2=_C2, max_steps=max(1, budget))
        if result.converged:
            chosen = last
        elif result.step > 0.0 and best is not None:
            chosen = best
        else:
            chosen = (0.0, loss, g0)
        step, f, grad = chosen
        _core.lbfgs_trial(x0, d, step, x)
        self._scatter_params(x)
        g[...] = grad
        return f, step, evals

    # -- state --------------------------------------------------------------

    def _history_for(self, history_size: int) -> LBFGSState:
        if self._history is None or self._history.history_size != history_size:
            old = self._history
            self._history = LBFGSState(self._n, history_size, self._dtype)
            if old is not None:
                for s, y in zip(*old.pairs()):
                    self._history.add_pair(s, np.zeros_like(s), y, np.zeros_like(y))
        return self._history

    def state_dict(self):
        """Return the state in torch.optim.LBFGS's layout, curvature pairs included.

        Returns
        -------
        dict
            ``"state"`` and ``"param_groups"``, as torch saves them.
        """
        saved = super().state_dict()
        if self._history is not None and 0 in saved["state"]:
            entry = dict(saved["state"][0])
            steps, diffs = self._history.pairs()
            entry["old_stps"] = [torch.from_numpy(s) for s in steps]
            entry["old_dirs"] = [torch.from_numpy(y) for y in diffs]
            entry["ro"] = [1.0 / float(np.dot(s.astype(np.float64), y)) for s, y in zip(steps, diffs)]
            entry["H_diag"] = self._history.gamma
            saved["state"][0] = entry
        return saved

    def load_state_dict(self, state_dict) -> None:
        """Load a state dict of this class or of ``torch.optim.LBFGS``.

        Parameters
        ----------
        state_dict : dict
            A dict returned by ``state_dict()`` of either class.
        """
        super().load_state_dict(state_dict)
        state = self.state[self._params[0]]
        steps = state.pop("old_stps", None) or []
        diffs = state.pop("old_dirs", None) or []
        state.pop("ro", None)
        state.pop("al", None)
        gamma = state.pop("H_diag", None)
        for name in ("d", "prev_flat_grad"):
            if name in state:
                state[name] = state[name].detach().to(torch.float64 if self._dtype == np.float64
                                                      else torch.float32).contiguous().clone()
        self._history = LBFGSState(self._n, self.param_groups[0]["history_size"], self._dtype)
        for s, y in zip(steps, diffs):
            s = s.detach().numpy().astype(self._dtype)
            y = y.detach().numpy().astype(self._dtype)
            self._history.add_pair(s, np.zeros_like(s), y, np.zeros_like(y))
        if gamma is not None:
            self._history.gamma = float(gamma)


def torch_to_numpy_dtype(dtype: torch.dtype):
    return np.float64 if dtype == torch.float64 else np.float32
