"""The protocol's one error hierarchy.

Every problem the protocol detects is a :class:`ProtocolError`. Errors caused by the peer (or by whoever
sits between the peers) are :class:`RemoteProtocolError` subclasses and end the session; errors caused by
the local application using the API wrongly are :class:`LocalProtocolError` and leave the session as it was.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error raised by ``opensupport.protocol``."""


class LocalProtocolError(ProtocolError):
    """The local application broke a rule (sent in the wrong state, exceeded a window or a size).

    The session is unchanged: the application can correct itself and go on.
    """


class RemoteProtocolError(ProtocolError):
    """The peer, or something between the peers, broke the protocol. The session is over."""


class FramingError(RemoteProtocolError):
    """A record or a length prefix is malformed or larger than its bound."""


class TruncationError(FramingError):
    """The byte stream or the session ended in the middle of a record or without an authenticated close."""


class MessageError(RemoteProtocolError):
    """A decrypted message does not parse or breaks a field bound."""


class FlowControlError(RemoteProtocolError):
    """The peer sent more than its window or credit allows."""


class HandshakeError(RemoteProtocolError):
    """The handshake could not complete (malformed message, wrong routing id, transport lost)."""


class VersionMismatch(HandshakeError):
    """The two ends share no protocol version."""


class AuthenticationFailed(HandshakeError):
    """Key confirmation failed: the session code is wrong, or someone in the middle changed the handshake.

    On the side that detects it, this counts as one failed guess of the session code.
    """


class WrongCode(AuthenticationFailed):
    """The peer's key confirmation did not match: almost always a mistyped session code."""


class CodeDead(AuthenticationFailed):
    """The session code has failed :data:`MAX_CODE_FAILURES` times and is refused from now on."""


class ResumeRejected(HandshakeError):
    """The resume handshake failed: the peer could not prove it holds the session's resume secret."""


class IntegrityError(RemoteProtocolError):
    """A sealed record failed authentication: it was altered, replayed, reordered, or cut short."""


class ReplayError(IntegrityError):
    """A sealed record that was already received arrived again."""


class ReorderError(IntegrityError):
    """A sealed record arrived before one that was sealed earlier (a record was dropped or reordered)."""
