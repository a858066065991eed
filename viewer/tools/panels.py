"""The viewer's support-tool windows (Qt): system information, the process table, URL and favourites,
and the "Tools" menu that shows only what the host allows.

Answers come from the session's thread; each panel relays them to the GUI thread through a signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensupport.tools.messages import ToolError
from opensupport.tools.urls import Favourite
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .capture import ScreenCapture
from .client import ToolClient

if TYPE_CHECKING:
    from opensupport.viewer.ui.window import ViewerWindow

__all__ = ["ProcessPanel", "SupportToolsMenu", "SystemInfoPanel", "UrlPanel"]

#: Asks the agent a yes/no question (a message box; tests answer it themselves).
Confirm = Callable[[QWidget, str], bool]


def ask(parent: QWidget, question: str) -> bool:
    """A Yes/No message box; True for Yes."""
    answer = QMessageBox.question(parent, "Confirm", question)
    return answer == QMessageBox.StandardButton.Yes


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return str(n)


class _Relay(QObject):
    answered = Signal(object, object)


class SystemInfoPanel(QDialog):
    """The customer PC's system information as a tree."""

    def __init__(self, client: ToolClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("System information")
        self.client = client
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Item", "Value"])
        self.status = QLabel()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(self.status)
        layout.addWidget(refresh)
        self._relay = _Relay()
        self._relay.answered.connect(self._show)
        self.info: dict[str, Any] | None = None
        self.resize(600, 500)

    def refresh(self) -> None:
        """Ask the host again."""
        self.status.setText("Asking the customer's PC…")
        self.client.system_info(self._relay.answered.emit)

    def _show(self, answer: dict[str, Any] | None, refusal: str | None) -> None:
        if refusal is not None or answer is None:
            self.status.setText(f"Refused: {refusal}")
            return
        info = self.info = answer["info"]
        self.tree.clear()
        mem, cpu, osinfo = info["memory"], info["cpu"], info["os"]
        rows: list[tuple[str, list[tuple[str, str]]]] = [
            ("Operating system", [(k, str(v)) for k, v in osinfo.items()]),
            ("CPU", [(k, str(v)) for k, v in cpu.items()]),
            ("Memory", [(k, _size(v) if k != "percent" else f"{v} %") for k, v in mem.items()]),
            ("Uptime", [("uptime", f"{info['uptime_s'] // 3600} h {info['uptime_s'] // 60 % 60} min")]),
            ("Users", [("logged in as", str(info["user"]))] + [(u["name"], str(u["terminal"])) for u in info["users"]]),
            ("Disks", [(d["mountpoint"], f"{_size(d['used'])} / {_size(d['total'])} ({d['fstype']})") for d in info["disks"]]),
            ("Network", [(n["name"], ", ".join(a["address"] for a in n["addresses"]) or "—") for n in info["network"]]),
        ]  # fmt: skip
        for title, items in rows:
            top = QTreeWidgetItem([title, ""])
            for key, value in items:
                top.addChild(QTreeWidgetItem([key, value]))
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        self.tree.resizeColumnToContents(0)
        self.status.setText("Cut short to fit" if info.get("truncated") else "")


class _NumberItem(QTableWidgetItem):
    """Sorts by its number, not its text."""

    def __init__(self, text: str, number: float) -> None:
        super().__init__(text)
        self.number = number
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _NumberItem):
            return self.number < other.number
        return super().__lt__(other)


