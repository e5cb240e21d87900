r"""Line searches on :math:`\phi(\alpha) = f(x(\alpha))` along a search path.

Both searches call ``phi(alpha) -> (f, dphi)`` and never evaluate past the budget the caller
enforces inside ``phi`` (by raising). A non-finite value or slope at a trial step shrinks the
step toward the best point found so far and caps every later trial below that step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Fraction of the way from the best step to a step where phi was not finite.
NONFINITE_SHRINK = 0.25


@dataclass
class LineSearchResult:
    """Outcome of a line search.

    ``converged`` is True when ``step`` satisfies the search's acceptance test (strong Wolfe
    for More-Thuente, sufficient decrease for Armijo); otherwise ``reason`` names why it
    stopped and ``step`` is the best step tried (0.0 when no trial decreased ``phi``).

    Parameters
    ----------
    converged : bool
        Whether ``step`` passed the acceptance test.
    step : float
        The step returned.
    f : float
        :math:`\phi` at ``step``.
    dphi : float
        :math:`\phi'` at ``step``.
    nsteps : int
        Number of trial steps evaluated.
    reason : str, default ""
        Why the search stopped unconverged; empty when it converged.
    nonfinite : int, default 0
        Number of trials whose value or slope was not finite.

    Examples
    --------
    >>> from fastopt.minimize import backtracking_armijo
    >>> result = backtracking_armijo(lambda a: ((1 - a) ** 2, -2 * (1 - a)), 1.0, -2.0, 4.0)
    >>> result.converged, result.step, result.nsteps
    (True, 1.0, 2)
    """

    converged: bool
    step: float
    f: float
    dphi: float
    nsteps: int
    reason: str = ""
    nonfinite: int = 0


def _finite(f, d):
    return math.isfinite(f) and math.isfinite(d)


def backtracking_armijo(phi, f0: float, dphi0: float, step: float, *, c1: float = 1e-4,
                        max_steps: int = 20, step_max: float = math.inf) -> LineSearchResult:
    r"""Backtrack until :math:`\phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)` (Armijo).

    Each rejected step is replaced by the minimizer of the quadratic interpolating
    :math:`\phi(0)`, :math:`\phi'(0)` and :math:`\phi(\alpha)`, kept within
    :math:`[0.1\alpha, 0.5\alpha]` (Nocedal & Wright, 2006, section 3.5).

    Parameters
    ----------
    phi : callable
        ``phi(step) -> (f, dphi)``: the objective and its directional derivative at
        ``x + step * d``.
    f0 : float
        :math:`\phi(0)`.
    dphi0 : float
        :math:`\phi'(0)`; must be negative (a descent direction).
    step : float
        First trial step, > 0.
    c1 : float, default 1e-4
        Sufficient-decrease constant, in (0, 1).
    max_steps : int, default 20
        Maximum number of trial steps.
    step_max : float, default inf
        Largest step allowed; a larger ``step`` is clipped to it.

    Returns
    -------
    LineSearchResult
        The step taken and the values there.

    References
    ----------
    Nocedal, J. and Wright, S. J. "Numerical Optimization", 2nd ed., Springer, 2006.

    Examples
    --------
    On :math:`\phi(\alpha) = (1 - \alpha)^2` the trial step 4 is rejected and the
    quadratic interpolation gives the minimizer 1:

    >>> from fastopt.minimize import backtracking_armijo
    >>> backtracking_armijo(lambda a: ((1 - a) ** 2, -2 * (1 - a)), 1.0, -2.0, 4.0).step
    1.0
    """
    step = min(step, step_max)
    nonfinite = 0
    for k in range(1, max_steps + 1):
        f, d = phi(step)
        if not _finite(f, d):
            nonfinite += 1
            step *= NONFINITE_SHRINK
            continue
        if f <= f0 + c1 * step * dphi0:
            return LineSearchResult(True, step, f, d, k, nonfinite=nonfinite)
        denom = 2.0 * (f - f0 - dphi0 * step)
        trial = -dphi0 * step * step / denom if denom > 0 else 0.5 * step
        step = min(max(trial, 0.1 * step), 0.5 * step)
    return LineSearchResult(False, 0.0, f0, dphi0, max_steps,
                            f"no sufficient decrease within max_linesearch={max_steps} trial "
                            "steps", nonfinite)


def more_thuente(phi, f0: float, dphi0: float, step: float, *, c1: float = 1e-4,
                 c2: float = 0.9, max_steps: int = 20, step_max: float = 1e10,
                 xtol: float = 1e-10) -> LineSearchResult:
    r"""Find a step satisfying the strong Wolfe conditions (More & Thuente, 1994).

    Accepts :math:`\alpha` with :math:`\phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)` and
    :math:`|\phi'(\alpha)| \le c_2 |\phi'(0)|`. Trial steps come from the safeguarded
    cubic/quadratic interpolation of More & Thuente, "Line search algorithms with guaranteed
    sufficient decrease", ACM TOMS 20(3), 1994: while no bracket is known the step grows by
    a factor in [1.1, 4], and once a minimizer is bracketed the interval shrinks by at least
    a third every two steps. Until a step with sufficient decrease and a non-negative slope is
    found the search works on :math:`\psi(\alpha) = \phi(\alpha) - \phi(0) - c_1 \alpha
    \phi'(0)`, as in the paper.

    When it stops unconverged (``max_steps`` trials, interval narrower than ``xtol``
    relative, or ``step_max`` reached), it returns the best step that gave sufficient
    decrease, or step 0.0.

    Parameters
    ----------
    phi : callable
        ``phi(step) -> (f, dphi)``: the objective and its directional derivative at
        ``x + step * d``.
    f0 : float
        :math:`\phi(0)`.
    dphi0 : float
        :math:`\phi'(0)`; must be negative (a descent direction).
    step : float
        First trial step, > 0.
    c1 : float, default 1e-4
        Sufficient-decrease constant, in (0, c2).
    c2 : float, default 0.9
        Curvature constant, in (c1, 1).
    max_steps : int, default 20
        Maximum number of trial steps.
    step_max : float, default 1e10
        Largest step allowed.
    xtol : float, default 1e-10
        Relative width of the bracket at which the search stops.

    Returns
    -------
    LineSearchResult
        The step taken and the values there.

    Examples
    --------
    With a small ``c2`` the search extrapolates from the short trial step 0.25 to the
    minimizer 1 of :math:`\phi(\alpha) = (1 - \alpha)^2`:

    >>> from fastopt.minimize import more_thuente
    >>> more_thuente(lambda a: ((1 - a) ** 2, -2 * (1 - a)), 1.0, -2.0, 0.25, c2=0.1)
    LineSearchResult(converged=True, step=1.0, f=0.0, dphi=-0.0, nsteps=2, reason='', nonfinite=0)
    """
    gtest = c1 * dphi0
    stx, fx, gx = 0.0, f0, dphi0
    sty, fy, gy = 0.0, f0, dphi0
    bracketed = False
    stage1 = True
    width = step_max
    width_prev = 2.0 * step_max
    stmin, stmax = 0.0, step + 4.0 * step
    cap = step_max  # every trial stays below this (shrinks at non-finite points)
    step = min(step, step_max)
    best = (0.0, f0, dphi0)  # lowest phi with sufficient decrease
    nonfinite = 0
    reason = f"no step satisfied the strong Wolfe conditions within max_linesearch={max_steps} trial steps"
    for k in range(1, max_steps + 1):
        f, d = phi(step)
        if not _finite(f, d):
            nonfinite += 1
            cap = step
            step = stx + NONFINITE_SHRINK * (step - stx)
            stmax = min(stmax, cap)
            if step <= stx or step == cap:
                reason = "phi was not finite at any step above the best one"
                break
            continue
        ftest = f0 + step * gtest
        if f <= ftest and f < best[1]:
            best = (step, f, d)
        if f <= ftest and abs(d) <= -c2 * dphi0:
            return LineSearchResult(True, step, f, d, k, nonfinite=nonfinite)
        if stage1 and f <= ftest and d >= 0.0:
            stage1 = False
        if bracketed and (step <= stmin or step >= stmax):
            reason = "rounding errors prevent progress within the bracket"
            break
        if bracketed and stmax - stmin <= xtol * stmax:
            reason = f"the bracket is narrower than xtol={xtol:g} relative"
            break
        if step >= step_max and f <= ftest and d <= gtest:
            reason = f"the step reached step_max={step_max:g}"
            break
        if stage1 and fx >= f > ftest:
            # Work on psi: shift values and slopes by the sufficient decrease line.
            sx, sf, sy_, fy_m = stx, fx - stx * gtest, sty, fy - sty * gtest
            stx, fxm, gxm, sty, fym, gym, bracketed, step = _step(
                sx, sf, gx - gtest, sy_, fy_m, gy - gtest, step, f - step * gtest,
                d - gtest, bracketed, stmin, stmax)
            fx, gx = fxm + stx * gtest, gxm + gtest
            fy, gy = fym + sty * gtest, gym + gtest
        else:
            stx, fx, gx, sty, fy, gy, bracketed, step = _step(
                stx, fx, gx, sty, fy, gy, step, f, d, bracketed, stmin, stmax)
        if bracketed:
            if abs(sty - stx) >= 0.66 * width_prev:
                step = stx + 0.5 * (sty - stx)
            width_prev = width
            width = abs(sty - stx)
            stmin, stmax = min(stx, sty), max(stx, sty)
        else:
            stmin = step + 1.1 * (step - stx)
            stmax = step + 4.0 * (step - stx)
        step = min(max(step, 0.0), step_max)
        stmax = min(stmax, cap)
        if step >= cap:
            step = stx + 0.5 * (cap - stx)
        if bracketed and (step <= stmin or step >= stmax or stmax - stmin <= xtol * stmax):
            step = stx
    return LineSearchResult(False, best[0], best[1], best[2], k, reason, nonfinite)


def _cubic_min(a, fa, da, b, fb, db):
    """Return (theta, gamma) of the cubic through (a, fa, da), (b, fb, db), oriented at b."""
    theta = 3.0 * (fa - fb) / (b - a) + da + db
    s = max(abs(theta), abs(da), abs(db))
    if s == 0.0:
        return theta, 0.0
    gamma = s * math.sqrt(max(0.0, (theta / s) ** 2 - (da / s) * (db / s)))
    return theta, gamma


def _step(stx, fx, dx, sty, fy, dy, stp, fp, dp, bracketed, stpmin, stpmax):
    """Safeguarded trial step of More & Thuente (1994), section 4, cases 1 to 4.

    (stx, fx, dx) is the best point, (sty, fy, dy) the other end of the interval and
    (stp, fp, dp) the latest trial. Returns the updated interval, the bracket flag and the
    next trial step.
    """
    sgnd = dp * math.copysign(1.0, dx)
    if fp > fx:
        # Case 1: higher value, so a minimizer lies between stx and stp.
        theta, gamma = _cubic_min(stx, fx, dx, stp, fp, dp)
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        stpc = stx + (p / q) * (stp - stx) if q != 0.0 else stx + 0.5 * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        if abs(stpc - stx) < abs(stpq - stx):
            stpf = stpc
        else:
            stpf = stpc + (stpq - stpc) / 2.0
        bracketed = True
    elif sgnd < 0.0:
        # Case 2: lower value and slopes of opposite sign, so a minimizer is bracketed.
        theta, gamma = _cubic_min(stx, fx, dx, stp, fp, dp)
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        stpc = stp + (p / q) * (stx - stp) if q != 0.0 else stp + 0.5 * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
        bracketed = True
    elif abs(dp) < abs(dx):
        # Case 3: lower value, same slope sign, slope decreasing in magnitude.
        theta, gamma = _cubic_min(stx, fx, dx, stp, fp, dp)
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q if q != 0.0 else 0.0
        if r < 0.0 and gamma != 0.0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if bracketed:
            stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            stpf = min(max(stpf, stpmin), stpmax)
    else:
        # Case 4: lower value, same slope sign, slope not decreasing in magnitude.
        if bracketed:
            theta, gamma = _cubic_min(sty, fy, dy, stp, fp, dp)
            if stp > sty:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = ((gamma - dp) + gamma) + dy
            stpf = stp + (p / q) * (sty - stp) if q != 0.0 else stp + 0.5 * (sty - stp)
        elif stp > stx:
            stpf = stpmax
        else:
            stpf = stpmin
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if sgnd < 0.0:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, bracketed, stpf
