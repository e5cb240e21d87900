"""Conversion of a Spark DataFrame into one cached CSR block per partition.

The estimators check the DataFrame's schema on the driver first, which runs no Spark job. Then
one job turns each partition into a :class:`Block` (CSR features, labels, optional weights),
stores the blocks with ``RDD.persist`` and returns a per-partition summary. The driver checks
the summaries (finite values, one vector size, valid labels and weights) before any training
job reads the blocks.
"""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import scipy.sparse as sp

from pyspark import StorageLevel
from pyspark.ml.linalg import DenseVector, SparseVector, VectorUDT
from pyspark.sql.types import DoubleType, NumericType, StructField, StructType

__all__ = ["Block", "BlockSummary", "CachedBlocks", "SummaryChecks", "check_columns",
           "partition_count", "to_dataframe"]


@dataclasses.dataclass
class Block:
    """One partition's rows: CSR features, float64 labels and optional float64 weights."""

    index: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    labels: np.ndarray
    weights: np.ndarray | None
    n_features: int

    @property
    def n_rows(self) -> int:
        return self.labels.shape[0]

    def matrix(self, n_features: int) -> sp.csr_matrix:
        """Return the features as a CSR matrix of width ``n_features``, sharing the arrays."""
        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=(self.n_rows, n_features), copy=False)


@dataclasses.dataclass
class BlockSummary:
    """Per-partition facts that the driver checks before training on a block.

    Each ``bad_*`` field is None or ``(row, value)``: the first row of the partition whose
    label, weight or feature value is invalid, and that value.
    """

    index: int
    n_rows: int
    nnz: int
    vector_sizes: tuple[int, int] | None
    weight_sum: float
    label_min: float
    label_max: float
    null_row: tuple[int, str] | None
    bad_label: tuple[int, float] | None
    bad_weight: tuple[int, float] | None
    bad_feature: tuple[int, float] | None
    non_integer_label: tuple[int, float] | None


def check_columns(dataset, *, features_col, label_col, weight_col):
    """Raise a clear error for a missing or mistyped column, reading only the schema.

    Raises
    ------
    TypeError
        When ``dataset`` is not a Spark DataFrame, the features column is not of
        ``pyspark.ml.linalg.VectorUDT`` or the label or weight column is not numeric.
    ValueError
        When a named column is missing.
    """
    schema = getattr(dataset, "schema", None)
    if not isinstance(schema, StructType) or not hasattr(dataset, "rdd"):
        raise TypeError(f"dataset: expected a pyspark.sql.DataFrame, got "
                        f"{type(dataset).__name__}")
    fields = {field.name: field for field in schema.fields}
    wanted = [("features_col", features_col), ("label_col", label_col)]
    if weight_col is not None:
        wanted.append(("weight_col", weight_col))
    for argument, name in wanted:
        if not isinstance(name, str):
            raise TypeError(f"{argument}: expected a column name (str), got {name!r}")
        if name not in fields:
            raise ValueError(f"{argument}: column {name!r} is missing from the DataFrame, "
                             f"which has columns {list(fields)}")
    features_type = fields[features_col].dataType
    if not isinstance(features_type, VectorUDT):
        raise TypeError(f"features_col: column {features_col!r} has type "
                        f"{features_type.simpleString()}; expected a vector column "
                        "(pyspark.ml.linalg.VectorUDT), as pyspark.ml.feature.VectorAssembler "
                        "builds")
    for argument, name in wanted[1:]:
        column_type = fields[name].dataType
        if not isinstance(column_type, NumericType):
            raise TypeError(f"{argument}: column {name!r} has type "
                            f"{column_type.simpleString()}; expected a numeric column")


def partition_count(dataset):
    """Return the partition count of a DataFrame, from its physical plan where that has one.

    Under adaptive query execution ``dataset.rdd`` runs the shuffles upstream of it, which
    the fit would then run again, so the plan comes first. Adaptive execution may still
    merge partitions at run time, so the barrier tasks report the count that actually ran.
    """
    try:
        plan = dataset._jdf.queryExecution().executedPlan()
        if plan.nodeName() == "AdaptiveSparkPlan":
            plan = plan.inputPlan()
        planned = int(plan.outputPartitioning().numPartitions())
    except Exception:  # noqa: BLE001 - a DataFrame without a JVM plan, as in Spark Connect
        planned = 0
    return planned if planned > 0 else dataset.rdd.getNumPartitions()


