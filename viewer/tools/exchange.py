"""Chat, files and clipboard of one viewer session, in one object the session loop drives (the mirror of
``host/tools/exchange.py``; the viewer enforces nothing the host would not, it only hides tools)."""

from __future__ import annotations

from pathlib import Path

from opensupport.protocol import ChatMessage, ClipboardData, Event, Role, Session
from opensupport.tools.chat import Chat, Transcript
from opensupport.tools.clipboard import ClipboardBackend, ClipboardSync, MemoryClipboard
from opensupport.tools.files import AgentGate, FileTransfers, RemoteBrowser

__all__ = ["ViewerExchange"]


class ViewerExchange:
    """The agent's chat, file transfer and clipboard for one session. The agent serves the customer
    only the files the agent copied (:class:`AgentGate` over the clipboard's announcement)."""

    def __init__(
        self,
        session: Session,
        *,
        download_dir: Path,
        clipboard: ClipboardBackend | None = None,
        transcript: Transcript | None = None,
        keep_partials: bool = True,
    ) -> None:
        self.gate = AgentGate()
        self.files = FileTransfers(session, download_dir, gate=self.gate, keep_partials=keep_partials)
        self.chat = Chat(Role.VIEWER, session.send, transcript)
        self.clipboard = ClipboardSync(
            session.send, clipboard if clipboard is not None else MemoryClipboard(), files=self.files
        )
        self.gate.announced = lambda: self.clipboard.announced
        self.browser = RemoteBrowser(session.send)

    def handle(self, event: Event) -> bool:
        """Take one event from the host; False if it is not chat, file or clipboard."""
        if self.files.handle(event) or self.browser.handle(event):
            return True
        if isinstance(event, ChatMessage):
            self.chat.receive(event)
            return True
        if isinstance(event, ClipboardData):
            self.clipboard.receive(event)
            return True
        return False

    def pump(self) -> None:
        """Queue file chunks and control messages that may go now."""
        self.files.pump()

    def close(self) -> None:
        """The session ended."""
        self.files.close()
