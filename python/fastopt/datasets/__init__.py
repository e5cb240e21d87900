"""Readers and writers for the file formats of machine-learning data sets, and generated problems."""

from fastopt.datasets.stream import iter_svmlight
from fastopt.datasets.svmlight import dump_svmlight, load_svmlight, load_svmlight_files
from fastopt.datasets.synthetic import make_sparse_classification

__all__ = ["dump_svmlight", "iter_svmlight", "load_svmlight", "load_svmlight_files",
           "make_sparse_classification"]
