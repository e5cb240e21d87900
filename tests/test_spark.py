"""fastopt.spark against the single-machine estimators and NumPy references, in local mode."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

pyspark = pytest.importorskip("pyspark")

import fastopt.linear_model as flm  # noqa: E402
from fastopt import spark as fspark  # noqa: E402
from fastopt.spark import _blocks, _objective, _resident, _sgd  # noqa: E402
from glm_reference import value_grad as reference_value_grad  # noqa: E402
from spark_helpers import local_session, penalty, persistent_rdd_count  # noqa: E402

# The retry tests hand Spark functions defined here; the executors cannot import this module,
# so cloudpickle sends those functions by value.
pyspark.cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def spark():
    yield from local_session("fastopt-spark-tests")


def _design(n, p, seed, density=0.3):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.normal(size=k))
    return X, rng


def _binary(n=400, p=25, seed=0):
    X, rng = _design(n, p, seed)
    z = X @ rng.normal(size=p) + 0.3
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.float64)
    return X, y, rng


def _multiclass(n=450, p=20, k=3, seed=1):
    X, rng = _design(n, p, seed)
    z = X @ rng.normal(size=(p, k))
    y = np.argmax(z + rng.gumbel(size=(n, k)), axis=1).astype(np.float64)
    return X, y, rng


def _regression(n=400, p=25, seed=2):
    X, rng = _design(n, p, seed)
    y = X @ rng.normal(size=p) + 1.5 + 0.1 * rng.normal(size=n)
    return X, y, rng


def _full_objective(X, y, w, *, loss, alpha, l1_ratio, sample_weight=None, n_outputs=1):
    target = 2.0 * y - 1.0 if loss == "logistic" else y
    f, _ = reference_value_grad(X, target, w, loss=loss, sample_weight=sample_weight,
                                n_outputs=n_outputs)
    return f + penalty(w, alpha, l1_ratio, n_outputs * X.shape[1])


def _flat(model):
    return np.concatenate([np.ravel(model.coef_), np.ravel(model.intercept_)])


# -- the distributed objective ---------------------------------------------------------------

@pytest.mark.parametrize("loss", ["logistic", "multinomial", "squared"])
def test_distributed_objective_matches_reference(spark, loss):
    X, y, rng = {"logistic": _binary, "multinomial": _multiclass,
                 "squared": _regression}[loss]()
    weight = rng.uniform(0.0, 2.0, size=X.shape[0])
    df = fspark.to_dataframe(spark, X, y, sample_weight=weight, num_partitions=3)
    blocks = _blocks.CachedBlocks.from_dataframe(df, features_col="features",
                                                 label_col="label", weight_col="weight")
    try:
        k = 3 if loss == "multinomial" else 1
        objective = _objective.DistributedGLMObjective(
            blocks, loss=loss, n_classes=k if loss == "multinomial" else None,
            fit_intercept=True, depth=2)
        w = rng.normal(scale=0.3, size=objective.n_params)
        f, g = objective.value_grad(w)
    finally:
        blocks.unpersist()
    target = 2.0 * y - 1.0 if loss == "logistic" else y
    f_ref, g_ref = reference_value_grad(X, target, w, loss=loss, sample_weight=weight,
                                        n_outputs=k)
    assert f == pytest.approx(f_ref, rel=1e-12)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", ["logistic", "squared"])
def test_distributed_hessian_matches_reference(spark, loss):
    X, y, rng = {"logistic": _binary, "squared": _regression}[loss]()
    weight = rng.uniform(0.0, 2.0, size=X.shape[0])
    df = fspark.to_dataframe(spark, X, y, sample_weight=weight, num_partitions=3)
    blocks = _blocks.CachedBlocks.from_dataframe(df, features_col="features",
                                                 label_col="label", weight_col="weight")
    try:
        objective = _objective.DistributedGLMObjective(
            blocks, loss=loss, n_classes=None, fit_intercept=True, depth=2)
        w = rng.normal(scale=0.3, size=objective.n_params)
        f, g, hess = objective.value_grad_hess(w)
        f_only, g_only = objective.value_grad(w)
        # The second call reuses the first job's sums at the same w.
        assert objective.n_evaluations == 1
        objective.value_grad(w + 1.0)
        assert objective.n_evaluations == 2
    finally:
        blocks.unpersist()
    # The Hessian of the weighted mean loss is A^T diag(s * l'') A / sum(s) with A = [X, 1].
    A = np.column_stack([X.toarray(), np.ones(X.shape[0])])
    z = A @ w
    if loss == "logistic":
        sigma = 1.0 / (1.0 + np.exp(-z))
        second = sigma * (1.0 - sigma)
    else:
        second = np.ones_like(z)
    expected = A.T @ (A * (weight * second / weight.sum())[:, None])
    np.testing.assert_allclose(hess, expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(hess, hess.T)
    assert f == f_only
    np.testing.assert_array_equal(g, g_only)


def test_ordered_tree_sum_many_partitions(spark):
    context = spark.sparkContext
    rng = np.random.default_rng(3)
    parts = [(float(i), rng.normal(size=5)) for i in range(9)]

    def keyed():
        return context.parallelize(range(9), 9).mapPartitionsWithIndex(
            lambda i, _: [(i, parts[i])])

    expected_scalar = 0.0
    expected = np.zeros(5)
    for scalar, vector in parts:
        expected_scalar += scalar
        expected = expected + vector
    for depth in (1, 3):
        scalar, vector = _objective.ordered_tree_sum(keyed(), depth)
        assert scalar == expected_scalar
        np.testing.assert_allclose(vector, expected, rtol=1e-14)
        # With 9 partitions a depth-3 tree shuffles twice; the sum is the same bits again.
        assert np.array_equal(_objective.ordered_tree_sum(keyed(), depth)[1], vector)


# -- fits equal the single-machine fits ------------------------------------------------------

LOGISTIC_CASES = [
    ("l2", 1e-2, 0.5, "auto"),
    ("l2", 1e-2, 0.5, "lbfgs"),
    ("l1", 5e-3, 0.5, "auto"),
    ("elasticnet", 1e-2, 0.4, "owlqn"),
    ("elasticnet", 1e-2, 0.4, "newton"),
]


# The test session has two task slots, so barrier execution gets two partitions.
PARTITIONS = {"driver": 3, "barrier": 2}


@pytest.mark.parametrize("execution", ["driver", "barrier"])
@pytest.mark.parametrize("penalty_name,alpha,l1_ratio,solver", LOGISTIC_CASES)
def test_logistic_equals_single_machine(spark, penalty_name, alpha, l1_ratio, solver,
                                        execution):
    X, y, _ = _binary()
    df = fspark.to_dataframe(spark, X, y, num_partitions=PARTITIONS[execution])
    model = fspark.LogisticRegression(penalty_name, alpha=alpha, l1_ratio=l1_ratio,
                                      solver=solver, tol=1e-8, max_iter=500,
                                      execution=execution).fit(df)
    local_solver = "lbfgs" if penalty_name == "l2" else "owlqn"
    # With 26 parameters "auto" picks the Newton solver.
    expected_solver = "newton" if solver == "auto" else solver
    local = flm.LogisticRegression(penalty_name, alpha=alpha, l1_ratio=l1_ratio,
                                   solver=local_solver, tol=1e-10, max_iter=1000).fit(X, y)
    rho = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty_name]
    distributed = _full_objective(X, y, _flat(model), loss="logistic", alpha=alpha, l1_ratio=rho)
    single = _full_objective(X, y, _flat(local), loss="logistic", alpha=alpha, l1_ratio=rho)
    assert distributed == pytest.approx(single, rel=1e-8)
    assert model.objective_ == pytest.approx(distributed, rel=1e-12)
    assert model.solver_ == expected_solver
    assert model.converged_
    assert persistent_rdd_count(spark) == 0


@pytest.mark.parametrize("execution", ["driver", "barrier"])
def test_multinomial_weighted_equals_single_machine(spark, execution):
    X, y, rng = _multiclass()
    weight = rng.uniform(0.5, 2.0, size=X.shape[0])
    df = fspark.to_dataframe(spark, X, y, sample_weight=weight,
                             num_partitions={"driver": 4, "barrier": 2}[execution])
    model = fspark.LogisticRegression(alpha=5e-2, tol=1e-8, max_iter=500, weight_col="weight",
                                      execution=execution).fit(df)
    local = flm.LogisticRegression(alpha=5e-2, solver="lbfgs", tol=1e-10,
                                   max_iter=1000).fit(X, y, sample_weight=weight)
    assert model.coef_.shape == (3, X.shape[1])
    np.testing.assert_array_equal(model.classes_, [0.0, 1.0, 2.0])
    kwargs = dict(loss="multinomial", alpha=5e-2, l1_ratio=0.0, sample_weight=weight,
                  n_outputs=3)
    distributed = _full_objective(X, y, _flat(model), **kwargs)
    single = _full_objective(X, y, _flat(local), **kwargs)
    assert distributed == pytest.approx(single, rel=1e-8)


@pytest.mark.parametrize("execution", ["driver", "barrier"])
@pytest.mark.parametrize("penalty_name,local_class", [
    (None, flm.LinearRegression), ("l2", flm.Ridge), ("elasticnet", flm.ElasticNet)])
def test_linear_regression_equals_single_machine(spark, penalty_name, local_class, execution):
    X, y, _ = _regression()
    df = fspark.to_dataframe(spark, X, y, num_partitions=PARTITIONS[execution])
    alpha, l1_ratio = 1e-2, 0.5
    model = fspark.LinearRegression(penalty_name, alpha=alpha, l1_ratio=l1_ratio, tol=1e-8,
                                    max_iter=500, execution=execution).fit(df)
    kwargs = {"tol": 1e-10, "max_iter": 2000}
    if penalty_name is not None:
        kwargs["alpha"] = alpha
    if penalty_name == "elasticnet":
        kwargs["l1_ratio"] = l1_ratio
    local = local_class(**kwargs).fit(X, y)
    rho = {None: 0.0, "l2": 0.0, "elasticnet": l1_ratio}[penalty_name]
    a = 0.0 if penalty_name is None else alpha
    distributed = _full_objective(X, y, _flat(model), loss="squared", alpha=a, l1_ratio=rho)
    single = _full_objective(X, y, _flat(local), loss="squared", alpha=a, l1_ratio=rho)
    assert distributed == pytest.approx(single, rel=1e-8)
    converted = model.to_local()
    assert type(converted) is local_class
    np.testing.assert_allclose(converted.predict(X), X @ model.coef_ + model.intercept_,
                               rtol=1e-12)


def test_fit_without_intercept_and_empty_partition(spark):
    X, y, _ = _binary(n=200)
    empty = fspark.to_dataframe(spark, X[:0], y[:0], num_partitions=2)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2).union(empty)
    assert df.rdd.getNumPartitions() == 4
    model = fspark.LogisticRegression(alpha=1e-2, fit_intercept=False, tol=1e-8).fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", flm.ConvergenceWarning)
        local = flm.LogisticRegression(alpha=1e-2, fit_intercept=False, solver="lbfgs",
                                       tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(model.intercept_, [0.0])
    np.testing.assert_allclose(model.coef_, local.coef_, rtol=1e-5, atol=1e-7)


# -- predictions and conversion --------------------------------------------------------------

def test_transform_matches_local_predictions(spark):
    X, y, _ = _multiclass(n=150)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    # Predictions need not come from a converged fit.
    model = _quick_fit(fspark.LogisticRegression(alpha=1e-2, max_iter=4), df)
    out = model.transform(df).collect()
    local = model.to_local()
    assert isinstance(local, flm.LogisticRegression)
    prediction = np.array([row["prediction"] for row in out])
    probability = np.array([row["probability"].toArray() for row in out])
    np.testing.assert_array_equal(prediction, local.predict(X))
    np.testing.assert_allclose(probability, local.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal([row["label"] for row in out], y)


def test_binary_transform_and_multinomial_family(spark):
    X, y, _ = _binary(n=150)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    binary = _quick_fit(fspark.LogisticRegression(alpha=1e-2, max_iter=4,
                                                  probability_col=None), df)
    rows = binary.transform(df).collect()
    assert "probability" not in rows[0].asDict()
    np.testing.assert_array_equal([r["prediction"] for r in rows], binary.to_local().predict(X))
    softmax = _quick_fit(fspark.LogisticRegression(alpha=1e-2, family="multinomial",
                                                   max_iter=4), df)
    assert softmax.coef_.shape == (2, X.shape[1])
    # The two-class softmax model converts to the binary model with the same probabilities.
    local = softmax.to_local()
    assert local.coef_.shape == (1, X.shape[1])
    margins = X @ softmax.coef_.T + softmax.intercept_
    expected = np.exp(margins - margins.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(local.predict_proba(X), expected, rtol=1e-10)


def test_transform_rejects_existing_column(spark):
    X, y, _ = _binary(n=60)
    df = fspark.to_dataframe(spark, X, y, num_partitions=1)
    model = _quick_fit(fspark.LogisticRegression(alpha=1e-1, max_iter=1), df)
    with pytest.raises(ValueError, match="'label': the DataFrame already has a column"):
        fspark.LogisticRegressionModel.transform(
            _with(model, prediction_col="label"), df)


def _mixed_rows():
    """Rows that exercise every branch of the block conversion."""
    from pyspark.ml.linalg import DenseVector, SparseVector

    return [
        (SparseVector(5, [0, 3], [1.5, 0.0]), 1, 2.0),  # a stored zero stays
        (DenseVector([0.0, -2.0, 0.0, 0.0, 4.0]), 0, 1.0),  # dense zeros drop
        (SparseVector(5, [], []), 1, 0.5),
        (DenseVector([0.0] * 5), 0, 1.0),
        (SparseVector(5, [1, 2, 4], [7.0, float("nan"), -1.0]), 2, 3.0),
        (SparseVector(6, [5], [1.0]), 1, 1.0),
        (SparseVector(5, [1], [1.0]), 1, None),
        (None, 0, 1.0),
        (DenseVector([1.0, 2.0, 3.0, 4.0, 5.0]), None, 1.0),
        (SparseVector(5, [4], [2.5]), -1, float("inf")),
    ]


@pytest.mark.parametrize("weighted", [False, True])
def test_arrow_blocks_equal_row_blocks(spark, weighted):
    """The Arrow conversion builds the same blocks and summaries as the row-by-row one."""
    pytest.importorskip("pyarrow")
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    schema = StructType([StructField("features", VectorUDT()), StructField("label", LongType()),
                         StructField("weight", DoubleType())])
    X, y, _ = _binary(n=300, p=5)
    from pyspark.ml.linalg import SparseVector
    rows = _mixed_rows() + [(SparseVector(5, X.indices[X.indptr[i]:X.indptr[i + 1]],
                                          X.data[X.indptr[i]:X.indptr[i + 1]]), int(y[i]), 1.0)
                            for i in range(X.shape[0])]
    # Batches of 7 rows split a partition into many Arrow batches.
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")
    try:
        df = spark.createDataFrame(rows, schema).repartition(3)
        columns = ["features", "label"] + (["weight"] if weighted else [])
        selected = df.select(*columns)
        by_rows = selected.rdd.mapPartitionsWithIndex(
            lambda index, part: [_blocks.build_block(index, part, weighted)]).collect()
        by_arrow = _blocks._block_pairs(selected, weighted).collect()
        # Without pyarrow the same function falls back to the row-by-row conversion.
        with pytest.MonkeyPatch.context() as patch:
            patch.setitem(sys.modules, "pyarrow", None)
            fallback = _blocks._block_pairs(selected, weighted).collect()
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    assert len(by_arrow) == len(by_rows) == 3
    assert repr(fallback) == repr(by_rows)
    for (block_a, summary_a), (block_r, summary_r) in zip(by_arrow, by_rows):
        for field in ("indptr", "indices", "data", "labels", "weights"):
            a, r = getattr(block_a, field), getattr(block_r, field)
            if r is None:
                assert a is None
                continue
            assert a.dtype == r.dtype, field
            np.testing.assert_array_equal(a, r, err_msg=field)
        assert (block_a.index, block_a.n_features) == (block_r.index, block_r.n_features)
        assert repr(summary_a) == repr(summary_r)
    # The mixed rows hold every kind of flaw the summaries report.
    summaries = [summary for _, summary in by_arrow]
    assert any(s.null_row is not None for s in summaries)
    assert any(s.bad_feature is not None for s in summaries)
    assert any(s.vector_sizes is not None and s.vector_sizes[1] == 6 for s in summaries)


def _quick_fit(estimator, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", flm.ConvergenceWarning)
        return estimator.fit(df)


def _with(model, **attributes):
    for name, value in attributes.items():
        setattr(model, name, value)
    return model


# -- SGD ---------------------------------------------------------------------------------------

def _reference_sgd(parts, p, *, epochs, batch_size, learning_rate, alpha, l1_ratio, seed):
    """Averaged mini-batch SGD written from its definition, for the binary log loss."""
    w = np.zeros(p + 1)
    a1, a2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    for epoch in range(epochs):
        eta = learning_rate / np.sqrt(epoch + 1.0)
        results = []
        for index, (Xb, yb) in enumerate(parts):
            x = w.copy()
            starts = np.arange(0, Xb.shape[0], batch_size)
            order = np.random.default_rng([seed, epoch, index]).permutation(starts.shape[0])
            for start in starts[order]:
                rows = slice(start, min(start + batch_size, Xb.shape[0]))
                _, grad = reference_value_grad(Xb[rows], 2.0 * yb[rows] - 1.0, x,
                                               loss="logistic")
                grad[:p] += a2 * x[:p]
                x = x - eta * grad
                x[:p] = np.sign(x[:p]) * np.maximum(np.abs(x[:p]) - eta * a1, 0.0)
            results.append((Xb.shape[0], x))
        w = sum(n * x for n, x in results) / sum(n for n, _ in results)
    return w


def test_sgd_matches_reference_and_approaches_optimum(spark):
    X, y, _ = _binary(n=300, p=15)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    parts = []
    for index_rows in df.rdd.glom().collect():
        rows = np.array([r["features"].toArray() for r in index_rows])
        parts.append((sp.csr_matrix(rows), np.array([r["label"] for r in index_rows])))
    options = dict(batch_size=32, learning_rate=1.0, alpha=1e-2, l1_ratio=0.3)
    estimator = fspark.LogisticRegression("elasticnet", alpha=1e-2, l1_ratio=0.3,
                                          solver="sgd", max_iter=8, tol=0.0, batch_size=32,
                                          learning_rate=1.0, random_state=7)
    with pytest.warns(flm.ConvergenceWarning, match="solver 'sgd' reached max_iter=8"):
        model = estimator.fit(df)
    expected = _reference_sgd(parts, X.shape[1], epochs=8, seed=7, **options)
    np.testing.assert_allclose(_flat(model), expected, rtol=1e-9, atol=1e-12)
    assert model.n_iter_ == 8
    best = flm.LogisticRegression("elasticnet", alpha=1e-2, l1_ratio=0.3, tol=1e-8).fit(X, y)
    optimum = _full_objective(X, y, _flat(best), loss="logistic", alpha=1e-2, l1_ratio=0.3)
    assert model.objective_ == pytest.approx(
        _full_objective(X, y, _flat(model), loss="logistic", alpha=1e-2, l1_ratio=0.3),
        rel=1e-12)
    assert optimum * (1 - 1e-9) <= model.objective_ <= optimum * 1.05


# -- failures --------------------------------------------------------------------------------

def _fail_first_attempt(function):
    """Wrap a per-partition function so that partition 1's first attempt raises."""

    def wrapped(index, *args):
        from pyspark import TaskContext

        if index == 1 and TaskContext.get().attemptNumber() == 0:
            raise RuntimeError("injected failure of a first task attempt")
        return function(index, *args)

    return wrapped


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "sgd"])
def test_retried_tasks_give_same_fit(spark, monkeypatch, solver):
    X, y, _ = _binary(n=200, p=10)
    df = fspark.to_dataframe(spark, X, y, num_partitions=3)
    # One Newton step stops short of tol=1e-9, so every solver warns on both fits.
    estimator = fspark.LogisticRegression(alpha=1e-2, solver=solver, tol=1e-9,
                                          max_iter=1 if solver == "newton" else 3,
                                          batch_size=40)
    with pytest.warns(flm.ConvergenceWarning):
        clean = estimator.fit(df)
    monkeypatch.setattr(_objective, "partition_value_grad",
                        _fail_first_attempt(_objective.partition_value_grad))
    monkeypatch.setattr(_sgd, "partition_epoch", _fail_first_attempt(_sgd.partition_epoch))
    with pytest.warns(flm.ConvergenceWarning):
        retried = estimator.fit(df)
    np.testing.assert_array_equal(retried.coef_, clean.coef_)
    np.testing.assert_array_equal(retried.intercept_, clean.intercept_)
    assert retried.objective_ == clean.objective_