def _first_bad(mask: np.ndarray, values: np.ndarray):
    if not mask.any():
        return None
    row = int(np.flatnonzero(mask)[0])
    return row, float(values[row])


def vector_entries(vector, row_number, partition):
    """Return the int32 indices and float64 values of a vector's stored entries.

    A DenseVector contributes its nonzero entries, so every block is CSR.
    """
    if isinstance(vector, SparseVector):
        return (np.asarray(vector.indices, dtype=np.int32),
                np.asarray(vector.values, dtype=np.float64))
    if isinstance(vector, DenseVector):
        dense = vector.toArray()
        idx = np.flatnonzero(dense).astype(np.int32)
        return idx, dense[idx]
    raise TypeError(f"features: expected pyspark.ml.linalg vectors, got "
                    f"{type(vector).__name__} in row {row_number} of partition {partition}")


def rows_to_csr(vectors, n_features, partition):
    """Return the vectors of one partition as a float64 CSR matrix of width n_features."""
    index_parts, value_parts = [], []
    for row_number, vector in enumerate(vectors):
        if vector is None:
            raise ValueError(f"features: contains null in row {row_number} of partition "
                             f"{partition}; drop or fill those rows first")
        if vector.size != n_features:
            raise ValueError(f"features: expected vectors of size {n_features}, got size "
                             f"{vector.size} in row {row_number} of partition {partition}")
        idx, val = vector_entries(vector, row_number, partition)
        index_parts.append(idx)
        value_parts.append(val)
    n = len(index_parts)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([part.shape[0] for part in index_parts], out=indptr[1:])
    indices = np.concatenate(index_parts) if n else np.zeros(0, dtype=np.int32)
    data = np.concatenate(value_parts) if n else np.zeros(0)
    return sp.csr_matrix((data, indices.astype(np.int64), indptr), shape=(n, n_features))


def build_block(index, rows, weighted):
    """Convert one partition's ``(features, label[, weight])`` rows to a Block and its summary.

    Runs on the executors, one Python object per row; :func:`arrow_block` is the vectorized
    equivalent. The result depends only on the rows, so a retried task builds the same block.
    """
    lengths, index_parts, value_parts, labels, weights = [], [], [], [], []
    size_min, size_max = math.inf, -math.inf
    null_row = None
    for row_number, row in enumerate(rows):
        vector, label = row[0], row[1]
        weight = row[2] if weighted else 1.0
        if vector is None or label is None or weight is None:
            if null_row is None:
                column = ("features" if vector is None else "label" if label is None
                          else "weight")
                null_row = (row_number, column)
            vector, label, weight = SparseVector(0, [], []), math.nan, math.nan
        idx, val = vector_entries(vector, row_number, index)
        size_min = min(size_min, vector.size)
        size_max = max(size_max, vector.size)
        lengths.append(idx.shape[0])
        index_parts.append(idx)
        value_parts.append(val)
        labels.append(label)
        weights.append(weight)
    n = len(labels)
    return _finish_block(
        index, counts=np.asarray(lengths, dtype=np.int64),
        indices=np.concatenate(index_parts) if n else np.zeros(0, dtype=np.int32),
        data=np.concatenate(value_parts) if n else np.zeros(0),
        labels=np.asarray(labels, dtype=np.float64),
        weights=np.asarray(weights, dtype=np.float64) if weighted else None,
        sizes=None if n == 0 else (int(size_min), int(size_max)), null_row=null_row)


