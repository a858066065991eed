"""The system clipboard in a live session: between Qt's GUI thread and the session link's thread.

:class:`~opensupport.tools.clipboard_qt.QtClipboard` may be read only on the GUI thread, and a
:class:`~opensupport.tools.clipboard.ClipboardSync` must send on the link's thread (the protocol session is
not thread-safe). :class:`LiveClipboard` is the sync's backend: a change is read on the GUI thread when
Qt reports it, kept, and the sync's ``local_changed`` then runs on the link's thread through ``post``,
reading what was kept. Writes from the peer go to Qt from the link's thread (``QtClipboard.write`` queues
them to the GUI thread). Qt reports our own writes as changes too; the sync does not echo them back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from .clipboard import ClipboardContent, ClipboardSync

__all__ = ["LiveClipboard", "SystemClipboard"]


class SystemClipboard(Protocol):
    """What :class:`LiveClipboard` needs of ``QtClipboard``."""

    def read(self) -> ClipboardContent | None: ...

    def write(self, content: ClipboardContent) -> None: ...

    def set_on_change(self, callback: Callable[[], None]) -> None: ...


class LiveClipboard:
    """A ``ClipboardBackend`` over the system clipboard for one session at a time (see the module docstring).

    Create it on the GUI thread; :meth:`attach` the session's sync and its ``post`` (run a function on the
    link's thread) once the session's tools exist, again when they are made anew.
    """

    def __init__(self, system: SystemClipboard) -> None:
        self._system = system
        self._lock = threading.Lock()
        self._latest: ClipboardContent | None = None
        self._target: tuple[ClipboardSync, Callable[[Callable[[], None]], Any]] | None = None
        system.set_on_change(self._changed)

    def attach(self, sync: ClipboardSync, post: Callable[[Callable[[], None]], Any]) -> None:
        """From now on, changes go to ``sync`` (its ``local_changed`` run through ``post``)."""
        with self._lock:
            self._target = (sync, post)

    def detach(self) -> None:
        """The session ended: changes go nowhere."""
        with self._lock:
            self._target = None

    def _changed(self) -> None:  # GUI thread
        content = self._system.read()
        with self._lock:
            self._latest = content
            target = self._target
        if target is not None:
            sync, post = target
            post(sync.local_changed)

    # -- ClipboardBackend (the sync's side, on the link's thread) ---------------------------------------
    def read(self) -> ClipboardContent | None:
        """What the system clipboard held at its last change."""
        with self._lock:
            return self._latest

    def write(self, content: ClipboardContent) -> None:
        """Put the peer's content on the system clipboard (any thread)."""
        self._system.write(content)
