"""Readers for the file formats of standard machine-learning data sets."""

from fastopt.datasets.stream import iter_svmlight
from fastopt.datasets.svmlight import dump_svmlight, load_svmlight, load_svmlight_files

__all__ = ["dump_svmlight", "iter_svmlight", "load_svmlight", "load_svmlight_files"]
