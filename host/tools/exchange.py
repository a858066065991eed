"""Chat, files and clipboard of one host session, in one object the session loop drives.

    exchange = HostExchange(session, policy, download_dir=Path.home() / "Downloads", consent_answer=None)
    for event in events:                      # on the session thread
        answers = exchange.handle(event)      # None: not ours
        for answer in answers or []: session.send(answer)
    exchange.pump()                           # after each round: file chunks while credit allows
    exchange.close()                          # at the end of the session

The options are enforced here (through :class:`HostFileGate`, :class:`HostChat`, :func:`clipboard_rules`);
the UI shows ``exchange.chat`` (a ChatView), ``exchange.files`` (HostFileWindow, which also asks for
consent) and gives the clipboard a backend (``tools.clipboard_qt.QtClipboard``) whose changes call
``exchange.clipboard.local_changed``.
"""

from __future__ import annotations

from pathlib import Path

from opensupport.host.policy import Feature, HostPolicy
from opensupport.host.tools.chat import HostChat
from opensupport.host.tools.clipboard import HostClipboard, clipboard_rules
from opensupport.host.tools.files import HostFileGate
from opensupport.protocol import ControlMessage, Event, Role, Session
from opensupport.tools.chat import Chat, Transcript
from opensupport.tools.clipboard import ClipboardBackend, ClipboardSync, MemoryClipboard
from opensupport.tools.files import FileTransfers
from opensupport.tools.files._listing import TOPIC_LIST, list_folder, parse_list_request
from opensupport.tools.messages import TOPIC_REFUSED, ToolRequestError, control

__all__ = ["HostExchange"]


class HostExchange:
    """The host's chat, file transfer and clipboard for one session (see the module docstring).

    ``consent_answer``: None asks the customer (the UI answers ``files.answer_consent``); True/False is
    the headless mode's configured answer. ``clipboard``: the system clipboard (default: one in memory,
    for the headless mode).
    """

    def __init__(
        self,
        session: Session,
        policy: HostPolicy,
        *,
        download_dir: Path,
        consent_answer: bool | None = None,
        clipboard: ClipboardBackend | None = None,
        transcript: Transcript | None = None,
        keep_partials: bool = True,
    ) -> None:
        self.policy = policy
        self.gate = HostFileGate(policy, consent_answer)
        self.files = FileTransfers(session, download_dir, gate=self.gate, keep_partials=keep_partials)
        self.chat = HostChat(policy, Chat(Role.HOST, session.send, transcript))
        self.clipboard = ClipboardSync(
            session.send,
            clipboard if clipboard is not None else MemoryClipboard(),
            files=self.files,
            **clipboard_rules(policy),
        )
        self.gate.announced = lambda: self.clipboard.announced
        self._clipboard = HostClipboard(self.clipboard)

    def handle(self, event: Event) -> list[Event] | None:
        """The answers to one event from the viewer (refusals, folder listings), or None if it is not
        chat, file, folder listing or clipboard."""
        if self.files.handle(event):
            return []
        if isinstance(event, ControlMessage) and event.topic == TOPIC_LIST:
            return [self._list(event.data)]
        answer: list[Event] | None = self.chat.handle(event)
        if answer is None:
            answer = self._clipboard.handle(event)
        return answer

    def _list(self, data: bytes) -> Event:
        """A page of one of the customer's folders, for 파일 가져오기 (needs ``fetch_files``)."""
        request_id: int | None = None
        try:
            request_id, path, offset = parse_list_request(data)
            if not self.policy.allows(Feature.FETCH_FILES):
                raise ToolRequestError("fetching files is switched off for this agent")
            return list_folder(request_id, path, offset)
        except ToolRequestError as exc:
            payload = {
                "id": request_id,
                "request": TOPIC_LIST,
                "tool": Feature.FETCH_FILES.value,
                "reason": str(exc),
            }
            return control(TOPIC_REFUSED, payload)

    def pump(self) -> None:
        """Queue file chunks and control messages that may go now."""
        self.files.pump()

    def close(self) -> None:
        """The session ended: partial files deleted (top-level ones kept for a later resume)."""
        self.files.close()
