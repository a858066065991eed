"""문자 채팅: chat lines both ways, and the transcript kept for the session's record.

:class:`Chat` is one end of the conversation: :meth:`Chat.say` queues the local user's line on the
session, :meth:`Chat.receive` takes the peer's. Both land in the :class:`Transcript` with a UTC timestamp
and who said it; :meth:`Transcript.as_text` is what the session's record keeps (the upload to the server
comes with the session loop). The host enforces the chat option in ``host/tools/chat.py``.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from opensupport.protocol import MAX_CHAT_SIZE, ChatMessage, Event, Role

__all__ = ["MAX_TRANSCRIPT_SIZE", "Chat", "ChatError", "ChatLine", "Speaker", "Transcript", "clean_text"]

#: Text kept in one transcript (UTF-8 bytes); later lines are counted but not kept, and the transcript
#: says so, so a chatty peer cannot grow the host's memory without bound.
MAX_TRANSCRIPT_SIZE = 4 * 1024 * 1024


class ChatError(ValueError):
    """A line that cannot be sent: empty after cleaning, or longer than the protocol allows."""


class Speaker(enum.StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


#: How the record labels each side (Korean first, as the product's UI).
SPEAKER_LABEL = {Speaker.AGENT: "상담원", Speaker.CUSTOMER: "고객"}


@dataclass(frozen=True)
class ChatLine:
    """One line of the conversation."""

    at: datetime  #: UTC
    speaker: Speaker
    text: str


def clean_text(text: str) -> str:
    """The line without control characters other than newline and tab, and without surrounding blanks
    (a peer's escape sequences never reach a terminal or a log)."""
    kept = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0))
    return kept.strip()


class Transcript:
    """The conversation of one session, in order (thread-safe)."""

    def __init__(self, max_size: int = MAX_TRANSCRIPT_SIZE) -> None:
        self._lines: list[ChatLine] = []
        self._size = 0
        self._max = max_size
        self.dropped = 0
        self._lock = threading.Lock()

    def add(self, speaker: Speaker, text: str, at: datetime | None = None) -> ChatLine:
        """Append a line (``at`` defaults to now, UTC) and return it."""
        line = ChatLine(at or datetime.now(UTC), speaker, text)
        with self._lock:
            size = len(text.encode("utf-8"))
            if self._size + size > self._max:
                self.dropped += 1
            else:
                self._size += size
                self._lines.append(line)
        return line

    @property
    def lines(self) -> list[ChatLine]:
        """A copy of the lines so far."""
        with self._lock:
            return list(self._lines)

    def as_text(self) -> str:
        """``2026-11-25 20:41:09 상담원: text`` per line (UTC; continuation lines indented)."""
        out = []
        for line in self.lines:
            stamp = line.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            body = line.text.replace("\n", "\n    ")
            out.append(f"{stamp} {SPEAKER_LABEL[line.speaker]}: {body}")
        if self.dropped:
            out.append(f"({self.dropped} later lines not kept: the transcript reached its size limit)")
        return "\n".join(out) + ("\n" if out else "")

    def as_records(self) -> list[dict[str, str]]:
        """The lines as JSON-ready objects: ``{"at": ISO 8601 UTC, "speaker": "agent"|"customer", "text"}``."""
        return [{"at": x.at.isoformat(), "speaker": x.speaker.value, "text": x.text} for x in self.lines]


class Chat:
    """One end of the chat: ``send`` queues an event on the session (``Session.send``), ``role`` says
    whether the local user is the agent (viewer) or the customer (host)."""

    def __init__(
        self, role: Role, send: Callable[[Event], None], transcript: Transcript | None = None
    ) -> None:
        self._send = send
        self.me = Speaker.AGENT if role is Role.VIEWER else Speaker.CUSTOMER
        self.peer = Speaker.CUSTOMER if role is Role.VIEWER else Speaker.AGENT
        self.transcript = transcript if transcript is not None else Transcript()
        self._listeners: list[Callable[[ChatLine], None]] = []

    def add_listener(self, callback: Callable[[ChatLine], None]) -> None:
        """``callback(line)`` for every line, ours and the peer's (on the calling thread)."""
        self._listeners.append(callback)

    def say(self, text: str) -> ChatLine:
        """Send a line from the local user. Raises ChatError if it is empty or too long."""
        text = clean_text(text)
        if not text:
            raise ChatError("empty message")
        if len(text.encode("utf-8")) > MAX_CHAT_SIZE:
            raise ChatError(f"message longer than {MAX_CHAT_SIZE} bytes")
        self._send(ChatMessage(text))
        return self._add(self.me, text)

    def receive(self, event: ChatMessage) -> ChatLine | None:
        """A line from the peer (None if nothing is left after cleaning)."""
        text = clean_text(event.text)
        return self._add(self.peer, text) if text else None

    def _add(self, speaker: Speaker, text: str) -> ChatLine:
        line = self.transcript.add(speaker, text)
        for callback in self._listeners:
            callback(line)
        return line
