"""Clipboard text both ways (on a real X screen with real selection owners), and Ctrl+C / Ctrl+V files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from opensupport.host.policy import FILE_TRANSFER_CONSENT, HostPolicy
from opensupport.host.tools.clipboard import HostClipboard, clipboard_rules
from opensupport.host.tools.files import HostFileGate
from opensupport.protocol import ClipboardData, Role
from opensupport.server.options import defaults
from opensupport.tools.clipboard import (
    ClipboardContent,
    ClipboardSync,
    MemoryClipboard,
    decode_uri_list,
    encode_uri_list,
)
from opensupport.tools.files import BatchState, Loopback

PROBE = Path(__file__).with_name("clipboard_probe.py")


def test_text_both_ways_through_the_real_x_clipboard(xscreen) -> None:  # type: ignore[no-untyped-def]
    """Qt's clipboard on the customer's X screen; other X programs (python-xlib, own processes) own and
    read the CLIPBOARD selection."""
    env = {**xscreen.env(), "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["viewer_got"] == "외부 프로그램 text 1"  # customer's program -> agent
    assert out["x_program_reads"] == "상담원 clipboard 2"  # agent -> any program on the customer's screen
    assert out["viewer_remote_files"] == ["/srv/share/a b.txt", "/srv/share/dir"]
    assert out["host_announced"] == ["/srv/share/a b.txt", "/srv/share/dir"]


def wire(options: dict[str, bool], customer: Path, agent: Path):  # type: ignore[no-untyped-def]
    policy = HostPolicy({**options, FILE_TRANSFER_CONSENT: False})
    host_board, viewer_board = MemoryClipboard(), MemoryClipboard()
    gate = HostFileGate(policy)
    loop = Loopback(customer, agent, host_gate=gate)
    host_sync = ClipboardSync(loop.pair.host.send, host_board, files=loop.host, **clipboard_rules(policy))
    gate.announced = lambda: host_sync.announced
    viewer_sync = ClipboardSync(loop.pair.viewer.send, viewer_board, files=loop.viewer)
    host_board.on_change = host_sync.local_changed
    viewer_board.on_change = viewer_sync.local_changed
    handler = HostClipboard(host_sync)

    def run() -> None:
        for _ in range(4):
            loop.run()
            for event in loop.events[Role.HOST]:
                for answer in handler.handle(event) or []:
                    loop.pair.host.send(answer)
            for event in loop.events[Role.VIEWER]:
                if isinstance(event, ClipboardData):
                    viewer_sync.receive(event)
            loop.events[Role.HOST].clear()
            loop.events[Role.VIEWER].clear()

    return loop, host_board, viewer_board, host_sync, viewer_sync, handler, run


def test_text_both_ways_without_echo(tmp_path: Path) -> None:
    loop, host_board, viewer_board, _host_sync, viewer_sync, _handler, run = wire(
        defaults(), tmp_path, tmp_path
    )
    sent: list[object] = []
    original = loop.pair.viewer.send
    loop.pair.viewer.send = lambda e: (sent.append(e), original(e))[1]  # type: ignore[method-assign]
    viewer_sync._send = loop.pair.viewer.send
    viewer_board.write(ClipboardContent(text="비밀번호 아님"))
    run()
    assert host_board.content == ClipboardContent(text="비밀번호 아님")
    host_board.write(ClipboardContent(text="from the customer"))
    run()
    assert viewer_board.content == ClipboardContent(text="from the customer")
    assert len(sent) == 1  # the viewer did not echo the customer's text back


def test_view_only_agent_gets_no_clipboard(tmp_path: Path) -> None:
    loop, host_board, viewer_board, _host_sync, _viewer_sync, handler, run = wire(
        {**defaults(), "no_control": True}, tmp_path, tmp_path
    )
    host_board.write(ClipboardContent(text="customer secret"))
    viewer_board.write(ClipboardContent(text="agent text"))
    loop.pair.viewer.send(ClipboardData("text/plain;charset=utf-8", b"forced by a modified viewer"))
    run()
    assert viewer_board.content == ClipboardContent(text="agent text")
    assert host_board.content == ClipboardContent(text="customer secret")
    assert handler.refusals == 2


def test_ctrl_c_ctrl_v_files_from_customer_to_agent(tmp_path: Path) -> None:
    customer, agent, elsewhere = tmp_path / "c", tmp_path / "a", tmp_path / "a" / "current"
    customer.mkdir()
    elsewhere.mkdir(parents=True)
    (customer / "copied.txt").write_bytes(b"copied on purpose")
    (customer / "Folder").mkdir()
    (customer / "Folder" / "in.txt").write_bytes(b"inside")
    (customer / "not-copied.txt").write_bytes(b"private")
    # fetch_files off: only what the customer copied may be taken
    loop, host_board, _, _host_sync, viewer_sync, _, run = wire(
        {**defaults(), "fetch_files": False}, customer, agent
    )
    host_board.write(ClipboardContent(files=(str(customer / "copied.txt"), str(customer / "Folder"))))
    run()
    assert viewer_sync.remote_files == (str(customer / "copied.txt"), str(customer / "Folder"))
    viewer_sync.paste_files(elsewhere)
    stolen = loop.viewer.request(str(customer / "not-copied.txt"), elsewhere)
    run()
    assert (elsewhere / "copied.txt").read_bytes() == b"copied on purpose"
    assert (elsewhere / "Folder" / "in.txt").read_bytes() == b"inside"
    assert (
        not (elsewhere / "not-copied.txt").exists() and "switched off" in loop.viewer.request_errors[stolen]
    )
    assert all(b.state is BatchState.DONE for b in loop.viewer.batches.values())


def test_ctrl_c_ctrl_v_files_off(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    loop, host_board, _, _, viewer_sync, handler, run = wire(
        {**defaults(), "clipboard_file_transfer": False}, tmp_path, tmp_path
    )
    host_board.write(ClipboardContent(files=(str(tmp_path / "a.txt"),)))
    loop.pair.viewer.send(ClipboardData("text/uri-list", encode_uri_list([str(tmp_path / "a.txt")])))
    run()
    assert viewer_sync.remote_files == () and handler.refusals == 1


def test_uri_list_parsing() -> None:
    data = encode_uri_list(["/tmp/a b#c.txt", "/tmp/한글.txt"])
    assert data == b"file:///tmp/a%20b%23c.txt\r\nfile:///tmp/%ED%95%9C%EA%B8%80.txt\r\n"
    assert decode_uri_list(data) == ["/tmp/a b#c.txt", "/tmp/한글.txt"]
    hostile = (
        b"# comment\r\nhttp://evil/x\r\nfile://otherhost/etc/passwd\r\nfile:///ok%00bad\r\nfile:///fine\r\n"
    )
    assert decode_uri_list(hostile) == ["/fine"]
    assert os.sep == "/"


def test_customer_pastes_what_the_agent_copied_and_nothing_else(tmp_path: Path) -> None:
    customer, agent = tmp_path / "c", tmp_path / "a"
    customer.mkdir()
    agent.mkdir()
    (agent / "fix.reg").write_bytes(b"REGEDIT4")
    (agent / "agent-private.txt").write_bytes(b"the agent's own file")
    loop, _, viewer_board, host_sync, viewer_sync, _, run = wire(defaults(), customer, agent)
    loop.viewer._gate.announced = lambda: viewer_sync.announced  # type: ignore[attr-defined]
    viewer_board.write(ClipboardContent(files=(str(agent / "fix.reg"),)))
    run()
    assert host_sync.remote_files == (str(agent / "fix.reg"),)
    host_sync.paste_files(customer)  # the customer presses Ctrl+V
    # a hostile host asks the agent's viewer for a file the agent never offered
    hostile = loop.host.request(str(agent / "agent-private.txt"), customer)
    run()
    assert (customer / "fix.reg").read_bytes() == b"REGEDIT4"
    assert not (customer / "agent-private.txt").exists()
    assert "did not offer" in loop.host.request_errors[hostile]
