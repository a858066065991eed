"""Rendezvous with the relay: the JOIN message, the relay's status messages and the raw-TCP framing.

Theory of operation
-------------------
A host and a viewer each open one transport to the relay (a WebSocket at ``/relay``, or the optional raw
TCP listener where every message is a 4-byte big-endian length followed by the body). The first message a
client sends is a JOIN naming its role and the *routing id* (the public half of the session code). The relay
answers with status messages; once it has said "paired", every further message is one opaque protocol
record forwarded to the other side, byte for byte. The relay never sees the secret half of the code and
holds no key.

Wire formats (all integers big-endian)::

    JOIN    = b"OSJ1" | role (1: host, 2: viewer) | flags (bit0 resume, bit1 kill) | len (1) | routing id
    STATUS  = b"OSR1" | status (1)                                  -- exactly 5 bytes
    FRAME   = length (4) | body                                     -- raw TCP only

A status message is exactly :data:`STATUS_SIZE` bytes. A sealed protocol record is always longer (it
carries at least an AEAD tag), and the relay refuses to forward a peer message that looks like a status
message, so a client can tell the relay's word from its peer's without ambiguity, and a peer cannot forge
"peer left" or "paired".

Everything here is sans-IO and bounded: parsing any byte string either returns a frozen dataclass or raises
:class:`RendezvousError`.
"""

from __future__ import annotations

import enum
import re
import struct
from dataclasses import dataclass

__all__ = [
    "FRAME_HEADER_SIZE",
    "JOIN_MAGIC",
    "MAX_JOIN_SIZE",
    "MAX_MESSAGE_SIZE",
    "MAX_ROUTING_ID_LENGTH",
    "STATUS_MAGIC",
    "STATUS_SIZE",
    "FrameReader",
    "Join",
    "RelayStatus",
    "RendezvousError",
    "Role",
    "encode_frame",
    "encode_join",
    "encode_status",
    "is_status_message",
    "parse_join",
    "parse_status",
    "validate_routing_id",
]

JOIN_MAGIC = b"OSJ1"
STATUS_MAGIC = b"OSR1"
#: A status message is the magic and one status byte, nothing more.
STATUS_SIZE = len(STATUS_MAGIC) + 1
MAX_ROUTING_ID_LENGTH = 32
#: magic + role + flags + length byte + the longest routing id.
MAX_JOIN_SIZE = len(JOIN_MAGIC) + 3 + MAX_ROUTING_ID_LENGTH
#: The largest message (one protocol record) any relay transport carries. Relays may configure a smaller
#: bound; nothing larger is ever read into memory.
MAX_MESSAGE_SIZE = 4 * 1024 * 1024
FRAME_HEADER_SIZE = 4

_FLAG_RESUME = 0x01
_FLAG_KILL = 0x02
_KNOWN_FLAGS = _FLAG_RESUME | _FLAG_KILL
_ROUTING_ID = re.compile(rb"[A-Za-z0-9-]{1,32}")
_FRAME_HEADER = struct.Struct(">I")
_COMPACT_AT = 64 * 1024


class RendezvousError(ValueError):
    """A rendezvous message or frame is malformed or exceeds a bound."""


class Role(enum.IntEnum):
    """Which end of a support session a client is."""

    #: the customer's machine, whose screen is shared
    HOST = 1
    #: the agent's viewer
    VIEWER = 2


class RelayStatus(enum.IntEnum):
    """What the relay tells a client."""

    #: the JOIN was accepted; the other side has not arrived (yet, or again)
    WAITING = 0
    #: both sides are present; from now on messages are forwarded
    PAIRED = 1
    #: the JOIN was malformed (the connection is closed)
    BAD_JOIN = 2
    #: the routing id is dead: its code was retired with the kill flag (the connection is closed)
    UNKNOWN_ROUTING_ID = 3
    #: too many joins from this address; try later (the connection is closed)
    RATE_LIMITED = 4
    #: a limit was reached: sessions, routing ids per address, or the role is taken (the connection is closed)
    BUSY = 5
    #: the other side's connection dropped; the routing id stays alive for the grace period
    PEER_LEFT = 6


@dataclass(frozen=True)
class Join:
    """A client's first message: who it is and which session it wants."""

    role: Role
    routing_id: str
    #: the client was in this session before and wants to meet its peer again
    resume: bool = False
    #: the viewer retires this routing id (its code is dead after too many failed handshakes)
    kill: bool = False

    def __post_init__(self) -> None:
        validate_routing_id(self.routing_id)
        if not isinstance(self.role, Role):
            raise RendezvousError(f"role must be a Role, not {self.role!r}")
        if self.kill and self.role is not Role.VIEWER:
            raise RendezvousError("only the viewer may retire a routing id")


def validate_routing_id(routing_id: str) -> None:
    """Check that a routing id is 1..32 ASCII letters, digits or '-'.

    Raises :class:`RendezvousError` otherwise.
    """
    if not isinstance(routing_id, str):
        raise RendezvousError("routing id must be a string")
    try:
        raw = routing_id.encode("ascii")
    except UnicodeEncodeError:
        raise RendezvousError("routing id must be ASCII") from None
    if _ROUTING_ID.fullmatch(raw) is None:
        raise RendezvousError("routing id must be 1..32 letters, digits or '-'")


