"""상담원 화면 전송 / 상담원 화면 제어: the agent's screen shown to the customer, without or with the customer's
control. The messages both ends agree on, GUI-free.

The reverse stream is a second pairing with the roles swapped, not a second direction of the support
session's screen channel: the agent's viewer runs a host-role session that captures the agent's monitor
(:mod:`opensupport.viewer.reverse`), the customer's applet a viewer-role session that shows it
(:mod:`opensupport.host.reverse`). Every piece of the screen path (capture, codec, flow control, input
replay, view-only enforcement) is the one already used the other way round.

The agent's viewer makes the second session's code and hands it to the customer's host inside the support
session (end-to-end encrypted, never through the relay or the server in the clear):

| topic | direction | payload |
|---|---|---|
| ``agent_screen.offer`` | V→H | ``{"id": n, "code": "R...-12345678", "control": bool}`` |
| ``agent_screen.accepted`` | H→V | ``{"id": n, "control": bool}``: the customer's applet joins as the viewer |
| ``tool.refused`` | H→V | ``{"id": n, "request": "agent_screen.offer", "tool": option key or null, "reason"}`` |
| ``agent_screen.stop`` | both | ``{"id": n, "reason": text}``: that side ended the reverse stream |

Codes of reverse streams have a routing id of their own shape (``R`` and 12 characters of the generated
alphabet, letters among them) while the server issues digits only: the customer's applet joins nothing but
a reverse stream, whatever a modified viewer puts in the offer.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from opensupport.protocol import ControlMessage, SessionCode
from opensupport.protocol._code import ROUTING_ALPHABET

from .messages import ToolRequestError, control, field, parse

__all__ = [
    "MAX_REASON",
    "REVERSE_ROUTING_PREFIX",
    "TOPIC_AGENT_SCREEN_ACCEPTED",
    "TOPIC_AGENT_SCREEN_OFFER",
    "TOPIC_AGENT_SCREEN_STOP",
    "AgentScreenOffer",
    "accepted_message",
    "new_reverse_code",
    "offer_message",
    "parse_accepted",
    "parse_offer",
    "parse_stop",
    "stop_message",
]

#: viewer -> host: the agent offers its screen (see the module docstring for the payloads).
TOPIC_AGENT_SCREEN_OFFER = "agent_screen.offer"
#: host -> viewer: the customer's applet joins the reverse stream.
TOPIC_AGENT_SCREEN_ACCEPTED = "agent_screen.accepted"
#: both ways: the reverse stream ends.
TOPIC_AGENT_SCREEN_STOP = "agent_screen.stop"

#: First character of every reverse stream's routing id (server-issued ids are digits only).
REVERSE_ROUTING_PREFIX = "R"
_REVERSE_ROUTING_LENGTH = 12
_REVERSE_ROUTING_ID = re.compile(
    rf"{REVERSE_ROUTING_PREFIX}[{re.escape(ROUTING_ALPHABET)}]{{{_REVERSE_ROUTING_LENGTH}}}"
)
#: Longest reason carried in a stop message (characters).
MAX_REASON = 200


@dataclass(frozen=True)
class AgentScreenOffer:
    """One offer of the agent's screen: its request id, the reverse session's code, and whether the agent
    lets the customer control its PC."""

    id: int
    code: SessionCode
    control: bool


def new_reverse_code() -> SessionCode:
    """A fresh code for a reverse stream (its routing id has the reverse shape)."""
    routing = "".join(secrets.choice(ROUTING_ALPHABET) for _ in range(_REVERSE_ROUTING_LENGTH))
    return SessionCode.generate(REVERSE_ROUTING_PREFIX + routing)


def offer_message(offer: AgentScreenOffer) -> ControlMessage:
    """The ``agent_screen.offer`` message of ``offer``."""
    return control(
        TOPIC_AGENT_SCREEN_OFFER, {"id": offer.id, "code": str(offer.code), "control": offer.control}
    )


def parse_offer(data: bytes) -> AgentScreenOffer:
    """The offer in an ``agent_screen.offer`` message. Raises ToolRequestError for anything malformed,
    and for a code whose routing id is not a reverse stream's."""
    payload = parse(data)
    request_id = field(payload, "id", int)
    text = field(payload, "code", str, limit=64)
    try:
        code = SessionCode.parse(text)
    except ValueError as exc:
        raise ToolRequestError(f"field 'code' is not a session code: {exc}") from None
    if not _REVERSE_ROUTING_ID.fullmatch(code.routing_id):
        raise ToolRequestError("field 'code' is not the code of an agent screen stream")
    return AgentScreenOffer(request_id, code, field(payload, "control", bool))


def accepted_message(request_id: int, control_allowed: bool) -> ControlMessage:
    """The host's ``agent_screen.accepted`` answer."""
    return control(TOPIC_AGENT_SCREEN_ACCEPTED, {"id": request_id, "control": control_allowed})


def parse_accepted(data: bytes) -> tuple[int, bool]:
    """Request id and control flag of an ``agent_screen.accepted`` message. Raises ToolRequestError."""
    payload = parse(data)
    return field(payload, "id", int), field(payload, "control", bool)


def stop_message(request_id: int, reason: str) -> ControlMessage:
    """An ``agent_screen.stop`` message."""
    return control(TOPIC_AGENT_SCREEN_STOP, {"id": request_id, "reason": _printable(reason)[:MAX_REASON]})


def parse_stop(data: bytes) -> tuple[int, str]:
    """Request id and reason of an ``agent_screen.stop`` message. Raises ToolRequestError."""
    payload: dict[str, Any] = parse(data)
    reason = field(payload, "reason", str, "", limit=MAX_REASON)
    return field(payload, "id", int), _printable(reason)


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())
