"""End to end: 자동 재접속 / 수동 재부팅. The agent restarts the customer's PC from the viewer and the host
comes back into the same viewer session.

The machine itself is not restarted: the host's restart command is a small program that writes a file,
and the test then kills the host process (SIGKILL, as a power cycle would) and starts it again the way the
XDG autostart entry says (its Exec line, parsed), as the desktop session would after the restart. The
real host on Xvfb, the relay as a subprocess and the viewer offscreen in this process.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SolidWindow, Viewer, XServer, assert_screen_matches, wait_until
from opensupport.link import LinkState
from opensupport.protocol import ControlMessage, SessionCode
from relay_proc import RelayProcess

pytestmark = pytest.mark.xvfb


class Host:
    """``opensupport host --headless`` with its own XDG_CONFIG_HOME (where the autostart entry goes)."""

    def __init__(self, xserver: XServer, config_home: Path, argv: list[str]) -> None:
        env = {**xserver.env(), "PYTHONUNBUFFERED": "1", "XDG_CONFIG_HOME": str(config_home)}
        self.config_home = config_home
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def kill(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        out, err = self.proc.communicate(timeout=10)
        return out.decode(), err.decode()


def exec_argv(entry: Path) -> list[str]:
    """The Exec line of a Desktop Entry, split by the spec's quoting rules (as a desktop session would)."""
    lines = [line for line in entry.read_text(encoding="utf-8").splitlines() if line.startswith("Exec=")]
    assert len(lines) == 1, lines
    return [arg.replace("%%", "%") for arg in shlex.split(lines[0][len("Exec=") :])]


def exec_argv_from(credential: Path) -> list[str]:
    """The Exec line of the entry that names ``credential``."""
    return exec_argv(credential.parent.parent.parent / "autostart" / "opensupport-comeback.desktop")


@pytest.fixture
def hosts() -> Iterator[list[Host]]:
    made: list[Host] = []
    yield made
    for host in made:
        host.kill()


@pytest.fixture
def viewers() -> Iterator[list[Viewer]]:
    made: list[Viewer] = []
    yield made
    for viewer in made:
        viewer.close()


def _start(
    xserver: XServer, relay: RelayProcess, qapp: Any, tmp_path: Path, hosts: list[Host], viewers: list[Viewer],
    *extra: str,
) -> tuple[Viewer, Host, list[Any]]:  # fmt: skip
    code = SessionCode.generate()
    seen: list[Any] = []
    viewer = Viewer(qapp, relay.url, code, on_event=seen.append)
    viewers.append(viewer)
    argv = [sys.executable, "-m", "opensupport", "host", "--headless", "--server", relay.url]
    argv += ["--code", f"{code.routing_id}-{code.secret}", "--display", xserver.display, *extra]
    host = Host(xserver, tmp_path / "config", argv)
    hosts.append(host)
    session = viewer.session
    wait_until(lambda: viewer.pump() or session.link.established, 20, "the session")
    wait_until(lambda: viewer.pump() or session.tools.allowed is not None, 10, "the host's tool.allowed")
    return viewer, host, seen


