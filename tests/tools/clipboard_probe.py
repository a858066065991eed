"""Run on a real X display: Qt's clipboard on the host side of a session, a separate X client (python-xlib)
as the other program that owns or reads the CLIPBOARD selection. Prints one JSON line of results."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from opensupport.protocol import NEED_DATA, ClipboardData, Role
from opensupport.protocol.testing import ConnectionPair
from opensupport.tools.clipboard import ClipboardContent, ClipboardSync, MemoryClipboard
from opensupport.tools.clipboard_qt import QtClipboard
from PySide6.QtWidgets import QApplication

HELPER = str(Path(__file__).with_name("x_selection.py"))


def other_program_owns(offers: dict[str, bytes]) -> subprocess.Popen[str]:
    """Start another X program that owns the CLIPBOARD with ``offers``; returns once it owns it."""
    args = [sys.executable, HELPER, "own", *(f"{k}={v.hex()}" for k, v in offers.items())]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "owned"
    return proc


def other_program_reads(app: QApplication) -> str:
    """Another X program reads the CLIPBOARD (our Qt serves it meanwhile)."""
    proc = subprocess.Popen([sys.executable, HELPER, "read"], stdout=subprocess.PIPE, text=True)
    while proc.poll() is None:
        app.processEvents()
        time.sleep(0.01)
    assert proc.stdout is not None
    return proc.stdout.read()


def main() -> int:
    app = QApplication(sys.argv)
    pair = ConnectionPair()
    pair.handshake()
    qt = QtClipboard()
    host = ClipboardSync(pair.host.send, qt)
    qt.set_on_change(host.local_changed)
    memory = MemoryClipboard()
    viewer = ClipboardSync(pair.viewer.send, memory)
    memory.on_change = viewer.local_changed

    def pump() -> None:
        for _ in range(5):
            pair.pump()
            for role, sync in ((Role.HOST, host), (Role.VIEWER, viewer)):
                session = pair.session(role)
                while (ev := session.next_event()) is not NEED_DATA:
                    pass
                for ev in pair.events[role]:
                    if isinstance(ev, ClipboardData):
                        sync.receive(ev)
                pair.events[role].clear()

    def spin(seconds: float, until: object = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            pump()
            if until is not None and until():  # type: ignore[operator]
                return
            time.sleep(0.01)

    out: dict[str, object] = {}
    # 1. another program copies text: the agent's clipboard gets it
    text = "외부 프로그램 text 1"
    owner = other_program_owns({"UTF8_STRING": text.encode(), "TEXT": text.encode()})
    spin(5, lambda: memory.content is not None)
    out["viewer_got"] = memory.content.text if memory.content else None
    # 2. the agent copies text: the customer's X clipboard holds it for any program
    memory.write(ClipboardContent(text="상담원 clipboard 2"))
    spin(2, lambda: qt.read() == ClipboardContent(text="상담원 clipboard 2"))
    owner.wait(timeout=5)  # it lost the selection to us and exits
    out["x_program_reads"] = other_program_reads(app)
    # 3. another program copies files (text/uri-list): the agent may paste them
    files = other_program_owns({"text/uri-list": b"file:///srv/share/a%20b.txt\r\nfile:///srv/share/dir\r\n"})
    spin(5, lambda: viewer.remote_files)
    out["viewer_remote_files"] = list(viewer.remote_files)
    out["host_announced"] = sorted(host.announced)
    files.kill()
    files.wait()
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
