"""자동 재접속 / 수동 재부팅: the messages of the agent's "restart the customer's PC" request.

``reboot.request`` (viewer -> host): ``{"id": n, "code": "<routing id>-<8 digits>"}``. ``code`` is the
*comeback code*, a fresh session code the viewer made for this one restart. It travels only inside the
end-to-end encrypted session. The restarted host joins the relay with it, and the viewer, waiting under it,
checks it by the SPAKE2 handshake: five wrong tries kill it, like any code.

``reboot.result`` (host -> viewer): ``{"id": n, "mode": "auto" | "manual", "expires_in": seconds,
"error": text | null}``. ``auto``: the host ran the restart command (``error`` when the command failed;
the autostart entry is then removed and the session goes on). ``manual`` (수동 재부팅): the customer was
asked to restart the PC; the entry stays until the next start. When 자동 재접속 is off, or the host cannot
restart this platform, the answer is ``tool.refused`` (tool ``auto_reconnect``).
"""

from __future__ import annotations

__all__ = ["COMEBACK_TIMEOUT", "MODE_AUTO", "MODE_MANUAL", "TOPIC_REBOOT", "TOPIC_REBOOT_RESULT"]

TOPIC_REBOOT = "reboot.request"
TOPIC_REBOOT_RESULT = "reboot.result"
MODE_AUTO = "auto"
MODE_MANUAL = "manual"
#: Seconds the comeback code is good for: the host's stored credential expires then, and the viewer stops
#: waiting. The relay lets a side wait 900 s for its peer, which bounds a restart's duration anyway.
COMEBACK_TIMEOUT = 900.0
