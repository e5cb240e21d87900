r"""Logistic and linear regression estimators that fit a Spark DataFrame.

Every estimator minimizes the objective of its single-machine counterpart in
``fastopt.linear_model`` over all rows of the DataFrame,

.. math:: \frac{1}{W} \sum_i s_i \, \ell(y_i, x_i \cdot coef + intercept)
          + \alpha \Big(\rho \|coef\|_1 + \frac{1 - \rho}{2} \|coef\|_2^2\Big),

with row weights :math:`s_i` (1 without a weight column) summing to W. This is Spark MLlib's
objective with ``regParam = alpha`` and ``elasticNetParam = l1_ratio`` when MLlib runs with
``standardization=False``. With standardization on, MLlib penalizes the coefficients of the
standardized features, which is a different problem.
"""

from __future__ import annotations

import numpy as np
from pyspark.ml.linalg import DenseVector, VectorUDT
from pyspark.sql.types import DoubleType, StructField, StructType
from scipy.special import expit, softmax

from fastopt import linear_model
from fastopt.linear_model import _quasi_newton
from fastopt.linear_model._base import (
    EstimatorParams,
    LinearModelBase,
    check_bool,
    check_int,
    check_real,
    penalty_parts,
)
from fastopt.linear_model._result import SolverResult
from fastopt.linear_model._stopping import add_l2_gradient, optimality_violation, penalty_value
from fastopt.spark._blocks import CachedBlocks, check_columns, partition_count, rows_to_csr
from fastopt.spark._newton import NEWTON_MAX_PARAMS, newton
from fastopt.spark._objective import DistributedGLMObjective
from fastopt.spark._resident import ResidentBlocks, ResidentGLMObjective, UnsupportedBarrierJob
from fastopt.spark._sgd import run_sgd

__all__ = ["LinearRegression", "LinearRegressionModel", "LogisticRegression",
           "LogisticRegressionModel"]

SOLVERS = ("auto", "newton", "lbfgs", "owlqn", "sgd")
EXECUTIONS = ("auto", "driver", "barrier")
FAMILIES = ("auto", "binomial", "multinomial")

_COMMON_PARAMETERS = """
    solver : {"auto", "newton", "lbfgs", "owlqn", "sgd"}, default "auto"
        "auto" is "newton" for the binary logistic and squared losses with at most 1024
        parameters. Otherwise it is "lbfgs" without an L1 term and "owlqn" with one.
        "newton" takes damped (proximal, with an L1 term) Newton steps with the dense
        Hessian, which one Spark job computes together with the loss and gradient (see
        ``fastopt.spark._newton``).
        "lbfgs" and "owlqn" run on the driver (``fastopt.minimize``) and evaluate the loss
        and gradient once per evaluation over all blocks: a round trip to the resident tasks
        in barrier execution, one Spark job in driver execution (see ``execution``). "sgd" is
        synchronous mini-batch SGD
        with the parameters averaged over the partitions after every epoch (see
        ``fastopt.spark._sgd``).
    tol : float, default 1e-6
        "newton", "lbfgs" and "owlqn" stop when the optimality violation (infinity norm of
        the minimum-norm subgradient) falls to ``tol`` times its value at zero, as in
        ``fastopt.linear_model``. "sgd" stops when an epoch moves no parameter by more than
        ``tol * max(1, max |w|)``.
    max_iter : int, default 100
        Maximum number of solver iterations ("sgd": epochs).
    learning_rate : float, default 0.5
        "sgd" only: the step size of epoch e is ``learning_rate / sqrt(e + 1)``.
    batch_size : int, default 256
        "sgd" only: rows per mini-batch, within a partition.
    random_state : int, default 0
        "sgd" only: seeds the order of the mini-batches in each epoch and partition.
    execution : {"auto", "driver", "barrier"}, default "auto"
        Where the blocks live during the fit. "barrier" runs one barrier job whose tasks
        convert their partitions once and keep the blocks in memory until the fit ends. The
        driver's solver sends w to the tasks over TCP connections that the tasks open to
        the driver, so an evaluation costs a round trip instead of a Spark job. It needs a
        task slot for every partition at once, no dynamic allocation, pyarrow, and
        executors that can connect to the driver on an ephemeral port. "driver" persists the
        blocks and runs one Spark job per evaluation, summed in a tree. "auto" uses
        "barrier" when the partitions fit in ``SparkContext.defaultParallelism``, dynamic
        allocation is off and pyarrow imports, and "driver" otherwise or for "sgd".
    depth : int, default 2
        Depth of the tree that sums the partitions' results, as in ``RDD.treeAggregate``.
        "driver" execution only.
    features_col, label_col : str, default "features", "label"
        The vector column (``pyspark.ml.linalg`` SparseVector or DenseVector) and the
        numeric label column.
    weight_col : str or None, default None
        Numeric column of row weights >= 0. None weights every row 1.
    prediction_col : str, default "prediction"
        Column that the model's ``transform`` adds.
"""


