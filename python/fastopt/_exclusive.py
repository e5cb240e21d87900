"""Guard against two threads changing one optimizer or estimator at once.

fastopt's kernels release the GIL, so two threads stepping one optimizer (or
fitting one estimator) would update the same arrays at the same time: lost
updates and a model assembled from two fits. Such calls raise RuntimeError
instead. Calls on separate objects run in parallel, and read-only methods
(predict, decision_function, state_dict) need no guard. The owner is recorded
by ``id`` in a module-level table, not on the object, so that objects stay
picklable and their ``__dict__`` (which model files save) is unchanged.

The guarded methods enter :func:`exclusive` in their body, not through a
decorator: a wrapper frame would make warnings issued with a ``stacklevel``
(ConvergenceWarning) point into this module instead of at the caller.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_LOCK = threading.Lock()
# id(object) -> (thread ident, depth); the depth lets a method of the owning thread call
# another guarded method (fit calling partial_fit) without raising.
_OWNERS: dict[int, tuple[int, int]] = {}


@contextmanager
def exclusive(obj, action: str):
    """Hold ``obj`` for the calling thread during the block, or raise RuntimeError."""
    key = id(obj)
    me = threading.get_ident()
    with _LOCK:
        owner, depth = _OWNERS.get(key, (me, 0))
        if owner != me:
            raise RuntimeError(
                f"{type(obj).__name__}.{action}: the same instance is in use by another thread; "
                "one optimizer or estimator serves one thread at a time, so give each thread "
                "its own instance (copy.deepcopy or sklearn.base.clone)"
            )
        _OWNERS[key] = (me, depth + 1)
    try:
        yield
    finally:
        with _LOCK:
            depth = _OWNERS[key][1] - 1
            if depth:
                _OWNERS[key] = (me, depth)
            else:
                del _OWNERS[key]

