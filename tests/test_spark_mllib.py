"""fastopt.spark against Spark MLlib's LogisticRegression on the LIBSVM data sets.

With ``standardization=False`` MLlib minimizes the mean log loss plus
``regParam (elasticNetParam ||coef||_1 + (1 - elasticNetParam) / 2 ||coef||^2)``, which is
fastopt's objective with ``alpha = regParam`` and ``l1_ratio = elasticNetParam``. Both fits
run on the same DataFrame in the same session, and each objective is computed here from
its formula.
"""

import numpy as np
import pytest

pytest.importorskip("pyspark")

from fastopt import spark as fspark  # noqa: E402
from fastopt.datasets import load_svmlight  # noqa: E402
from spark_helpers import local_session, penalty  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    yield from local_session("fastopt-spark-mllib-tests")


def _log_loss_objective(X, y01, coef, intercept, alpha, l1_ratio):
    """Mean binary log loss plus the elastic-net penalty, from sparse X."""
    z = X @ coef + intercept
    signed = 2.0 * y01 - 1.0
    loss = np.logaddexp(0.0, -signed * z).mean()
    return loss + penalty(np.append(coef, intercept), alpha, l1_ratio, coef.shape[0])


def _fit_both(df, X, y01, *, alpha, l1_ratio):
    from pyspark.ml.classification import LogisticRegression as MLlibLogisticRegression

    mllib = MLlibLogisticRegression(regParam=alpha, elasticNetParam=l1_ratio,
                                    standardization=False, family="binomial",
                                    maxIter=100).fit(df)
    ours = fspark.LogisticRegression("elasticnet", alpha=alpha, l1_ratio=l1_ratio, tol=1e-7,
                                     max_iter=1000).fit(df)
    mllib_objective = _log_loss_objective(X, y01, mllib.coefficients.toArray(),
                                          mllib.intercept, alpha, l1_ratio)
    our_objective = _log_loss_objective(X, y01, ours.coef_[0], ours.intercept_[0], alpha,
                                        l1_ratio)
    return ours, our_objective, mllib_objective


@pytest.fixture(scope="module")
def a9a(spark, data_file):
    X, y = load_svmlight(data_file("a9a"), n_features=123)
    y01 = (y > 0).astype(np.float64)
    return X, y01, fspark.to_dataframe(spark, X, y01, num_partitions=2).cache()


@pytest.mark.parametrize("alpha,l1_ratio", [(1e-3, 0.0), (1e-3, 0.5)])
def test_a9a_reaches_mllib_objective(a9a, alpha, l1_ratio):
    X, y01, df = a9a
    ours, our_objective, mllib_objective = _fit_both(df, X, y01, alpha=alpha,
                                                     l1_ratio=l1_ratio)
    assert our_objective <= mllib_objective * (1.0 + 1e-12)
    # Both solve the same problem, so they agree to within MLlib's tolerance.
    assert our_objective == pytest.approx(mllib_objective, rel=1e-4)
    assert ours.objective_ == pytest.approx(our_objective, rel=1e-10)


def test_news20_one_vs_rest_reaches_mllib_objective(spark, data_file):
    X, labels = load_svmlight(data_file("news20.bz2"), n_features=62061)
    # Class 1 against the other 19.
    for positive in (1.0,):
        y01 = (labels == positive).astype(np.float64)
        df = fspark.to_dataframe(spark, X, y01, num_partitions=2).cache()
        try:
            _, our_objective, mllib_objective = _fit_both(df, X, y01, alpha=1e-2,
                                                          l1_ratio=0.0)
        finally:
            df.unpersist()
        assert our_objective <= mllib_objective * (1.0 + 1e-12), positive