def _check_solver(solver, alpha, l1_ratio):
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {SOLVERS}, got {solver!r}")
    smooth = alpha * l1_ratio == 0.0
    if solver == "auto":
        return "lbfgs" if smooth else "owlqn"
    if solver == "lbfgs" and not smooth:
        raise ValueError(f"solver: {solver!r} needs a smooth objective, got "
                         f"l1_ratio={l1_ratio!r} with alpha={alpha!r}; use solver 'owlqn', "
                         "'sgd' or 'auto'")
    return solver


def _choose_solver(solver, objective, fallback):
    """Resolve "auto" to "newton" or ``fallback``, or check that "newton" fits the problem.

    Raises ValueError for "newton" with the multinomial loss or too many parameters.
    """
    newton_fits = (objective.loss != "multinomial"
                   and objective.n_params <= NEWTON_MAX_PARAMS)
    if solver == "auto":
        return "newton" if newton_fits else fallback
    if solver == "newton" and not newton_fits:
        raise ValueError(f"solver: 'newton' needs the binary logistic or squared loss and at "
                         f"most {NEWTON_MAX_PARAMS} parameters, got loss "
                         f"{objective.loss!r} with {objective.n_params} parameters; use "
                         "solver 'lbfgs' or 'auto'")
    return solver


class _SparkLinearEstimator(EstimatorParams):
    """Parameter checks and the fit loop shared by the Spark estimators."""

    def _store_params(self, arguments):
        """Store each ``__init__`` argument under its own name, as scikit-learn does."""
        for name in self._get_param_names():
            setattr(self, name, arguments[name])

    def _check_params(self):
        """Return (alpha, l1_ratio, solver) after checking every hyperparameter."""
        alpha, l1_ratio = penalty_parts(self.penalty, self.alpha, self.l1_ratio)
        solver = _check_solver(self.solver, alpha, l1_ratio)
        if not isinstance(self.execution, str) or self.execution not in EXECUTIONS:
            raise ValueError(f"execution: expected one of {EXECUTIONS}, got {self.execution!r}")
        if self.execution == "barrier" and solver == "sgd":
            raise ValueError("execution: 'barrier' runs the 'newton', 'lbfgs' and 'owlqn' "
                             "solvers; use execution 'driver' or 'auto' with solver 'sgd'")
        check_bool("fit_intercept", self.fit_intercept)
        check_real("tol", self.tol, low=0.0)
        check_int("max_iter", self.max_iter, low=1)
        check_real("learning_rate", self.learning_rate, low=0.0, low_open=True)
        check_int("batch_size", self.batch_size, low=1)
        check_int("random_state", self.random_state, low=0)
        check_int("depth", self.depth, low=1)
        if not isinstance(self.prediction_col, str):
            raise TypeError(f"prediction_col: expected a column name (str), got "
                            f"{self.prediction_col!r}")
        return alpha, l1_ratio, solver

    def _fit(self, dataset):
        """Check the parameters and the schema, then fit in the chosen execution mode.

        Returns ``(result, objective, blocks, loss, n_classes)``.
        """
        alpha, l1_ratio, solver = self._check_params()
        check_columns(dataset, features_col=self.features_col, label_col=self.label_col,
                      weight_col=self.weight_col)
        names = {"features_col": self.features_col, "label_col": self.label_col,
                 "weight_col": self.weight_col}
        options = {"alpha": alpha, "l1_ratio": l1_ratio, "solver": solver}
        if self._use_barrier(dataset, solver):
            try:
                with ResidentBlocks(dataset, **names) as blocks:
                    loss, n_classes = self._problem(blocks)
                    objective = ResidentGLMObjective(blocks, loss=loss, n_classes=n_classes,
                                                     fit_intercept=self.fit_intercept)
                    result = self._solve(objective, None, **options)
                return result, objective, blocks, loss, n_classes
            except UnsupportedBarrierJob as exc:
                if self.execution == "barrier":
                    raise ValueError(f"execution: Spark cannot run this DataFrame's lineage "
                                     f"as a barrier stage ({exc}); repartition the "
                                     "DataFrame or use execution 'driver'") from exc
        blocks = CachedBlocks.from_dataframe(dataset, **names)
        try:
            loss, n_classes = self._problem(blocks)
            objective = DistributedGLMObjective(blocks, loss=loss, n_classes=n_classes,
                                                fit_intercept=self.fit_intercept,
                                                depth=self.depth)
            result = self._solve(objective, blocks, **options)
        finally:
            blocks.unpersist()
        return result, objective, blocks, loss, n_classes

    def _use_barrier(self, dataset, solver):
        """Return whether this fit runs as resident barrier tasks (see ``execution``).

        Raises ValueError for ``execution="barrier"`` when the cluster cannot run it. Spark
        would reject too many partitions itself, but in local mode that rejection stopped the
        whole SparkContext (Spark 4.3), so the partitions are counted here first.
        """
        if self.execution == "driver" or solver == "sgd":
            return False
        context = dataset.sparkSession.sparkContext
        n_partitions = partition_count(dataset)
        slots = context.defaultParallelism
        reason = None
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            reason = "needs pyarrow, which is not installed"
        if reason is None and context.getConf().get(
                "spark.dynamicAllocation.enabled", "false").lower() == "true":
            reason = "cannot run with spark.dynamicAllocation.enabled=true"
        if reason is None and n_partitions > slots:
            reason = (f"needs a task slot per partition, got {n_partitions} partitions and "
                      f"{slots} slots (SparkContext.defaultParallelism)")
        if reason is None:
            return True
        if self.execution == "barrier":
            raise ValueError(f"execution: 'barrier' {reason}; use execution 'auto' or "
                             "'driver', or repartition the DataFrame")
        return False

    def _solve(self, objective, blocks, *, alpha, l1_ratio, solver):
        """Run the solver on the objective and return a SolverResult.

        ``blocks`` are the cached blocks that "sgd" reads, None in barrier execution.
        """
        if self.solver in ("auto", "newton"):
            # "auto" picks "newton" from the loss and the number of parameters, which are
            # known only after the conversion job.
            solver = _choose_solver(self.solver, objective, fallback=solver)
        if solver == "newton":
            result = newton(objective, alpha=alpha, l1_ratio=l1_ratio, tol=self.tol,
                            max_iter=self.max_iter)
        elif solver in ("lbfgs", "owlqn"):
            run = _quasi_newton.lbfgs if solver == "lbfgs" else _quasi_newton.owlqn
            result = run(objective, alpha=alpha, l1_ratio=l1_ratio, tol=self.tol,
                         max_iter=self.max_iter)
        else:
            w, epochs, converged = run_sgd(
                blocks, np.zeros(objective.n_params), spec=objective.spec, depth=self.depth,
                alpha=alpha, l1_ratio=l1_ratio, learning_rate=float(self.learning_rate),
                batch_size=self.batch_size, max_iter=self.max_iter, tol=self.tol,
                seed=self.random_state)
            # One more pass gives the objective and optimality violation of the result.
            f, g = objective.value_grad(w)
            zero = np.zeros(objective.n_params)
            _, g0 = objective.value_grad(zero)
            p, k = objective.n_features, objective.n_outputs
            f += penalty_value(w, alpha, l1_ratio, p, k)
            add_l2_gradient(g, w, alpha, l1_ratio, p, k)
            result = SolverResult(
                w=w, n_iter=epochs, violation=optimality_violation(g, w, alpha, l1_ratio, p, k),
                violation0=optimality_violation(g0, zero, alpha, l1_ratio, p, k),
                converged=converged, objective=f, solver="sgd")
        if not result.converged:
            LinearModelBase._warn_not_converged(self, result)
        return result

    def _set_common(self, model, result, objective, blocks):
        model.n_features_in_ = objective.n_features
        model.n_iter_ = max(int(result.n_iter), 1)
        model.solver_ = result.solver
        model.objective_ = float(result.objective)
        model.converged_ = bool(result.converged)
        model.n_rows_ = blocks.n_rows
        model.execution_ = "barrier" if isinstance(blocks, ResidentBlocks) else "driver"
        model.features_col = self.features_col
        model.prediction_col = self.prediction_col
        model.params_ = self.get_params()


