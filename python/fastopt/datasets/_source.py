"""Opening SVMlight sources and feeding their bytes, block by block, to the C++ parser."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zlib

from fastopt import _core

# Magic bytes at the start of a compressed stream; the header decides, not the file name.
_GZIP = b"\x1f\x8b"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"

# Blocks of decompressed text handed to the parser: 1 MiB per thread. Smaller blocks would make
# the block and the per-thread buffers (about 4 bytes per byte of text) a smaller part of the
# returned arrays. But each block is a parallel region: with 256 KiB blocks, a 50 MB file
# loaded 1.5x slower on a loaded 2-core machine.
PER_THREAD_BLOCK = 1 << 20
MAX_BLOCK = 16 << 20

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

    def block_size(self) -> int:
        """Return the block size for the current fastopt thread count."""
        return min(MAX_BLOCK, PER_THREAD_BLOCK * _core.get_num_threads())

    def close(self) -> None:
        for stream in self._owned:
            stream.close()
        self._owned = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def blocks(self, size: int):
        """Yield memoryviews of successive blocks; each is valid until the next one."""
        if self.prefix:
            yield memoryview(self.prefix)
        buffer = bytearray(size)
        view = memoryview(buffer)
        readinto = getattr(self.stream, "readinto", None)
        while True:
            try:
                if readinto is not None:
                    n = readinto(view)
                    block = view[:n] if n else None
                else:
                    data = self.stream.read(size)
                    block = memoryview(data) if data else None
            except DECOMPRESS_ERRORS as exc:
                if isinstance(self.stream, (gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile)):
                    raise ValueError(f"{self.name}: failed to decompress: {exc}") from None
                raise
            if block is None:
                return
            yield block

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


def feed_all(parser, source: Source, offset: int = 0, length: int = -1) -> None:
    """Feed the text of ``source`` to ``parser``, honoring scikit-learn's offset and length.

    With ``offset > 0`` the text up to and including the first newline at or after
    ``offset`` is skipped, and with ``length > 0`` no line that starts after
    ``offset + length`` is read, so that consecutive ranges split a file into disjoint
    sets of lines.
    """
    size = source.block_size()
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
