"""Per-iteration time outside the objective: fastopt.minimize vs scipy L-BFGS-B and torch LBFGS.

Usage: python benchmarks/lbfgs_overhead.py N ITERS REPEATS [dtype ...] [--only=fastopt,scipy,torch]
Objective: f = 0.5 * sum(a * x**2), g = a * x, computed in place; its time is subtracted.
"""
import sys, time
import numpy as np

args = [a for a in sys.argv[1:] if not a.startswith("--")]
only = next((a.split("=", 1)[1].split(",") for a in sys.argv[1:] if a.startswith("--only=")),
            ["fastopt", "scipy", "torch"])
n = int(float(args[0])); iters = int(args[1]); reps = int(args[2])
dtypes = args[3:] or ["float64", "float32"]


class Quad:
    def __init__(self, n, dtype):
        rng = np.random.default_rng(0)
        self.a = rng.uniform(1.0, 100.0, n).astype(dtype)
        self.g = np.empty(n, dtype)
        self.x0 = np.ones(n, dtype)
        self.t = 0.0
        self.calls = 0

    def __call__(self, x):
        t0 = time.perf_counter()
        g = self.g
        if x.dtype != g.dtype:  # scipy hands float64 points to a float32 objective
            g = np.empty(x.shape, x.dtype)
            np.multiply(self.a, x, out=g)
        else:
            np.multiply(self.a, x, out=g)
        f = 0.5 * float(np.dot(x, g))
        self.t += time.perf_counter() - t0
        self.calls += 1
        return f, g


def run_fastopt(q):
    from fastopt.minimize import minimize
    t0 = time.perf_counter()
    r = minimize(q, q.x0, jac=True, options=dict(history_size=10, gtol=0.0, ftol=0.0,
                                                  maxiter=iters))
    return time.perf_counter() - t0, r.nit


def run_scipy(q):
    from scipy.optimize import minimize
    t0 = time.perf_counter()
    r = minimize(q, q.x0, jac=True, method="L-BFGS-B",
                 options=dict(maxcor=10, gtol=0.0, ftol=0.0, maxiter=iters, maxfun=10 * iters))
    return time.perf_counter() - t0, r.nit


def run_torch(q):
    import torch
    p = torch.from_numpy(q.x0.copy()).requires_grad_(False)
    opt = torch.optim.LBFGS([p], lr=1, max_iter=iters, max_eval=10 * iters, history_size=10,
                            tolerance_grad=0.0, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")
    pn = p.numpy()

    def closure():
        f, g = q(pn)
        p.grad = torch.from_numpy(g)
        return torch.tensor(f, dtype=p.dtype)

    t0 = time.perf_counter()
    opt.step(closure)
    nit = opt.state[opt._params[0]]["n_iter"]
    return time.perf_counter() - t0, nit


runners = {"fastopt": run_fastopt, "scipy": run_scipy, "torch": run_torch}
for dt in dtypes:
    res = {}
    for _ in range(reps):
        for name in only:
            q = Quad(n, dt)
            total, nit = runners[name](q)
            res.setdefault(name, []).append(((total - q.t) / nit, nit, q.calls))
    line = [f"n={n:.0e} {dt} iters={iters}:"]
    med = {k: float(np.median([v[0] for v in vals])) for k, vals in res.items()}
    for k, vals in res.items():
        line.append(f"{k} {med[k]*1e3:.1f} ms/it (nit {vals[0][1]}, nfev {vals[0][2]})")
    print("  ".join(line))
    if "fastopt" in med:
        for k in med:
            if k != "fastopt":
                print(f"   {k}/fastopt = {med[k] / med['fastopt']:.1f}x")
