"""Length-prefixed framing for byte-stream transports (raw TCP).

The relay contract: on a stream, every message is a 4-byte big-endian length followed by that many bytes.
One message is one protocol record, so a stream transport feeds ``StreamDeframer`` and hands each record
it returns to ``Session.receive_data``; it writes ``frame(record)`` for each record of ``data_to_send()``.
A stream that ends inside a message is a :class:`TruncationError`.
"""

from __future__ import annotations

import struct

from ._errors import FramingError, TruncationError
from ._session import MAX_RECORD_SIZE

#: Bytes of the length prefix.
LENGTH_PREFIX_SIZE = 4
#: Largest message the deframer accepts by default (a sealed record); the relay may pass its own bound.
MAX_FRAME_SIZE = MAX_RECORD_SIZE

_PREFIX = struct.Struct(">I")


def frame(record: bytes) -> bytes:
    """``record`` with its 4-byte big-endian length prefix. Raises FramingError if it is empty or too big."""
    if not record or len(record) > 0xFFFFFFFF:
        raise FramingError("a framed message must hold 1..2**32-1 bytes")
    return _PREFIX.pack(len(record)) + record


class StreamDeframer:
    """Cuts a byte stream into length-prefixed messages, never holding more than one message's bytes."""

    def __init__(self, max_size: int = MAX_FRAME_SIZE) -> None:
        if max_size < 1:
            raise ValueError("max_size must be positive")
        self.max_size = max_size
        self._buffer = bytearray()
        self._closed = False

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every message now complete, in order.

        Raises FramingError for an empty or oversized message (the stream cannot be trusted after that).
        """
        if self._closed:
            raise FramingError("data after the end of the stream")
        self._buffer += data
        messages: list[bytes] = []
        while len(self._buffer) >= LENGTH_PREFIX_SIZE:
            (length,) = _PREFIX.unpack_from(self._buffer)
            if not 1 <= length <= self.max_size:
                raise FramingError(f"framed message of {length} bytes is outside 1..{self.max_size}")
            end = LENGTH_PREFIX_SIZE + length
            if len(self._buffer) < end:
                break
            messages.append(bytes(self._buffer[LENGTH_PREFIX_SIZE:end]))
            del self._buffer[:end]
        return messages

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete message held."""
        return len(self._buffer)

    def eof(self) -> None:
        """The stream ended. Raises TruncationError if it ended inside a message."""
        self._closed = True
        if self._buffer:
            raise TruncationError(f"the stream ended inside a message ({len(self._buffer)} bytes pending)")