def _fail_once(function, marker, on_call):
    """Wrap a task-side function so that partition 1 raises on call ``on_call``, once.

    A retried barrier stage starts new tasks whose attempt numbers begin at 0 again, so a
    file marks that the failure happened.
    """
    calls = []

    def wrapped(*args, **kwargs):
        from pyspark import TaskContext

        calls.append(1)
        if (TaskContext.get().partitionId() == 1 and len(calls) == on_call
                and not os.path.exists(marker)):
            open(marker, "w").close()
            raise RuntimeError("injected failure of a barrier task")
        return function(*args, **kwargs)

    return wrapped


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_retried_barrier_stage_gives_same_fit(spark, monkeypatch, tmp_path, solver):
    X, y, _ = _binary(n=200, p=10)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    estimator = fspark.LogisticRegression(alpha=1e-2, solver=solver, tol=1e-9,
                                          max_iter=2 if solver == "newton" else 6,
                                          execution="barrier")
    with pytest.warns(flm.ConvergenceWarning):
        clean = estimator.fit(df)
    marker = tmp_path / "failed"
    # The third evaluation fails after the solver has taken steps on the first two.
    monkeypatch.setattr(_resident, "partial_sums",
                        _fail_once(_resident.partial_sums, str(marker), on_call=3))
    with pytest.warns(flm.ConvergenceWarning):
        retried = estimator.fit(df)
    assert marker.exists()
    assert retried.execution_ == clean.execution_ == "barrier"
    np.testing.assert_array_equal(retried.coef_, clean.coef_)
    np.testing.assert_array_equal(retried.intercept_, clean.intercept_)
    assert retried.objective_ == clean.objective_


