"""The asyncio link between a protocol session and the relay (``opensupport.link``).

``SessionLink`` connects one :class:`opensupport.protocol.Session` to the relay over WebSocket, sends the
rendezvous JOIN, pumps records both ways in priority order, resumes the session after a dropped transport
and retires a code that failed too many handshakes. Host and viewer both build on it.
"""

from ._driver import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    ENV_RESUME_TIMEOUT,
    PULL_RECORDS,
    RECONNECT_DELAY,
    RESUME_TIMEOUT,
    EventHandler,
    LinkError,
    LinkOutbox,
    LinkResult,
    LinkState,
    RelayRefused,
    SessionLink,
    configured_resume_timeout,
    relay_url,
)
from ._thread import LinkThread

__all__ = [
    "CLOSE_TIMEOUT",
    "CONNECT_TIMEOUT",
    "ENV_RESUME_TIMEOUT",
    "PULL_RECORDS",
    "RECONNECT_DELAY",
    "RESUME_TIMEOUT",
    "EventHandler",
    "LinkError",
    "LinkOutbox",
    "LinkResult",
    "LinkState",
    "LinkThread",
    "RelayRefused",
    "SessionLink",
    "configured_resume_timeout",
    "relay_url",
]
