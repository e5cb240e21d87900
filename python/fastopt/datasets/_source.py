"""Opening SVMlight sources and feeding their bytes, block by block, to the C++ parser."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import queue
import threading
import zlib

from fastopt import _core

# Magic bytes at the start of a compressed stream; the header decides, not the file name.
_GZIP = b"\x1f\x8b"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"

# Blocks of decompressed text handed to the parser: at least 1 MiB per thread, and for a plain
# file of known size, up to 1/BLOCKS_PER_FILE of it. Each block is one parallel region with
# three synchronizations, which cost the most on a busy machine. On a loaded 2-core machine, a
# 50 MB file loaded 1.5x slower in blocks of 256 KiB per thread than of 1 MiB, and 1.4x faster
# in blocks of 4 MiB per thread. The parser stages nothing per thread, so the block is the only
# memory beyond the returned arrays (which are 0.9x to 2.5x the text for news20 and a9a).
PER_THREAD_BLOCK = 1 << 20
BLOCKS_PER_FILE = 32
MAX_BLOCK = 16 << 20
# Plain files below SERIAL_BELOW bytes are parsed on one thread, in blocks of SERIAL_BLOCK bytes,
# small enough to stay in a typical L2 cache between the parser's counting and parsing passes.
# Such a file parses in tens of milliseconds, and on a busy machine a second thread slowed it.
SERIAL_BELOW = 4 << 20
SERIAL_BLOCK = 256 << 10

DECOMPRESS_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


def describe(f) -> str:
    """Return the name used for ``f`` in messages: its path, or a placeholder."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return os.fsdecode(f)
    if isinstance(f, int):
        return f"<file descriptor {f}>"
    return "<file object>"


def _wrap(magic: bytes, fileobj):
    if magic.startswith(_GZIP):
        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if magic.startswith(_BZIP2):
        return bz2.BZ2File(fileobj, "rb")
    if magic.startswith(_XZ):
        return lzma.LZMAFile(fileobj, "rb")
    return None


