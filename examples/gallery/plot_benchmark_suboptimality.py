"""
Suboptimality against time, from the benchmark results
======================================================

``benchmarks/bench_linear.py`` runs every fastopt solver and the anchor libraries
(scikit-learn, skglm, celer, snapml) on a9a, w8a and news20 at a ladder of tolerances, and
writes each run's time and objective to ``benchmarks/results/linear.json``. This script reads
that file, without running anything, and draws the relative suboptimality
:math:`(F - F^*) / F^*` that each solver reached against its time, for L1-regularized
logistic regression at alpha = alpha_max / 100. The file records the machine and the
versions; :doc:`../benchmarks` has the tables.
"""

import json
import os

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

# This file lives in examples/gallery, two levels below the repository root. sphinx-gallery
# runs it from that folder without defining __file__.
if "__file__" in globals():
    gallery_dir = os.path.dirname(os.path.abspath(__file__))
else:
    gallery_dir = os.getcwd()
results = os.path.join(gallery_dir, "..", "..", "benchmarks", "results", "linear.json")
with open(results) as f:
    bench = json.load(f)
env = bench["environment"]
versions = ", ".join(f"{name} {version}" for name, version in env["versions"].items())
print(f"Run {env['date']} on {env['machine']}, {env['cpus']} CPUs, {env['threads']} threads, "
      f"1-minute load average {env['load_average_1min']:.2f} at the start")
print(f"Python {env['python']}, NumPy {env['numpy']}, SciPy {env['scipy']}, {versions}")

fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, dataset in zip(axes, ("a9a", "w8a", "news20")):
    record = next(r for r in bench["records"] if r["dataset"] == dataset
                  and r["task"] == "l1-logistic" and abs(r["fraction"] - 0.01) < 1e-12)
    f_star = record["f_star"]
    for solver, rungs in record["runs"].items():
        if not rungs:
            continue
        seconds = [rung["seconds"] for rung in rungs]
        gaps = [max((rung["objective"] - f_star) / abs(f_star), 1e-12) for rung in rungs]
        style = "-" if solver.startswith("fastopt") else "--"
        ax.loglog(seconds, gaps, style, marker="o", markersize=3, label=solver)
    ax.set_title(dataset)
    ax.set_xlabel("seconds")
    # Labels on the minor ticks of a narrow log axis overlap each other.
    ax.xaxis.set_minor_formatter(NullFormatter())
axes[0].set_ylabel("relative suboptimality")
axes[-1].legend(fontsize="small", loc="upper right")
fig.suptitle("L1 logistic regression, alpha = alpha_max / 100 (solid: fastopt)")
fig.tight_layout()
plt.show()
