"""What the viewer shows of the agent's options: the host's ``session.options`` announcement, checked.

The host holds the agent's options (from the server) and knows its platform; it tells the viewer where the
file-transfer window opens (파일 전송 뷰어 모드) and which options switched on it cannot apply, and why
(드라이버 모드 on X11, for instance). The viewer lists those in its Options menu, so that none is silently
ignored. A malformed announcement is refused whole (a hostile host gets nothing shown).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["OPTION_LABELS", "SessionOptions", "parse_session_options"]

#: The manual's names of the options the host may list as not applicable here.
OPTION_LABELS: dict[str, str] = {
    "driver_mode": "드라이버 모드 사용",
    "remote_printer": "원격프린터",
    "safe_mode_reconnect": "안전모드 재부팅 후 자동 재접속",
    "mobile_support": "모바일 원격지원",
}

#: Bounds of one announcement (the host lists a handful of options with a sentence each).
MAX_NOT_APPLICABLE = 32
MAX_KEY = 64
MAX_REASON = 300


@dataclass(frozen=True)
class SessionOptions:
    """The host's announcement."""

    #: 파일 전송 뷰어 모드: the file-transfer window docks in the viewer (else it is a window of its own).
    file_transfer_docked: bool = False
    #: option key -> why this host cannot apply it (only options switched on are listed)
    not_applicable: dict[str, str] = field(default_factory=dict)

    def notices(self) -> list[str]:
        """One line per option that cannot apply: its name, then why."""
        return [f"{OPTION_LABELS.get(k, k)} — {why}" for k, why in sorted(self.not_applicable.items())]


def parse_session_options(data: bytes) -> SessionOptions:
    """Check the payload of ``session.options``. Raises ValueError saying what is wrong."""
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError("not a JSON object")
    docked = payload.get("file_transfer_viewer_mode", False)
    listed = payload.get("not_applicable", {})
    if not isinstance(docked, bool):
        raise ValueError("file_transfer_viewer_mode is not true or false")
    if not isinstance(listed, dict) or len(listed) > MAX_NOT_APPLICABLE:
        raise ValueError("not_applicable is not a small object")
    for key, why in listed.items():
        if not (isinstance(why, str) and 0 < len(key) <= MAX_KEY and len(why) <= MAX_REASON):
            raise ValueError(f"not_applicable entry {key[:MAX_KEY]!r} is malformed")
    return SessionOptions(docked, dict(listed))
