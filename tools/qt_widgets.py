"""Qt widgets over the chat and file-transfer cores, shared by the viewer's panels and the host's window.

Threading: the cores run on the session's thread. Everything the widgets learn comes through queued
signals or a timer on the GUI thread; everything they ask goes through ``post(callable)``, which the
session loop provides to run the callable on its own thread (the default calls it at once, for tests and
single-threaded use).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .chat import SPEAKER_LABEL, Chat, ChatLine
from .files import BatchState, BatchView, Direction, FileTransfers, format_duration, format_size

__all__ = ["ChatView", "Post", "TransferTable", "direct"]

#: Runs a callable on the session's thread.
Post = Callable[[Callable[[], None]], None]

#: How often the transfer table re-reads progress (ms): smooth enough, cheap on a busy session.
REFRESH_MS = 250

STATE_LABEL = {
    BatchState.OFFERING: "대기 중",
    BatchState.COLLECTING: "대기 중",
    BatchState.AWAITING_CONSENT: "고객 동의 대기",
    BatchState.ACTIVE: "전송 중",
    BatchState.DONE: "완료",
    BatchState.FAILED: "실패",
    BatchState.CANCELLED: "취소됨",
    BatchState.REFUSED: "거부됨",
}


def direct(action: Callable[[], None]) -> None:
    """A :data:`Post` that runs the action at once."""
    action()


class _LineRelay(QObject):
    line = Signal(object)


class ChatView(QWidget):
    """The conversation (read-only, plain text: a peer's markup is never rendered) and an input line.
    ``say`` sends a line (default ``chat.say``; the host passes ``HostChat.say``, which checks the option)."""

    def __init__(
        self,
        chat: Chat,
        post: Post = direct,
        parent: QWidget | None = None,
        *,
        say: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.chat = chat
        self._post = post
        self._say = say if say is not None else chat.say
        self.log = QPlainTextEdit(readOnly=True)
        self.input = QLineEdit(placeholderText="메시지 입력")
        self.send_button = QPushButton("보내기")
        self.status = QLabel()
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.log, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._relay = _LineRelay()
        self._relay.line.connect(self._show, Qt.ConnectionType.QueuedConnection)
        chat.add_listener(self._relay.line.emit)  # from any thread
        for line in chat.transcript.lines:
            self._show(line)
        self.send_button.clicked.connect(self.send)
        self.input.returnPressed.connect(self.send)

    @Slot()
    def send(self) -> None:
        """Send what is typed (errors show in the status line)."""
        text = self.input.text()
        if not text.strip():
            return
        self.input.clear()

        def say() -> None:
            try:
                self._say(text)
            except Exception as exc:  # ChatError, FeatureDisabled on the host, a closed session...
                self._relay.line.emit(exc)

        self._post(say)

    @Slot(object)
    def _show(self, item: object) -> None:
        if isinstance(item, ChatLine):
            stamp = item.at.astimezone().strftime("%H:%M:%S")
            self.log.appendPlainText(f"[{stamp}] {SPEAKER_LABEL[item.speaker]}: {item.text}")
            self.status.clear()
        else:
            self.status.setText(f"보내지 못했습니다: {item}")

    def set_allowed(self, allowed: bool) -> None:
        """Hide the chat when the agent's options switch it off."""
        self.setVisible(allowed)
        self.setEnabled(allowed)


class TransferTable(QTableWidget):
    """One row per batch: direction, name, progress, speed, time left, state."""

    COLUMNS = ("", "이름", "진행", "속도", "남은 시간", "상태")

    def __init__(self, transfers: FileTransfers, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.transfers = transfers
        self.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()
        self._ids: list[int] = []
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    @Slot()
    def refresh(self) -> None:
        """Re-read every batch's progress (cheap: a snapshot under the transfers' lock)."""
        views = self.transfers.snapshot()
        self.setRowCount(len(views))
        self._ids = [v.batch_id for v in views]
        for row, view in enumerate(views):
            self._fill(row, view)

    def _fill(self, row: int, view: BatchView) -> None:
        arrow = "↑ 보냄" if view.direction is Direction.SEND else "↓ 받음"
        active = view.state is BatchState.ACTIVE
        texts = [
            arrow,
            view.title + (f"  ({view.current})" if active and view.current else ""),
            None,
            f"{format_size(view.speed)}/s" if active else "",
            format_duration(view.eta) if active else "",
            STATE_LABEL[view.state] + (f": {view.error}" if view.error else ""),
        ]
        for column, text in enumerate(texts):
            if text is None:
                continue
            item = self.item(row, column)
            if item is None:
                item = QTableWidgetItem()
                self.setItem(row, column, item)
            item.setText(text)
            item.setToolTip(text)
        bar = self.cellWidget(row, 2)
        if not isinstance(bar, QProgressBar):
            bar = QProgressBar()
            bar.setRange(0, 1000)
            self.setCellWidget(row, 2, bar)
        bar.setValue(1000 if view.total == 0 else int(1000 * view.done / view.total))
        bar.setFormat(f"{format_size(view.done)} / {format_size(view.total)}")

    def selected_batch(self) -> int | None:
        """The batch id of the selected row, if any."""
        rows = self.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._ids):
            return None
        return self._ids[rows[0].row()]

    def row_texts(self, row: int) -> list[str]:
        """What a row shows (the progress column as its bar's text)."""
        out = []
        for column in range(self.columnCount()):
            bar = self.cellWidget(row, column)
            if isinstance(bar, QProgressBar):
                out.append(bar.format())
            else:
                item = self.item(row, column)
                out.append(item.text() if item is not None else "")
        return out
