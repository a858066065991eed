"""The viewer's chat panel and file-transfer panel (파일 보내기 / 파일 가져오기 / Ctrl+V), shown only for the
tools the agent's options allow (the host enforces them anyway)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from opensupport.tools.chat import Chat
from opensupport.tools.clipboard import ClipboardSync
from opensupport.tools.files import FileTransfers, RemoteBrowser, format_size
from opensupport.tools.qt_widgets import ChatView, Post, TransferTable, direct
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ChatPanel", "FileTransferPanel", "place_transfer_window"]

_FILE_TOOLS = {"send_files", "fetch_files", "two_way_file_transfer", "clipboard_file_transfer"}


#: Size of the transfer window when it opens as a window of its own.
FLOATING_SIZE = (560, 420)


def place_transfer_window(dock: QDockWidget, docked: bool) -> None:
    """파일 전송 뷰어 모드: the transfer window docked inside the viewer (on) or as a window of its own
    beside it (off, the manual's default). Only where it opens: the agent may still move it."""
    if dock.isFloating() != docked:
        return
    dock.setFloating(not docked)
    if not docked:
        main = dock.parentWidget()
        dock.resize(*FLOATING_SIZE)
        if main is not None:  # beside the viewer's window, not over the remote screen
            frame = main.frameGeometry()
            dock.move(frame.right() + 8, frame.top())


class _Relay(QObject):
    changed = Signal()


class ChatPanel(ChatView):  # type: ignore[misc]
    """문자 채팅 in the viewer."""

    def __init__(self, chat: Chat, post: Post = direct, parent: QWidget | None = None) -> None:
        super().__init__(chat, post, parent)
        self.setWindowTitle("문자 채팅")

    def apply_allowed(self, allowed: Collection[str]) -> None:
        """Show the panel only when ``text_chat`` is among the allowed option keys."""
        self.set_allowed("text_chat" in allowed)


class FileTransferPanel(QWidget):
    """The transfer list with progress, speed and time left; send, fetch, paste and cancel."""

    def __init__(
        self,
        transfers: FileTransfers,
        *,
        clipboard: ClipboardSync | None = None,
        browser: RemoteBrowser | None = None,
        post: Post = direct,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.browser = browser
        self.setWindowTitle("파일 전송")
        self.transfers = transfers
        self.clipboard = clipboard
        self._post = post
        self.table = TransferTable(transfers)
        self.send_button = QPushButton("파일 보내기...")
        self.send_folder_button = QPushButton("폴더 보내기...")
        self.remote_path = QLineEdit(placeholderText="고객 PC의 파일 또는 폴더 경로")
        self.fetch_button = QPushButton("파일 가져오기")
        self.paste_button = QPushButton("붙여넣기 (Ctrl+V)")
        self.cancel_button = QPushButton("취소")
        self.folder_label = QLabel(f"받는 폴더: {transfers.download_dir}")
        self.status = QLabel()
        sending = QHBoxLayout()
        for button in (self.send_button, self.send_folder_button, self.paste_button, self.cancel_button):
            sending.addWidget(button)
        self.up_button = QPushButton("위로")
        self.remote_list = QListWidget()
        self.remote_list.setVisible(browser is not None)
        self.up_button.setVisible(browser is not None)
        fetching = QHBoxLayout()
        fetching.addWidget(self.up_button)
        fetching.addWidget(self.remote_path, 1)
        fetching.addWidget(self.fetch_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(sending)
        layout.addLayout(fetching)
        layout.addWidget(self.remote_list, 1)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.status)
        self.send_button.clicked.connect(self._choose_files)
        self.send_folder_button.clicked.connect(self._choose_folder)
        self.fetch_button.clicked.connect(self.fetch)
        self.paste_button.clicked.connect(self.paste)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self._relay = _Relay()
        self._relay.changed.connect(self.show_listing, Qt.ConnectionType.QueuedConnection)
        if browser is not None:
            browser.add_listener(self._relay.changed.emit)  # from the session thread
            self.remote_path.returnPressed.connect(lambda: self.browse(self.remote_path.text().strip()))
            self.up_button.clicked.connect(self.browse_up)
            self.remote_list.itemDoubleClicked.connect(self._open_item)

    def browse(self, path: str = "") -> None:
        """List a folder of the customer's PC ("" = the customer's home folder)."""
        browser = self.browser
        if browser is not None:
            self._run(lambda: browser.open(path))

    @Slot()
    def browse_up(self) -> None:
        """List the parent of the folder shown."""
        listing = self.browser.listing if self.browser is not None else None
        if listing is not None and listing.parent:
            self.browse(listing.parent)

    @Slot()
    def show_listing(self) -> None:
        """Show the folder the browser holds (folders first; links shown, never opened)."""
        browser = self.browser
        if browser is None:
            return
        if browser.error:
            self.status.setText(browser.error)
        listing = browser.listing
        if listing is None:
            return
        self.remote_path.setText(listing.path)
        self.remote_list.clear()
        for entry in listing.entries:
            if entry.get("folder"):
                text = f"[{entry['name']}]"
            elif entry.get("link"):
                text = f"{entry['name']} (link)"
            else:
                text = f"{entry['name']}  {format_size(float(entry.get('size', 0)))}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, entry)
            self.remote_list.addItem(item)

    def _open_item(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.ItemDataRole.UserRole)
        if entry.get("folder"):
            self.browse(entry["path"])
        elif not entry.get("link"):
            self._run(lambda: self.transfers.request(entry["path"]))

    def apply_allowed(self, allowed: Collection[str]) -> None:
        """Show only the file tools the agent's options allow (from the host's ``tool.allowed``)."""
        self.setVisible(bool(_FILE_TOOLS & set(allowed)))
        self.send_button.setVisible("send_files" in allowed)
        self.send_folder_button.setVisible("send_files" in allowed)
        for widget in (self.remote_path, self.fetch_button):
            widget.setVisible("fetch_files" in allowed)
        self.remote_list.setVisible("fetch_files" in allowed and self.browser is not None)
        self.up_button.setVisible("fetch_files" in allowed and self.browser is not None)
        self.paste_button.setVisible("clipboard_file_transfer" in allowed and self.clipboard is not None)

    def send_paths(self, paths: Sequence[Path]) -> None:
        """Offer files and folders to the customer (what the file dialogs call)."""
        self._run(lambda: self.transfers.send_paths(list(paths)))

    def fetch(self) -> None:
        """Ask for the selected entry of the listing, or else the typed path, on the customer's PC."""
        item = self.remote_list.currentItem()
        entry = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        path = entry["path"] if entry and not entry.get("link") else self.remote_path.text().strip()
        if path:
            self._run(lambda: self.transfers.request(path))

    def paste(self) -> None:
        """Fetch the files the customer copied into the download folder."""
        clipboard = self.clipboard
        if clipboard is not None:
            self._run(lambda: clipboard.paste_files(self.transfers.download_dir))

    @Slot()
    def cancel_selected(self) -> None:
        """Cancel the selected transfer (either direction)."""
        batch = self.table.selected_batch()
        if batch is not None:
            self._run(lambda: self.transfers.cancel(batch))

    def _run(self, action: object) -> None:
        def guarded() -> None:
            try:
                action()  # type: ignore[operator]
            except Exception as exc:  # refused, unreadable, nothing to send: say so, lose nothing
                self.status.setText(str(exc))

        self._post(guarded)
        self.table.refresh()

    @Slot()
    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "보낼 파일")
        if names:
            self.send_paths([Path(n) for n in names])

    @Slot()
    def _choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "보낼 폴더")
        if name:
            self.send_paths([Path(name)])
