"""The update header (codec/FORMAT.md): its layout, limits and (de)serialisation.

Pure Python and no state: the encoder and decoder agree on the bytes through this module only.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ._errors import CodecError

MAGIC = b"OSCU"
#: The newest version: 2 added the content cache (FETCH and STORE ops), 3 the lossy VIDEO op. The encoder
#: writes each update with the lowest version that carries its ops: 3 only for an update with a VIDEO op,
#: so lossless streams stay readable by version 2 decoders. The decoder reads all three (recordings made
#: before keep playing); in a version 1 update the cache ops are unknown, before version 3 the VIDEO op.
VERSION = 3
LOSSLESS_VERSION = 2
READABLE_VERSIONS = (1, 2, 3)
FLAG_KEYFRAME = 0x01
_KNOWN_FLAGS = FLAG_KEYFRAME

# magic, version, flags, width, height, sequence number, payload length after decompression, CRC-32
_HEADER = struct.Struct("<4sBBHHIII")
HEADER_SIZE = _HEADER.size
_CRC_OFFSET = HEADER_SIZE - 4

#: Slack on top of 4 bytes a pixel for op headers of very small frames (see max_payload).
_PAYLOAD_SLACK = 65536


def max_payload(width: int, height: int) -> int:
    """The most bytes an update's payload may decompress to for a width x height frame. An encoder never
    needs more (3 bytes a pixel of pixel data plus at most 10 bytes of op per tile of 16+ pixels), so a
    larger declared size is a decompression bomb and is refused before anything is decompressed."""
    return 4 * width * height + _PAYLOAD_SLACK


@dataclass(frozen=True)
class Header:
    """The fixed-size header in front of every update."""

    keyframe: bool
    width: int
    height: int
    sequence: int
    payload_size: int
    version: int = VERSION


def build(header: Header, compressed: bytes) -> bytes:
    """Serialise ``header`` and the compressed payload into one update, CRC included."""
    flags = FLAG_KEYFRAME if header.keyframe else 0
    head = _HEADER.pack(
        MAGIC, header.version, flags, header.width, header.height, header.sequence, header.payload_size, 0
    )[:_CRC_OFFSET]
    crc = zlib.crc32(compressed, zlib.crc32(head))
    return head + struct.pack("<I", crc) + compressed


def parse(data: bytes) -> tuple[Header, memoryview]:
    """Check an update's header and CRC; return the header and the compressed payload.

    Raises CodecError on a short or foreign message, another format version, unknown flags, a frame size
    outside the format, a declared payload beyond ``max_payload`` or a CRC mismatch. Nothing is
    decompressed here, so a rejection at this stage leaves every decoder state untouched."""
    if len(data) < HEADER_SIZE:
        raise CodecError(f"update of {len(data)} bytes is shorter than the {HEADER_SIZE}-byte header")
    magic, version, flags, width, height, sequence, payload_size, crc = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CodecError("not a codec update (bad magic)")
    if version not in READABLE_VERSIONS:
        raise CodecError(
            f"update format version {version} is not supported (this decoder reads {READABLE_VERSIONS})"
        )
    if flags & ~_KNOWN_FLAGS:
        raise CodecError(f"unknown update flags {flags:#04x}")
    if width < 1 or height < 1:
        raise CodecError(f"frame size {width}x{height} is empty")
    if payload_size > max_payload(width, height):
        raise CodecError(f"declared payload of {payload_size} bytes is beyond a {width}x{height} frame")
    view = memoryview(data)
    compressed = view[HEADER_SIZE:]
    if zlib.crc32(compressed, zlib.crc32(view[:_CRC_OFFSET])) != crc:
        raise CodecError("update CRC mismatch (corrupted or truncated)")
    if (payload_size == 0) != (len(compressed) == 0):
        raise CodecError("payload size and payload disagree")
    header = Header(bool(flags & FLAG_KEYFRAME), width, height, sequence, payload_size, version)
    return header, compressed
