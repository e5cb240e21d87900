"""Blocks that stay in long-lived barrier tasks for a whole fit, served to the driver's solver.

The default ``execution="auto"`` uses this path when every partition gets a task slot at once.
One barrier job (``DataFrame.mapInArrow(..., barrier=True)``) starts a task per partition.
Each task converts its Arrow batches into a :class:`~fastopt.spark._blocks.Block` once,
connects to a TCP socket that the driver opened for this fit, and sends its summary. The
driver checks the summaries as the cached path does, sends the problem, and runs the same
solver, whose every evaluation sends w to all tasks and sums their partial results in
partition order. So an evaluation costs one round trip on the open connections instead of one
Spark job, and no block is cached, pickled or read again.

Why not ``BarrierTaskContext.allGather``: each call waits on a JVM loop that polls once a
second (``BarrierTaskContext.runBarrier`` in Spark 4.3), which cost 0.4-1.0 s per call in
local mode, more than a kernel pass over 500,000 rows.

A task that fails makes Spark retry the whole barrier stage, because the stage feeds a
one-row shuffle (a failed barrier result stage is not retried). The new tasks connect again,
the driver drops the old connections and repeats the evaluation in progress. Each partial
depends only on the block and w, so the fit is the same as without the failure.
"""

from __future__ import annotations

import functools
import hmac
import logging
import pickle
import secrets
import select
import socket
import threading
import uuid

import numpy as np

from fastopt.spark._blocks import SummaryChecks, arrow_block
from fastopt.spark._objective import DistributedGLMObjective, block_hessian, block_weight, \
    local_objective
from fastopt.spark._wire import (
    EVALUATE,
    EVALUATE_HESSIAN,
    HELLO,
    PARTIAL,
    SPEC,
    STOP,
    as_floats,
    read_frame,
    send_frame,
)

__all__ = ["ResidentBlocks", "ResidentGLMObjective", "UnsupportedBarrierJob",
           "partial_sums", "serve_partition"]

# How often a driver blocked on a socket checks whether the barrier job has ended.
POLL_SECONDS = 0.5
# A task connects only after converting its partition and sends its first frame at once, so
# a connection that stays silent this long, or sends more, is not one of the fit's tasks.
HELLO_SECONDS = 30.0
HELLO_MAX_BYTES = 1 << 24

logger = logging.getLogger(__name__)


class UnsupportedBarrierJob(Exception):
    """Spark rejected the barrier job for the shape of the DataFrame's lineage."""


def partial_sums(objective, weight, w, hessian):
    """Return ``[W_b, W_b f_b(w), W_b grad f_b(w)[, W_b hess f_b(w)]]`` as one float64 array.

    A block without positive weight (``objective`` None) returns zeros.
    """
    n = w.shape[0]
    out = np.zeros(2 + n + (n * n if hessian else 0))
    if objective is None:
        return out
    f, g = objective.value_grad(w)
    out[0] = weight
    out[1] = weight * f
    out[2:2 + n] = weight * g
    if hessian:
        out[2 + n:] = (weight * block_hessian(objective, w)).ravel()
    return out


def serve_partition(batches, *, address, secret, weighted, evaluate):
    """Convert this task's partition, then serve the driver's requests until it stops.

    Runs in every task of the barrier stage, with ``evaluate`` :func:`partial_sums`. The
    task ends on a STOP frame, and fails when the connection closes without one.
    """
    from pyspark import BarrierTaskContext

    context = BarrierTaskContext.get()
    index = context.partitionId()
    # The stage's task count, which adaptive query execution can make smaller than the
    # partition count the driver saw before the job.
    n_tasks = len(context.getTaskInfos())
    block, summary = arrow_block(index, batches, weighted)
    with socket.create_connection(address) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        fields = (index, n_tasks, context.taskAttemptId(), summary)
        hello = pickle.dumps(fields) + secret.encode()
        send_frame(sock, HELLO, hello)
        objective, weight = None, 0.0
        while True:
            try:
                kind, payload = read_frame(sock)
            except ConnectionError as exc:
                # A task that ended without STOP would register its map output, and Spark
                # would then retry the barrier stage without this partition.
                raise RuntimeError(f"fastopt.spark: the driver closed the connection of "
                                   f"partition {index} without a stop request") from exc
            if kind == STOP:
                break
            if kind == SPEC:
                objective = local_objective(block, pickle.loads(payload))
                weight = block_weight(block) if objective is not None else 0.0
            elif kind in (EVALUATE, EVALUATE_HESSIAN):
                partial = evaluate(objective, weight, as_floats(payload).copy(),
                                   kind == EVALUATE_HESSIAN)
                send_frame(sock, PARTIAL, partial)
    # mapInArrow needs an iterator of record batches, and the tasks return none.
    return
    yield


