"""End to end in a live session (host on the real Xvfb, relay subprocess, viewer offscreen): 화면 녹화 played
back in the player with the host's real pixels, 프로세스 정보 listing and ending a real process after the
confirmation, URL 전송 reaching the desktop's default browser (a small real program registered through
xdg-open's own configuration)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from e2e import SolidWindow, Viewer, XServer, assert_screen_matches, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


class Live:
    """A host session in this process (the manual's default options) and a viewer, through the relay."""

    def __init__(self, xserver: XServer, relay: RelayProcess, qapp: Any, tmp_path: Path) -> None:
        from opensupport.host.policy import policy_from_options
        from opensupport.host.session import HostSession
        from opensupport.viewer.display import DisplayModel
        from opensupport.viewer.session import ViewerSession
        from opensupport.viewer.ui.window import ViewerWindow

        code = SessionCode.generate()
        viewer = Viewer.__new__(Viewer)
        viewer.qapp = qapp
        viewer.window = ViewerWindow(DisplayModel())
        viewer.window.show()
        viewer.session = ViewerSession(viewer.window, relay.url, code, download_dir=tmp_path)
        viewer.session.start()
        viewer.sink = viewer.session.sink
        self.viewer = viewer
        self.host = HostSession(
            relay.url, code, display=xserver.display, policy=policy_from_options({}), download_dir=tmp_path
        )
        self.host.start()
        wait_until(lambda: viewer.pump() or viewer.session.link.established, 20, "the session")
        wait_until(lambda: viewer.pump() or self.vtools.allowed is not None, 10, "the host's tool.allowed")

    @property
    def vtools(self) -> Any:
        assert self.viewer.session.tools is not None
        return self.viewer.session.tools

    def close(self) -> None:
        self.host.stop()
        self.host.close()
        self.viewer.close()


@pytest.fixture
def live(xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path) -> Iterator[Live]:
    session = Live(xserver, shared_relay, qapp, tmp_path)
    yield session
    session.close()


def test_recording_plays_back_the_customers_screen(live: Live, xserver: XServer, tmp_path: Path) -> None:
    from opensupport.viewer.tools.player import PlayerWindow

    capture = live.vtools.tools.capture
    window = SolidWindow(xserver.display, 100, 80, 160, 100, 0x1144CC)
    player = None
    try:
        assert_screen_matches(xserver, live.viewer)
        before = xserver.grab(0).copy()
        done: list[Any] = []
        target = tmp_path / "call.osrec"
        capture.start_recording(target, lambda path, why: done.append((path, why)))
        wait_until(lambda: live.viewer.pump() or bool(done), 10, "the host's yes to the recording")
        assert done == [(target, None)]
        wait_until(
            lambda: live.host.tools is not None and live.host.tools.tools.recording, 5, "the host's notice"
        )
        # The recording begins at the key frame it asked for.
        wait_until(
            lambda: capture.recorder is not None and capture.recorder.records >= 1, 10, "the key frame"
        )

        window.recolour(0xDD7711)
        window.move(300, 200)
        assert_screen_matches(xserver, live.viewer)
        after = xserver.grab(0).copy()
        assert not np.array_equal(before[..., :3], after[..., :3])
        wait_until(lambda: capture.recorder is not None and capture.recorder.records >= 2, 5, "the change")
        assert capture.stop_recording() == target
        wait_until(lambda: not live.host.tools.tools.recording, 5, "the host told of the stop")

        player = PlayerWindow(target)
        player.seek(0)
        assert np.array_equal(player.displayed(), before[..., 2::-1])  # RGB shown, BGRA grabbed
        player.seek(player.player.duration_ms)
        assert np.array_equal(player.displayed(), after[..., 2::-1])
        assert tuple(player.displayed()[250, 380]) == (0xDD, 0x77, 0x11)  # the moved window, played back
    finally:
        if player is not None:
            player.close()
        window.close()


def _gone(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_process_list_shows_a_real_process_and_ends_it_after_confirmation(live: Live) -> None:
    # Not a child of this process (the host runs here and would reap its own child): sh starts it and exits.
    started = subprocess.run(
        ["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True, check=True
    )
    pid = int(started.stdout)
    try:
        panel = live.vtools.tools.menu.show_processes()  # the Tools menu's window, asking the host
        wait_until(lambda: live.viewer.pump() or panel.select_pid(pid), 20, "the process in the list")
        row = next(r for r in panel.rows if r["pid"] == pid)
        assert row["name"] == "sleep"

        asked: list[str] = []
        panel.confirm = lambda parent, question: asked.append(question) or False
        assert panel.end_selected() is False  # the agent said no: nothing was sent
        assert asked and f"PID {pid}" in asked[0]
        assert not _gone(pid)

        panel.confirm = lambda parent, question: True
        assert panel.select_pid(pid)
        assert panel.end_selected() is True
        wait_until(lambda: _gone(pid), 15, "the process to end")
        wait_until(
            lambda: live.viewer.pump() or f"Process {pid} ended" in panel.status.text()
            or not panel.select_pid(pid),
            10, "the panel to show the end",
        )  # fmt: skip
        panel.close()
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_url_opens_in_the_default_browser(
    live: Live, xserver: XServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The "browser": a real program, made the default for http/https the way xdg-open looks it up
    # (mimeapps.list and a desktop entry); it writes what it received.
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{opened}'\n")
    browser.chmod(0o755)
    data, config = tmp_path / "data", tmp_path / "config"
    (data / "applications").mkdir(parents=True)
    (data / "applications" / "os-test-browser.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Test browser\nNoDisplay=true\n"
        f"Exec={browser} %u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n"
    )
    config.mkdir()
    (config / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/https=os-test-browser.desktop\n"
        "x-scheme-handler/http=os-test-browser.desktop\n"
    )
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("DISPLAY", xserver.display)
    for name in (
        "XDG_CURRENT_DESKTOP",
        "DESKTOP_SESSION",
        "BROWSER",
        "KDE_FULL_SESSION",
        "GNOME_DESKTOP_SESSION_ID",
    ):
        monkeypatch.delenv(name, raising=False)

    panel = live.vtools.tools.menu.show_urls()
    url = "https://support.example.com/guide?step=2&lang=ko"
    panel.url_edit.setText(url)
    assert panel.send_url()
    wait_until(lambda: opened.exists() and opened.read_text().strip() != "", 15, "the browser to be started")
    assert opened.read_text().splitlines() == [url]
    wait_until(lambda: live.viewer.pump() or "Opened" in panel.status.text(), 10, "the answer in the panel")

    # A URL the host must refuse never reaches the browser.
    panel.url_edit.setText("file:///etc/passwd")
    assert panel.send_url() is False
    assert opened.read_text().splitlines() == [url]
    panel.close()
