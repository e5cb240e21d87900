"""Distributed training of fastopt's linear models on Apache Spark.

The estimators fit a Spark DataFrame with a vector features column, a numeric label column and
an optional weight column. Each partition is converted once into a CSR block, which stays in a
long-lived barrier task for the whole fit or, when the partitions outnumber the task slots, is
cached. Every solver evaluation sends the parameters to the blocks, which evaluate their loss
and gradient (and, for Newton steps, Hessian) with the C++ GLM kernels, and the driver sums the
results in partition order. The driver takes Newton steps, runs fastopt's L-BFGS or OWL-QN
(``fastopt.minimize``), or averages the partitions' parameters after each epoch of mini-batch
SGD. A fitted model adds predictions to a DataFrame and converts to the
single-machine estimator of ``fastopt.linear_model``.

Requires pyspark (``pip install fastopt[spark]``) and a Java runtime that pyspark supports.
"""

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "fastopt.spark needs pyspark, which is not installed; install it with "
        "`pip install fastopt[spark]` or `pip install pyspark`") from exc

from fastopt.spark._blocks import to_dataframe
from fastopt.spark._estimators import (
    LinearRegression,
    LinearRegressionModel,
    LogisticRegression,
    LogisticRegressionModel,
)

__all__ = [
    "LinearRegression",
    "LinearRegressionModel",
    "LogisticRegression",
    "LogisticRegressionModel",
    "to_dataframe",
]
