"""Readers for the file formats of standard machine-learning data sets."""

from fastopt.datasets.stream import iter_svmlight
from fastopt.datasets.synthetic import make_sparse_classification
from fastopt.datasets.svmlight import load_svmlight, load_svmlight_files

__all__ = ["iter_svmlight", "make_sparse_classification", "load_svmlight", "load_svmlight_files"]