class Source:
    """A readable binary stream of the decompressed text of a path, descriptor or file object.

    Paths and descriptors are closed by :meth:`close`; a caller's file object is not.
    ``prefix`` contains the bytes already read from a stream that cannot seek back.
    """

    def __init__(self, f):
        self.name = describe(f)
        self.prefix = b""
        self.size = None
        self._owned = []
        self._reader = None
        if isinstance(f, bool):
            raise TypeError(f"f: expected a path, a file descriptor or a binary file object, got {f!r}")
        if isinstance(f, (str, bytes, os.PathLike)):
            raw = open(f, "rb")
            self._owned.append(raw)
            self.size = os.fstat(raw.fileno()).st_size
        elif isinstance(f, int):
            raw = open(f, "rb", closefd=False)
            self._owned.append(raw)
        elif hasattr(f, "read"):
            raw = f
        else:
            raise TypeError(
                f"f: expected a path, a file descriptor or a binary file object, got {type(f).__name__}"
            )
        self.stream = raw
        magic = self._peek(raw)
        if not isinstance(magic, bytes):
            raise TypeError(f"f: expected a file opened in binary mode, got {self.name} that reads {type(magic).__name__}")
        wrapped = _wrap(magic, raw)
        if wrapped is not None:
            if self.prefix:
                raise ValueError(
                    f"{self.name}: a compressed stream must be seekable; decompress it first"
                )
            self.size = None
            self.stream = wrapped
            self._owned.insert(0, wrapped)

    def _peek(self, raw):
        try:
            start = raw.tell()
            magic = raw.read(6)
            raw.seek(start)
            return magic
        except (OSError, AttributeError, io.UnsupportedOperation):
            # The stream cannot seek back: keep what was read and feed it first.
            magic = raw.read(6)
            self.prefix = magic if isinstance(magic, bytes) else b""
            return magic

    @property
    def compressed(self) -> bool:
        return isinstance(self.stream, (gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile))

    def plan(self) -> tuple[int, int]:
        """Return ``(threads, block_size)``: the parser's threads and the bytes per block.

        Compressed text is decompressed on a thread of its own (see :meth:`blocks`), which
        takes one of fastopt's threads from the parser.
        """
        threads = _core.get_num_threads()
        if self.compressed:
            threads = max(1, threads - 1)
        elif self.size is not None and self.size < SERIAL_BELOW:
            threads = 1
        if threads == 1:
            return 1, SERIAL_BLOCK
        block = PER_THREAD_BLOCK * threads
        if self.size is not None and not self.compressed:
            block = max(block, self.size // BLOCKS_PER_FILE)
        return threads, min(MAX_BLOCK, block)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.stop()  # before closing the stream it reads
            self._reader = None
        for stream in self._owned:
            stream.close()
        self._owned = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def blocks(self, size: int):
        """Yield memoryviews of successive blocks; each is valid until the next one.

        Compressed text is decompressed by a background thread into a second buffer while
        the caller parses the current block: Python's bz2, gzip (zlib) and lzma
        decompressors release the GIL while they work, and so does the parser.
        """
        if self.prefix:
            yield memoryview(self.prefix)
        if self.compressed:
            self._reader = _BackgroundReader(self, size)
            yield from self._reader.blocks()
            return
        buffer = bytearray(size)
        view = memoryview(buffer)
        while True:
            n = self._read_into(view)
            if not n:
                return
            yield view[:n]

    def _read_into(self, view: memoryview) -> int:
        """Fill ``view`` from the stream; return the bytes read, 0 at the end."""
        try:
            readinto = getattr(self.stream, "readinto", None)
            if readinto is not None:
                return readinto(view)
            data = self.stream.read(len(view))
        except DECOMPRESS_ERRORS as exc:
            if self.compressed:
                raise ValueError(f"{self.name}: failed to decompress: {exc}") from None
            raise
        view[: len(data)] = data
        return len(data)

    def skip_to(self, offset: int) -> None:
        """Move to byte ``offset`` of the decompressed text, by seeking or reading."""
        self.prefix = b""
        try:
            self.stream.seek(offset)
            return
        except (OSError, AttributeError, io.UnsupportedOperation):
            pass
        remaining = offset
        while remaining > 0:
            data = self.stream.read(min(remaining, MAX_BLOCK))
            if not data:
                return
            remaining -= len(data)


class _BackgroundReader:
    """Reads a source into two alternating buffers on a daemon thread, one block ahead.

    The consumer parses one buffer while the thread fills the other. :meth:`stop` ends the
    thread and waits for it, so that the source can be closed afterwards.
    """

    def __init__(self, source: Source, size: int):
        self._source = source
        self._empty = queue.SimpleQueue()  # buffers to fill, or None to stop
        self._full = queue.SimpleQueue()  # (buffer, bytes) or an exception, in file order
        self._stopping = threading.Event()
        for _ in range(2):
            self._empty.put(bytearray(size))
        self._thread = threading.Thread(target=self._run, name="fastopt-svmlight-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            buffer = self._empty.get()
            if buffer is None or self._stopping.is_set():
                return
            try:
                n = self._source._read_into(memoryview(buffer))
            except BaseException as exc:  # handed to the consumer, which raises it
                self._full.put(exc)
                return
            self._full.put((buffer, n))
            if not n:
                return

    def blocks(self):
        while True:
            item = self._full.get()
            if isinstance(item, BaseException):
                raise item
            buffer, n = item
            if not n:
                return
            yield memoryview(buffer)[:n]
            self._empty.put(buffer)

    def stop(self) -> None:
        self._stopping.set()
        self._empty.put(None)
        self._thread.join()


def feed_all(parser, source: Source, offset: int = 0, length: int = -1) -> None:
    """Feed the text of ``source`` to ``parser``, honoring scikit-learn's offset and length.

    With ``offset > 0`` the text up to and including the first newline at or after
    ``offset`` is skipped, and with ``length > 0`` no line that starts after
    ``offset + length`` is read, so that consecutive ranges split a file into disjoint
    sets of lines.
    """
    _, size = source.plan()
    if offset > 0:
        source.skip_to(offset)
    if length > 0:
        parser.set_stop(offset + length)
    position = offset
    skipping = offset > 0
    for block in source.blocks(size):
        if skipping:
            newline = _find_newline(block)
            if newline < 0:
                position += len(block)
                continue
            skipping = False
            position += newline + 1
            parser.set_position(position)
            block = block[newline + 1:]
        parser.feed(block)
        if parser.stopped:
            return
    if not skipping:
        parser.finish()


def _find_newline(block: memoryview) -> int:
    # Search in slices so that a long block is not copied whole to find an early newline.
    start = 0
    step = 1 << 16
    while start < len(block):
        found = bytes(block[start:start + step]).find(b"\n")
        if found >= 0:
            return start + found
        start += step
    return -1
