"""The host's clipboard rules: which kind of clipboard content may cross, decided by the agent's options.

- Text, both ways: only while the agent may control the PC (상담원 제어 불가 off). Setting the customer's
  clipboard is input; a view-only agent gets neither the customer's clipboard nor a way to change it.
- Files (Ctrl+C/Ctrl+V 파일전송): only when ``clipboard_file_transfer`` is on; the agent may then fetch
  exactly the files the customer copied (``HostFileGate.announced``), and the customer may paste the
  agent's.
"""

from __future__ import annotations

from collections.abc import Callable

from opensupport.host.policy import Feature, HostPolicy
from opensupport.protocol import ClipboardData, Event
from opensupport.tools.clipboard import ClipboardSync
from opensupport.tools.messages import TOPIC_REFUSED, control

__all__ = ["HostClipboard", "clipboard_rules"]


def clipboard_rules(policy: HostPolicy) -> dict[str, Callable[[], bool]]:
    """Keyword arguments for :class:`ClipboardSync` on the host: ``allow_text`` and ``allow_files``."""
    return {
        "allow_text": lambda: policy.allows(Feature.CONTROL),
        "allow_files": lambda: policy.allows(Feature.CLIPBOARD_FILES),
    }


class HostClipboard:
    """Routes the viewer's clipboard messages to the sync and tells the viewer when one is refused."""

    def __init__(self, sync: ClipboardSync) -> None:
        self.sync = sync
        self.refusals = 0

    def handle(self, event: Event) -> list[Event] | None:
        """Apply a ``ClipboardData`` (or answer ``tool.refused``); None for other events."""
        if not isinstance(event, ClipboardData):
            return None
        if self.sync.receive(event):
            return []
        self.refusals += 1
        files = event.mime.startswith("text/uri-list")
        tool = Feature.CLIPBOARD_FILES.value if files else Feature.CONTROL.value
        reason = (
            "Ctrl+C/Ctrl+V file transfer is switched off" if files else "clipboard sharing is not allowed"
        )
        return [control(TOPIC_REFUSED, {"id": None, "request": "clipboard", "tool": tool, "reason": reason})]