@pytest.mark.parametrize("execution,objective_class", [
    ("driver", _objective.DistributedGLMObjective),
    ("barrier", _resident.ResidentGLMObjective)])
def test_driver_error_leaves_nothing_behind(spark, monkeypatch, execution, objective_class):
    X, y, _ = _binary(n=100)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    calls = []
    original = objective_class._evaluate

    def failing(self, w, **options):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("injected driver-side interruption")
        return original(self, w, **options)

    monkeypatch.setattr(objective_class, "_evaluate", failing)
    assert persistent_rdd_count(spark) == 0
    with pytest.raises(KeyboardInterrupt, match="injected"):
        fspark.LogisticRegression(alpha=1e-2, execution=execution).fit(df)
    assert len(calls) == 3
    assert persistent_rdd_count(spark) == 0
    # The barrier job has ended, so both task slots are free for the next fit.
    assert spark.sparkContext.statusTracker().getActiveJobsIds() == []
    model = fspark.LogisticRegression(alpha=1e-2, execution=execution).fit(df)
    assert model.execution_ == execution


def test_auto_execution_follows_the_task_slots(spark):
    X, y, _ = _binary(n=120)
    fits = {}
    for partitions in (1, 2, 3):
        df = fspark.to_dataframe(spark, X, y, num_partitions=partitions)
        fits[partitions] = fspark.LogisticRegression(alpha=1e-2, tol=1e-10).fit(df)
    # The test session has two slots: up to two partitions stay resident in barrier tasks.
    assert [fits[k].execution_ for k in (1, 2, 3)] == ["barrier", "barrier", "driver"]
    for partitions in (1, 3):
        assert fits[partitions].objective_ == pytest.approx(fits[2].objective_, rel=1e-10)
    sgd = fspark.LogisticRegression(alpha=1e-2, solver="sgd", max_iter=2, tol=0.0)
    with pytest.warns(flm.ConvergenceWarning):
        assert sgd.fit(fspark.to_dataframe(spark, X, y, num_partitions=2)).execution_ == \
            "driver"