def _arrow_float64(column):
    """Return an Arrow numeric column as float64 NumPy values, NaN where null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.cast(column, pa.float64(), safe=False)
    return np.array(values.fill_null(math.nan), dtype=np.float64)


def _arrow_batch_entries(features, n, empty):
    """Return (counts, indices, data, sizes) for one batch of a vector column.

    ``features`` is the Arrow form of ``VectorUDT``: a struct of ``type`` (0 sparse,
    1 dense), ``size``, ``indices`` and ``values``. As in :func:`vector_entries`, a sparse
    row keeps its stored entries and a dense row its nonzero ones. Rows where ``empty`` is
    true (a null in any column) count as empty vectors of size 0, as in :func:`build_block`.
    """
    kind, size, idx_list, val_list = features.flatten()
    dense = np.asarray(kind.fill_null(0), dtype=np.int8) == 1
    v_off = np.asarray(val_list.offsets, dtype=np.int64)
    i_off = np.asarray(idx_list.offsets, dtype=np.int64)
    if not dense.any() and not empty.any() and np.array_equal(v_off, i_off):
        # Sparse rows only, the common case: every stored entry is kept, in buffer order,
        # so the value buffers are the block's entries without any gather.
        start, stop = int(v_off[0]), int(v_off[-1])
        data = np.asarray(val_list.values, dtype=np.float64)[start:stop]
        columns = np.asarray(idx_list.values, dtype=np.int32)[start:stop]
        return (np.diff(v_off), columns, data,
                np.asarray(size.fill_null(0), dtype=np.int64))
    lengths = np.diff(v_off)
    lengths[empty] = 0
    row = np.repeat(np.arange(n), lengths)
    # Each entry's position within its row, and its offset in the Arrow value buffers.
    position = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    data = np.asarray(val_list.values, dtype=np.float64)[np.repeat(v_off[:-1], lengths)
                                                         + position]
    row_dense = dense[row]
    columns = position.astype(np.int32)
    sparse = ~row_dense
    if sparse.any():
        index_values = np.asarray(idx_list.values, dtype=np.int32)
        columns[sparse] = index_values[(np.repeat(i_off[:-1], lengths) + position)[sparse]]
    keep = ~row_dense | (data != 0.0)
    counts = np.bincount(row[keep], minlength=n).astype(np.int64)
    sizes = np.where(dense, np.diff(v_off), np.asarray(size.fill_null(0), dtype=np.int64))
    sizes[empty] = 0
    return counts, columns[keep], data[keep], sizes


def arrow_block(index, batches, weighted):
    """Build the same Block and summary as :func:`build_block` from Arrow record batches.

    ``batches`` are one partition's ``(features, label[, weight])`` columns as
    ``DataFrame.mapInArrow`` passes them, so the conversion costs a few NumPy passes per
    batch instead of a Python object per row.
    """
    # Each list starts with an empty part, so a partition without rows concatenates too.
    counts = [np.zeros(0, dtype=np.int64)]
    index_parts = [np.zeros(0, dtype=np.int32)]
    value_parts = [np.zeros(0)]
    labels = [np.zeros(0)]
    weights = [np.zeros(0)]
    size_min, size_max = math.inf, -math.inf
    null_row, seen = None, 0
    for batch in batches:
        n = batch.num_rows
        if n == 0:
            continue
        null_vector = np.asarray(batch.column(0).is_null(), dtype=bool)
        label = _arrow_float64(batch.column(1))
        null_label = np.asarray(batch.column(1).is_null(), dtype=bool)
        null_weight = np.zeros(n, dtype=bool)
        weight = np.ones(n)
        if weighted:
            weight = _arrow_float64(batch.column(2))
            null_weight = np.asarray(batch.column(2).is_null(), dtype=bool)
        any_null = null_vector | null_label | null_weight
        if any_null.any():
            first = int(np.flatnonzero(any_null)[0])
            if null_row is None:
                column = ("features" if null_vector[first] else "label" if null_label[first]
                          else "weight")
                null_row = (seen + first, column)
            label[any_null] = math.nan
            weight[any_null] = math.nan
        c, idx, val, sizes = _arrow_batch_entries(batch.column(0), n, any_null)
        size_min = min(size_min, int(sizes.min()))
        size_max = max(size_max, int(sizes.max()))
        counts.append(c)
        index_parts.append(idx)
        value_parts.append(val)
        labels.append(label)
        weights.append(weight)
        seen += n

    sizes = None
    if seen:
        sizes = (int(size_min), int(size_max))
    return _finish_block(
        index, counts=np.concatenate(counts), indices=np.concatenate(index_parts),
        data=np.concatenate(value_parts), labels=np.concatenate(labels),
        weights=np.concatenate(weights) if weighted else None, sizes=sizes,
        null_row=null_row)


def _finish_block(index, *, counts, indices, data, labels, weights, sizes, null_row):
    """Return (Block, BlockSummary) from a partition's row counts, entries and columns."""
    n = labels.shape[0]
    nnz = int(counts.sum())
    index_dtype = np.int32 if nnz < 2**31 else np.int64
    indptr = np.zeros(n + 1, dtype=index_dtype)
    np.cumsum(counts, out=indptr[1:])
    indices = indices.astype(index_dtype, copy=False)

    # The first row of each kind of invalid value, so the driver can name it.
    feature_row = None
    bad_values = ~np.isfinite(data)
    if bad_values.any():
        entry = int(np.flatnonzero(bad_values)[0])
        row = int(np.searchsorted(indptr, entry, side="right") - 1)
        feature_row = (row, float(data[entry]))
    bad_label = _first_bad(~np.isfinite(labels), labels)
    integral = np.isfinite(labels) & (labels == np.round(labels))
    non_integer = _first_bad(~integral | (labels < 0), labels)
    bad_weight = None
    weight_sum = float(n)
    if weights is not None:
        bad_weight = _first_bad(~np.isfinite(weights) | (weights < 0), weights)
        weight_sum = float(weights.sum())
    finite_labels = labels[np.isfinite(labels)]

    block = Block(index=index, indptr=indptr, indices=indices, data=data, labels=labels,
                  weights=weights, n_features=0 if n == 0 else int(sizes[1]))
    summary = BlockSummary(
        index=index, n_rows=n, nnz=nnz, vector_sizes=sizes, weight_sum=weight_sum,
        label_min=float(finite_labels.min()) if finite_labels.size else math.nan,
        label_max=float(finite_labels.max()) if finite_labels.size else math.nan,
        null_row=null_row, bad_label=bad_label, bad_weight=bad_weight,
        bad_feature=feature_row, non_integer_label=non_integer)
    return block, summary


