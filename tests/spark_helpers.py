"""A local Spark session for the tests, bound to 127.0.0.1 with the web UI off."""

import os
import sys

import numpy as np


def local_session(name):
    """Yield a SparkSession on ``local[2,2]`` and stop it afterwards.

    ``local[2,2]`` is local mode with two executor threads in which a failed task gets a
    second attempt, so the tests can exercise Spark's task retries (plain ``local[2]`` makes
    every task failure fatal). The driver, the block manager and every socket stay on
    127.0.0.1.
    """
    from pyspark.sql import SparkSession

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    # PySpark starts its workers with PYSPARK_PYTHON, else python3 from PATH, and ignores
    # spark.pyspark.python here. That python3 may lack pyarrow or this fastopt.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2,2]")
        .appName(name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def penalty(w, alpha, l1_ratio, n_coef):
    """alpha (l1_ratio ||coef||_1 + (1 - l1_ratio) / 2 ||coef||^2), intercepts excluded."""
    coef = w[:n_coef]
    return alpha * (l1_ratio * np.abs(coef).sum() + 0.5 * (1.0 - l1_ratio) * coef @ coef)


def persistent_rdd_count(session):
    """Return the number of RDDs persisted in the session's context."""
    return session.sparkContext._jsc.getPersistentRDDs().size()