def test_auto_execution_falls_back_on_union_lineage(spark):
    X, y, _ = _binary(n=120)
    df = fspark.to_dataframe(spark, X[:60], y[:60], num_partitions=1).union(
        fspark.to_dataframe(spark, X[60:], y[60:], num_partitions=1))
    assert df.rdd.getNumPartitions() == 2
    # A barrier stage needs every RDD in it to have the stage's partition count, and the
    # union's inputs have one each, so Spark rejects the job before any task runs.
    model = fspark.LogisticRegression(alpha=1e-2).fit(df)
    assert model.execution_ == "driver"
    with pytest.raises(ValueError, match="cannot run this DataFrame's lineage as a barrier"):
        fspark.LogisticRegression(alpha=1e-2, execution="barrier").fit(df)
    assert spark.range(3).count() == 3


def test_fit_after_shuffle_counts_partitions_from_plan(spark):
    X, y, _ = _binary(n=120)
    df = fspark.to_dataframe(spark, X, y, num_partitions=3).repartition(2)
    counted = []
    jobs, raised = _jobs_run_by(spark, lambda: counted.append(_blocks.partition_count(df)))
    assert raised is None
    assert counted == [2]
    # df.rdd would have run the shuffle here, and the fit would run it again.
    assert jobs == 0
    model = fspark.LogisticRegression(alpha=1e-2, tol=1e-10).fit(df)
    assert model.execution_ == "barrier"
    cached = fspark.LogisticRegression(alpha=1e-2, tol=1e-10, execution="driver").fit(df)
    assert model.objective_ == pytest.approx(cached.objective_, rel=1e-10)


