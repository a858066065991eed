"""상담원 초대 on the host without a relay: what a hostile or mistaken invitation gets, who controls, which
viewer holds the next frame back. The whole journey runs in tests/integration/test_invite_agent.py."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from opensupport.host.invite import MAX_INVITE_MESSAGE, GuestViewer, HostInvitations, Invitation
from opensupport.host.policy import HostPolicy, policy_from_options
from opensupport.link.topics import TOPIC_INVITE, TOPIC_INVITE_STATE
from opensupport.protocol import ControlMessage, KeyEvent, PointerEvent, SessionCode

ROUTING = "12345678"
# nothing listens there: a guest link that starts fails at once and ends
NOWHERE = "http://127.0.0.1:9"


class FakeLink:
    established = True

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, event: Any) -> bool:
        self.sent.append(event)
        return True


class FakeLinkThread:
    def call(self, func: Any, *args: Any) -> bool:
        func(*args)
        return True


class FakeSession:
    paused = False
    layout = None
    cursor_tracking = True

    def __init__(self) -> None:
        self.link = FakeLink()
        self.link_thread = FakeLinkThread()
        self.guests: list[Any] = []
        self.detached: list[Any] = []
        self.inputs: list[Any] = []
        self.keyframes = 0

    def attach_guest(self, guest: Any) -> None:
        self.guests.append(guest)

    def detach_guest(self, guest: Any) -> None:
        self.detached.append(guest)

    def guest_input(self, guest: Any, event: Any) -> None:
        self.inputs.append(event)

    def request_keyframe(self) -> None:
        self.keyframes += 1

    def states(self) -> list[dict[str, Any]]:
        return [
            json.loads(m.data)
            for m in self.link.sent
            if isinstance(m, ControlMessage) and m.topic == TOPIC_INVITE_STATE
        ]


class FakeApi:
    def __init__(self, control: bool = True, routing_id: str = ROUTING) -> None:
        self.control, self.routing_id = control, routing_id
        self.consents: list[tuple[int, bool]] = []
        self.reads = 0

    def invitation(self, invitation_id: int) -> dict[str, Any]:
        self.reads += 1
        return {
            "id": invitation_id, "routing_id": self.routing_id, "control": self.control, "status": "pending",
            "invited_by_name": "Kim", "invitee_login_id": "lee", "joined_login_id": None, "joined_name": None,
        }  # fmt: skip

    def invitation_consent(self, invitation_id: int, accepted: bool) -> None:
        self.consents.append((invitation_id, accepted))

    def invitation_left(self, invitation_id: int) -> None:
        pass


class FakeJourney:
    server = NOWHERE

    def __init__(self, policy: HostPolicy, api: FakeApi | None = None, view_only: bool = False) -> None:
        self.session = FakeSession()
        self.api = api or FakeApi()
        self.policy = policy
        self.view_only = view_only
        self.ready = threading.Event()
        self.ready.set()


def invite(invitations: HostInvitations, data: bytes) -> None:
    invitations.on_event(ControlMessage(TOPIC_INVITE, data))


def request(invitation_id: int = 7, routing_id: str = ROUTING) -> bytes:
    return json.dumps({"id": invitation_id, "code": str(SessionCode.generate(routing_id))}).encode()


def wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def make(
    policy: HostPolicy, answer: bool = True, **kw: Any
) -> tuple[HostInvitations, FakeJourney, list[Any]]:
    journey = FakeJourney(policy, **kw)
    asked: list[Any] = []

    def consent(invitation: Invitation) -> bool:
        asked.append(invitation)
        return answer

    return HostInvitations(journey, consent=consent), journey, asked


@pytest.mark.parametrize(
    "data",
    [
        b"x" * (MAX_INVITE_MESSAGE + 1),
        b"not json",
        b"\xff\xfe",
        b"[]",
        json.dumps({"id": "seven", "code": "12345678-1234"}).encode(),
        json.dumps({"id": 7, "code": "no code"}).encode(),
        json.dumps({"id": 7}).encode(),
    ],
)
def test_malformed_invitations_are_dropped(data: bytes) -> None:
    invitations, journey, asked = make(policy_from_options())
    invite(invitations, data)
    time.sleep(0.1)
    assert journey.session.link.sent == [] and journey.api.reads == 0 and asked == []


def test_switched_off_is_refused_before_the_server_is_asked() -> None:
    invitations, journey, asked = make(policy_from_options({"invite_agent": False}))
    invite(invitations, request())
    wait_for(lambda: journey.session.states(), "the host's answer")
    assert journey.session.states()[0]["state"] == "refused"
    assert journey.api.reads == 0 and asked == [] and journey.session.guests == []


def test_a_code_for_another_routing_id_opens_nothing() -> None:
    invitations, journey, asked = make(policy_from_options({"consent_before_invite": True}))
    invite(invitations, request(routing_id="87654321"))  # the server's invitation is 12345678
    wait_for(lambda: journey.session.states(), "the host's answer")
    assert journey.session.states()[0]["state"] == "failed"
    assert asked == [] and journey.api.consents == [] and journey.session.guests == []


def test_the_customers_refusal_is_recorded_and_opens_nothing() -> None:
    invitations, journey, asked = make(policy_from_options({"consent_before_invite": True}), answer=False)
    invite(invitations, request())
    wait_for(lambda: journey.session.states(), "the host's answer")
    assert journey.session.states()[0]["state"] == "refused"
    assert [i.id for i in asked] == [7] and journey.api.consents == [(7, False)]
    assert journey.session.guests == []
    invite(invitations, request())  # the same invitation again: already answered
    wait_for(lambda: len(journey.session.states()) == 2, "the second answer")
    assert journey.session.states()[1]["state"] == "failed" and len(asked) == 1


@pytest.mark.parametrize(
    ("options", "invited_control", "view_only", "expected"),
    [
        ({"consent_before_invite": True}, True, False, True),  # the customer agreed to control
        ({"auto_control": True}, True, False, True),  # 접속시 자동제어모드: as for the main agent
        ({"auto_control": False}, True, False, False),  # nobody agreed to control
        ({"consent_before_invite": True, "no_control": True}, True, False, False),  # 상담원 제어 불가
        ({"consent_before_invite": True}, True, True, False),  # the customer started view-only
        ({"consent_before_invite": True}, False, False, False),  # invited to view
    ],
)
def test_who_controls(
    options: dict[str, bool], invited_control: bool, view_only: bool, expected: bool
) -> None:
    invitations, journey, _asked = make(
        policy_from_options(options), api=FakeApi(control=invited_control), view_only=view_only
    )
    invite(invitations, request())
    wait_for(lambda: journey.session.guests, "the guest to be attached")
    guest = journey.session.guests[0]
    assert guest.control is expected
    wait_for(lambda: guest.thread.ended.is_set(), "the unreachable guest link to end")
    assert journey.session.detached == [guest]  # a guest that ends is detached at once


def test_a_guest_without_control_sends_no_input() -> None:
    session = FakeSession()
    invitation = Invitation.from_api(FakeApi().invitation(7))
    for control in (False, True):
        guest = GuestViewer(
            session, NOWHERE, SessionCode.generate(ROUTING), invitation, control=control,
            check_joined=lambda: invitation, on_joined=lambda g, i: None, on_end=lambda g, h: None,
        )  # fmt: skip
        guest._on_event(KeyEvent(0x61, True))  # not admitted yet: nothing either way
        assert session.inputs == []
        guest.admitted.set()
        guest._on_event(KeyEvent(0x61, True))
        guest._on_event(PointerEvent(10, 10, 1 << 7))  # an unknown button: dropped, never raised
        assert len(session.inputs) == (1 if control else 0)


def test_the_next_frame_waits_for_every_established_viewer() -> None:
    from opensupport.host.session import HostSession

    session = HostSession(NOWHERE, SessionCode.generate(ROUTING))

    class Guest:
        def __init__(self) -> None:
            self.room = threading.Event()
            self.holds_pace = True

    guest = Guest()
    session._send_token.set()
    assert session._frame_room() is None
    session.attach_guest(guest)
    assert session._frame_room() is guest.room  # its window is full: everyone waits
    guest.holds_pace = False
    assert session._frame_room() is None  # handshaking or stalled: it does not hold the others back
    guest.holds_pace = True
    guest.room.set()
    assert session._frame_room() is None
    session._send_token.clear()
    assert session._frame_room() is session._send_token
    session.detach_guest(guest)
    session._send_token.set()
    assert session._frame_room() is None


def test_a_guest_follows_options_changed_under_the_session() -> None:
    session = FakeSession()
    invitation = Invitation.from_api(FakeApi().invitation(7))
    guest = GuestViewer(
        session, NOWHERE, SessionCode.generate(ROUTING), invitation, control=True,
        check_joined=lambda: invitation, on_joined=lambda g, i: None, on_end=lambda g, h: None,
    )  # fmt: skip
    guest.admitted.set()
    guest.follow_policy(policy_from_options({"no_control": True}))  # 상담원 제어 불가 switched on
    assert guest.control is False
    guest._on_event(KeyEvent(0x61, True))
    assert [e for e in session.inputs if e is not None] == []
    calls: list[tuple[Any, tuple[Any, ...]]] = []

    class RecordingThread:
        def call(self, func: Any, *args: Any) -> bool:
            calls.append((func, args))
            return True

    guest.thread = RecordingThread()  # type: ignore[assignment]
    guest.follow_policy(policy_from_options({"invite_agent": False}))  # 상담원 초대 switched off: closed
    assert calls == [(guest.link.close, ("inviting an agent was switched off",))]


@pytest.mark.parametrize("answer", [True, False])
def test_the_applet_asks_the_customer_in_a_dialog(answer: bool) -> None:
    import os
    import types

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from opensupport.host.ui.journey import CustomerQuestions, window_journey
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication([])
    questions = CustomerQuestions()
    invitation = Invitation.from_api(FakeApi(control=True).invitation(7))
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(questions.invite_consent(invitation)))
    worker.start()
    shown: list[str] = []

    def answer_the_dialog() -> None:  # runs inside the dialog's own event loop
        box = app.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(box.text())
            box.button(QMessageBox.StandardButton.Yes if answer else QMessageBox.StandardButton.No).click()

    timer = QTimer()
    timer.timeout.connect(answer_the_dialog)
    timer.start(20)
    deadline = time.monotonic() + 10
    while worker.is_alive() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    timer.stop()
    worker.join(1)
    assert result == [answer]
    assert shown and "Kim wants to invite lee to see and control" in shown[0]
    assert "보고 제어하려고" in shown[0]
    # the windowed applet's journey answers invitations with these questions
    config = types.SimpleNamespace(server=NOWHERE, customer_name="홍길동", view_only=False)
    journey = window_journey(config, questions, lambda text: None)
    assert isinstance(journey.invitations, HostInvitations)


def test_a_stalled_guest_is_left_behind_and_comes_back_with_a_key_frame() -> None:
    from opensupport.protocol import FrameAcknowledged

    host = FakeSession()
    invitation = Invitation.from_api(FakeApi().invitation(7))
    guest = GuestViewer(
        host, NOWHERE, SessionCode.generate(ROUTING), invitation, control=False,
        check_joined=lambda: invitation, on_joined=lambda g, i: None, on_end=lambda g, h: None,
    )  # fmt: skip

    class Protocol:
        room = True
        keyframe_required = False

        def can_send_frame(self) -> bool:
            return self.room

    class Link:
        established = True

        def __init__(self) -> None:
            self.session = Protocol()
            self.frames: list[bytes] = []

        def send(self, event: Any) -> bool:
            self.frames.append(event.data)
            return True

    link = Link()
    guest.link = link  # type: ignore[assignment]
    guest.thread = FakeLinkThread()  # type: ignore[assignment]
    guest.admitted.set()
    guest.room.set()
    link.session.room = False  # the viewer stops acknowledging
    guest.offer_frame(b"key", True)
    assert link.frames == [b"key"] and not guest.room.is_set()
    assert guest.holds_pace  # a full window holds the others back for a while...
    guest._room_lost_at -= 10  # ...but not for longer than GUEST_STALL_LIMIT
    assert not guest.holds_pace and guest.stalled
    guest.offer_frame(b"delta 1", False)  # the others go on; this viewer misses it
    assert link.frames == [b"key"] and host.keyframes == 0
    link.session.room = True  # it acknowledges again: it asks for a key frame, once
    guest._on_event(FrameAcknowledged(1))
    guest.offer_frame(b"delta 2", False)
    assert host.keyframes == 1 and link.frames == [b"key"]
    guest.offer_frame(b"key 2", True)  # the key frame every viewer gets brings it back
    assert link.frames == [b"key", b"key 2"] and not guest.stalled and guest.holds_pace
    guest.offer_frame(b"delta 3", False)
    assert link.frames == [b"key", b"key 2", b"delta 3"]
