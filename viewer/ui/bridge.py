"""The session's way into the GUI thread.

The network session and the decode worker run on their own threads; Qt widgets may only be touched on the
GUI thread. Every signal of ``SessionBridge`` may be emitted from any thread: the window's slots are
connected with Qt's automatic connection type, so the call is queued to the GUI thread and runs there, in
emission order.
"""

from __future__ import annotations

from opensupport.viewer.decode import DecodeWorker, FrameDecoder
from opensupport.viewer.display import DisplayModel
from PySide6.QtCore import QObject, Signal

__all__ = ["SessionBridge"]


class SessionBridge(QObject):
    """Signals from the session and the decode worker to the window (emit from any thread)."""

    #: A decoded update (``FrameUpdate``), from the decode worker.
    frame_updated = Signal(object)
    #: An update the decoder refused (``DecodeFailure``): the session should ask for a keyframe.
    decode_failed = Signal(object)
    #: The host's pointer shape (``CursorImage``).
    cursor_shape_changed = Signal(object)
    #: The host's pointer position in frame pixels, and whether it is visible.
    cursor_moved = Signal(int, int, bool)
    #: The host's monitors (a list of ``Monitor``) and the index being shared (or None).
    monitors_changed = Signal(object, object)
    #: The connection status text for the status line.
    status_changed = Signal(str)
    #: 마우스 추적: whether the host streams its pointer's moves (as the host announced it).
    cursor_tracking_changed = Signal(bool)
    #: The host's ``session.options`` (a ``SessionOptions``).
    session_options_changed = Signal(object)
    #: The host's report of the quality in force (``opensupport.viewer.quality.QualityState``).
    quality_changed = Signal(object)

    def start_worker(self, decoder: FrameDecoder, model: DisplayModel) -> DecodeWorker:
        """Start a decode worker publishing into ``model``; its reports arrive as this bridge's signals."""
        worker = DecodeWorker(
            decoder, model.store, self.frame_updated.emit, self.decode_failed.emit, meter=model.meter
        )
        worker.start()
        return worker
