"""End to end: the in-session tools over a live session (host in this process on the real Xvfb, a relay
subprocess, the viewer offscreen): chat both ways, files both ways byte-exact, a switched-off tool refused
on the host even when the viewer sends the request anyway, a screenshot equal to the framebuffer, system
information."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import SolidWindow, Viewer, XServer, assert_screen_matches, wait_until
from opensupport.protocol import ChatMessage, ControlMessage, SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


class Live:
    """A host session with a policy, and a viewer, connected through the relay."""

    def __init__(self, host: Any, viewer: Viewer, host_dir: Path, viewer_dir: Path) -> None:
        self.host = host
        self.viewer = viewer
        self.host_dir = host_dir
        self.viewer_dir = viewer_dir
        self.seen: list[Any] = []

    @property
    def vtools(self) -> Any:
        assert self.viewer.session.tools is not None
        return self.viewer.session.tools

    @property
    def htools(self) -> Any:
        assert self.host.tools is not None
        return self.host.tools

    def viewer_send(self, event: Any) -> None:
        session = self.viewer.session
        session.link_thread.call(session.link.send, event)


@pytest.fixture
def live_factory(xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path) -> Iterator[Any]:
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession

    made: list[Live] = []

    def make(options: dict[str, bool] | None = None) -> Live:
        code = SessionCode.generate()
        host_dir = tmp_path / f"host{len(made)}"
        viewer_dir = tmp_path / f"viewer{len(made)}"
        host_dir.mkdir()
        viewer_dir.mkdir()
        seen: list[Any] = []
        viewer = Viewer.__new__(Viewer)
        _start_viewer(viewer, qapp, shared_relay.url, code, viewer_dir, seen.append)
        host = HostSession(
            shared_relay.url,
            code,
            display=xserver.display,
            policy=policy_from_options(options or {}),
            download_dir=host_dir,
            consent_answer=True,
        )
        host.start()
        live = Live(host, viewer, host_dir, viewer_dir)
        live.seen = seen
        made.append(live)
        wait_until(lambda: viewer.pump() or viewer.session.link.established, 20, "the session")
        wait_until(lambda: viewer.pump() or live.vtools.allowed is not None, 10, "the host's tool.allowed")
        return live

    yield make
    for live in made:
        live.host.stop()
        live.host.close()
        live.viewer.close()


def _start_viewer(
    viewer: Viewer, qapp: Any, url: str, code: SessionCode, folder: Path, on_event: Any
) -> None:
    """Viewer.__init__ with a download folder of the test's own."""
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.session import ViewerSession
    from opensupport.viewer.ui.window import ViewerWindow

    viewer.qapp = qapp
    viewer.window = ViewerWindow(DisplayModel())
    viewer.window.show()
    viewer.session = ViewerSession(viewer.window, url, code, on_event=on_event, download_dir=folder)
    viewer.session.start()
    viewer.sink = viewer.session.sink


def test_chat_both_ways_and_the_panels_follow_the_host(live_factory: Any) -> None:
    live = live_factory()
    vt, ht = live.vtools, live.htools
    assert "text_chat" in vt.allowed and "drawing" in vt.allowed
    wait_until(lambda: live.viewer.pump() or vt.chat_dock.isVisibleTo(live.viewer.window), 5, "chat panel")
    assert vt.file_dock.isVisibleTo(live.viewer.window)

    vt.post(vt.exchange.chat.say, "안녕하세요, 상담원입니다")
    wait_until(
        lambda: [line.text for line in ht.transcript.lines] == ["안녕하세요, 상담원입니다"],
        10,
        "the host's chat",
    )
    ht.say("네, 화면이 멈췄어요")
    wait_until(
        lambda: (
            [line.text for line in vt.exchange.chat.transcript.lines]
            == ["안녕하세요, 상담원입니다", "네, 화면이 멈췄어요"]
        ),
        10,
        "the viewer's chat",
    )
    # the panel shows what arrived (plain text)
    wait_until(
        lambda: live.viewer.pump() or "화면이 멈췄어요" in vt.chat_panel.log.toPlainText(),
        5,
        "the chat panel",
    )