def test_barrier_execution_needs_a_slot_per_partition(spark):
    X, y, _ = _binary(n=60)
    df = fspark.to_dataframe(spark, X, y, num_partitions=3)
    estimator = fspark.LogisticRegression(execution="barrier")
    jobs, raised = _jobs_run_by(spark, lambda: estimator.fit(df))
    assert isinstance(raised, ValueError)
    assert "got 3 partitions and 2 slots" in str(raised)
    assert jobs == 0


def test_resident_hello_needs_the_secret():
    payload = bytearray(b"\x80\x04N." + b"0" * 64)
    with pytest.raises(ValueError, match="without the fit's secret"):
        _resident._parse_hello(_resident.HELLO, payload, "1" * 64)


def test_resident_frames_over_limit_are_not_read():
    import socket

    from fastopt.spark import _wire

    left, right = socket.socketpair()
    with left, right:
        _wire.send_frame(left, _wire.HELLO, b"x" * 100)
        with pytest.raises(ValueError, match="frame of 100 bytes, over the limit of 99"):
            _wire.read_frame(right, max_size=99)


# -- bad input -------------------------------------------------------------------------------

def _jobs_run_by(spark, action):
    """Return how many Spark jobs ``action`` started, and the exception it raised."""
    context = spark.sparkContext
    group = f"fastopt-test-{np.random.default_rng().integers(1 << 62)}"
    context.setJobGroup(group, "counting jobs")
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - the caller checks the type
        raised = exc
    else:
        raised = None
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return len(context.statusTracker().getJobIdsForGroup(group)), raised


