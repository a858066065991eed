"""Hand-made updates for the error-path tests and the fuzzers: any payload, wrapped in a header with a
correct CRC, so that the bytes get past the header checks and reach decompression and the kernel."""

from __future__ import annotations

import struct
import zlib

import zstandard
from opensupport.codec import _format


def payload(ops: bytes, data: bytes = b"") -> bytes:
    """An update payload: the ops section with its length, then the pixel data."""
    return struct.pack("<I", len(ops)) + ops + data


def op(kind: int, *fields: int) -> bytes:
    """One op header: its code and u16 fields."""
    return struct.pack(f"<B{len(fields)}H", kind, *fields)


def forge(
    raw: bytes,
    width: int,
    height: int,
    *,
    keyframe: bool = True,
    sequence: int = 1,
    compressor: zstandard.ZstdCompressionObj | None = None,
    declared: int | None = None,
    version: int = _format.VERSION,
) -> bytes:
    """Compress ``raw`` (a fresh zstd stream for a keyframe, or ``compressor``'s stream) into an update
    whose header declares ``declared`` (default: the true size) payload bytes."""
    cobj = compressor or zstandard.ZstdCompressor(level=1).compressobj()
    compressed = cobj.compress(raw) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) if raw else b""
    size = len(raw) if declared is None else declared
    return _format.build(_format.Header(keyframe, width, height, sequence, size, version), compressed)


def refix_crc(update: bytes) -> bytes:
    """Recompute the CRC of a (mutated) update so that it passes the CRC check."""
    head = update[: _format.HEADER_SIZE - 4]
    crc = zlib.crc32(update[_format.HEADER_SIZE :], zlib.crc32(head))
    return head + struct.pack("<I", crc) + update[_format.HEADER_SIZE :]
