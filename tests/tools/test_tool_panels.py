"""The chat panel, the file-transfer panel and the host's consent dialog, offscreen, over real sessions."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path

import pytest
from opensupport.host.policy import HostPolicy
from opensupport.host.tools.chat import HostChat
from opensupport.host.tools.file_window import HostFileWindow
from opensupport.host.tools.files import HostFileGate
from opensupport.protocol import ChatMessage, Role
from opensupport.protocol.testing import ConnectionPair
from opensupport.server.options import defaults
from opensupport.tools.chat import Chat
from opensupport.tools.files import BatchState, Loopback
from opensupport.viewer.tools.file_panel import ChatPanel, FileTransferPanel
from PySide6.QtWidgets import QApplication


@pytest.fixture(scope="module")
def app() -> Iterator[QApplication]:
    instance = QApplication.instance() or QApplication([])
    assert isinstance(instance, QApplication)
    yield instance


def test_chat_panel_sends_and_shows_both_sides(app: QApplication) -> None:
    pair = ConnectionPair()
    pair.handshake()
    viewer_chat = Chat(Role.VIEWER, pair.viewer.send)
    host = HostChat(HostPolicy(defaults()), Chat(Role.HOST, pair.host.send))
    panel = ChatPanel(viewer_chat)
    panel.show()
    panel.input.setText("안녕하세요 <b>not bold</b>")
    panel.send_button.click()
    pair.pump()
    for event in pair.events[Role.HOST]:
        host.handle(event)
    host.say("프린터가 안 돼요")
    pair.pump()
    for event in pair.events[Role.VIEWER]:
        if isinstance(event, ChatMessage):
            viewer_chat.receive(event)
    app.processEvents()
    shown = panel.log.toPlainText().splitlines()
    assert shown[0].endswith("상담원: 안녕하세요 <b>not bold</b>")
    assert shown[1].endswith("고객: 프린터가 안 돼요")
    assert [x.text for x in host.chat.transcript.lines] == ["안녕하세요 <b>not bold</b>", "프린터가 안 돼요"]
    panel.apply_allowed({"send_files"})
    assert panel.isHidden()
    panel.apply_allowed({"text_chat"})
    assert panel.isVisible()


def test_file_panel_progress_speed_eta_and_cancel(app: QApplication, tmp_path: Path) -> None:
    agent, customer = tmp_path / "agent", tmp_path / "customer"
    agent.mkdir()
    customer.mkdir()
    big = agent / "install.iso"
    big.write_bytes(os.urandom(6_000_000))
    clock = [0.0]
    loop = Loopback(
        customer,
        agent,
        host_gate=HostFileGate(HostPolicy({**defaults(), "mobile_file_transfer_consent": False})),
    )
    loop.viewer._clock = lambda: clock[0]
    panel = FileTransferPanel(loop.viewer)
    panel.show()
    panel.send_paths([big])
    for step in range(1, 4):
        clock[0] = float(step)
        loop.run(rounds=1)
    panel.table.refresh()
    row = panel.table.row_texts(0)
    assert row[0] == "↑ 보냄" and row[1].startswith("install.iso")
    assert row[2].endswith("/ 6.0 MB") and not row[2].startswith("0 B")
    assert row[3].endswith("MB/s") and row[4] not in ("", "--:--") and row[5] == "전송 중"
    panel.table.selectRow(0)
    panel.cancel_button.click()
    loop.run()
    panel.table.refresh()
    assert panel.table.row_texts(0)[5].startswith("취소됨")
    assert os.listdir(customer) == []  # the partial file went with the cancel
    panel.apply_allowed({"fetch_files"})
    assert panel.send_button.isHidden() and panel.fetch_button.isVisible()
    panel.apply_allowed({"text_chat"})
    assert panel.isHidden()


def test_host_consent_dialog_no_then_yes(app: QApplication, tmp_path: Path) -> None:
    agent, customer = tmp_path / "agent", tmp_path / "customer"
    agent.mkdir()
    customer.mkdir()
    (agent / "tool.exe").write_bytes(b"MZ" + os.urandom(50_000))
    loop = Loopback(customer, agent, host_gate=HostFileGate(HostPolicy(defaults())))
    window = HostFileWindow(loop.host, can_send=False)
    window.show()
    first = loop.viewer.send_paths([agent / "tool.exe"])
    loop.run()
    app.processEvents()
    (dialog,) = window.dialogs.values()
    assert "tool.exe" in dialog.message.text() and dialog.isVisible()
    dialog.deny_button.click()
    loop.run()
    app.processEvents()
    assert first.state is BatchState.REFUSED and os.listdir(customer) == []
    second = loop.viewer.send_paths([agent / "tool.exe"])
    loop.run()
    app.processEvents()
    (dialog,) = window.dialogs.values()
    dialog.allow_button.click()
    loop.run()
    app.processEvents()
    assert second.state is BatchState.DONE
    assert (customer / "tool.exe").read_bytes() == (agent / "tool.exe").read_bytes()
    window.table.refresh()
    assert [window.table.row_texts(r)[5] for r in range(2)] == [
        "거부됨: the customer refused the transfer",
        "완료",
    ]
    assert window.send_button.isHidden()


def test_host_window_pastes_what_the_agent_copied_and_host_chat_checks_the_option(
    app: QApplication, tmp_path: Path
) -> None:
    from opensupport.host.tools.exchange import HostExchange
    from opensupport.tools.clipboard import ClipboardContent, MemoryClipboard
    from opensupport.tools.qt_widgets import ChatView
    from opensupport.viewer.tools.exchange import ViewerExchange
    from test_exchange import drive

    agent, customer = tmp_path / "agent", tmp_path / "customer"
    agent.mkdir()
    customer.mkdir()
    (agent / "driver.inf").write_bytes(b"[Version]")
    pair = ConnectionPair()
    pair.handshake()
    policy = HostPolicy({**defaults(), "text_chat": False})
    host = HostExchange(pair.host, policy, download_dir=customer, consent_answer=True)
    board = MemoryClipboard()
    viewer = ViewerExchange(pair.viewer, download_dir=agent, clipboard=board)
    board.on_change = viewer.clipboard.local_changed
    board.write(ClipboardContent(files=(str(agent / "driver.inf"),)))
    drive(pair, host, viewer)
    window = HostFileWindow(host.files, can_send=False, clipboard=host.clipboard)
    window.paste_button.click()  # the customer presses 붙여넣기
    drive(pair, host, viewer)
    assert (customer / "driver.inf").read_bytes() == b"[Version]"
    chat = ChatView(host.chat.chat, say=host.chat.say)
    chat.input.setText("hello")
    chat.send_button.click()
    app.processEvents()
    assert "switched off" in chat.status.text() and host.chat.chat.transcript.lines == []