def _listen_address(context):
    """Return (bind host, advertised host) for the driver's socket, from the Spark conf."""
    conf = context.getConf()
    host = conf.get("spark.driver.host", "127.0.0.1")
    return conf.get("spark.driver.bindAddress", host), host


class ResidentBlocks(SummaryChecks):
    """The blocks of one fit, resident in the tasks of a running barrier job.

    Use it as a context manager: entering starts the job and waits until every task has
    connected and sent its summary, leaving stops the tasks and waits for the job to end.
    """

    def __init__(self, dataset, *, features_col, label_col, weight_col):
        columns = [features_col, label_col] + ([weight_col] if weight_col else [])
        self._selected = dataset.select(*columns)
        self._names = dict(features_col=features_col, label_col=label_col,
                           weight_col=weight_col)
        self._weighted = weight_col is not None
        self._context = dataset.sparkSession.sparkContext
        self._connections = {}
        self._n_tasks = None
        self._spec = None
        self._listener = None
        self._thread = None
        self._job_error = None
        self._job_done = threading.Event()
        self._tag = f"fastopt-resident-{uuid.uuid4().hex}"

    def __enter__(self):
        try:
            self._start()
            summaries = self._wait_for_tasks()
            super().__init__(summaries, weighted=self._weighted)
            self._check(**self._names)
        except BaseException:
            self._finish(cancel=True)
            raise
        return self

    def __exit__(self, kind, value, traceback):
        self._finish(cancel=kind is not None)
        return False

    def _start(self):
        from pyspark import InheritableThread

        bind, host = _listen_address(self._context)
        self._listener = socket.create_server((bind, 0))
        self._listener.settimeout(POLL_SECONDS)
        self._secret = secrets.token_hex(32)
        address = (host, self._listener.getsockname()[1])
        serve = functools.partial(serve_partition, address=address, secret=self._secret,
                                  weighted=self._weighted, evaluate=partial_sums)
        # The one-row shuffle makes the barrier stage a map stage, which Spark retries as a
        # whole when a task fails, where a failed barrier result stage ends the job.
        frame = self._selected.mapInArrow(serve, "done int", barrier=True).repartition(1)
        context, tag = self._context, self._tag

        def run():
            try:
                # A tag, unlike a job group, keeps the caller's job group, which this thread
                # inherits.
                context.addJobTag(tag)
                context.setInterruptOnCancel(True)
                frame.collect()
            except BaseException as exc:  # noqa: BLE001 - reported to the driver's thread
                self._job_error = exc
            finally:
                self._job_done.set()

        self._thread = InheritableThread(target=run, daemon=True)
        self._thread.start()

    def _raise_if_job_ended(self):
        if not self._job_done.is_set():
            return
        error = self._job_error
        if error is not None and "BarrierJobUnsupportedRDDChainException" in str(error):
            raise UnsupportedBarrierJob(str(error).splitlines()[0]) from error
        if error is not None:
            raise error
        raise RuntimeError("the barrier job of fastopt.spark ended while the driver still "
                           "expected its tasks; a task lost its connection to the driver")

    def _wait_for_tasks(self):
        """Accept one connection per partition and return the partitions' summaries.

        A newer task attempt of a partition replaces an older one's connection.
        """
        attempts, summaries, n_tasks = {}, {}, None
        while n_tasks is None or len(self._connections) < n_tasks:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                self._raise_if_job_ended()
                continue
            try:
                sock.settimeout(HELLO_SECONDS)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                kind, payload = read_frame(sock, max_size=HELLO_MAX_BYTES)
                index, n_tasks, attempt, summary = _parse_hello(kind, payload, self._secret)
                sock.settimeout(None)
            except (ConnectionError, OSError, ValueError) as exc:
                logger.warning("fastopt.spark: dropped a connection to the fit's socket "
                               "before its first frame: %s", exc)
                sock.close()
                continue
            if index in attempts and attempts[index] > attempt:
                sock.close()
                continue
            if self._n_tasks is not None and n_tasks != self._n_tasks:
                sock.close()
                raise RuntimeError(f"fastopt.spark: a retried barrier stage ran {n_tasks} of "
                                   f"the fit's {self._n_tasks} tasks, so some partitions "
                                   "are missing; fit again or use execution 'driver'")
            old = self._connections.pop(index, None)
            if old is not None:
                old.close()
            attempts[index], summaries[index] = attempt, summary
            self._connections[index] = sock
        self._n_tasks = n_tasks
        return [summaries[i] for i in sorted(summaries)]

    def _read(self, sock):
        """Read one frame, checking between waits whether the job has ended."""
        while True:
            readable, _, _ = select.select([sock], [], [], POLL_SECONDS)
            if readable:
                return read_frame(sock)
            self._raise_if_job_ended()

    def send_spec(self, spec):
        """Send the problem ``(loss, n_classes, n_features, fit_intercept)`` to every task."""
        self._spec = pickle.dumps(spec)
        self._round(SPEC, self._spec, expect_reply=False)

    def evaluate(self, w, hessian):
        """Return the partition-order sums of the tasks' :func:`partial_sums` at w."""
        kind = EVALUATE_HESSIAN if hessian else EVALUATE
        parts = self._round(kind, np.ascontiguousarray(w, dtype=np.float64), expect_reply=True)
        total = parts[0].copy()
        for part in parts[1:]:
            total += part
        return total

    def _round(self, kind, payload, *, expect_reply):
        while True:
            try:
                for index in sorted(self._connections):
                    send_frame(self._connections[index], kind, payload)
                if not expect_reply:
                    return None
                parts = []
                for index in sorted(self._connections):
                    reply, data = self._read(self._connections[index])
                    if reply != PARTIAL:
                        raise ConnectionError(f"expected a partial result, got frame {reply}")
                    parts.append(as_floats(data))
                return parts
            except (ConnectionError, OSError):
                self._reconnect()

    def _reconnect(self):
        """Wait for a retried barrier stage to connect, and send it the problem again."""
        for sock in self._connections.values():
            sock.close()
        self._connections = {}
        self._raise_if_job_ended()
        self._wait_for_tasks()
        if self._spec is not None:
            self._round(SPEC, self._spec, expect_reply=False)

    def _finish(self, *, cancel):
        # On an error the job is cancelled before the tasks hear anything. Told to stop
        # first, they could finish the barrier stage, and Spark would start the next one.
        if cancel and self._thread is not None:
            self._context.cancelJobsWithTag(self._tag)
        for sock in self._connections.values():
            if not cancel:
                try:
                    send_frame(sock, STOP)
                except OSError:
                    pass
            sock.close()
        self._connections = {}
        if self._listener is not None:
            self._listener.close()
        if self._thread is not None:
            self._thread.join()


