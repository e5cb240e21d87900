"""Readers for the file formats of standard machine-learning data sets."""

from fastopt.datasets.stream import iter_svmlight
from fastopt.datasets.svmlight import load_svmlight, load_svmlight_files

__all__ = ["iter_svmlight", "load_svmlight", "load_svmlight_files"]
