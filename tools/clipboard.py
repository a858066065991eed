"""Clipboard synchronised both ways: text, and file lists for Ctrl+C / Ctrl+V file transfer.

:class:`ClipboardSync` is one end. When the local clipboard changes (the backend calls
:meth:`ClipboardSync.local_changed`) its content goes to the peer as ``ClipboardData``: text as
``text/plain;charset=utf-8``, copied files as ``text/uri-list`` (RFC 2483, what X11 file managers put on
the clipboard). Text from the peer is written to the local clipboard; a file list from the peer is kept
as :attr:`ClipboardSync.remote_files` and pasting it (:meth:`ClipboardSync.paste_files`) fetches those
files into the current folder with :class:`~opensupport.tools.files.FileTransfers` requests. The side
that announced files serves exactly those (``announced``), which the host's file gate checks.

What the peer wrote is never echoed back (the backend reports our own write as a change).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from opensupport.protocol import MAX_CLIPBOARD_SIZE, ClipboardData, Event

from .files import FileTransfers

__all__ = [
    "TEXT_MIME",
    "URI_LIST_MIME",
    "ClipboardBackend",
    "ClipboardContent",
    "ClipboardSync",
    "MemoryClipboard",
    "decode_uri_list",
    "encode_uri_list",
]

TEXT_MIME = "text/plain;charset=utf-8"
URI_LIST_MIME = "text/uri-list"


@dataclass(frozen=True)
class ClipboardContent:
    """What a clipboard holds: text, or local file paths (copied files)."""

    text: str | None = None
    files: tuple[str, ...] = ()


class ClipboardBackend(Protocol):
    """The system clipboard (``tools/clipboard_qt.py`` for Qt; :class:`MemoryClipboard` in tests)."""

    def read(self) -> ClipboardContent | None: ...

    def write(self, content: ClipboardContent) -> None: ...


class MemoryClipboard:
    """A clipboard in memory; ``on_change`` is called after every write, as a system clipboard would."""

    def __init__(self) -> None:
        self.content: ClipboardContent | None = None
        self.on_change: Callable[[], None] | None = None

    def read(self) -> ClipboardContent | None:
        return self.content

    def write(self, content: ClipboardContent) -> None:
        self.content = content
        if self.on_change is not None:
            self.on_change()


def encode_uri_list(paths: Sequence[str]) -> bytes:
    """``file://`` URIs, one per line, CRLF-terminated (RFC 2483)."""
    return "".join("file://" + quote(str(Path(p).absolute()), safe="/") + "\r\n" for p in paths).encode(
        "ascii"
    )


def decode_uri_list(data: bytes) -> list[str]:
    """The local paths of the ``file://`` URIs in a uri-list (comments, other schemes and other hosts
    are left out). These are the *peer's* paths: they are only ever sent back in a request."""
    paths = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = urlsplit(line)
        if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
            path = unquote(parts.path)
            if "\0" not in path:
                paths.append(path)
    return paths


class ClipboardSync:
    """One end of clipboard synchronisation over a session.

    ``send`` queues an event on the session; ``allow_text`` / ``allow_files`` say whether each kind may
    cross now (the host passes its options; see ``host/tools/clipboard.py``); ``files`` fetches pasted
    files. Thread-safety: ``local_changed`` runs on the backend's thread, ``receive`` on the session's;
    the backend must accept writes from that thread (the Qt backend queues them to the GUI thread).
    """

    def __init__(
        self,
        send: Callable[[Event], None],
        backend: ClipboardBackend,
        *,
        files: FileTransfers | None = None,
        allow_text: Callable[[], bool] = lambda: True,
        allow_files: Callable[[], bool] = lambda: True,
    ) -> None:
        self._send = send
        self.backend = backend
        self.files = files
        self._allow_text = allow_text
        self._allow_files = allow_files
        self._lock = threading.Lock()
        self._last_sent: ClipboardContent | None = None
        self._applied: ClipboardContent | None = None
        #: local paths we announced (the peer may request exactly these)
        self.announced: frozenset[str] = frozenset()
        #: the peer's copied files, ready to paste here
        self.remote_files: tuple[str, ...] = ()
        #: the last thing not sent, and why (for the UI's status line)
        self.note = ""

    def local_changed(self) -> None:
        """The local clipboard changed: send its content to the peer (unless the peer just wrote it)."""
        content = self.backend.read()
        with self._lock:
            if content is None or content == self._applied or content == self._last_sent:
                return
            self._last_sent = content
        if content.files:
            if not self._allow_files():
                self.note = "Ctrl+C/Ctrl+V file transfer is switched off"
                return
            data = encode_uri_list(content.files)
            if len(data) > MAX_CLIPBOARD_SIZE:
                self.note = "too many files on the clipboard"
                return
            self.announced = frozenset(content.files)
            self._send(ClipboardData(URI_LIST_MIME, data))
        elif content.text is not None:
            if not self._allow_text():
                self.note = "clipboard sharing is not allowed"
                return
            data = content.text.encode("utf-8", "replace")
            if len(data) > MAX_CLIPBOARD_SIZE:
                self.note = "the clipboard text is too large to share (send it as a file)"
                return
            self._send(ClipboardData(TEXT_MIME, data))

    def receive(self, event: ClipboardData) -> bool:
        """Apply the peer's clipboard; returns False if it was refused or not understood."""
        mime = event.mime.split(";", 1)[0].strip().lower()
        if mime == "text/plain":
            if not self._allow_text():
                return False
            content = ClipboardContent(text=event.data.decode("utf-8", "replace"))
            with self._lock:
                self._applied = content
                self._last_sent = None
            self.backend.write(content)
            return True
        if mime == URI_LIST_MIME:
            if not self._allow_files():
                return False
            self.remote_files = tuple(decode_uri_list(event.data))
            return True
        return False

    def paste_files(self, into: Path) -> list[int]:
        """Fetch the peer's copied files into ``into`` (Ctrl+V); returns the request ids.

        Raises TransferRefused if file paste is not allowed here, RuntimeError without a file transfer.
        """
        if self.files is None:
            raise RuntimeError("no file transfer attached to this clipboard")
        return [self.files.request(path, into) for path in self.remote_files]
