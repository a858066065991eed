"""The applet's window with the session's tools (in this process, offscreen; the session on the real
Xvfb through a relay): the customer answers the consent dialog before a file lands, chats from the
window, sees the Draw toggle only when two-way drawing is allowed, and is told what the agent did."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from e2e import Viewer, XServer, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


def _window(xserver: XServer, url: str, code: SessionCode, folder: Path, options: dict[str, bool]) -> Any:
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession
    from opensupport.host.ui.window import HostWindow

    session = HostSession(
        url,
        code,
        display=xserver.display,
        policy=policy_from_options(options),
        download_dir=folder,
        consent_answer=None,  # the window asks the customer
    )
    window = HostWindow(session, code.routing_id)
    window.start()
    window.show()
    return window


def test_consent_dialog_chat_and_draw_toggle(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> None:
    code = SessionCode.generate()
    folder = tmp_path / "downloads"
    folder.mkdir()
    window = _window(xserver, shared_relay.url, code, folder, {})
    viewer = Viewer(qapp, shared_relay.url, code)
    try:
        wait_until(lambda: viewer.pump() or window.file_window is not None, 20, "the window's tools")
        assert window.draw_button.isVisibleTo(window) and window.chat_view is not None
        tools = viewer.session.tools
        assert tools is not None
        wait_until(lambda: viewer.pump() or tools.allowed is not None, 10, "tool.allowed")

        payload = tmp_path / "setup.bin"
        payload.write_bytes(os.urandom(200_000))
        tools.post(tools.exchange.files.send_paths, [payload])
        wait_until(lambda: viewer.pump() or bool(window.file_window.dialogs), 10, "the consent dialog")
        assert list(folder.iterdir()) == []  # nothing before the customer agrees
        (dialog,) = window.file_window.dialogs.values()
        assert "setup.bin" in dialog.message.text()
        dialog.allow_button.click()
        landed = folder / "setup.bin"
        wait_until(
            lambda: viewer.pump() or (landed.exists() and landed.stat().st_size == 200_000), 20, "the file"
        )
        assert hashlib.sha256(landed.read_bytes()).digest() == hashlib.sha256(payload.read_bytes()).digest()

        window.chat_view.input.setText("파일 받았어요")
        window.chat_view.send_button.click()
        wait_until(
            lambda: (
                viewer.pump()
                or [line.text for line in tools.exchange.chat.transcript.lines] == ["파일 받았어요"]
            ),
            10,
            "the customer's chat line at the viewer",
        )

        done: list[Any] = []
        tools.tools.capture.screenshot(tmp_path / "s.png", lambda path, error: done.append(error))
        wait_until(
            lambda: viewer.pump() or window.notice_label.text() == "The agent took a screenshot", 10, "notice"
        )
    finally:
        viewer.close()
        window.close()
        window.deleteLater()  # destroyed now, on this thread, not by a later garbage collection
        viewer.pump()


def test_no_draw_toggle_without_two_way_drawing_and_a_refused_consent(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path
) -> None:
    from opensupport.tools.files import BatchState

    code = SessionCode.generate()
    folder = tmp_path / "downloads"
    folder.mkdir()
    window = _window(xserver, shared_relay.url, code, folder, {"two_way_drawing": False})
    viewer = Viewer(qapp, shared_relay.url, code)
    try:
        wait_until(lambda: viewer.pump() or window.file_window is not None, 20, "the window's tools")
        assert not window.draw_button.isVisibleTo(window)
        tools = viewer.session.tools
        assert tools is not None
        payload = tmp_path / "unwanted.bin"
        payload.write_bytes(b"no thanks")
        tools.post(tools.exchange.files.send_paths, [payload])
        wait_until(lambda: viewer.pump() or bool(window.file_window.dialogs), 10, "the consent dialog")
        (dialog,) = window.file_window.dialogs.values()
        dialog.deny_button.click()
        wait_until(
            lambda: (
                viewer.pump() or any(b.state is BatchState.REFUSED for b in tools.exchange.files.snapshot())
            ),
            10,
            "the refusal at the viewer",
        )
        assert list(folder.iterdir()) == []
    finally:
        viewer.close()
        window.close()
        window.deleteLater()  # destroyed now, on this thread, not by a later garbage collection
        viewer.pump()
