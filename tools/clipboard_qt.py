"""The system clipboard through Qt's QClipboard (X11, Windows, macOS), for the applet and the viewer.

On X11 the clipboard is the CLIPBOARD selection; copied files are ``text/uri-list``, which Qt exposes as
URLs. Create it on the GUI thread after the QApplication; :meth:`QtClipboard.write` may be called from
any thread (the write is queued to the GUI thread), :meth:`QtClipboard.read` only on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, QObject, QUrl, Signal, Slot
from PySide6.QtGui import QGuiApplication

from .clipboard import ClipboardContent

__all__ = ["QtClipboard"]


class QtClipboard(QObject):
    """A :class:`~opensupport.tools.clipboard.ClipboardBackend` over ``QGuiApplication.clipboard()``;
    ``on_change()`` runs on the GUI thread whenever the clipboard changes (including our own writes)."""

    _write_requested = Signal(object)

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._clipboard = QGuiApplication.clipboard()
        self._on_change = on_change
        self._clipboard.dataChanged.connect(self._changed)
        self._write_requested.connect(self._write)  # queued when emitted from another thread

    def set_on_change(self, callback: Callable[[], None]) -> None:
        """Who is told about changes (the :class:`ClipboardSync`'s ``local_changed``)."""
        self._on_change = callback

    @Slot()
    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def read(self) -> ClipboardContent | None:
        """The clipboard's files (local ``file:`` URLs) or text; None when empty."""
        data = self._clipboard.mimeData()
        if data is None:
            return None
        if data.hasUrls():
            files = tuple(url.toLocalFile() for url in data.urls() if url.isLocalFile())
            if files:
                return ClipboardContent(files=files)
        if data.hasText():
            return ClipboardContent(text=data.text())
        return None

    def write(self, content: ClipboardContent) -> None:
        """Put ``content`` on the clipboard (from any thread)."""
        self._write_requested.emit(content)

    @Slot(object)
    def _write(self, content: ClipboardContent) -> None:
        if content.files:
            data = QMimeData()
            data.setUrls([QUrl.fromLocalFile(path) for path in content.files])
            self._clipboard.setMimeData(data)
        elif content.text is not None:
            self._clipboard.setText(content.text)