class ProcessPanel(QDialog):
    """The customer's processes: sortable by any column, end the selected one after a confirmation."""

    COLUMNS = ("PID", "Name", "User", "CPU %", "Memory")

    def __init__(self, client: ToolClient, parent: QWidget | None = None, *, confirm: Confirm = ask) -> None:
        super().__init__(parent)
        self.setWindowTitle("Processes")
        self.client = client
        self.confirm = confirm
        self.rows: list[dict[str, Any]] = []
        self._pages: list[dict[str, Any]] = []
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSortingEnabled(True)
        self.status = QLabel()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        self.end_button = QPushButton("End process…")
        self.end_button.clicked.connect(self.end_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(refresh)
        buttons.addWidget(self.end_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._relay = _Relay()
        self._relay.answered.connect(self._page)
        self._end_relay = _Relay()
        self._end_relay.answered.connect(self._ended)
        self.resize(700, 600)

    def refresh(self) -> None:
        """Fetch the whole list (page by page)."""
        self._pages = []
        self.status.setText("Asking the customer's PC…")
        self.client.processes(self._relay.answered.emit, sort="cpu", offset=0)

    def _page(self, answer: dict[str, Any] | None, refusal: str | None) -> None:
        if refusal is not None or answer is None:
            self.status.setText(f"Refused: {refusal}")
            return
        self._pages.append(answer)
        got = answer["offset"] + len(answer["processes"])
        if answer["processes"] and got < answer["total"]:
            self.client.processes(self._relay.answered.emit, sort="cpu", offset=got)
            return
        self.rows = [row for page in self._pages for row in page["processes"]]
        self._fill()
        self.status.setText(f"{len(self.rows)} processes")

    def _fill(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            items = (
                _NumberItem(str(row["pid"]), row["pid"]),
                QTableWidgetItem(row["name"]),
                QTableWidgetItem(row["user"] or ""),
                _NumberItem(f"{row['cpu']:.1f}", row["cpu"]),
                _NumberItem(_size(row["rss"]), row["rss"]),
            )
            items[0].setData(Qt.ItemDataRole.UserRole, row)
            for c, item in enumerate(items):
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)

    def column_values(self, column: int) -> list[str]:
        """The texts of one column, top to bottom (as the agent sees the order)."""
        return [self._item(r, column).text() for r in range(self.table.rowCount())]

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        assert item is not None  # every cell is filled by _fill
        return item

    def select_pid(self, pid: int) -> bool:
        """Select the row of ``pid``; False if it is not listed."""
        for r in range(self.table.rowCount()):
            if self._item(r, 0).data(Qt.ItemDataRole.UserRole)["pid"] == pid:
                self.table.selectRow(r)
                return True
        return False

    def end_selected(self) -> bool:
        """Ask the agent, then end the selected process; False if nothing was sent."""
        selected = self.table.selectionModel().selectedRows()
        if not selected:
            return False
        row = self._item(selected[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        pending = self.client.prepare_end(row, self._end_relay.answered.emit)
        if not self.confirm(self, pending.question):
            return False
        pending.confirm()
        self.status.setText(f"Ending {row['name']} ({row['pid']})…")
        return True

    def _ended(self, answer: dict[str, Any] | None, refusal: str | None) -> None:
        if refusal is not None or answer is None:
            self.status.setText(f"Refused: {refusal}")
        elif answer["ended"]:
            self.status.setText(f"Process {answer['pid']} ended")
            self.refresh()
        else:
            self.status.setText(f"Process {answer['pid']} not ended: {answer['error']}")


class UrlPanel(QDialog):
    """Send a URL to the customer's browser, or open one of the agent's favourites by a double click."""

    def __init__(
        self, client: ToolClient, favourites: Sequence[Favourite] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("URL and favourites")
        self.client = client
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://")
        send = QPushButton("Open on the customer's PC")
        send.clicked.connect(self.send_url)
        self.favourite_list = QListWidget()
        for fav in favourites:
            item = QListWidgetItem(f"{fav.label}  ({fav.kind.value}: {fav.target})")
            item.setData(Qt.ItemDataRole.UserRole, fav.id)
            self.favourite_list.addItem(item)
        self.favourite_list.itemDoubleClicked.connect(self.open_favourite)
        self.status = QLabel()
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.url_edit, 1)
        row.addWidget(send)
        layout.addLayout(row)
        layout.addWidget(QLabel("Favourites (double-click to open):"))
        layout.addWidget(self.favourite_list)
        layout.addWidget(self.status)
        self._relay = _Relay()
        self._relay.answered.connect(self._answered)
        self.url_edit.setEnabled(client.allows("send_url"))
        self.favourite_list.setEnabled(client.allows("favourites"))

    def send_url(self) -> bool:
        """Send the typed URL; False (with the reason shown) if it is not one the host would open."""
        try:
            self.client.open_url(self.url_edit.text(), self._relay.answered.emit)
        except ToolError as exc:
            self.status.setText(str(exc))
            return False
        self.status.setText("Sent")
        return True

    def open_favourite(self, item: QListWidgetItem) -> None:
        """Open a favourite on the customer's PC (one click in the list's sense: a double click)."""
        self.client.open_favourite(int(item.data(Qt.ItemDataRole.UserRole)), self._relay.answered.emit)

    def _answered(self, answer: dict[str, Any] | None, refusal: str | None) -> None:
        self.status.setText(f"Refused: {refusal}" if refusal is not None else "Opened on the customer's PC")


class SupportToolsMenu(QObject):
    """The "Tools" menu of the viewer's toolbar; each entry is visible only while the host allows it."""

    allowed_changed = Signal(object)

    def __init__(
        self,
        window: ViewerWindow,
        client: ToolClient,
        capture: ScreenCapture,
        favourites: Sequence[Favourite] = (),
    ) -> None:
        super().__init__(window)
        self.window, self.client, self.capture = window, client, capture
        self.favourites = list(favourites)
        self.menu = QMenu("Tools", window)
        self.actions: dict[str, Any] = {}
        for key, label, slot in (
            ("system_info", "System information", self.show_system_info),
            ("process_info", "Processes", self.show_processes),
            ("send_url", "Send URL / favourites", self.show_urls),
            ("screen_capture", "Screenshot…", self.screenshot),
            ("screen_recording", "Record…", self.toggle_recording),
        ):
            action = self.menu.addAction(label)
            action.triggered.connect(slot)
            self.actions[key] = action
        self.menu.addAction("Play a recording…").triggered.connect(self.play_recording)
        button = QToolButton()
        button.setText("Tools")
        button.setMenu(self.menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        window.toolbar.addWidget(button)
        self._panels: list[QWidget] = []
        self.allowed_changed.connect(self.follow, Qt.ConnectionType.QueuedConnection)
        previous = client.on_allowed

        def on_allowed(allowed: frozenset[str]) -> None:
            if previous is not None:
                previous(allowed)
            self.allowed_changed.emit(allowed)

        client.on_allowed = on_allowed
        self.follow(client.allowed or frozenset())

    def follow(self, allowed: frozenset[str]) -> None:
        """Show the entries the host allows, hide the others."""
        for key, action in self.actions.items():
            visible = key in allowed or (key == "send_url" and "favourites" in allowed)
            action.setVisible(visible)

    def _open(self, panel: QWidget) -> QWidget:
        self._panels.append(panel)
        panel.show()
        return panel

    def show_system_info(self) -> SystemInfoPanel:
        """Open the system information window and ask the host."""
        panel = SystemInfoPanel(self.client, self.window)
        self._open(panel)
        panel.refresh()
        return panel

    def show_processes(self) -> ProcessPanel:
        """Open the process table and ask the host."""
        panel = ProcessPanel(self.client, self.window)
        self._open(panel)
        panel.refresh()
        return panel

    def show_urls(self) -> UrlPanel:
        """Open the URL and favourites window."""
        panel = UrlPanel(self.client, self.favourites, self.window)
        self._open(panel)
        return panel

    def screenshot(self) -> None:
        """Save the current picture to a PNG the agent chooses."""
        target, _ = QFileDialog.getSaveFileName(self.window, "Screenshot", "screenshot.png", "PNG (*.png)")
        if target:
            try:
                self.capture.screenshot(Path(target), self._report)
            except ToolError as exc:
                QMessageBox.warning(self.window, "Screenshot", str(exc))

    def toggle_recording(self) -> None:
        """Start recording to a file the agent chooses, or stop."""
        if self.capture.recording:
            self.capture.stop_recording()
            self.actions["screen_recording"].setText("Record…")
            return
        target, _ = QFileDialog.getSaveFileName(
            self.window, "Record", "session.osrec", "Recordings (*.osrec)"
        )
        if target:
            try:
                self.capture.start_recording(Path(target), self._report)
                self.actions["screen_recording"].setText("Stop recording")
            except ToolError as exc:
                QMessageBox.warning(self.window, "Record", str(exc))

    def play_recording(self) -> None:
        """Open a recording in the player."""
        from .player import PlayerWindow

        source, _ = QFileDialog.getOpenFileName(self.window, "Play", "", "Recordings (*.osrec)")
        if source:
            self._open(PlayerWindow(source))

    def _report(self, path: Path | None, why: str | None) -> None:
        if why is not None:
            self.window.bridge.status_changed.emit(f"Capture refused: {why}")
        else:
            self.window.bridge.status_changed.emit(f"Saved {path}")
