"""The customer's questions in the applet for a server-managed session: the name, 접속전 고객동의 (who wants to
connect: accept or refuse), the agent's request for control, and 고객 만족도 조사 at the end.

:class:`~opensupport.host.server_api.HostJourney` asks from its worker thread and waits for the answer;
:class:`CustomerQuestions` runs each dialog on the GUI thread (a queued signal) and hands the answer back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..server_api import HostJourney, SessionInfo, SurveyAnswer

__all__ = ["CustomerQuestions", "SurveyDialog", "ask_customer_name", "window_journey"]

#: Seconds the customer has to answer a question asked during the session before it counts as "no".
ANSWER_TIMEOUT = 120.0


class SurveyDialog(QDialog):
    """고객 만족도 조사: a score of 1 to 5 (or none) and a comment."""

    LABELS = ("매우 불만족 (1)", "불만족 (2)", "보통 (3)", "만족 (4)", "매우 만족 (5)")

    def __init__(self, info: SessionInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Satisfaction survey — 만족도 조사")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"How was the support of {info.agent_name}? / 상담은 만족스러우셨나요?"))
        self.scores = QButtonGroup(self)
        for score, label in enumerate(self.LABELS, start=1):
            button = QRadioButton(label)
            self.scores.addButton(button, score)
            layout.addWidget(button)
        self.comment = QPlainTextEdit()
        self.comment.setPlaceholderText("Comment (optional) / 의견 (선택)")
        layout.addWidget(self.comment)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def answer(self) -> SurveyAnswer:
        """The answer as given (no score chosen: None)."""
        score = self.scores.checkedId()
        return SurveyAnswer(score if 1 <= score <= 5 else None, self.comment.toPlainText().strip()[:2000])


class CustomerQuestions(QObject):
    """Runs a question on the GUI thread for a worker thread and returns its answer."""

    _ask = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__()
        self.parent_widget = parent
        self._ask.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def ask(self, question: Callable[[], Any], default: Any, timeout: float = ANSWER_TIMEOUT) -> Any:
        """``question()`` on the GUI thread; ``default`` when it does not answer within ``timeout``."""
        done = threading.Event()
        box: list[Any] = []
        if QThread.currentThread() is self.thread():  # already on the GUI thread (after the session)
            self._run((question, box, done))
            return box[0] if box else default
        self._ask.emit((question, box, done))
        if not done.wait(timeout):
            return default
        return box[0] if box else default

    @staticmethod
    def _run(request: tuple[Callable[[], Any], list[Any], threading.Event]) -> None:
        question, box, done = request
        try:
            box.append(question())
        finally:
            done.set()

    # -- the questions (GUI thread) -------------------------------------------------------------------------
    def consent(self, info: SessionInfo) -> bool:
        def question() -> bool:
            answer = QMessageBox.question(
                self.parent_widget,
                "Remote support — 원격지원",
                f"{info.agent_name} ({info.agent_login_id}) of {info.service_name} wants to see and control "
                "this screen. Accept?\n\n"
                f"{info.service_name}의 상담원 {info.agent_name}님이 이 PC에 접속하려고 합니다. 허용하시겠습니까?",
            )
            return answer == QMessageBox.StandardButton.Yes

        return bool(self.ask(question, False))

    def grant_control(self, info: SessionInfo) -> bool:
        def question() -> bool:
            answer = QMessageBox.question(
                self.parent_widget,
                "Control — 제어 요청",
                f"{info.agent_name} asks to control this PC (mouse and keyboard). Allow?\n\n"
                "상담원이 이 PC의 마우스와 키보드를 제어하려고 합니다. 허용하시겠습니까?",
            )
            return answer == QMessageBox.StandardButton.Yes

        return bool(self.ask(question, False))

    def invite_consent(self, invitation: Any) -> bool:
        """상담원 초대전 고객동의: may the agent bring another agent in (view only or with control)?"""
        mode = "see and control" if invitation.control else "see"
        mode_ko = "보고 제어하" if invitation.control else "보"
        who = invitation.invitee_login_id or "another agent"

        def question() -> bool:
            answer = QMessageBox.question(
                self.parent_widget,
                "Invite an agent — 상담원 초대",
                f"{invitation.invited_by_name} wants to invite {who} to {mode} this screen too. Allow?\n\n"
                f"상담원 {invitation.invited_by_name}님이 다른 상담원({who})을 초대하여 이 화면을 {mode_ko}려고 "
                "합니다. 허용하시겠습니까?",
            )
            return answer == QMessageBox.StandardButton.Yes

        return bool(self.ask(question, False))

    def survey(self, info: SessionInfo) -> SurveyAnswer | None:
        def question() -> SurveyAnswer | None:
            dialog = SurveyDialog(info, self.parent_widget)
            return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None

        result = self.ask(question, None)
        return result if isinstance(result, SurveyAnswer) else None


def ask_customer_name(default: str | None) -> str | None:
    """The customer's name (shown to the agent and kept in the record); None when not given."""
    if default:
        return default
    text, ok = QInputDialog.getText(None, "Remote support — 원격지원", "Your name / 고객님 성함:")
    name = text.strip()[:100]
    return name if ok and name else None


def window_journey(
    config: Any, questions: CustomerQuestions, on_message: Callable[[str], None]
) -> HostJourney:
    """The journey of the windowed applet: the customer answers in dialogs."""
    from ..invite import HostInvitations

    journey = HostJourney(
        config.server,
        customer_name=ask_customer_name(config.customer_name),
        consent=questions.consent,
        grant_control=questions.grant_control,
        survey=questions.survey,
        on_message=on_message,
        view_only=config.view_only,
    )
    journey.invitations = HostInvitations(journey, consent=questions.invite_consent, on_message=on_message)
    return journey
