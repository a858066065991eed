"""The customer's side of file transfer in the host applet: the consent question and the transfer list.

When the agent's options ask for consent (``FILE_TRANSFER_CONSENT``), every batch the agent sends and
every file the agent asks for waits for the customer's answer in a :class:`ConsentDialog`; closing the
dialog is a "no". Nothing is written or read before a "yes".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from opensupport.tools.clipboard import ClipboardSync
from opensupport.tools.files import ConsentRequest, Direction, FileTransfers, format_size
from opensupport.tools.qt_widgets import Post, TransferTable, direct
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["ConsentDialog", "HostFileWindow"]


class ConsentDialog(QDialog):
    """상담원이 파일을 보내려고/가져가려고 합니다 — 허용 / 거부."""

    def __init__(self, question: ConsentRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = question
        self.setWindowTitle("파일 전송 동의")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint)
        if question.kind is Direction.RECEIVE:
            text = f"상담원이 이 PC로 파일을 보내려고 합니다:\n{question.summary} ({format_size(question.total)})"
        else:
            text = f"상담원이 이 PC의 파일을 가져가려고 합니다:\n{question.summary}"
        self.message = QLabel(text + "\n\n허용하시겠습니까?")
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # names come from the peer
        self.allow_button = QPushButton("허용")
        self.deny_button = QPushButton("거부")
        self.deny_button.setDefault(True)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.allow_button)
        row.addWidget(self.deny_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.allow_button.clicked.connect(self.accept)
        self.deny_button.clicked.connect(self.reject)


class _Relay(QObject):
    changed = Signal()


class HostFileWindow(QWidget):
    """The transfer list, the customer's own "send files" (when two-way transfer is on), cancel, and the
    consent dialogs as questions arrive."""

    def __init__(
        self,
        transfers: FileTransfers,
        *,
        can_send: bool,
        clipboard: ClipboardSync | None = None,
        paste_into: Path | None = None,
        post: Post = direct,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("파일 전송")
        self.transfers = transfers
        self._post = post
        self.table = TransferTable(transfers)
        self.send_button = QPushButton("상담원에게 파일 보내기...")
        self.send_button.setVisible(can_send)
        self.cancel_button = QPushButton("취소")
        self.clipboard = clipboard
        self.paste_into = paste_into if paste_into is not None else transfers.download_dir
        self.paste_button = QPushButton("상담원이 복사한 파일 붙여넣기")
        self.paste_button.setVisible(clipboard is not None)
        self.status = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.send_button)
        row.addWidget(self.paste_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.dialogs: dict[int, ConsentDialog] = {}
        self._relay = _Relay()
        self._relay.changed.connect(self.check_consents, Qt.ConnectionType.QueuedConnection)
        transfers.add_listener(self._relay.changed.emit)  # from the session thread
        self.send_button.clicked.connect(self._choose_files)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.paste_button.clicked.connect(self.paste)

    @Slot()
    def paste(self) -> None:
        """Ctrl+V: fetch the files the agent copied into ``paste_into`` (refused when the option is off)."""
        clipboard = self.clipboard
        if clipboard is None:
            return

        def fetch() -> None:
            try:
                clipboard.paste_files(self.paste_into)
            except Exception as exc:
                self.status.setText(str(exc))

        self._post(fetch)

    @Slot()
    def check_consents(self) -> None:
        """Open a dialog for every new question; drop dialogs whose question went away."""
        pending = dict(self.transfers.consents)
        for key, question in pending.items():
            if key not in self.dialogs:
                dialog = ConsentDialog(question, self)
                dialog.finished.connect(
                    lambda result, k=key: self._answer(k, result == QDialog.DialogCode.Accepted)
                )
                self.dialogs[key] = dialog
                dialog.open()
        for key in [k for k in self.dialogs if k not in pending]:
            self.dialogs.pop(key).close()
        self.table.refresh()

    def _answer(self, key: int, allowed: bool) -> None:
        self.dialogs.pop(key, None)
        self._post(lambda: self.transfers.answer_consent(key, allowed))
        self.table.refresh()

    def send_paths(self, paths: Sequence[Path]) -> None:
        """The customer sends files to the agent (refused by the gate when two-way transfer is off)."""

        def send() -> None:
            try:
                self.transfers.send_paths(list(paths))
            except Exception as exc:
                self.status.setText(str(exc))

        self._post(send)

    @Slot()
    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "보낼 파일")
        if names:
            self.send_paths([Path(n) for n in names])

    @Slot()
    def _cancel_selected(self) -> None:
        batch = self.table.selected_batch()
        if batch is not None:
            self._post(lambda: self.transfers.cancel(batch))
