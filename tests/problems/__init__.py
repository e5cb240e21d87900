"""Test problems for fastopt's solvers, written in NumPy with analytic derivatives."""
