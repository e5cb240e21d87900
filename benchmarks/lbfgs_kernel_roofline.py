"""Time lbfgs_direction against roofline_read over the same bytes, interleaved.

Usage: python benchmarks/lbfgs_kernel_roofline.py N [REPEATS]  (history 10, both dtypes)
"""
import sys, time
import numpy as np
from fastopt import _core
from fastopt.minimize._state import LBFGSState

n = int(float(sys.argv[1])); m = 10; reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
for dtype in (np.float64, np.float32):
    st = LBFGSState(n, m, dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype); g = rng.standard_normal(n).astype(dtype)
    for i in range(m + 1):
        xn = (x + 0.01 * rng.standard_normal(n)).astype(dtype)
        gn = (g + (xn - x) * 2 + 0.001 * rng.standard_normal(n)).astype(dtype)
        st.add_pair(xn, x, gn, g); x, g = xn, gn
    d = np.empty(n, dtype)
    st.direction(g, d)
    order = st._order_array
    k = len(order)
    slot = int(order[-1])
    def direct():
        _core.lbfgs_direction(st.s, st.y, order, slot, st.sy, st.yy, st.gamma, g, d, st._work)
    rows = [st.s[i] for i in order] + [st.y[i] for i in order]
    b = np.dtype(dtype).itemsize
    nbytes = (4 * k + 3) * n * b
    have_read = hasattr(_core, "roofline_read")
    def roof():
        if have_read:
            _core.roofline_read(rows + [g]); _core.roofline_read(rows + [g, d])
    tds, trs = [], []
    for _ in range(reps):
        t0 = time.perf_counter(); direct(); t1 = time.perf_counter(); roof()
        t2 = time.perf_counter(); tds.append(t1 - t0); trs.append(t2 - t1)
    td = float(np.median(tds)); tr = float(np.median(trs))
    ratio = float(np.median(np.array(tds) / np.array(trs)))
    print(f"n={n:.0e} {np.dtype(dtype).name}: direction {td*1e3:.1f} ms "
          f"({nbytes/td/1e9:.1f} GB/s), roofline {tr*1e3:.1f} ms "
          f"({nbytes/tr/1e9:.1f} GB/s), ratio of medians {td/tr:.2f}, median ratio {ratio:.2f}")
