"""Warnings and errors that fastopt's estimators raise."""

import sys


class ConvergenceWarning(UserWarning):
    """A solver stopped at ``max_iter`` (or a line search failed) before meeting ``tol``.

    The fitted model contains the best iterate reached; the message gives the optimality
    violation reached, the tolerance and what to change.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from fastopt.exceptions import ConvergenceWarning
    >>> from fastopt.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = LogisticRegression(max_iter=1).fit(X, y)
    >>> caught[0].category is ConvergenceWarning
    True
    """


class DataConversionWarning(UserWarning):
    """Input was converted to another shape or type, such as a column-vector ``y`` raveled.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from fastopt.exceptions import DataConversionWarning
    >>> from fastopt.linear_model import LogisticRegression
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([[0], [0], [1], [1]])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = LogisticRegression().fit(X, y)
    >>> caught[0].category is DataConversionWarning
    True
    """


class NotFittedError(ValueError, AttributeError):
    """An estimator method that needs a fitted model was called before ``fit``.

    It derives from ValueError and AttributeError so that code written for scikit-learn's
    error of the same name catches it.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.exceptions import NotFittedError
    >>> from fastopt.linear_model import Ridge
    >>> try:
    ...     Ridge().predict(np.zeros((1, 2)))
    ... except NotFittedError as error:
    ...     print(error)
    This Ridge instance is not fitted yet; call fit with training data before using it
    """


_NOT_FITTED_WITH_SKLEARN = []


def not_fitted_error_class():
    """Return the NotFittedError class to raise.

    When scikit-learn is already imported, this is a subclass of both fastopt's and
    scikit-learn's NotFittedError, so code (and estimator checks) that catch scikit-learn's
    class catch fastopt's too. fastopt never imports scikit-learn itself.

    Returns
    -------
    type
        :class:`NotFittedError`, or its subclass that also derives from
        ``sklearn.exceptions.NotFittedError``.

    Examples
    --------
    >>> from fastopt.exceptions import NotFittedError, not_fitted_error_class
    >>> issubclass(not_fitted_error_class(), NotFittedError)
    True
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

    Examples
    --------
    Precision with no predicted positives is replaced by 0.0:

    >>> import warnings
    >>> from fastopt.exceptions import UndefinedMetricWarning
    >>> from fastopt.metrics import precision_score
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     score = precision_score([0, 1, 1], [0, 0, 0])
    >>> score, caught[0].category is UndefinedMetricWarning
    (0.0, True)
    """