def test_the_agent_restarts_the_pc_and_the_host_comes_back(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path, hosts: Any, viewers: Any
) -> None:
    marker = tmp_path / "rebooted"
    viewer, host, _ = _start(
        xserver, shared_relay, qapp, tmp_path, hosts, viewers, "--reboot-command", f"touch {marker}"
    )
    reboot = viewer.session.reboot
    assert reboot is not None
    wait_until(lambda: viewer.pump() or reboot.action.isVisible() or reboot.action.isVisibleTo(viewer.window), 5,
               "the restart entry")  # fmt: skip
    assert reboot.action.isVisible()
    window = SolidWindow(xserver.display, 60, 50, 200, 120, 0x22AA44)
    try:
        assert_screen_matches(xserver, viewer)

        # The agent says no to the confirmation: nothing is sent, nothing is written.
        questions: list[str] = []
        reboot.confirm = lambda parent, question: questions.append(question) or False
        assert reboot.restart() is False
        assert questions and "Restart the customer's PC" in questions[0]
        entry = tmp_path / "config" / "autostart" / "opensupport-comeback.desktop"
        assert not entry.exists()

        reboot.confirm = lambda parent, question: True
        assert reboot.restart() is True
        wait_until(lambda: viewer.pump() or reboot.answer is not None or reboot.refusal is not None, 20,
                   "the host's answer")  # fmt: skip
        assert reboot.refusal is None and reboot.answer is not None and reboot.answer["mode"] == "auto"
        assert marker.exists()  # the restart command ran (here instead of systemctl reboot)

        # The entry names a private credential; the secret is in neither the entry nor a command line.
        text = entry.read_text(encoding="utf-8")
        argv = exec_argv(entry)
        assert argv[-2] == "--comeback"
        credential = Path(argv[-1])
        assert credential.stat().st_mode & 0o777 == 0o600
        assert credential.parent.stat().st_mode & 0o777 == 0o700
        comeback = json.loads(credential.read_text())["code"]
        secret = comeback.rsplit("-", 1)[1]
        assert secret not in text and all(secret not in arg for arg in argv)
        first_code = viewer.session.code
        assert comeback.split("-")[0] != first_code.routing_id  # a fresh code, not the session's

        # The PC goes down: the host dies where the restart would kill it. The screen changes meanwhile.
        host.kill()
        link = viewer.session.link
        wait_until(
            lambda: viewer.pump() or (link.state is LinkState.WAITING and link.code.routing_id == comeback[:6]),
            10, "the viewer to wait under the comeback code",
        )  # fmt: skip
        assert "restarting" in viewer.window.connection_label.text()
        window.recolour(0xCC3322)
        # The desktop session starts the autostart entry after the restart.
        hosts.append(Host(xserver, tmp_path / "config", argv))
        assert_screen_matches(xserver, viewer, timeout=30)
        fb = viewer.framebuffer()
        assert fb is not None and tuple(fb[100, 150, :3]) == (0x22, 0x33, 0xCC)  # the new colour, BGR
        assert not entry.exists() and not credential.exists()  # one use: consumed at the start
        assert not viewer.session.ended.is_set()  # the same viewer session all along
        assert viewer.session.link.code.routing_id == comeback.split("-")[0]
        wait_until(lambda: viewer.pump() or viewer.window.connection_label.text().startswith("Connected"), 10,
                   "the status line")  # fmt: skip
    finally:
        window.close()


def test_manual_reboot_asks_the_customer_and_keeps_the_entry(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path, hosts: Any, viewers: Any
) -> None:
    marker = tmp_path / "rebooted"
    viewer, host, _ = _start(
        xserver, shared_relay, qapp, tmp_path, hosts, viewers,
        "--reboot-command", f"touch {marker}", "--options", '{"manual_reboot": true}',
    )  # fmt: skip
    reboot = viewer.session.reboot
    assert reboot is not None
    reboot.confirm = lambda parent, question: True
    assert reboot.restart()
    wait_until(lambda: viewer.pump() or reboot.answer is not None or reboot.refusal is not None, 20,
               "the host's answer")  # fmt: skip
    assert reboot.answer is not None and reboot.answer["mode"] == "manual"
    entry = tmp_path / "config" / "autostart" / "opensupport-comeback.desktop"
    assert entry.exists()
    assert not marker.exists()  # the host did not restart the PC itself
    assert viewer.session.link.established  # the session goes on until the customer restarts
    out, _ = host.kill()
    assert "Please restart this PC now" in out
    assert entry.exists()  # kept for the start after the customer's restart
    credential = Path(exec_argv(entry)[-1])
    assert credential.exists()


def test_auto_reconnect_off_refuses_and_hides(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path, hosts: Any, viewers: Any
) -> None:
    viewer, host, seen = _start(
        xserver, shared_relay, qapp, tmp_path, hosts, viewers, "--options", '{"auto_reconnect": false}'
    )
    reboot = viewer.session.reboot
    assert reboot is not None
    viewer.pump()
    assert "auto_reconnect" not in viewer.session.tools.allowed
    assert not reboot.action.isVisible()
    reboot.confirm = lambda parent, question: True
    assert reboot.restart() is False  # the viewer does not even ask
    # A modified viewer sends the request anyway: the host refuses it, typed, and writes nothing.
    session = viewer.session
    request = ControlMessage("reboot.request", json.dumps({"id": 77, "code": "ABCDEF-12345678"}).encode())
    session.link_thread.call(session.link.send, request)

    def refusal() -> dict[str, Any] | None:
        for event in seen:
            if isinstance(event, ControlMessage) and event.topic == "tool.refused":
                body = json.loads(event.data)
                if body.get("request") == "reboot.request":
                    return dict(body)
        return None

    wait_until(lambda: viewer.pump() or refusal() is not None, 10, "the refusal")
    answer = refusal()
    assert answer is not None
    assert answer["id"] == 77 and answer["tool"] == "auto_reconnect" and "switched off" in answer["reason"]
    assert not (tmp_path / "config").exists() or not any((tmp_path / "config").rglob("*.desktop"))
    assert session.link.established and host.proc.poll() is None


