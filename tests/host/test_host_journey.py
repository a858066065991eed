"""HostJourney without a desktop: a recorded session and API, the rules of consent and control, and the
applet's question relay between a worker thread and the GUI thread (offscreen Qt)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from opensupport.host.server_api import HostJourney, ServerApiError, SessionInfo, SurveyAnswer
from opensupport.link.topics import TOPIC_CONTROL_REQUEST, TOPIC_HOST_READY, TOPIC_HOST_TOKEN, TOPIC_VIEW_ONLY
from opensupport.protocol import ControlMessage, HandshakeComplete


class FakeLinkThread:
    def call(self, func: Any, *args: Any) -> bool:
        func(*args)
        return True


class FakeLink:
    established = True

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any) -> bool:
        self.sent.append(message)
        return True


class FakeSession:
    def __init__(self) -> None:
        self.link = FakeLink()
        self.link_thread = FakeLinkThread()
        self.paused: bool | None = None
        self.view_only: bool | None = None
        self.policy: Any = None
        self.stopped: str | None = None

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def set_view_only(self, view_only: bool) -> None:
        self.view_only = view_only

    def set_policy(self, policy: Any) -> None:
        self.policy = policy

    def stop(self, reason: str) -> None:
        self.stopped = reason


class FakeApi:
    def __init__(self, options: dict[str, bool], fail: bool = False) -> None:
        self.options = options
        self.fail = fail
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, server: str, token: str) -> FakeApi:
        self.calls.append(("token", token))
        return self

    def session(self) -> SessionInfo:
        if self.fail:
            raise ServerApiError("401 the host token is not valid", 401)
        return SessionInfo("12345678", "waiting", "kim", "Kim", "Help Desk", self.options)

    def report(self, **fields: Any) -> None:
        self.calls.append(("report", fields))

    def status(self, status: str) -> None:
        self.calls.append(("status", status))

    def satisfaction(self, answer: SurveyAnswer) -> None:
        self.calls.append(("satisfaction", answer))

    def close(self) -> None:
        self.calls.append(("close", None))


def run(
    options: dict[str, bool], *, consent: bool = True, grant: bool = False, fail: bool = False
) -> tuple[HostJourney, FakeSession, FakeApi]:
    api = FakeApi(options, fail)
    journey = HostJourney(
        "http://127.0.0.1:1",
        customer_name="Lee",
        consent=lambda info: consent,
        grant_control=lambda info: grant,
        survey=lambda info: SurveyAnswer(5, "good"),
        api_factory=api,  # type: ignore[arg-type]
        token_timeout=5,
    )
    session = FakeSession()
    journey.attach(session)
    assert (session.paused, session.view_only) == (True, True)  # nothing before the options are known
    journey.on_event(ControlMessage(TOPIC_HOST_TOKEN, b"token-1"))
    journey.on_event(ControlMessage(TOPIC_HOST_TOKEN, b"token-2"))  # a second token changes nothing
    for _ in range(500):
        if journey.outcome is not None and (journey.outcome != "accepted" or journey.ready.is_set()):
            break
        threading.Event().wait(0.01)
    return journey, session, api


def test_accepted_session_reports_and_shares_with_control() -> None:
    journey, session, api = run({"consent_before_connect": True, "auto_control": True, "no_control": False})
    assert journey.outcome == "accepted"
    assert api.calls[0] == ("token", "token-1") and ("token", "token-2") not in api.calls
    report = next(c[1] for c in api.calls if c[0] == "report")
    assert report["customer_name"] == "Lee" and report["pc_name"] and report["os"]
    assert (session.paused, session.view_only) == (False, False)
    assert session.policy is not None and session.policy.flag("auto_control")
    assert ControlMessage(TOPIC_HOST_READY, b"1") in session.link.sent


def test_refusal_is_recorded_and_ends_the_session_without_a_report() -> None:
    journey, session, api = run({"consent_before_connect": True}, consent=False)
    assert journey.outcome == "refused"
    assert ("status", "refused") in api.calls and not any(c[0] == "report" for c in api.calls)
    assert session.stopped and "refused" in session.stopped
    assert session.paused is True and session.view_only is True
    journey.finish(dropped=False)
    assert not any(c[0] == "satisfaction" for c in api.calls)


def test_a_bad_token_ends_the_session() -> None:
    journey, session, _api = run({}, fail=True)
    assert journey.outcome == "failed" and session.stopped
    assert (session.paused, session.view_only) == (True, True)


@pytest.mark.parametrize(
    ("options", "grant", "view_only"),
    [
        ({"no_control": True, "auto_control": True}, True, True),  # 상담원 제어 불가 wins over everything
        ({"no_control": False, "auto_control": False}, False, True),
        ({"no_control": False, "auto_control": False}, True, False),
    ],
)
def test_control_requests(options: dict[str, bool], grant: bool, view_only: bool) -> None:
    journey, session, _api = run(options, grant=grant)
    assert session.view_only is True  # no automatic control in any of these
    journey.on_event(ControlMessage(TOPIC_CONTROL_REQUEST, b""))
    for _ in range(300):
        if session.view_only is False or ControlMessage(TOPIC_VIEW_ONLY, b"1") in session.link.sent:
            break
        threading.Event().wait(0.01)
    assert session.view_only is view_only


def test_survey_and_drop_are_reported_at_the_end() -> None:
    journey, _session, api = run({"satisfaction_survey": True, "auto_control": True})
    journey.finish(dropped=True)
    assert ("status", "disconnected") in api.calls
    assert ("satisfaction", SurveyAnswer(5, "good")) in api.calls
    assert api.calls[-1] == ("close", None)


def test_no_token_after_the_handshake_disconnects() -> None:
    journey = HostJourney(
        "http://127.0.0.1:1", consent=lambda i: True, grant_control=lambda i: True, token_timeout=0.1
    )
    session = FakeSession()
    journey.attach(session)
    journey.on_event(HandshakeComplete(1))
    for _ in range(300):
        if session.stopped:
            break
        threading.Event().wait(0.01)
    assert session.stopped and journey.outcome == "failed"


def test_questions_run_on_the_gui_thread() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from opensupport.host.ui.journey import CustomerQuestions, SurveyDialog
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    questions = CustomerQuestions()
    gui = threading.current_thread()
    seen: list[Any] = []

    def worker() -> None:
        seen.append(questions.ask(lambda: threading.current_thread() is gui, False, timeout=10))

    thread = threading.Thread(target=worker)
    thread.start()
    while thread.is_alive():
        app.processEvents()
    assert seen == [True]
    assert questions.ask(lambda: 7, 0) == 7  # on the GUI thread itself: asked directly
    dialog = SurveyDialog(SessionInfo("1", "active", "kim", "Kim", "Help", {}))
    assert dialog.answer() == SurveyAnswer(None, "")
    dialog.scores.button(4).setChecked(True)
    dialog.comment.setPlainText("  친절해요 ")
    assert dialog.answer() == SurveyAnswer(4, "친절해요")


def test_the_customers_view_only_holds_against_every_option() -> None:
    api = FakeApi({"auto_control": True, "no_control": False})
    journey = HostJourney(
        "http://127.0.0.1:1", consent=lambda i: True, grant_control=lambda i: True,
        api_factory=api, token_timeout=5, view_only=True,  # type: ignore[arg-type]
    )  # fmt: skip
    session = FakeSession()
    journey.attach(session)
    journey.on_event(ControlMessage(TOPIC_HOST_TOKEN, b"t"))
    assert journey.ready.wait(5)
    journey.on_event(ControlMessage(TOPIC_CONTROL_REQUEST, b""))
    for _ in range(300):
        if ControlMessage(TOPIC_VIEW_ONLY, b"1") in session.link.sent:
            break
        threading.Event().wait(0.01)
    assert session.view_only is True and session.paused is False