def test_files_both_ways_byte_exact(live_factory: Any, tmp_path: Path) -> None:
    from opensupport.tools.files import BatchState

    live = live_factory()
    vt = live.vtools
    outgoing = tmp_path / "report.bin"
    outgoing.write_bytes(os.urandom(700_000) + b"end")  # several chunks and credit windows
    vt.post(vt.exchange.files.send_paths, [outgoing])
    landed = live.host_dir / "report.bin"
    wait_until(lambda: landed.exists() and landed.stat().st_size == outgoing.stat().st_size, 20, "the upload")
    assert hashlib.sha256(landed.read_bytes()).digest() == hashlib.sha256(outgoing.read_bytes()).digest()

    # 파일 가져오기: the agent fetches a customer's file into the viewer's folder
    customer_file = tmp_path / "customer" / "log.txt"
    customer_file.parent.mkdir()
    customer_file.write_bytes("로그 줄\n".encode() * 5000)
    vt.post(vt.exchange.files.request, str(customer_file))
    fetched = live.viewer_dir / "log.txt"
    wait_until(
        lambda: fetched.exists() and fetched.read_bytes() == customer_file.read_bytes(), 20, "the fetch"
    )
    wait_until(
        lambda: all(b.state is BatchState.DONE for b in vt.exchange.files.snapshot()), 10, "both batches done"
    )
    assert [entry.name for entry in live.viewer_dir.iterdir()] == ["log.txt"]  # no partial left behind


def test_switched_off_tools_are_refused_on_the_host(live_factory: Any, tmp_path: Path) -> None:
    off = {"system_info": False, "text_chat": False, "send_files": False, "drawing": False}
    live = live_factory(off)
    vt, ht = live.vtools, live.htools
    assert not ({"system_info", "text_chat", "send_files", "drawing"} & vt.allowed)
    wait_until(
        lambda: live.viewer.pump() or not vt.chat_dock.isVisibleTo(live.viewer.window), 5, "hidden chat"
    )
    # a modified viewer sends anyway: raw protocol messages, past the viewer's own checks
    live.viewer_send(ControlMessage("sysinfo.request", json.dumps({"id": 41}).encode()))
    live.viewer_send(ChatMessage("hello?"))
    secret = tmp_path / "payload.bin"
    secret.write_bytes(b"x" * 1000)
    vt.post(vt.exchange.files.send_paths, [secret])

    def refusals() -> list[dict[str, Any]]:
        return [
            json.loads(e.data)
            for e in live.seen
            if isinstance(e, ControlMessage) and e.topic == "tool.refused"
        ]

    wait_until(lambda: {r["request"] for r in refusals()} >= {"sysinfo.request", "chat"}, 10, "the refusals")
    assert not any(isinstance(e, ControlMessage) and e.topic == "sysinfo.result" for e in live.seen)
    assert ht.transcript.lines == []  # the chat line was neither shown nor recorded
    wait_until(
        lambda: any(b.state.value == "refused" for b in vt.exchange.files.snapshot()), 10, "the file refusal"
    )
    assert list(live.host_dir.iterdir()) == []


def test_system_info_and_screenshot(live_factory: Any, xserver: XServer, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    live = live_factory()
    vt = live.vtools
    marker = SolidWindow(xserver.display, 40, 30, 120, 90, 0xAA3311)
    try:
        answers: list[Any] = []
        vt.tools.client.system_info(lambda answer, refusal: answers.append((answer, refusal)))
        wait_until(lambda: bool(answers), 15, "system information")
        info, refusal = answers[0]
        assert refusal is None
        assert info["info"]["cpu"] and info["info"]["memory"]["total"] > 0
        assert info["info"]["os"]

        assert_screen_matches(xserver, live.viewer)
        done: list[Any] = []
        shot = tmp_path / "shot.png"
        vt.tools.capture.screenshot(shot, lambda path, error: done.append((path, error)))
        wait_until(lambda: bool(done), 10, "the screenshot")
        assert done[0][1] is None
        fb = live.viewer.framebuffer()
        assert fb is not None
        image = QImage(str(shot)).convertToFormat(QImage.Format.Format_RGB32)
        assert (image.width(), image.height()) == (fb.shape[1], fb.shape[0])
        png = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(
            fb.shape[0], image.bytesPerLine() // 4, 4
        )
        assert np.array_equal(png[:, : fb.shape[1], :3], fb[..., :3])
        assert tuple(png[60, 100, :3]) == (0x11, 0x33, 0xAA)  # the marker, as BGR
    finally:
        marker.close()
