"""Chat, files and clipboard together in one session, as the session loops will drive them."""

from __future__ import annotations

import os
from pathlib import Path

from opensupport.host.policy import HostPolicy
from opensupport.host.tools.exchange import HostExchange
from opensupport.protocol import NEED_DATA, Event, Role
from opensupport.protocol.testing import ConnectionPair
from opensupport.server.options import defaults
from opensupport.tools.clipboard import ClipboardContent, MemoryClipboard
from opensupport.tools.files import BatchState
from opensupport.viewer.tools.exchange import ViewerExchange


def drive(pair: ConnectionPair, host: HostExchange, viewer: ViewerExchange) -> None:
    for _ in range(10_000):
        host.pump()
        viewer.pump()
        moved = 0
        for sender, receiver in ((Role.VIEWER, Role.HOST), (Role.HOST, Role.VIEWER)):
            for record in pair.session(sender).data_to_send():
                moved += 1
                session = pair.session(receiver)
                session.receive_data(record)
                while (event := session.next_event()) is not NEED_DATA:
                    assert isinstance(event, Event)
                    if receiver is Role.HOST:
                        for answer in host.handle(event) or []:
                            pair.host.send(answer)
                    else:
                        viewer.handle(event)
        if not moved:
            return


def test_one_session_with_everything(tmp_path: Path) -> None:
    customer, agent = tmp_path / "customer", tmp_path / "agent"
    customer.mkdir()
    agent.mkdir()
    pair = ConnectionPair()
    pair.handshake()
    host_board, viewer_board = MemoryClipboard(), MemoryClipboard()
    host = HostExchange(
        pair.host, HostPolicy(defaults()), download_dir=customer, consent_answer=True, clipboard=host_board
    )
    viewer = ViewerExchange(pair.viewer, download_dir=agent, clipboard=viewer_board)
    host_board.on_change = host.clipboard.local_changed
    viewer_board.on_change = viewer.clipboard.local_changed
    (agent / "patch.zip").write_bytes(os.urandom(2_500_000))
    (customer / "error.log").write_bytes(b"E: it broke\n" * 1000)

    viewer.chat.say("파일 보내드릴게요")
    sent = viewer.files.send_paths([agent / "patch.zip"])
    viewer_board.write(ClipboardContent(text="C:\\fix\\run.bat"))
    host_board.write(ClipboardContent(files=(str(customer / "error.log"),)))
    drive(pair, host, viewer)
    host.chat.say("받았어요")
    viewer.clipboard.paste_files(agent)
    drive(pair, host, viewer)

    assert sent.state is BatchState.DONE
    assert (customer / "patch.zip").read_bytes() == (agent / "patch.zip").read_bytes()
    assert host_board.content == ClipboardContent(text="C:\\fix\\run.bat")
    assert (agent / "error.log").read_bytes() == (customer / "error.log").read_bytes()
    transcript = host.chat.chat.transcript.as_text()
    assert "상담원: 파일 보내드릴게요" in transcript and "고객: 받았어요" in transcript
    assert [x.text for x in viewer.chat.transcript.lines] == ["파일 보내드릴게요", "받았어요"]
    host.close()
    viewer.close()
