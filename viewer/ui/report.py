"""The agent's end-of-session report dialog: fault type, what was done, whether it was resolved."""

from __future__ import annotations

from collections.abc import Sequence

from opensupport.viewer.account import FaultType
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QWidget,
)

__all__ = ["RESOLVED_CHOICES", "ReportDialog"]

#: (value sent to the server, label) in the order shown
RESOLVED_CHOICES = (
    ("resolved", "Resolved (해결)"),
    ("unresolved", "Unresolved (미해결)"),
    ("unset", "Not set"),
)
#: the server's limit on the report's text
CONTENT_LIMIT = 4000


class ReportDialog(QDialog):
    """Asks for the report after a session; :meth:`values` gives what to send to the server."""

    def __init__(
        self, fault_types: Sequence[FaultType], summary: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("End of the session — report")
        form = QFormLayout(self)
        if summary:
            form.addRow(QLabel(summary))
        self.fault_type = QComboBox()
        self.fault_type.addItem("(none)", None)
        for fault in fault_types:
            self.fault_type.addItem(fault.name, fault.id)
        form.addRow("Fault type (장애유형)", self.fault_type)
        self.content = QPlainTextEdit()
        self.content.setPlaceholderText("What was done (지원내용)")
        form.addRow("What was done", self.content)
        self.resolved = QComboBox()
        for value, label in RESOLVED_CHOICES:
            self.resolved.addItem(label, value)
        form.addRow("Resolved (해결여부)", self.resolved)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[int | None, str, str]:
        """(fault type id or None, what was done (at most the server's limit), resolved value)."""
        fault = self.fault_type.currentData()
        return (
            int(fault) if fault is not None else None,
            self.content.toPlainText().strip()[:CONTENT_LIMIT],
            str(self.resolved.currentData()),
        )