class LogisticRegression(_SparkLinearEstimator):
    __doc__ = r"""Binary and multinomial logistic regression on a Spark DataFrame.

    Labels are class indices 0, 1, ..., K - 1 stored as numbers, as in Spark MLlib. With
    ``family="auto"`` two classes (K <= 2) use the binary log loss
    :math:`\log(1 + e^{-y z})` with label 0 as :math:`y = -1`, and more use the multinomial
    (softmax) loss with one row of ``coef`` per class. The objective and the meaning of
    ``alpha`` and ``l1_ratio`` are those of ``fastopt.linear_model.LogisticRegression``. Spark
    MLlib's ``LogisticRegression(regParam=r, elasticNetParam=e, standardization=False)`` is
    ``alpha=r, l1_ratio=e, penalty="elasticnet"``.

    Each partition is converted once into a CSR block, which stays in its barrier task's
    memory or is persisted (``StorageLevel.MEMORY_AND_DISK``) for the duration of ``fit``,
    depending on ``execution``. Schema errors are raised before any Spark job runs, and invalid
    values (NaN or infinite labels, features or weights, nulls, labels that are not class
    indices) after the conversion and before any training step. The barrier job is stopped,
    or the blocks unpersisted, when ``fit`` returns or raises.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default "l2"
    alpha : float, default 1e-4
        Penalty strength, >= 0.
    l1_ratio : float, default 0.5
        L1 share of the penalty, used with ``penalty="elasticnet"``.
    fit_intercept : bool, default True
        Fit unpenalized intercepts.
    family : {"auto", "binomial", "multinomial"}, default "auto"
        "binomial" requires labels 0 and 1. "multinomial" uses the softmax loss even for two
        classes.""" + _COMMON_PARAMETERS + """
    probability_col : str or None, default "probability"
        Column of class probabilities (a vector) that ``transform`` adds. None adds none.

    Examples
    --------
    The example needs a Spark session, so the documentation build does not run it:

    >>> model = LogisticRegression(alpha=1e-3).fit(df)          # doctest: +SKIP
    >>> model.transform(df).select("prediction").show()         # doctest: +SKIP
    >>> local = model.to_local()   # fastopt.linear_model.LogisticRegression  # doctest: +SKIP
    """

    def __init__(self, penalty="l2", *, alpha=1e-4, l1_ratio=0.5, fit_intercept=True,
                 family="auto", solver="auto", tol=1e-6, max_iter=100, learning_rate=0.5,
                 batch_size=256, random_state=0, execution="auto", depth=2,
                 features_col="features", label_col="label", weight_col=None,
                 prediction_col="prediction", probability_col="probability"):
        self._store_params(locals())

    def _check_params(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family: expected one of {FAMILIES}, got {self.family!r}")
        if self.probability_col is not None and not isinstance(self.probability_col, str):
            raise TypeError(f"probability_col: expected a column name (str) or None, got "
                            f"{self.probability_col!r}")
        return super()._check_params()

    def fit(self, dataset):
        """Fit the model to a DataFrame.

        Parameters
        ----------
        dataset : pyspark.sql.DataFrame
            Rows with the columns ``features_col`` (a vector) and ``label_col``, and
            ``weight_col`` when set.

        Returns
        -------
        LogisticRegressionModel
            The fitted model.
        """
        result, objective, blocks, loss, n_classes = self._fit(dataset)
        rows = n_classes if loss == "multinomial" else 1
        p = objective.n_features
        model = LogisticRegressionModel()
        self._set_common(model, result, objective, blocks)
        w = np.zeros(rows * p + rows)
        w[: result.w.size] = result.w
        model.coef_ = w[: rows * p].reshape(rows, p)
        model.intercept_ = w[rows * p:].copy()
        model.classes_ = np.arange(n_classes, dtype=np.float64)
        model.probability_col = self.probability_col
        return model

    def _problem(self, blocks):
        """Return (loss, n_classes) from the checked summaries of the blocks."""
        n_classes = max(blocks.check_class_labels(self.label_col), 2)
        if self.family == "binomial" and n_classes > 2:
            raise ValueError(f"family: 'binomial' needs labels 0 and 1, got labels up to "
                             f"{n_classes - 1} in column {self.label_col!r}; use "
                             "family='multinomial' or 'auto'")
        multinomial = self.family == "multinomial" or n_classes > 2
        return ("multinomial" if multinomial else "logistic"), n_classes


class LinearRegression(_SparkLinearEstimator):
    __doc__ = r"""Least squares with an optional L2, L1 or elastic-net penalty on a Spark DataFrame.

    Minimizes :math:`\frac{1}{W} \sum_i s_i \tfrac12 (x_i \cdot coef + intercept - y_i)^2`
    plus the penalty, the objective of ``fastopt.linear_model.LinearRegression`` (no penalty),
    ``Ridge`` ("l2"), ``Lasso`` ("l1") and ``ElasticNet`` ("elasticnet") with the same
    ``alpha`` and ``l1_ratio``. Caching, checks and clean-up are those of
    :class:`LogisticRegression`.

    Parameters
    ----------
    penalty : {None, "l2", "l1", "elasticnet"}, default None
    alpha : float, default 1e-4
        Penalty strength, >= 0, ignored without a penalty.
    l1_ratio : float, default 0.5
        L1 share of the penalty, used with ``penalty="elasticnet"``.
    fit_intercept : bool, default True
        Fit an unpenalized intercept.""" + _COMMON_PARAMETERS + """
    Examples
    --------
    The example needs a Spark session, so the documentation build does not run it:

    >>> import os
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from fastopt.datasets import load_svmlight
    >>> from fastopt.spark import LinearRegression, to_dataframe
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> X, y = load_svmlight(os.path.join(DATA_DIR, "heart_scale"))
    >>> df = to_dataframe(spark, X, y)                                  # doctest: +SKIP
    >>> model = LinearRegression(penalty="l2", alpha=1e-2).fit(df)      # doctest: +SKIP
    >>> ridge = model.to_local()  # fastopt.linear_model.Ridge          # doctest: +SKIP
    """

    def __init__(self, penalty=None, *, alpha=1e-4, l1_ratio=0.5, fit_intercept=True,
                 solver="auto", tol=1e-6, max_iter=100, learning_rate=0.05, batch_size=256,
                 random_state=0, execution="auto", depth=2, features_col="features",
                 label_col="label", weight_col=None, prediction_col="prediction"):
        self._store_params(locals())

    def fit(self, dataset):
        """Fit the model to a DataFrame.

        Parameters
        ----------
        dataset : pyspark.sql.DataFrame
            Rows with the columns ``features_col`` (a vector) and ``label_col``, and
            ``weight_col`` when set.

        Returns
        -------
        LinearRegressionModel
            The fitted model.
        """
        result, objective, blocks, _, _ = self._fit(dataset)
        p = objective.n_features
        model = LinearRegressionModel()
        self._set_common(model, result, objective, blocks)
        model.coef_ = result.w[:p].copy()
        model.intercept_ = float(result.w[p]) if self.fit_intercept else 0.0
        return model

    def _problem(self, blocks):
        return "squared", None


def _transform(model, dataset, compute):
    """Return ``dataset`` with the columns that ``compute(margins)`` fills, per partition."""
    fields = {field.name: field for field in dataset.schema.fields}
    features_col = model.features_col
    if features_col not in fields:
        raise ValueError(f"features_col: column {features_col!r} is missing from the "
                         f"DataFrame, which has columns {list(fields)}")
    if not isinstance(fields[features_col].dataType, VectorUDT):
        raise TypeError(f"features_col: column {features_col!r} has type "
                        f"{fields[features_col].dataType.simpleString()}; expected a vector "
                        "column (pyspark.ml.linalg.VectorUDT)")
    new_fields = model._output_fields()
    for field in new_fields:
        if field.name in fields:
            raise ValueError(f"{field.name!r}: the DataFrame already has a column of that "
                             "name; set prediction_col or probability_col to a new name")
    position = dataset.columns.index(features_col)
    p = model.n_features_in_
    coef = model.coef_.reshape(-1, p)
    intercept = model.intercept_

    def transform_partition(index, rows):
        rows = list(rows)
        X = rows_to_csr([row[position] for row in rows], p, index)
        margins = np.asarray(X @ coef.T) + intercept
        for row, extra in zip(rows, compute(margins)):
            yield tuple(row) + extra

    schema = StructType(list(dataset.schema.fields) + new_fields)
    rdd = dataset.rdd.mapPartitionsWithIndex(transform_partition)
    return dataset.sparkSession.createDataFrame(rdd, schema)


class LogisticRegressionModel:
    """A logistic regression fitted by :class:`LogisticRegression`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class indices 0.0, 1.0, ..., as Spark stores labels.
    coef_ : ndarray of shape (1, n_features) for the binary loss, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_, n_iter_, n_rows_ : int
    solver_ : str
    execution_ : {"driver", "barrier"}
        Where the blocks lived during the fit (see the estimator's ``execution``).
    objective_ : float
        The penalized objective at the result.
    converged_ : bool
    params_ : dict
        The estimator's parameters.

    Examples
    --------
    A model comes from :meth:`LogisticRegression.fit`; see the example there.

    >>> model = LogisticRegression().fit(df)  # doctest: +SKIP
    >>> model.transform(df).select("prediction", "probability").show(3)  # doctest: +SKIP
    """

    def _output_fields(self):
        fields = [StructField(self.prediction_col, DoubleType(), False)]
        if self.probability_col is not None:
            fields.append(StructField(self.probability_col, VectorUDT(), False))
        return fields

    def transform(self, dataset):
        """Return ``dataset`` with the predicted class index and, optionally, probabilities.

        Parameters
        ----------
        dataset : pyspark.sql.DataFrame
            Rows with the column ``features_col``.

        Returns
        -------
        pyspark.sql.DataFrame
            ``dataset`` with ``prediction_col`` and, unless None, ``probability_col``.
        """
        binary = self.coef_.shape[0] == 1
        with_probability = self.probability_col is not None

        def compute(margins):
            if binary:
                positive = expit(margins[:, 0])
                probability = np.column_stack([1.0 - positive, positive])
                prediction = (margins[:, 0] > 0).astype(np.float64)
            else:
                probability = softmax(margins, axis=1)
                prediction = np.argmax(margins, axis=1).astype(np.float64)
            for i in range(prediction.shape[0]):
                if with_probability:
                    yield float(prediction[i]), DenseVector(probability[i])
                else:
                    yield (float(prediction[i]),)

        return _transform(self, dataset, compute)

    def to_local(self):
        """Return the fitted ``fastopt.linear_model.LogisticRegression`` with these parameters.

        A multinomial fit with two classes becomes the equivalent binary model
        (``coef_[1] - coef_[0]``), which predicts the same classes and probabilities.

        Returns
        -------
        fastopt.linear_model.LogisticRegression
            A fitted estimator that runs on NumPy and SciPy input.
        """
        params = self.params_
        solver = params["solver"] if params["solver"] in ("lbfgs", "owlqn") else "auto"
        local = linear_model.LogisticRegression(
            penalty=params["penalty"], alpha=params["alpha"], l1_ratio=params["l1_ratio"],
            fit_intercept=params["fit_intercept"], solver=solver, tol=params["tol"],
            max_iter=params["max_iter"])
        coef, intercept = self.coef_, self.intercept_
        if coef.shape[0] == 2:
            coef = coef[1:] - coef[:1]
            intercept = intercept[1:] - intercept[:1]
        local.classes_ = self.classes_.copy()
        local.coef_ = coef.copy()
        local.intercept_ = intercept.copy()
        local.n_features_in_ = self.n_features_in_
        local.n_iter_ = self.n_iter_
        local.solver_ = self.solver_
        return local


class LinearRegressionModel:
    """A least-squares model fitted by :class:`LinearRegression`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_features_in_, n_iter_, n_rows_ : int
    solver_ : str
    execution_ : {"driver", "barrier"}
    objective_ : float
    converged_ : bool
    params_ : dict

    Examples
    --------
    A model comes from :meth:`LinearRegression.fit`; see the example there.

    >>> model = LinearRegression().fit(df)  # doctest: +SKIP
    >>> model.transform(df).select("prediction").show(3)  # doctest: +SKIP
    """

    def _output_fields(self):
        return [StructField(self.prediction_col, DoubleType(), False)]

    def transform(self, dataset):
        """Return ``dataset`` with the prediction ``x @ coef_ + intercept_`` added.

        Parameters
        ----------
        dataset : pyspark.sql.DataFrame
            Rows with the column ``features_col``.

        Returns
        -------
        pyspark.sql.DataFrame
            ``dataset`` with ``prediction_col``.
        """

        def compute(margins):
            for value in margins[:, 0]:
                yield (float(value),)

        return _transform(self, dataset, compute)

    def to_local(self):
        """Return the fitted single-machine estimator with the same objective.

        ``fastopt.linear_model.LinearRegression`` without a penalty, else ``Ridge``,
        ``Lasso`` or ``ElasticNet`` with the same ``alpha`` (and ``l1_ratio``).

        Returns
        -------
        estimator
            A fitted estimator of :mod:`fastopt.linear_model`.
        """
        params = self.params_
        common = {"fit_intercept": params["fit_intercept"], "tol": params["tol"],
                  "max_iter": params["max_iter"]}
        penalty = params["penalty"]
        if penalty is None:
            local = linear_model.LinearRegression(**common)
        elif penalty == "l2":
            local = linear_model.Ridge(params["alpha"], **common)
        elif penalty == "l1":
            local = linear_model.Lasso(params["alpha"], **common)
        else:
            local = linear_model.ElasticNet(params["alpha"], l1_ratio=params["l1_ratio"],
                                            **common)
        local.coef_ = self.coef_.copy()
        local.intercept_ = self.intercept_
        local.n_features_in_ = self.n_features_in_
        local.n_iter_ = self.n_iter_
        local.solver_ = self.solver_
        return local
