"""Stream framing for the session: one record per length-prefixed message (raw TCP to the relay).

The relay contract frames every message on a byte stream as a 4-byte big-endian length and the body; the
parser is the relay's own (:class:`opensupport.protocol.rendezvous.FrameReader`), so there is one
implementation of the format. This module adapts it to the session: the bound is :data:`MAX_RECORD_SIZE`
and its errors are :class:`ProtocolError` subclasses. A stream that ends inside a message is a
:class:`TruncationError`.
"""

from __future__ import annotations

from ._errors import FramingError, TruncationError
from ._session import MAX_RECORD_SIZE
from .rendezvous import FrameReader, RendezvousError, encode_frame


def frame(record: bytes) -> bytes:
    """``record`` with its 4-byte big-endian length prefix. Raises FramingError if it exceeds the bound."""
    if not record or len(record) > MAX_RECORD_SIZE:
        raise FramingError(f"a record must hold 1..{MAX_RECORD_SIZE} bytes")
    return encode_frame(record)


class StreamDeframer:
    """Cuts a byte stream into records, never holding more than one record's bytes."""

    def __init__(self, max_size: int = MAX_RECORD_SIZE) -> None:
        self._reader = FrameReader(max_size)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every record now complete, in order.

        Raises FramingError for an oversized length (the stream cannot be trusted after that).
        """
        if not data:
            return []
        try:
            self._reader.receive_data(data)
            records = []
            while (record := self._reader.next_message()) is not None:
                records.append(record)
        except RendezvousError as exc:
            raise FramingError(str(exc)) from exc
        return records

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete record held."""
        return self._reader.buffered

    def eof(self) -> None:
        """The stream ended. Raises TruncationError if it ended inside a record."""
        self._reader.receive_data(b"")
        try:
            self._reader.next_message()
        except RendezvousError as exc:
            raise TruncationError(f"the stream ended inside a record: {exc}") from exc