def test_schema_errors_run_no_job(spark):
    from pyspark.sql import functions as F

    X, y, _ = _binary(n=40)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    cases = [
        (df.drop("label"), {}, ValueError, "label_col: column 'label' is missing"),
        (df, {"features_col": "x"}, ValueError, "features_col: column 'x' is missing"),
        (df, {"weight_col": "w"}, ValueError, "weight_col: column 'w' is missing"),
        (df.withColumn("f2", F.array(F.lit(1.0))), {"features_col": "f2"}, TypeError,
         "column 'f2' has type array<double>; expected a vector column"),
        (df.withColumn("label", F.lit("a")), {}, TypeError,
         "label_col: column 'label' has type string; expected a numeric column"),
        (df, {"solver": "lbfgs", "penalty": "l1"}, ValueError, "'lbfgs' needs a smooth"),
        (df, {"alpha": -1.0}, ValueError, "alpha: expected a finite number"),
        (df, {"family": "poisson"}, ValueError, "family: expected one of"),
        (df, {"depth": 0}, ValueError, "depth: expected an integer >= 1"),
        (df, {"batch_size": 0}, ValueError, "batch_size: expected an integer >= 1"),
        (df, {"execution": "cluster"}, ValueError, "execution: expected one of"),
        (df, {"execution": "barrier", "solver": "sgd"}, ValueError,
         "execution: 'barrier' runs the 'newton', 'lbfgs' and 'owlqn' solvers"),
        (X, {}, TypeError, "dataset: expected a pyspark.sql.DataFrame"),
    ]
    for data, params, error, message in cases:
        estimator = fspark.LogisticRegression(**params)
        jobs, raised = _jobs_run_by(spark, lambda: estimator.fit(data))
        assert isinstance(raised, error), (params, raised)
        assert message in str(raised), (params, str(raised))
        assert jobs == 0, params


