"""The results table of a search: one record (a dict) per candidate."""

from __future__ import annotations

import numpy as np


class ResultsTable(list):
    """A list of records, one dict per candidate in the order the strategy proposed them.

    Each record contains these fields:

    - ``params`` (the candidate's dict) and ``param_<name>`` for each of its parameters;
    - ``split<k>_test_score``, ``mean_test_score``, ``std_test_score`` and
      ``rank_test_score``, where 1 is best, ties share the lowest rank and NaN scores rank
      last;
    - ``mean_fit_time``, ``std_fit_time`` and ``mean_score_time``, in seconds;
    - ``mean_n_iter``, NaN for estimators without ``n_iter_``;
    - the train scores, with ``return_train_score``;
    - ``status``: "ok", "failed" (some split raised) or "pruned" (stopped by the strategy).

    Parameters
    ----------
    iterable : iterable of dict, optional
        The records.

    Examples
    --------
    >>> from fastopt.tune import ResultsTable
    >>> table = ResultsTable([{"param_alpha": 0.1, "mean_test_score": 0.8},
    ...                       {"param_alpha": 0.01, "mean_test_score": 0.9}])
    >>> table.column("mean_test_score")
    [0.8, 0.9]
    >>> table.columns()
    {'param_alpha': [0.1, 0.01], 'mean_test_score': [0.8, 0.9]}
    """

    def column(self, name):
        """Return one field of every record as a list; a missing field gives None.

        Parameters
        ----------
        name : str
            The field, such as "mean_test_score".

        Returns
        -------
        list
            One value per record.
        """
        return [record.get(name) for record in self]

    def columns(self):
        """Return the table as a dict of columns, like scikit-learn's ``cv_results_``.

        Returns
        -------
        dict
            Field name to a list with one value per record.
        """
        names = []
        for record in self:
            names.extend(name for name in record if name not in names)
        return {name: self.column(name) for name in names}

    def to_pandas(self):
        """Return the table as a pandas DataFrame (needs pandas).

        Returns
        -------
        pandas.DataFrame
            One row per record, one column per field.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ResultsTable.to_pandas needs pandas; install it with "
                              "pip install pandas") from None
        return pd.DataFrame(list(self))


def _rank(means):
    """Return ranks 1..n, higher scores first; equal scores share the lowest rank."""
    filled = np.where(np.isnan(means), -np.inf, means)
    order = np.argsort(-filled, kind="stable")
    ranks = np.empty(len(means), dtype=np.int64)
    for position, index in enumerate(order):
        if position and filled[index] == filled[order[position - 1]]:
            ranks[index] = ranks[order[position - 1]]
        else:
            ranks[index] = position + 1
    return ranks


def _nan_stat(function, row):
    # Splits that a pruned or failed candidate skipped are NaN; all NaN gives NaN, silently.
    return float(function(row)) if np.any(~np.isnan(row)) else float("nan")


def build_records(candidates, tables, states, n_splits, train_score):
    """Return the records of a search from its per-batch score tables."""
    def stack(name):
        return np.concatenate([table[name] for table in tables], axis=0)

    test = stack("test_score")
    fit_time, score_time, n_iter = stack("fit_time"), stack("score_time"), stack("n_iter")
    train = stack("train_score") if train_score else None
    means = np.array([np.nan if state == "pruned" else np.mean(row)
                      for row, state in zip(test, states)])
    ranks = _rank(means)
    records = []
    for i, candidate in enumerate(candidates):
        record = {"params": dict(candidate)}
        for name in sorted(candidate):
            record[f"param_{name}"] = candidate[name]
        for k in range(n_splits):
            record[f"split{k}_test_score"] = float(test[i, k])
        record["mean_test_score"] = float(means[i])
        record["std_test_score"] = float(np.std(test[i])) if states[i] != "pruned" \
            else float("nan")
        record["rank_test_score"] = int(ranks[i])
        if train is not None:
            for k in range(n_splits):
                record[f"split{k}_train_score"] = float(train[i, k])
            record["mean_train_score"] = float(np.mean(train[i]))
        record["mean_fit_time"] = _nan_stat(np.nanmean, fit_time[i])
        record["std_fit_time"] = _nan_stat(np.nanstd, fit_time[i])
        record["mean_score_time"] = _nan_stat(np.nanmean, score_time[i])
        record["mean_n_iter"] = _nan_stat(np.nanmean, n_iter[i])
        record["status"] = states[i]
        records.append(record)
    return records
