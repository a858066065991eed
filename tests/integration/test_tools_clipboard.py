"""End to end: clipboard text both ways in a live session. The host applet runs with its window on the
Xvfb (Qt on xcb, the real X CLIPBOARD selection), the viewer offscreen in this process; xclip is the
customer's other program that copies and pastes."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from e2e import Viewer, XServer, wait_until
from opensupport.protocol import SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


def _x_clipboard(xserver: XServer) -> str | None:
    done = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"], env=xserver.env(), capture_output=True, timeout=10
    )
    return done.stdout.decode("utf-8") if done.returncode == 0 else None


def test_clipboard_text_both_ways(xserver: XServer, shared_relay: RelayProcess, qapp: Any) -> None:
    code = SessionCode.generate()
    viewer = Viewer(qapp, shared_relay.url, code)
    argv = [sys.executable, "-m", "opensupport", "host", "--server", shared_relay.url]
    argv += ["--code", f"{code.routing_id}-{code.secret}", "--display", xserver.display]
    env = {**xserver.env(), "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1"}
    host = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        session = viewer.session
        wait_until(lambda: viewer.pump() or session.link.established, 30, "the session")
        tools = session.tools
        wait_until(lambda: viewer.pump() or tools.allowed is not None, 10, "the host's tool.allowed")

        # The customer copies in another program: the agent's clipboard gets it.
        copied = "고객이 복사한 줄 — order #4512\n두 번째 줄"
        subprocess.run(
            ["xclip", "-selection", "clipboard", "-i"], input=copied.encode(), env=xserver.env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=10,
        )  # fmt: skip
        assert _x_clipboard(xserver) == copied
        wait_until(lambda: viewer.pump() or qapp.clipboard().text() == copied, 15, "the agent's clipboard")

        # The agent copies: the customer's X clipboard holds it (served by the applet), and another
        # program on the customer's desktop pastes it.
        sent = "상담원이 보낸 명령: sudo apt update"
        qapp.clipboard().setText(sent)
        wait_until(lambda: viewer.pump() or _x_clipboard(xserver) == sent, 15, "the customer's X clipboard")
        viewer.pump()
        assert qapp.clipboard().text() == sent  # not echoed back over the agent's own copy
    finally:
        if host.poll() is None:
            host.terminate()
            try:
                host.wait(timeout=10)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()
        viewer.close()
