"""The control-message topics of the drawing, capture, system, process, URL and favourites tools.

Every request and answer is a ``ControlMessage`` whose data is one JSON object (UTF-8, at most
``MAX_CONTROL_DATA_SIZE`` bytes: the protocol's own bound). Requests carry an ``id`` (an integer the
viewer picks) that the answer repeats. The payloads are listed in ``tools/TOOLS.md``. Parsing is strict:
anything that is not the documented shape raises :class:`ToolRequestError`, which the host answers with
``tool.refused``; it never reaches the tool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opensupport.protocol import ControlMessage
from opensupport.protocol._events import MAX_CONTROL_DATA_SIZE

__all__ = [
    "MAX_JSON_SIZE",
    "RECORDING_KEYFRAME_REASON",
    "TOOL_TOPICS",
    "TOPIC_ALLOWED",
    "TOPIC_CAPTURE",
    "TOPIC_CAPTURE_RESULT",
    "TOPIC_FAVOURITE_OPEN",
    "TOPIC_FAVOURITE_RESULT",
    "TOPIC_PROCESS_END",
    "TOPIC_PROCESS_END_RESULT",
    "TOPIC_PROCESS_LIST",
    "TOPIC_PROCESS_LIST_RESULT",
    "TOPIC_REFUSED",
    "TOPIC_SYSINFO",
    "TOPIC_SYSINFO_RESULT",
    "TOPIC_URL_OPEN",
    "TOPIC_URL_RESULT",
    "ToolError",
    "ToolRequestError",
    "control",
    "field",
    "parse",
]

#: Largest JSON payload of a tool message (the protocol's bound on control data).
MAX_JSON_SIZE = MAX_CONTROL_DATA_SIZE

#: host -> viewer: the tools this agent may use here; ``{"allowed": [option keys]}`` (the viewer hides
#: the others). Sent after every handshake and resume.
TOPIC_ALLOWED = "tool.allowed"
#: host -> viewer: a request was refused; ``{"id": n | null, "request": topic, "tool": key | null,
#: "reason": text}``.
TOPIC_REFUSED = "tool.refused"
#: viewer -> host: ``{"id": n}``; answer ``sysinfo.result`` ``{"id": n, "info": {...}}``.
TOPIC_SYSINFO = "sysinfo.request"
TOPIC_SYSINFO_RESULT = "sysinfo.result"
#: viewer -> host: ``{"id", "sort": "cpu"|"memory"|"pid"|"name"|"user", "descending", "offset", "limit"}``;
#: answer ``process.list.result`` ``{"id", "total", "offset", "processes": [...]}``.
TOPIC_PROCESS_LIST = "process.list"
TOPIC_PROCESS_LIST_RESULT = "process.list.result"
#: viewer -> host (after the agent confirmed): ``{"id", "pid", "create_time"}``; answer
#: ``process.end.result`` ``{"id", "pid", "ended": bool, "error": text | null}``.
TOPIC_PROCESS_END = "process.end"
TOPIC_PROCESS_END_RESULT = "process.end.result"
#: viewer -> host: ``{"id", "url"}``; answer ``url.result`` ``{"id", "url", "opened": bool, "error"}``.
TOPIC_URL_OPEN = "url.open"
TOPIC_URL_RESULT = "url.result"
#: viewer -> host: ``{"id", "favourite": favourite id}``; answer ``favourite.result`` ``{"id", "favourite",
#: "opened": bool, "error"}``. The host opens only what its own copy of the list (from the server) says.
TOPIC_FAVOURITE_OPEN = "favourite.open"
TOPIC_FAVOURITE_RESULT = "favourite.result"
#: viewer -> host: ``{"id", "kind": "screenshot"|"recording", "active": bool}``: the agent takes a
#: screenshot, or starts/stops recording; answer ``capture.result`` ``{"id", "kind", "active"}`` (the host
#: tells the customer) or ``tool.refused``.
TOPIC_CAPTURE = "capture.request"
TOPIC_CAPTURE_RESULT = "capture.result"

#: The reason of the recorder's periodic ``KeyframeRequest``: the host honours it only while recording is
#: allowed.
RECORDING_KEYFRAME_REASON = "recording"

#: Every request topic the host's tools answer.
TOOL_TOPICS = frozenset(
    {
        TOPIC_SYSINFO,
        TOPIC_PROCESS_LIST,
        TOPIC_PROCESS_END,
        TOPIC_URL_OPEN,
        TOPIC_FAVOURITE_OPEN,
        TOPIC_CAPTURE,
    }
)


class ToolError(Exception):
    """A tool could not do what was asked (the message says why, in words for the agent)."""


class ToolRequestError(ToolError):
    """A tool message is malformed: not JSON, not an object, a field missing or of the wrong type."""


def control(topic: str, payload: Mapping[str, Any]) -> ControlMessage:
    """The control message carrying ``payload`` as compact JSON.

    Raises ToolError if the JSON exceeds :data:`MAX_JSON_SIZE` (callers trim their lists first).
    """
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(data) > MAX_JSON_SIZE:
        raise ToolError(f"{topic} payload is {len(data)} bytes, more than {MAX_JSON_SIZE}")
    return ControlMessage(topic, data)


def encoded_size(payload: Mapping[str, Any]) -> int:
    """How many bytes ``payload`` takes as the JSON :func:`control` would send."""
    return len(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    )


def parse(data: bytes) -> dict[str, Any]:
    """The JSON object in a tool message. Raises ToolRequestError for anything else."""
    if len(data) > MAX_JSON_SIZE:
        raise ToolRequestError("tool message too large")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ToolRequestError(f"tool message is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ToolRequestError("tool message is not a JSON object")
    return value


def field(payload: Mapping[str, Any], name: str, kind: type, default: Any = ..., *, limit: int = 0) -> Any:
    """One field of a request, checked: ``kind`` is int, str, bool or float; ints are non-negative and
    below 2**53, strings at most ``limit`` characters when ``limit`` is set. Raises ToolRequestError."""
    if name not in payload:
        if default is ...:
            raise ToolRequestError(f"field {name!r} is missing")
        return default
    value = payload[name]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind) and (kind is not int or not isinstance(value, bool))
    if not ok:
        raise ToolRequestError(f"field {name!r} must be {kind.__name__}")
    if kind is str and limit and len(value) > limit:
        raise ToolRequestError(f"field {name!r} is longer than {limit}")
    return value
