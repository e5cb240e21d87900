"""Length-prefixed frames between the driver and the resident tasks of a barrier fit.

A frame is a 9-byte header, one byte of kind and the payload length as a little-endian
unsigned 64-bit integer, followed by the payload. Float64 arrays travel as their raw bytes,
so a gradient of 100,001 entries is one 800 KB frame.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["HELLO", "SPEC", "EVALUATE", "EVALUATE_HESSIAN", "PARTIAL", "STOP", "read_frame",
           "send_frame"]

HEADER = struct.Struct("<BQ")

# Task to driver: the first frame of a connection, and each partial result.
HELLO = 1
PARTIAL = 2
# Driver to task: the problem, an evaluation request (w as float64 bytes) and the end.
SPEC = 3
EVALUATE = 4
EVALUATE_HESSIAN = 5
STOP = 6


def send_frame(sock, kind, payload=b""):
    """Send one frame. ``payload`` is bytes or a contiguous NumPy array."""
    view = memoryview(payload).cast("B")
    sock.sendall(HEADER.pack(kind, view.nbytes))
    if view.nbytes:
        sock.sendall(view)


def _read_exactly(sock, size):
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        got = sock.recv_into(view[filled:], size - filled)
        if got == 0:
            raise ConnectionError(f"connection closed after {filled} of {size} bytes")
        filled += got
    return buffer


def read_frame(sock, max_size=None):
    """Return ``(kind, payload)`` of the next frame, the payload as a bytearray.

    Raises ValueError for a payload over ``max_size`` bytes before reading it.
    """
    kind, size = HEADER.unpack(bytes(_read_exactly(sock, HEADER.size)))
    if max_size is not None and size > max_size:
        raise ValueError(f"frame of {size} bytes, over the limit of {max_size}")
    return kind, _read_exactly(sock, size) if size else bytearray()


def as_floats(payload):
    """Return a frame's payload as a float64 array that shares its memory."""
    return np.frombuffer(payload, dtype=np.float64)
