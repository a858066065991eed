"""Browsing the customer's folders for 파일 가져오기, over a real session, with the option enforced."""

from __future__ import annotations

import json
import os
from pathlib import Path

from opensupport.host.policy import HostPolicy
from opensupport.host.tools.exchange import HostExchange
from opensupport.protocol import ControlMessage
from opensupport.protocol.testing import ConnectionPair
from opensupport.server.options import defaults
from opensupport.tools.files import BatchState, list_folder
from opensupport.tools.messages import MAX_JSON_SIZE, control
from opensupport.viewer.tools.exchange import ViewerExchange
from test_exchange import drive


def setup(tmp_path: Path, **options: bool) -> tuple[ConnectionPair, HostExchange, ViewerExchange, Path]:
    customer, agent = tmp_path / "customer", tmp_path / "agent"
    customer.mkdir()
    agent.mkdir()
    pair = ConnectionPair()
    pair.handshake()
    host = HostExchange(
        pair.host, HostPolicy({**defaults(), **options}), download_dir=customer, consent_answer=True
    )
    viewer = ViewerExchange(pair.viewer, download_dir=agent)
    return pair, host, viewer, customer


def test_browse_then_fetch(tmp_path: Path) -> None:
    pair, host, viewer, customer = setup(tmp_path)
    docs = customer / "문서"
    docs.mkdir()
    (docs / "보고서.hwp").write_bytes(b"HWP" * 100)
    (customer / "a.txt").write_bytes(b"a")
    (customer / "outside-link").symlink_to("/etc")
    viewer.browser.open(str(customer))
    drive(pair, host, viewer)
    listing = viewer.browser.listing
    assert listing is not None and listing.complete and listing.path == str(customer)
    assert [(e["name"], e["folder"]) for e in listing.entries] == [
        ("문서", True),
        ("a.txt", False),
        ("outside-link", False),
    ]
    assert listing.entries[2].get("link") is True
    viewer.browser.open(listing.entries[0]["path"])
    drive(pair, host, viewer)
    (hwp,) = viewer.browser.listing.entries  # type: ignore[union-attr]
    assert hwp["size"] == 300
    viewer.files.request(hwp["path"])
    drive(pair, host, viewer)
    assert (tmp_path / "agent" / "보고서.hwp").read_bytes() == b"HWP" * 100
    assert all(b.state is BatchState.DONE for b in viewer.files.batches.values())


def test_browsing_is_refused_when_fetch_is_off(tmp_path: Path) -> None:
    pair, host, viewer, customer = setup(tmp_path, fetch_files=False)
    viewer.browser.open(str(customer))
    drive(pair, host, viewer)
    assert viewer.browser.listing is None and "switched off" in viewer.browser.error


def test_large_folders_come_in_pages_that_fit_a_control_message(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for i in range(400):
        (big / f"file-{i:04d}-{'x' * 40}.txt").write_bytes(b"")
    first = list_folder(1, str(big))
    page = json.loads(first.data)
    assert len(first.data) <= MAX_JSON_SIZE and page["next"] is not None
    pair, host, viewer, _ = setup(tmp_path)
    viewer.browser.open(str(big))
    drive(pair, host, viewer)
    listing = viewer.browser.listing
    assert listing is not None and listing.complete
    assert sorted(e["name"] for e in listing.entries) == sorted(os.listdir(big))


def test_malformed_listing_requests_are_refused(tmp_path: Path) -> None:
    _, host, _, _ = setup(tmp_path)
    answers = host.handle(ControlMessage("files.list", b"not json"))
    assert answers and json.loads(answers[0].data)["request"] == "files.list"  # type: ignore[attr-defined]
    answers = host.handle(control("files.list", {"id": 1, "path": str(tmp_path / "nope")}))
    assert answers and "cannot list" in json.loads(answers[0].data)["reason"]  # type: ignore[attr-defined]


def test_the_panel_browses_and_fetches(tmp_path: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from opensupport.viewer.tools.file_panel import FileTransferPanel
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    pair, host, viewer, customer = setup(tmp_path)
    (customer / "Logs").mkdir()
    (customer / "Logs" / "app.log").write_bytes(b"log line\n" * 50)
    panel = FileTransferPanel(viewer.files, browser=viewer.browser)
    panel.show()
    panel.browse(str(customer))
    drive(pair, host, viewer)
    app.processEvents()
    assert [panel.remote_list.item(i).text() for i in range(panel.remote_list.count())] == ["[Logs]"]
    panel._open_item(panel.remote_list.item(0))  # double-click the folder
    drive(pair, host, viewer)
    app.processEvents()
    assert panel.remote_path.text() == str(customer / "Logs")
    assert panel.remote_list.item(0).text() == "app.log  450 B"
    panel.remote_list.setCurrentRow(0)
    panel.fetch_button.click()
    drive(pair, host, viewer)
    assert (tmp_path / "agent" / "app.log").read_bytes() == b"log line\n" * 50
    panel.up_button.click()
    drive(pair, host, viewer)
    app.processEvents()
    assert panel.remote_path.text() == str(customer)
