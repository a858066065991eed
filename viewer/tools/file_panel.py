"""The viewer's chat panel and file-transfer panel (파일 보내기 / 파일 가져오기 / Ctrl+V), shown only for the
tools the agent's options allow (the host enforces them anyway)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from opensupport.tools.chat import Chat
from opensupport.tools.clipboard import ClipboardSync
from opensupport.tools.files import FileTransfers
from opensupport.tools.qt_widgets import ChatView, Post, TransferTable, direct
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

__all__ = ["ChatPanel", "FileTransferPanel"]

_FILE_TOOLS = {"send_files", "fetch_files", "two_way_file_transfer", "clipboard_file_transfer"}


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
        post: Post = direct,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
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
        fetching = QHBoxLayout()
        fetching.addWidget(self.remote_path, 1)
        fetching.addWidget(self.fetch_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(sending)
        layout.addLayout(fetching)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.status)
        self.send_button.clicked.connect(self._choose_files)
        self.send_folder_button.clicked.connect(self._choose_folder)
        self.fetch_button.clicked.connect(self.fetch)
        self.paste_button.clicked.connect(self.paste)
        self.cancel_button.clicked.connect(self.cancel_selected)

    def apply_allowed(self, allowed: Collection[str]) -> None:
        """Show only the file tools the agent's options allow (from the host's ``tool.allowed``)."""
        self.setVisible(bool(_FILE_TOOLS & set(allowed)))
        self.send_button.setVisible("send_files" in allowed)
        self.send_folder_button.setVisible("send_files" in allowed)
        for widget in (self.remote_path, self.fetch_button):
            widget.setVisible("fetch_files" in allowed)
        self.paste_button.setVisible("clipboard_file_transfer" in allowed and self.clipboard is not None)

    def send_paths(self, paths: Sequence[Path]) -> None:
        """Offer files and folders to the customer (what the file dialogs call)."""
        self._run(lambda: self.transfers.send_paths(list(paths)))

    def fetch(self) -> None:
        """Ask for the typed path on the customer's PC."""
        path = self.remote_path.text().strip()
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
