"""fastopt: fused C++/OpenMP optimization methods for large-scale machine learning."""

from fastopt import datasets, dfo, exceptions, linear_model, metrics, minimize, model_file, nn, online, optim, prox
from fastopt import callbacks, tune
from fastopt._system import (
    active_isa,
    available_isas,
    get_cmake_dir,
    get_include,
    get_num_threads,
    openmp_enabled,
    set_num_threads,
)

__version__ = "0.1.0"

__all__ = [
    "active_isa",
    "available_isas",
    "callbacks",
    "datasets",
    "dfo",
    "exceptions",
    "get_cmake_dir",
    "get_include",
    "get_num_threads",
    "linear_model",
    "metrics",
    "minimize",
    "model_file",
    "nn",
    "online",
    "openmp_enabled",
    "optim",
    "prox",
    "set_num_threads",
    "tune",
]
