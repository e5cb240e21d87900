"""Tests of fastopt.minimize with method="bfgs" (dense inverse Hessian)."""

import numpy as np
import pytest
import scipy.optimize as so
from scipy.optimize import rosen, rosen_der

import fastopt
from fastopt.minimize import LBFGSState


def rosen_fg(x):
    return rosen(x), rosen_der(x)


def beale(x):
    """Beale's function (More, Garbow & Hillstrom problem 5): f* = 0 at (3, 0.5)."""
    a, b = x
    t = np.array([1.5 - a + a * b, 2.25 - a + a * b * b, 2.625 - a + a * b ** 3])
    dt_da = np.array([-1 + b, -1 + b * b, -1 + b ** 3])
    dt_db = np.array([a, 2 * a * b, 3 * a * b * b])
    return float(t @ t), np.array([2 * t @ dt_da, 2 * t @ dt_db])


def powell_singular(x):
    """Powell's singular function (More, Garbow & Hillstrom problem 13): f* = 0 at 0."""
    x1, x2, x3, x4 = x
    r = np.array([x1 + 10 * x2, np.sqrt(5) * (x3 - x4), (x2 - 2 * x3) ** 2,
                  np.sqrt(10) * (x1 - x4) ** 2])
    J = np.array([[1, 10, 0, 0],
                  [0, 0, np.sqrt(5), -np.sqrt(5)],
                  [0, 2 * (x2 - 2 * x3), -4 * (x2 - 2 * x3), 0],
                  [2 * np.sqrt(10) * (x1 - x4), 0, 0, -2 * np.sqrt(10) * (x1 - x4)]])
    return float(r @ r), 2 * J.T @ r


def quadratic(n, seed):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((n, n))
    A = Q @ Q.T + n * np.eye(n)
    b = rng.standard_normal(n)

    def fg(x):
        return 0.5 * float(x @ A @ x) - float(b @ x), A @ x - b

    return fg, np.linalg.solve(A, b)


PROBLEMS = {
    "rosenbrock-2": (rosen_fg, np.array([-1.2, 1.0]), np.ones(2)),
    "rosenbrock-10": (rosen_fg, np.full(10, -0.5), np.ones(10)),
    "beale": (beale, np.array([1.0, 1.0]), np.array([3.0, 0.5])),
    "powell-singular": (powell_singular, np.array([3.0, -1.0, 0.0, 1.0]), np.zeros(4)),
    "quadratic-20": (quadratic(20, 0)[0], np.zeros(20), quadratic(20, 0)[1]),
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_bfgs_matches_scipy(name):
    fg, x0, x_star = PROBLEMS[name]
    res = fastopt.minimize(fg, x0, jac=True, method="bfgs",
                           options={"gtol": 1e-8, "ftol": 0.0})
    ref = so.minimize(fg, x0, jac=True, method="BFGS", options={"gtol": 1e-8})
    f_star = fg(x_star)[0]
    assert res.success, res.message
    assert res.fun <= max(ref.fun, f_star) + 1e-10
    # Powell's singular function is flat (quartic) near its minimizer.
    atol = 2e-2 if name == "powell-singular" else 1e-5
    np.testing.assert_allclose(res.x, x_star, atol=atol)
    assert res.nit <= 2 * ref.nit + 10


def test_bfgs_result_fields():
    fg, x0, x_star = PROBLEMS["rosenbrock-2"]
    res = fastopt.minimize(fg, x0, jac=True, method="bfgs")
    f, g = fg(res.x)
    assert res.fun == f
    np.testing.assert_array_equal(res.jac, g)
    assert res.nfev >= res.nit + 1
    assert res.njev == res.nfev
    assert res.nskipped == 0
    H = res.hess_inv
    assert isinstance(H, np.ndarray)
    assert H.shape == (2, 2)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-14)
    assert np.all(np.linalg.eigvalsh(H) > 0)
    # Near the minimizer H approximates the inverse Hessian of Rosenbrock at (1, 1).
    hess = np.array([[802.0, -400.0], [-400.0, 200.0]])
    np.testing.assert_allclose(H, np.linalg.inv(hess), rtol=0.3, atol=0.05)


def test_bfgs_float32():
    fg, x0, x_star = PROBLEMS["rosenbrock-2"]
    res = fastopt.minimize(fg, x0.astype(np.float32), jac=True, method="bfgs")
    assert res.success, res.message
    assert res.x.dtype == np.float32
    np.testing.assert_allclose(res.x, x_star, atol=1e-2)


def test_bfgs_with_bounds():
    # min (x - 2)^2 + (y + 3)^2 on [0, 1] x [-1, 1]: the minimizer is the corner (1, -1).
    def fg(x):
        c = np.array([2.0, -3.0])
        return float(np.sum((x - c) ** 2)), 2 * (x - c)

    res = fastopt.minimize(fg, np.array([0.5, 0.0]), jac=True, method="bfgs",
                           bounds=[(0, 1), (-1, 1)])
    assert res.success, res.message
    np.testing.assert_array_equal(res.x, [1.0, -1.0])


def test_bfgs_rejects_state():
    state = LBFGSState(2, 5)
    with pytest.raises(ValueError, match=r"state: warm starts keep an L-BFGS history"):
        fastopt.minimize(rosen_fg, np.zeros(2), jac=True, method="bfgs", state=state)


def test_unknown_method_rejected():
    with pytest.raises(ValueError, match=r"method: expected one of \('lbfgs', 'owlqn', 'bfgs'\)"):
        fastopt.minimize(rosen_fg, np.zeros(2), jac=True, method="newton")