def _parse_hello(kind, payload, secret):
    """Return the fields of a task's first frame, after checking the fit's secret."""
    if kind != HELLO:
        raise ValueError(f"expected a hello frame, got frame {kind}")
    # The secret is compared on its own before the rest of the frame is unpickled.
    token = secret.encode()
    if len(payload) < len(token) or not hmac.compare_digest(bytes(payload[-len(token):]),
                                                            token):
        raise ValueError("a connection without the fit's secret")
    return pickle.loads(bytes(payload[:-len(token)]))


class ResidentGLMObjective(DistributedGLMObjective):
    """The data term over :class:`ResidentBlocks`: one round trip to the tasks per call.

    Creating it sends the problem to the tasks, which build each block's objective once.
    """

    def __init__(self, blocks, *, loss, n_classes, fit_intercept):
        super().__init__(blocks, loss=loss, n_classes=n_classes, fit_intercept=fit_intercept,
                         depth=1)
        blocks.send_spec(self.spec)

    def _evaluate(self, w, *, hessian):
        w = np.ascontiguousarray(w, dtype=np.float64)
        if w.shape != (self.n_params,):
            raise ValueError(f"w: expected shape ({self.n_params},), got {w.shape}")
        total = self.blocks.evaluate(w, hessian)
        n = self.n_params
        self.n_evaluations += 1
        weight, value, grad = float(total[0]), float(total[1]), total[2:2 + n]
        if hessian:
            return weight, value, grad, total[2 + n:].reshape(n, n)
        return weight, value, grad