def encode_join(join: Join) -> bytes:
    """The JOIN message for ``join`` (already validated by :class:`Join`)."""
    flags = (_FLAG_RESUME if join.resume else 0) | (_FLAG_KILL if join.kill else 0)
    rid = join.routing_id.encode("ascii")
    return JOIN_MAGIC + bytes((int(join.role), flags, len(rid))) + rid


def parse_join(message: bytes) -> Join:
    """Parse a client's first message.

    Raises :class:`RendezvousError` if it is not exactly one well-formed JOIN: wrong magic, unknown role or
    flag bits, a kill from a host, a length that disagrees with the message, or a bad routing id.
    """
    if len(message) > MAX_JOIN_SIZE:
        raise RendezvousError(f"JOIN of {len(message)} bytes exceeds {MAX_JOIN_SIZE}")
    if len(message) < len(JOIN_MAGIC) + 4 or message[:4] != JOIN_MAGIC:
        raise RendezvousError("not a JOIN message")
    role_byte, flags, length = message[4], message[5], message[6]
    if role_byte not in (Role.HOST, Role.VIEWER):
        raise RendezvousError(f"unknown role {role_byte}")
    if flags & ~_KNOWN_FLAGS:
        raise RendezvousError(f"unknown JOIN flags 0x{flags:02x}")
    rid = bytes(message[7:])
    if length != len(rid):
        raise RendezvousError(f"routing id length {length} disagrees with the {len(rid)} bytes present")
    if _ROUTING_ID.fullmatch(rid) is None:
        raise RendezvousError("routing id must be 1..32 letters, digits or '-'")
    return Join(
        role=Role(role_byte),
        routing_id=rid.decode("ascii"),
        resume=bool(flags & _FLAG_RESUME),
        kill=bool(flags & _FLAG_KILL),
    )


def encode_status(status: RelayStatus) -> bytes:
    """The 5-byte status message for ``status``."""
    return STATUS_MAGIC + bytes((int(RelayStatus(status)),))


def is_status_message(message: bytes) -> bool:
    """True if ``message`` has the shape of a relay status message (it may still carry an unknown code)."""
    return len(message) == STATUS_SIZE and message[:4] == STATUS_MAGIC


def parse_status(message: bytes) -> RelayStatus:
    """Parse a relay status message.

    Raises :class:`RendezvousError` if it is not exactly 5 bytes with the magic and a known status code.
    """
    if not is_status_message(message):
        raise RendezvousError("not a relay status message")
    try:
        return RelayStatus(message[4])
    except ValueError:
        raise RendezvousError(f"unknown relay status {message[4]}") from None


def encode_frame(body: bytes) -> bytes:
    """One raw-TCP frame: the 4-byte big-endian length, then ``body``.

    Raises :class:`RendezvousError` if ``body`` exceeds :data:`MAX_MESSAGE_SIZE`.
    """
    if len(body) > MAX_MESSAGE_SIZE:
        raise RendezvousError(f"message of {len(body)} bytes exceeds {MAX_MESSAGE_SIZE}")
    return _FRAME_HEADER.pack(len(body)) + body


class FrameReader:
    """Splits a raw-TCP byte stream into messages (sans-IO, in the style of h11).

    Feed bytes with :meth:`receive_data`, take whole messages with :meth:`next_message`. The length is
    checked against ``max_message_size`` before any body byte is buffered, so a hostile length never costs
    memory.
    """

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        if not 0 < max_message_size <= MAX_MESSAGE_SIZE:
            raise ValueError(f"max_message_size must be in 1..{MAX_MESSAGE_SIZE}")
        self._max = max_message_size
        self._buffer = bytearray()
        self._start = 0
        self._eof = False

    def receive_data(self, data: bytes) -> None:
        """Append bytes from the stream; ``b""`` means the stream ended.

        Raises :class:`RendezvousError` if data arrives after the end of the stream.
        """
        if self._eof and data:
            raise RendezvousError("data after end of stream")
        if not data:
            self._eof = True
            return
        self._buffer += data

    def next_message(self) -> bytes | None:
        """The next whole message, or None if more bytes are needed.

        Raises :class:`RendezvousError` for a length above the bound, or if the stream ended in the middle
        of a frame.
        """
        buffer, start = self._buffer, self._start
        available = len(buffer) - start
        if available >= FRAME_HEADER_SIZE:
            (length,) = _FRAME_HEADER.unpack_from(buffer, start)
            if length > self._max:
                raise RendezvousError(f"frame of {length} bytes exceeds {self._max}")
            end = start + FRAME_HEADER_SIZE + length
            if len(buffer) >= end:
                with memoryview(buffer) as view:
                    message = view[start + FRAME_HEADER_SIZE : end].tobytes()
                # Consumed bytes are dropped in bulk, not per message, so that many small messages in one
                # read cost linear time.
                if end == len(buffer):
                    buffer.clear()
                    self._start = 0
                elif end >= _COMPACT_AT and 2 * end >= len(buffer):
                    del buffer[:end]
                    self._start = 0
                else:
                    self._start = end
                return message
        if self._eof and available:
            raise RendezvousError(f"stream ended inside a frame ({available} bytes pending)")
        return None

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet form a whole message."""
        return len(self._buffer) - self._start
