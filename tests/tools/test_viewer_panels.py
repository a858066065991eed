"""The viewer's tool windows (Qt offscreen) against a host over a real protocol session."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from opensupport.tools.urls import Favourite, FavouriteKind, Favourites
from opensupport.viewer.display import DisplayModel
from opensupport.viewer.tools.capture import ScreenCapture
from opensupport.viewer.tools.panels import ProcessPanel, SupportToolsMenu, SystemInfoPanel, UrlPanel
from opensupport.viewer.ui.window import ViewerWindow
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from tools_pair import ToolsPair


@pytest.fixture(scope="module")
def app() -> Iterator[QApplication]:
    instance = QApplication.instance() or QApplication([])
    assert isinstance(instance, QApplication)
    yield instance


def settle(tools: ToolsPair, app: QApplication) -> None:
    for _ in range(20):
        tools.pump()
        app.processEvents()


def test_system_info_panel_shows_the_real_memory(app: QApplication) -> None:
    tools = ToolsPair()
    panel = SystemInfoPanel(tools.client)
    panel.refresh()
    settle(tools, app)
    assert panel.info is not None
    assert panel.info["memory"]["total"] == psutil.virtual_memory().total
    titles = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert titles[:3] == ["Operating system", "CPU", "Memory"]
    off = ToolsPair({"system_info": False})
    refused = SystemInfoPanel(off.client)
    refused.refresh()
    settle(off, app)
    assert refused.info is None and refused.status.text().startswith("Refused")


def test_process_panel_sorts_and_ends_a_process_after_confirmation(app: QApplication) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        tools = ToolsPair()
        questions: list[str] = []
        answers = [False, True]

        def confirm(parent: QWidget, question: str) -> bool:
            questions.append(question)
            return answers.pop(0)

        panel = ProcessPanel(tools.client, confirm=confirm)
        panel.refresh()
        settle(tools, app)
        assert panel.select_pid(child.pid)
        # sortable by any column, numerically where it is a number
        panel.table.sortItems(0)
        pids = [int(v) for v in panel.column_values(0)]
        assert pids == sorted(pids) and child.pid in pids
        panel.table.sortItems(4, order=Qt.SortOrder.DescendingOrder)
        rss = [panel.table.item(r, 4).number for r in range(panel.table.rowCount())]  # type: ignore[attr-defined]
        assert rss == sorted(rss, reverse=True)
        # the agent says no: nothing happens; then yes: the process is ended
        assert panel.select_pid(child.pid)
        assert not panel.end_selected()
        settle(tools, app)
        assert child.poll() is None
        assert panel.end_selected()
        settle(tools, app)
        assert str(child.pid) in questions[0] and len(questions) == 2
        deadline = time.monotonic() + 5
        while psutil.pid_exists(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not psutil.pid_exists(child.pid)
        settle(tools, app)
        assert f"Process {child.pid} ended" in panel.status.text() or "processes" in panel.status.text()
        assert not panel.select_pid(child.pid)  # the list was refreshed without it
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


class FakeOpener:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def open_url(self, url: str) -> None:
        self.urls.append(url)

    def open_folder(self, path: str) -> None:
        raise AssertionError("no folder expected")

    def run_program(self, argv: Any) -> None:
        raise AssertionError("no program expected")


def test_url_panel_sends_urls_and_opens_favourites(app: QApplication) -> None:
    opener = FakeOpener()
    favourite = Favourite(7, FavouriteKind.URL, "Manual", "https://manual.example/")
    tools = ToolsPair(opener=opener, favourites=Favourites([favourite], opener))
    panel = UrlPanel(tools.client, [favourite])
    panel.url_edit.setText("ftp://files.example/")
    assert not panel.send_url() and "only http" in panel.status.text()
    panel.url_edit.setText("https://example.com/")
    assert panel.send_url()
    settle(tools, app)
    panel.open_favourite(panel.favourite_list.item(0))
    settle(tools, app)
    assert opener.urls == ["https://example.com/", "https://manual.example/"]
    assert panel.status.text() == "Opened on the customer's PC"


def test_tools_menu_shows_only_what_the_host_allows(app: QApplication) -> None:
    tools = ToolsPair({"process_info": False, "screen_recording": False})
    window = ViewerWindow(DisplayModel())
    capture = ScreenCapture(tools.client, lambda: None, lambda reason: None)
    menu = SupportToolsMenu(window, tools.client, capture)
    app.processEvents()
    visible = {key for key, action in menu.actions.items() if action.isVisible()}
    assert visible == {"system_info", "send_url", "screen_capture"}
    tools.client.on_allowed(frozenset({"process_info"}))  # type: ignore[misc]
    app.processEvents()
    assert {key for key, action in menu.actions.items() if action.isVisible()} == {"process_info"}
    panel = menu.show_processes()
    settle(tools, app)
    assert panel.status.text().startswith("Refused")  # the host still refuses what its options forbid
    window.close()