def test_value_errors_raised_after_conversion_job_only(spark):
    from pyspark.sql import functions as F

    X, y, _ = _binary(n=40)
    y_nan = y.copy()
    y_nan[25] = np.nan
    nan_df = fspark.to_dataframe(spark, X, y_nan, num_partitions=2)
    weight = np.ones(40)
    weight[3] = -1.0
    weighted = fspark.to_dataframe(spark, X, y, sample_weight=weight, num_partitions=2)
    base = fspark.to_dataframe(spark, X, y, num_partitions=2)
    X_inf = X.copy().tolil()
    X_inf[30, 2] = np.inf
    cases = [
        (nan_df, fspark.LogisticRegression(), "label_col: column 'label' contains nan in row 5 "
         "of partition 1; expected finite labels"),
        (weighted, fspark.LogisticRegression(weight_col="weight"),
         "weight_col: column 'weight' contains -1.0 in row 3 of partition 0"),
        (base.withColumn("label", F.col("label") + 0.5), fspark.LogisticRegression(),
         "expected class indices 0, 1, 2"),
        (fspark.to_dataframe(spark, X_inf, y, num_partitions=2), fspark.LinearRegression(),
         "features_col: column 'features' contains inf in row 10 of partition 1"),
        (base.withColumn("label", F.when(F.col("label") >= 0, None).otherwise(1.0)),
         fspark.LinearRegression(), "label_col: column 'label' contains null"),
        (base.withColumn("label", F.col("label") * 2), fspark.LogisticRegression(
            family="binomial"), "family: 'binomial' needs labels 0 and 1"),
        (base.withColumn("label", F.col("label") * 2), fspark.LogisticRegression(
            solver="newton"), "solver: 'newton' needs the binary logistic or squared loss"),
    ]
    for data, estimator, message in cases:
        jobs, raised = _jobs_run_by(spark, lambda: estimator.fit(data))
        assert isinstance(raised, ValueError), (message, raised)
        assert message in str(raised), str(raised)
        assert jobs == 1, message
        assert persistent_rdd_count(spark) == 0


