"""Online learning on sparse streams: stochastic linear models, FTRL-Proximal and feature hashing."""

from fastopt.online._ctr import read_ctr_csv
from fastopt.online._ftrl import FTRLClassifier
from fastopt.online._hashing import FeatureHasher, murmurhash3_32
from fastopt.online._sgd import SGDClassifier, SGDRegressor
from fastopt.online._solvers import FTRLProximal, LazySGD

__all__ = [
    "FTRLClassifier",
    "FTRLProximal",
    "FeatureHasher",
    "LazySGD",
    "SGDClassifier",
    "SGDRegressor",
    "murmurhash3_32",
    "read_ctr_csv",
]
