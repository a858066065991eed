"""``ControlMessage`` topics that host and viewer agree on, for what the protocol has no message of its own.

Each topic's payload is documented here; PROTOCOL.md §5 ("Application control topics") explains why these
stay topics: tiny, rare, reliable application state the session layer need not know. Text typed through an
input method and key combinations are *not* topics: they are the protocol's ``TextInput`` and ``KeyCombo``
messages on the input lane, so that they stay in order with the keys and pointer moves around them.
"""

from __future__ import annotations

import enum

__all__ = [
    "TOPIC_CONTROL_REQUEST",
    "TOPIC_CURSOR_TRACKING",
    "TOPIC_HOST_READY",
    "TOPIC_HOST_TOKEN",
    "TOPIC_INVITE",
    "TOPIC_INVITE_STATE",
    "TOPIC_MONITOR_SELECT",
    "TOPIC_MONITOR_SELECTED",
    "TOPIC_PAUSED",
    "TOPIC_QUALITY_MODE",
    "TOPIC_QUALITY_STATE",
    "TOPIC_SESSION_OPTIONS",
    "TOPIC_VIEW_ONLY",
    "QualityMode",
]

#: viewer -> host: share another monitor; data = its index in the host's MonitorLayout, ASCII decimal.
TOPIC_MONITOR_SELECT = "monitor.select"
#: host -> viewer: the monitor being shared; data = its index, ASCII decimal (sent after every MonitorLayout).
TOPIC_MONITOR_SELECTED = "monitor.selected"
#: host -> viewer: the customer paused ("1") or resumed ("0") sharing.
TOPIC_PAUSED = "host.paused"
#: host -> viewer: the host drops all input ("1") or replays it ("0").
TOPIC_VIEW_ONLY = "host.view_only"
#: viewer -> host, right after the handshake: the session's host token (ASCII) from the server, so that the
#: host can fetch its options and report (it travels only inside the end-to-end encrypted session).
TOPIC_HOST_TOKEN = "session.host_token"
#: host -> viewer: the customer accepted (or no consent was asked) and the screen is shared ("1"); the
#: viewer marks the session active on the server.
TOPIC_HOST_READY = "session.ready"
#: viewer -> host: the agent asks for control (the session started view-only, 접속시 자동제어모드 off).
TOPIC_CONTROL_REQUEST = "control.request"
#: both ways, 마우스 추적: viewer -> host, the agent switches tracking of the customer's pointer on ("1") or
#: off ("0"); host -> viewer, whether the host streams the pointer's moves (after every handshake, resume
#: and change). Off, the host sends the pointer's shape only.
TOPIC_CURSOR_TRACKING = "cursor.tracking"
#: host -> viewer, after every handshake and resume and when the options change: JSON
#: ``{"file_transfer_viewer_mode": bool, "not_applicable": {option key: why}}`` (the options switched on
#: that this host cannot apply; the viewer says so).
TOPIC_SESSION_OPTIONS = "session.options"

#: viewer -> host: the agent's bandwidth mode, a :class:`QualityMode` value (ASCII, e.g. ``auto``).
TOPIC_QUALITY_MODE = "quality.mode"
#: host -> viewer: the mode in force and what the host measures, JSON ``{"mode": "auto", "quality":
#: "balanced", "throughput": bytes per second or null, "rtt_ms": milliseconds or null}`` (quality: the
#: codec's ``Quality`` value); after every handshake and resume, on every change, and about once a second
#: while frames flow.
TOPIC_QUALITY_STATE = "quality.state"
#: viewer -> host: 상담원 초대; data = JSON ``{"id": invitation id, "code": "<routing id>-<secret>"}``. The
#: host takes view or control from the server's invitation, never from this message.
TOPIC_INVITE = "invite.open"
#: host -> viewer: where an invitation stands; data = JSON ``{"id": ..., "state": "refused" | "open" |
#: "joined" | "left" | "failed", "detail": text}``.
TOPIC_INVITE_STATE = "invite.state"


class QualityMode(enum.Enum):
    """The agent's bandwidth mode (topic ``quality.mode``): the host maps it to the codec's quality."""

    #: follow the measured throughput and round-trip time
    AUTO = "auto"
    #: lossless everywhere
    BEST = "best"
    BALANCED = "balanced"
    LOW = "low"
