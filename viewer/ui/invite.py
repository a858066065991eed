"""Session > Invite agent… (상담원 초대): view or control, optionally one named colleague, then the code to
give to the colleague. The work is in :mod:`opensupport.viewer.invite`."""

from __future__ import annotations

import weakref
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["InviteDialog", "ask_and_invite", "ask_join_code", "open_guest_window"]


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


def ask_join_code(window: Any, account: Any) -> Any:
    """The invitations open for this agent, and the code its colleague gave; the parsed code or None."""
    from opensupport.protocol import SessionCode
    from opensupport.viewer.account import AccountError

    title = "Join an invitation — 상담원 초대 참여"
    try:
        open_now = account.open_invitations()
    except AccountError as exc:
        QMessageBox.warning(window, title, f"The invitations could not be read: {exc}")
        return None
    lines = [
        f"{i['routing_id']}: {i['invited_by_name']} ({'control' if i['control'] else 'view only'})"
        for i in open_now
    ]
    listing = "\n".join(lines) if lines else "No invitation is open for you. / 열린 초대가 없습니다."
    text, ok = QInputDialog.getText(window, title, f"{listing}\n\nInvitation code / 초대 코드:")
    if not ok or not text.strip():
        return None
    try:
        return SessionCode.parse(text.strip())
    except ValueError as exc:
        QMessageBox.warning(window, title, f"Not an invitation code: {exc}")
        return None


class _LeaveOnClose(QObject):
    """Closing the guest's window leaves the session (held weakly: no cycle through Qt objects)."""

    def __init__(self, window: Any, session: Any) -> None:
        super().__init__(window)
        self._session = weakref.ref(session)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            session = self._session()
            if session is not None:
                session.link_thread.call(session.link.close, "the invited agent left")
        return False


def open_guest_window(account: Any, code: Any) -> tuple[Any, Any]:
    """A viewer window of its own joined to the invitation ``code``; closing it leaves the session.
    Raises AccountError when the server refuses."""
    from opensupport.viewer.display import DisplayModel
    from opensupport.viewer.invite import join_invitation
    from opensupport.viewer.ui.window import ViewerWindow

    window = ViewerWindow(DisplayModel())
    window.setWindowTitle(f"Invitation {code.routing_id} — 상담원 초대")
    session, _joined = join_invitation(window, account, code)
    _LeaveOnClose(window, session)
    window.show()
    return window, session
