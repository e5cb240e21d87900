"""Online (one row at a time) linear learning on sparse rows."""

from fastopt.online._solvers import FTRLProximal, LazySGD

__all__ = ["FTRLProximal", "LazySGD"]