def test_vector_sizes_must_agree(spark):
    from pyspark.ml.linalg import SparseVector, VectorUDT
    from pyspark.sql.types import DoubleType, StructField, StructType

    schema = StructType([StructField("label", DoubleType()),
                         StructField("features", VectorUDT())])
    rows = [(0.0, SparseVector(3, [0], [1.0])), (1.0, SparseVector(4, [1], [2.0]))]
    df = spark.createDataFrame(rows, schema)
    with pytest.raises(ValueError, match="have sizes from 3 to 4; expected one size"):
        fspark.LogisticRegression().fit(df)


def test_dense_vectors_equal_sparse(spark):
    from pyspark.ml.functions import vector_to_array, array_to_vector

    X, y, _ = _regression(n=120, p=6)
    df = fspark.to_dataframe(spark, X, y, num_partitions=2)
    dense = df.withColumn("features", array_to_vector(vector_to_array("features")))
    blocks = []
    for data in (df, dense):
        cached = _blocks.CachedBlocks.from_dataframe(data, features_col="features",
                                                     label_col="label", weight_col=None)
        try:
            blocks.append(cached.rdd.map(lambda pair: pair[0]).collect())
        finally:
            cached.unpersist()
    for sparse_block, dense_block in zip(*blocks):
        np.testing.assert_array_equal(dense_block.matrix(6).toarray(),
                                      sparse_block.matrix(6).toarray())
        # A dense vector contributes its nonzero entries only, as a sparse one stores them.
        np.testing.assert_array_equal(dense_block.indptr, sparse_block.indptr)
        np.testing.assert_array_equal(dense_block.labels, sparse_block.labels)


def test_import_without_pyspark_names_the_extra():
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "try:\n    import fastopt.spark\n"
            "except ImportError as exc:\n    print(exc)\n")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert "pip install fastopt[spark]" in output


def test_benchmark_objective_and_synthetic_data(spark):
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_spark

    df = bench_spark.synthetic_dataframe(spark, rows=150, features=30, nnz_per_row=5,
                                         partitions=2)
    rows = df.collect()
    assert len(rows) == 150
    X = sp.csr_matrix(np.array([r["features"].toArray() for r in rows]))
    y = np.array([r["label"] for r in rows])
    assert set(np.unique(y)) <= {0.0, 1.0}
    w = np.random.default_rng(4).normal(size=31)
    value = bench_spark.objective(df, w[:30], w[30], 0.1, 0.5)
    assert value == pytest.approx(
        _full_objective(X, y, w, loss="logistic", alpha=0.1, l1_ratio=0.5), rel=1e-12)
    df.unpersist()