def _restart_and_kill(viewer: Viewer, host: Host, wait: float | None = None) -> tuple[Path, str]:
    """The agent restarts the PC; the host dies. Returns the entry's credential and the comeback code."""
    reboot = viewer.session.reboot
    assert reboot is not None
    if wait is not None:
        reboot.wait = wait
    reboot.confirm = lambda parent, question: True
    assert reboot.restart()
    wait_until(lambda: viewer.pump() or reboot.answer is not None, 20, "the host's answer")
    host.kill()
    credential = Path(exec_argv(next(Path(host.config_home, "autostart").iterdir()))[-1])
    return credential, json.loads(credential.read_text())["code"]


def test_a_wrong_code_on_the_comeback_is_counted_and_the_real_host_still_gets_in(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path, hosts: Any, viewers: Any
) -> None:
    viewer, host, _ = _start(
        xserver, shared_relay, qapp, tmp_path, hosts, viewers, "--reboot-command", "true"
    )
    credential, comeback = _restart_and_kill(viewer, host)
    link = viewer.session.link
    wait_until(
        lambda: viewer.pump() or link.code.routing_id == comeback.split("-")[0], 10, "the comeback wait"
    )
    # Someone who knows the comeback's routing id but not its secret tries to pose as the host.
    routing_id, secret = comeback.rsplit("-", 1)
    wrong = f"{routing_id}-{(int(secret) + 1) % 10**8:08d}"
    argv = [sys.executable, "-m", "opensupport", "host", "--headless", "--server", shared_relay.url]
    impostor = Host(xserver, tmp_path / "other", [*argv, "--code", wrong, "--display", xserver.display])
    _, err = impostor.proc.communicate(timeout=30)
    assert impostor.proc.returncode == 1 and "the session code is wrong" in err.decode()
    wait_until(lambda: viewer.pump() or link.guard.failures == 1, 10, "the viewer to count the wrong try")
    assert not viewer.session.ended.is_set()
    # The restarted customer's PC then comes back with the right code (and a changed screen).
    window = SolidWindow(xserver.display, 500, 300, 90, 70, 0x5566EE)
    try:
        hosts.append(Host(xserver, tmp_path / "config", exec_argv_from(credential)))
        assert_screen_matches(xserver, viewer, timeout=30)
        fb = viewer.framebuffer()
        assert fb is not None and tuple(fb[330, 540, :3]) == (0xEE, 0x66, 0x55)
    finally:
        window.close()
    assert not credential.exists()


def test_a_pc_that_does_not_come_back_ends_the_wait(
    xserver: XServer, shared_relay: RelayProcess, qapp: Any, tmp_path: Path, hosts: Any, viewers: Any
) -> None:
    viewer, host, _ = _start(
        xserver, shared_relay, qapp, tmp_path, hosts, viewers, "--reboot-command", "true"
    )
    _restart_and_kill(viewer, host, wait=2.0)
    wait_until(lambda: viewer.pump() or viewer.session.ended.is_set(), 30, "the viewer to give up")
    assert viewer.session.error is not None and "did not come back" in str(viewer.session.error)


def test_a_refused_restart_leaves_the_session_resumable(
    xserver: XServer, relay: RelayProcess, qapp: Any, tmp_path: Path, viewers: Any
) -> None:
    """The host refuses (this one was not started from its command line): the viewer disarms, and a
    dropped connection afterwards resumes the same session as before, under the same code."""
    from opensupport.host.policy import policy_from_options
    from opensupport.host.session import HostSession

    code = SessionCode.generate()
    viewer = Viewer(qapp, relay.url, code)
    viewers.append(viewer)
    host = HostSession(relay.url, code, display=xserver.display, policy=policy_from_options({}))
    host.start()
    try:
        session = viewer.session
        wait_until(lambda: viewer.pump() or session.tools.allowed is not None, 20, "the session")
        reboot = session.reboot
        assert reboot is not None
        reboot.confirm = lambda parent, question: True
        assert reboot.restart()
        wait_until(lambda: viewer.pump() or reboot.refusal is not None, 10, "the refusal")
        assert "command line" in reboot.refusal
        assert "was not restarted" in viewer.window.connection_label.text()

        relay.kill()  # the connection drops under both sides
        relay.start()
        wait_until(lambda: viewer.pump() or session.link.resumes >= 1, 30, "the session to resume")
        assert session.link.code == code and not session.ended.is_set()
        window = SolidWindow(xserver.display, 200, 150, 100, 60, 0x3399CC)
        try:
            assert_screen_matches(xserver, viewer)
        finally:
            window.close()
    finally:
        host.stop()
        host.close()
