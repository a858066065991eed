"""Screenshot and recording from the viewer over a real protocol session, and the player window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from opensupport.codec import Decoder, Encoder
from opensupport.protocol import KeyframeRequest, Role, ScreenUpdate
from opensupport.tools.messages import ToolError
from opensupport.tools.recording import RecordingReader
from opensupport.viewer.tools.capture import ScreenCapture
from opensupport.viewer.tools.player import PlayerWindow
from PySide6.QtWidgets import QApplication
from tools_pair import ToolsPair

W, H = 96, 64


def frame(i: int) -> np.ndarray:
    f = np.zeros((H, W, 4), np.uint8)
    f[..., 0] = i * 7 % 256
    f[..., 1] = 255 - i * 11 % 256
    f[..., 2] = 60
    f[..., 3] = 255
    f[10:30, (i * 2) % 70 : (i * 2) % 70 + 20, :3] = 255
    return f


class Stream:
    """The host's screen stream and the viewer's decoder, over the tools pair's session; the viewer's
    ScreenCapture sees every update, and the host honours key-frame requests its tools allow."""

    def __init__(self, tools: ToolsPair) -> None:
        self.tools = tools
        self.encoder = Encoder(W, H)
        self.decoder = Decoder(W, H)
        self.keyframe_next = True
        self.capture = ScreenCapture(
            tools.client,
            lambda: self.decoder.framebuffer.copy(),
            lambda reason: tools.pair.viewer.send(KeyframeRequest(reason)),
            keyframe_interval=0.0,  # every update asks again: seeking points everywhere
        )
        self.requests: list[KeyframeRequest] = []
        self._handled = 0

    def send(self, i: int) -> None:
        pair = self.tools.pair
        self.tools.pump()
        for event in self.tools.unhandled[self._handled :]:
            if isinstance(event, KeyframeRequest):
                self.requests.append(event)
                if self.tools.host_tools.keyframe_allowed(event):
                    self.keyframe_next = True
        self._handled = len(self.tools.unhandled)
        keyframe, self.keyframe_next = self.keyframe_next, False
        pair.host.send(ScreenUpdate(self.encoder.encode(frame(i), keyframe=keyframe), keyframe=keyframe))
        before = len(pair.events[Role.VIEWER])
        self.tools.pump()
        for event in pair.events[Role.VIEWER][before:]:
            if isinstance(event, ScreenUpdate):
                self.decoder.decode(event.data)
                self.capture.on_screen_update(event.data, event.keyframe)


@pytest.fixture(scope="module")
def app() -> Iterator[QApplication]:
    instance = QApplication.instance() or QApplication([])
    assert isinstance(instance, QApplication)
    yield instance


def test_screenshot_after_the_host_agrees(tmp_path: Path) -> None:
    notices: list[str] = []
    stream = Stream(ToolsPair(on_notice=notices.append))
    stream.send(0)
    stream.send(1)
    results: list[Any] = []
    stream.capture.screenshot(tmp_path / "shot.png", lambda path, why: results.append((path, why)))
    stream.send(2)  # the picture changes before the host's answer arrives: the shot keeps frame 1
    [(path, why)] = results
    assert why is None and path == tmp_path / "shot.png"
    with av.open(str(path)) as container:
        [picture] = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert np.array_equal(picture, frame(1)[:, :, 2::-1])
    assert notices == ["The agent took a screenshot"]


def test_screenshot_and_recording_hidden_and_refused_when_switched_off(tmp_path: Path) -> None:
    stream = Stream(ToolsPair({"screen_capture": False, "screen_recording": False}))
    stream.send(0)
    with pytest.raises(ToolError, match="not allowed"):
        stream.capture.screenshot(tmp_path / "x.png", lambda *a: None)
    with pytest.raises(ToolError, match="not allowed"):
        stream.capture.start_recording(tmp_path / "x.osrec", lambda *a: None)
    # a viewer that records anyway gets no key frames for it from the host
    stream.tools.pair.viewer.send(KeyframeRequest("recording"))
    stream.send(1)
    stream.send(2)
    assert stream.requests == [KeyframeRequest("recording")]  # seen by the host, and refused
    assert not stream.keyframe_next
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.osrec").exists()


def test_recording_over_the_session_plays_back_in_the_player(tmp_path: Path, app: QApplication) -> None:
    notices: list[str] = []
    stream = Stream(ToolsPair(on_notice=notices.append))
    for i in range(3):
        stream.send(i)
    started: list[Any] = []
    path = tmp_path / "session.osrec"
    stream.capture.start_recording(path, lambda p, why: started.append((p, why)))
    stream.tools.pump()
    assert started == [(path, None)] and stream.capture.recording
    for i in range(3, 20):
        stream.send(i)
    assert stream.capture.stop_recording() == path
    stream.tools.pump()
    assert notices == ["The agent is recording the screen", "The agent stopped recording"]
    assert KeyframeRequest("recording") in stream.requests
    with RecordingReader(path) as reader:
        assert reader.record_count == 17  # frames 3..19: the first key frame came at once
        assert len(reader.keyframes) >= 2

    window = PlayerWindow(path)
    try:
        window.show()
        app.processEvents()
        with RecordingReader(path) as reader:
            # every record's time: seeking to each shows that very frame
            entry = reader.keyframes[0]
            times = [r.time_ms for r in reader.records_from(entry)]
        for n, t in enumerate(times):
            if n and t == times[n - 1]:
                continue  # two updates in the same millisecond: the later one shows
            window.seek(t)
            last = max(k for k, u in enumerate(times) if u == t)
            assert np.array_equal(window.displayed(), frame(3 + last)[:, :, 2::-1]), n
        window.seek(0)
        window.set_speed(4.0)
        window.tick(0.001)
        assert window.player.position_ms == 4
        with pytest.raises(ValueError):
            window.set_speed(5)
        assert window.export(tmp_path / "out.mp4", fps=50) == times[-1] * 50 // 1000 + 1
        with av.open(str(tmp_path / "out.mp4")) as container:
            assert sum(1 for _ in container.decode(video=0)) == times[-1] * 50 // 1000 + 1
    finally:
        window.close()
