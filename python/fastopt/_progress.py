"""Progress lines on stderr for iterative fits: iteration or epoch, objective, elapsed time.

On a terminal the line is redrawn in place. Elsewhere (a log file, a pipe, a test) a full
line is written at most once per ``interval`` seconds, so a long fit neither floods a log
nor stays silent. The objective is computed only when a line is due, because on large data
one evaluation costs a pass over the samples.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Report the progress of one fit.

    Parameters
    ----------
    label : str
        What runs, shown at the start of each line (for example ``"lbfgs"``).
    unit : str
        ``"iteration"`` or ``"epoch"``.
    total : int or None
        The iteration limit, shown as ``12/1000``; None shows the count alone.
    stream : file object or None
        Where to write; default ``sys.stderr`` at the time of each write.
    interval : float or None
        Seconds between two lines (or redraws on a terminal); default 1, or 0.1 on a terminal.
    value_name : str
        Name of the value passed to :meth:`update`.
    """

    def __init__(self, label, unit="iteration", total=None, stream=None, interval=None,
                 value_name="objective"):
        self.label = label
        self.value_name = value_name
        self.unit = unit
        self.total = total
        self._stream = stream
        self._start = time.perf_counter()
        self._last = None
        self._tty = self._is_tty()
        if interval is None:
            interval = 0.1 if self._tty else 1.0
        self.interval = interval

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stderr

    def _is_tty(self):
        isatty = getattr(self.stream, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    def elapsed(self):
        return time.perf_counter() - self._start

    def due(self):
        """Return whether a line is due now, so the caller computes the objective only then."""
        return self._last is None or time.perf_counter() - self._last >= self.interval

    def update(self, count, objective=None, *, force=False, note=None):
        """Write the line for ``count`` iterations (or epochs) done, if one is due or forced."""
        if not (force or self.due()):
            return
        self._last = time.perf_counter()
        count_text = f"{count}/{self.total}" if self.total else f"{count}"
        parts = [f"{self.label}: {self.unit} {count_text}"]
        if objective is not None:
            parts.append(f"{self.value_name} {objective:.6g}")
        parts.append(f"{self.elapsed():.1f} s")
        if note:
            parts.append(note)
        line = "  ".join(parts)
        if self._tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, count, objective=None, note=None):
        """Write the final line, whatever the interval, and end it on a terminal."""
        self.update(count, objective, force=True, note=note)
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
