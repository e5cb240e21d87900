"""The L-BFGS direction strategy for the quasi-Newton driver."""

from __future__ import annotations

from fastopt.minimize._state import LBFGSInverseHessian, LBFGSState


class LBFGSDirection:
    """Search directions ``d = -H g`` from an :class:`LBFGSState` and its pair updates."""

    def __init__(self, state: LBFGSState):
        self.state = state
        self._skipped_before = state.nskipped

    @property
    def count(self) -> int:
        return self.state.count

    @property
    def gamma(self) -> float:
        return self.state.gamma

    @property
    def nskipped(self) -> int:
        """Pairs rejected by the curvature test during this run."""
        return self.state.nskipped - self._skipped_before

    def direction(self, g, out) -> float:
        """Write ``-H g`` into ``out``; return ``g'out``, summed as ``lbfgs_dot`` sums it."""
        return self.state.direction_and_slope(g, out)

    def update(self, x_new, x, g_new, g) -> bool:
        return self.state.add_pair(x_new, x, g_new, g)

    def reset(self) -> None:
        self.state.reset()

    def hess_inv(self) -> LBFGSInverseHessian:
        return LBFGSInverseHessian(self.state)
