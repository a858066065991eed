"""Session > Invite agent… (상담원 초대): view or control, optionally one named colleague, then the code to
give to the colleague. The work is in :mod:`opensupport.viewer.invite`."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["InviteDialog", "ask_and_invite"]


class InviteDialog(QDialog):
    """View only or with control, and who may join (empty: any agent of the company)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Invite an agent — 상담원 초대")
        layout = QVBoxLayout(self)
        self.view = QRadioButton("View only — 화면 보기")
        self.control = QRadioButton("View and control — 화면 보기와 제어")
        self.view.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.view, self.control):
            group.addButton(button)
            layout.addWidget(button)
        layout.addWidget(QLabel("Agent ID (empty: any agent of the company) — 상담원 ID"))
        self.invitee = QLineEdit()
        self.invitee.setMaxLength(12)
        layout.addWidget(self.invitee)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def values(self) -> tuple[bool, str | None]:
        """(with control, the invited agent's ID or None)."""
        return self.control.isChecked(), self.invitee.text().strip() or None


def ask_and_invite(window: Any, journey: Any) -> None:
    """Ask, issue the invitation and show its code (or the server's refusal)."""
    from opensupport.viewer.account import AccountError

    dialog = InviteDialog(window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    control, invitee = dialog.values()
    try:
        sent = journey.invitations.invite(control=control, invitee=invitee)
    except AccountError as exc:
        QMessageBox.warning(window, "Invite an agent — 상담원 초대", f"The invitation was refused: {exc}")
        return
    QMessageBox.information(
        window,
        "Invite an agent — 상담원 초대",
        f"Give this code to your colleague:\n\n{sent.code}\n\n"
        f"They join with: opensupport viewer --server … --agent ID --join {sent.code}\n"
        "The customer may be asked first.",
    )
