"""Screenshot and recording in the viewer, without any GUI.

Both work on what the viewer already has: the screenshot is the framebuffer as the agent sees it when
the button is pressed, the recording is the stream of codec updates as received. Both ask the host first
(``capture.request``): the host refuses when the agent's options forbid it and tells the customer when
they allow it; only after the host's yes is a file written. (A modified viewer could keep the pixels it
is shown anyway; the host's enforcement is what the official viewer does, the customer's notice, and the
refusal of the recorder's key frames. See tools/TOOLS.md.)

Threads: ``screenshot``/``start_recording``/``stop_recording`` from any thread; the answers arrive on the
session's thread; :meth:`ScreenCapture.on_screen_update` is called by the session for every update.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from opensupport.tools.messages import RECORDING_KEYFRAME_REASON, ToolError
from opensupport.tools.recording import KEYFRAME_INTERVAL, Recorder, RecordingError, write_png

from .client import ToolClient

__all__ = ["RECORDING_KEYFRAME_REASON", "Done", "ScreenCapture"]

#: (file written, or None; why not, or None)
Done = Callable[[Path | None, str | None], None]


class ScreenCapture:
    """Screenshots and recordings of one session. ``snapshot()`` returns a copy of the framebuffer (None
    before the first frame); ``request_keyframe(reason)`` asks the host for a key frame."""

    def __init__(
        self,
        client: ToolClient,
        snapshot: Callable[[], np.ndarray | None],
        request_keyframe: Callable[[str], object],
        *,
        keyframe_interval: float = KEYFRAME_INTERVAL,
    ) -> None:
        self.client = client
        self._snapshot = snapshot
        self._request_keyframe = request_keyframe
        self._interval = keyframe_interval
        self._lock = threading.Lock()
        self.recorder: Recorder | None = None

    @property
    def recording(self) -> bool:
        """A recording is being written."""
        return self.recorder is not None

    def screenshot(self, path: str | Path, done: Done) -> None:
        """Save the picture as it is now to ``path`` (PNG) once the host agrees. Raises ToolError when the
        host does not allow screenshots or there is no picture yet."""
        if not self.client.allows("screen_capture"):
            raise ToolError("screen capture is not allowed for this agent")
        picture = self._snapshot()
        if picture is None:
            raise ToolError("there is no picture yet")

        def answered(answer: dict[str, Any] | None, refusal: str | None) -> None:
            if refusal is not None:
                done(None, refusal)
                return
            try:
                done(write_png(picture, path), None)
            except (OSError, ValueError) as exc:
                done(None, f"the screenshot could not be saved: {exc}")

        self.client.capture("screenshot", True, answered)

    def start_recording(self, path: str | Path, done: Done) -> None:
        """Start recording to ``path`` once the host agrees. Raises ToolError when not allowed or already
        recording."""
        if not self.client.allows("screen_recording"):
            raise ToolError("screen recording is not allowed for this agent")
        if self.recording:
            raise ToolError("a recording is already running")

        def answered(answer: dict[str, Any] | None, refusal: str | None) -> None:
            if refusal is not None:
                done(None, refusal)
                return
            try:
                recorder = Recorder(
                    path,
                    request_keyframe=lambda: self._request_keyframe(RECORDING_KEYFRAME_REASON),
                    keyframe_interval=self._interval,
                )
            except RecordingError as exc:
                done(None, str(exc))
                return
            with self._lock:
                self.recorder = recorder
            done(Path(path), None)

        self.client.capture("recording", True, answered)

    def on_screen_update(self, data: bytes, keyframe: bool) -> None:
        """Every screen update the session receives (recorded while a recording runs)."""
        with self._lock:
            recorder = self.recorder
        if recorder is None:
            return
        try:
            recorder.add(data, keyframe)
        except RecordingError:
            self.stop_recording()
            raise

    def stop_recording(self) -> Path | None:
        """Finish the recording (index and trailer) and tell the host; returns the file."""
        with self._lock:
            recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        recorder.close()
        self.client.capture("recording", False, lambda answer, refusal: None)
        return Path(recorder.path)
