"""Warnings and errors that fastopt's estimators raise."""

import sys


class ConvergenceWarning(UserWarning):
    """A solver stopped at ``max_iter`` (or a line search failed) before meeting ``tol``.

    The fitted model contains the best iterate reached; the message gives the optimality
    violation reached, the tolerance and what to change.
    """


class DataConversionWarning(UserWarning):
    """Input was converted to another shape or type, such as a column-vector ``y`` raveled."""


class NotFittedError(ValueError, AttributeError):
    """An estimator method that needs a fitted model was called before ``fit``.

    It derives from ValueError and AttributeError so that code written for scikit-learn's
    error of the same name catches it.
    """


_NOT_FITTED_WITH_SKLEARN = []


def not_fitted_error_class():
    """Return the NotFittedError class to raise.

    When scikit-learn is already imported, this is a subclass of both fastopt's and
    scikit-learn's NotFittedError, so code (and estimator checks) that catch scikit-learn's
    class catch fastopt's too. fastopt never imports scikit-learn itself.
    """
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return NotFittedError
    if not _NOT_FITTED_WITH_SKLEARN:
        base = sklearn_exceptions.NotFittedError
        _NOT_FITTED_WITH_SKLEARN.append(
            type("NotFittedError", (NotFittedError, base),
                 {"__module__": __name__, "__doc__": NotFittedError.__doc__}))
    return _NOT_FITTED_WITH_SKLEARN[0]


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for the input, such as precision with no predicted positives.

    The metric function returns the documented replacement value (``zero_division`` or
    NaN) and warns with this class, so the case can be filtered or turned into an error.
    """