def _block_pairs(selected, weighted):
    """Return an RDD with one (Block, BlockSummary) pair per partition of ``selected``.

    With pyarrow installed, each partition reaches Python as Arrow record batches
    (``mapInArrow``) and leaves as one pickled pair, which the RDD unpickles. Without
    pyarrow, the rows arrive one Python object each. Both paths build the same blocks.
    """
    try:
        import pyarrow as pa
    except ImportError:
        return selected.rdd.mapPartitionsWithIndex(
            lambda index, rows: [build_block(index, rows, weighted)])
    from pyspark import TaskContext
    from pyspark.sql.types import BinaryType

    def convert(batches):
        pair = arrow_block(TaskContext.get().partitionId(), batches, weighted)
        yield pa.RecordBatch.from_pydict({"pair": [pickle.dumps(pair, protocol=5)]})

    schema = StructType([StructField("pair", BinaryType(), False)])
    return selected.mapInArrow(convert, schema).rdd.map(lambda row: pickle.loads(row[0]))


class SummaryChecks:
    """The partitions' summaries of one fit, their totals and the checks on them.

    Both ways of holding the blocks, :class:`CachedBlocks` and the resident tasks of
    ``fastopt.spark._resident``, check their summaries with this class before any training.
    """

    def __init__(self, summaries, *, weighted):
        self.summaries = sorted(summaries, key=lambda s: s.index)
        self.weighted = weighted
        self.n_rows = sum(s.n_rows for s in self.summaries)
        self.weight_sum = math.fsum(s.weight_sum for s in self.summaries)
        self.n_features = 0

    def _check(self, *, features_col, label_col, weight_col):
        names = {"features": features_col, "label": label_col, "weight": weight_col}
        for s in self.summaries:
            where = f"row {{}} of partition {s.index}"
            if s.null_row is not None:
                row, column = s.null_row
                raise ValueError(f"{column}_col: column {names[column]!r} contains null in "
                                 f"{where.format(row)}; drop or fill those rows first")
            invalid = [(s.bad_label, "label_col", label_col, "finite labels"),
                       (s.bad_weight, "weight_col", weight_col, "finite weights >= 0"),
                       (s.bad_feature, "features_col", features_col, "finite values")]
            for found, argument, column, expected in invalid:
                if found is not None:
                    row, value = found
                    raise ValueError(f"{argument}: column {column!r} contains {value!r} in "
                                     f"{where.format(row)}; expected {expected}")
        if self.n_rows == 0:
            raise ValueError("dataset: contains no rows; fit needs at least one")
        sizes = [s.vector_sizes for s in self.summaries if s.vector_sizes is not None]
        low, high = min(lo for lo, _ in sizes), max(hi for _, hi in sizes)
        if low != high:
            raise ValueError(f"features_col: vectors in column {features_col!r} have sizes "
                             f"from {low} to {high}; expected one size for every row")
        if high == 0:
            raise ValueError(f"features_col: vectors in column {features_col!r} have size 0; "
                             "expected at least one feature")
        self.n_features = high
        if not self.weight_sum > 0:
            raise ValueError(f"weight_col: every weight in column {weight_col!r} is 0; "
                             "expected at least one positive weight")

    def check_class_labels(self, label_col):
        """Return the number of classes, max(label) + 1, after checking labels 0, 1, ..."""
        for s in self.summaries:
            if s.non_integer_label is not None:
                row, value = s.non_integer_label
                raise ValueError(f"label_col: column {label_col!r} contains {value!r} in row "
                                 f"{row} of partition {s.index}; expected class indices "
                                 "0, 1, 2, ... (StringIndexer encodes other labels)")
        return int(max(s.label_max for s in self.summaries if s.n_rows)) + 1


