"""``ControlMessage`` topics that host and viewer agree on, for what the protocol has no message of its own.

Each topic's payload is documented here; they are candidates for proper messages in PROTOCOL.md. Text
typed through an input method is *not* a topic: the viewer sends each character as a key press and release
(Unicode keysyms) on the input lane, so that it stays in order with the keys and pointer moves around it.
"""

from __future__ import annotations

__all__ = [
    "TOPIC_MONITOR_SELECT",
    "TOPIC_MONITOR_SELECTED",
    "TOPIC_PAUSED",
    "TOPIC_VIEW_ONLY",
]

#: viewer -> host: share another monitor; data = its index in the host's MonitorLayout, ASCII decimal.
TOPIC_MONITOR_SELECT = "monitor.select"
#: host -> viewer: the monitor being shared; data = its index, ASCII decimal (sent after every MonitorLayout).
TOPIC_MONITOR_SELECTED = "monitor.selected"
#: host -> viewer: the customer paused ("1") or resumed ("0") sharing.
TOPIC_PAUSED = "host.paused"
#: host -> viewer: the host drops all input ("1") or replays it ("0").
TOPIC_VIEW_ONLY = "host.view_only"