class CachedBlocks(SummaryChecks):
    """The persisted blocks of one fit, with the checked totals of their summaries.

    ``rdd`` contains one ``(Block, BlockSummary)`` pair per partition.

    Create it with :meth:`from_dataframe`, and call :meth:`unpersist` when the fit ends,
    whether it succeeds or not.
    """

    def __init__(self, rdd, summaries, *, weighted):
        super().__init__(summaries, weighted=weighted)
        self.rdd = rdd
        self.n_partitions = rdd.getNumPartitions()

    @classmethod
    def from_dataframe(cls, dataset, *, features_col, label_col, weight_col,
                       storage_level=StorageLevel.MEMORY_AND_DISK):
        """Run the conversion job, persist the blocks and check their summaries.

        The blocks are unpersisted again when a check fails.
        """
        columns = [features_col, label_col] + ([weight_col] if weight_col else [])
        weighted = weight_col is not None
        # Each partition becomes one (block, summary) pair. The pairs are persisted, so the
        # job that collects the summaries also fills the cache that training reads.
        pairs = _block_pairs(dataset.select(*columns), weighted).persist(storage_level)
        try:
            summaries = pairs.map(lambda pair: pair[1]).collect()
            result = cls(pairs, summaries, weighted=weighted)
            result._check(features_col=features_col, label_col=label_col,
                          weight_col=weight_col)
        except BaseException:
            pairs.unpersist()
            raise
        return result

    def unpersist(self):
        """Remove the blocks from the executors' storage."""
        self.rdd.unpersist()


def to_dataframe(spark, X, y, *, sample_weight=None, num_partitions=None,
                 features_col="features", label_col="label", weight_col="weight"):
    """Return a Spark DataFrame of sparse feature vectors, labels and optional weights.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session that creates the DataFrame.
    X : scipy.sparse matrix or ndarray of shape (n_samples, n_features)
        Converted to CSR, and each row becomes a ``pyspark.ml.linalg.SparseVector``.
    y : array-like of shape (n_samples,)
        Labels (class indices 0, 1, ... for classification) or targets.
    sample_weight : array-like of shape (n_samples,), optional
        Adds a weight column.
    num_partitions : int, optional
        Partitions of the result. None uses Spark's default parallelism.
    features_col, label_col, weight_col : str
        Names of the columns, by default "features", "label" and "weight".

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``label_col`` (double), ``features_col`` (vector) and, with weights,
        ``weight_col`` (double), with the rows in the order of ``X``.

    Examples
    --------
    The example needs a Spark session, so the documentation build does not run it:

    >>> import numpy as np
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from fastopt.spark import to_dataframe
    >>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
    >>> df = to_dataframe(spark, np.eye(3), [0.0, 1.0, 0.0])            # doctest: +SKIP
    >>> df.columns                                                      # doctest: +SKIP
    ['label', 'features']
    """
    X = sp.csr_matrix(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n, p = X.shape
    if y.shape[0] != n:
        raise ValueError(f"y: has {y.shape[0]} values but X has {n} rows")
    fields = [StructField(label_col, DoubleType(), False),
              StructField(features_col, VectorUDT(), False)]
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if sample_weight.shape[0] != n:
            raise ValueError(f"sample_weight: has {sample_weight.shape[0]} values but X has "
                             f"{n} rows")
        fields.append(StructField(weight_col, DoubleType(), False))
    rows = []
    for i in range(n):
        start, stop = X.indptr[i], X.indptr[i + 1]
        row = [float(y[i]), SparseVector(p, X.indices[start:stop], X.data[start:stop])]
        if sample_weight is not None:
            row.append(float(sample_weight[i]))
        rows.append(row)
    slices = num_partitions or spark.sparkContext.defaultParallelism
    rdd = spark.sparkContext.parallelize(rows, slices)
    return spark.createDataFrame(rdd, StructType(fields))
