"""The agent-screen messages (tools/agent_screen.py) and the customer's host deciding on offers
(host/reverse.py: AgentScreenGuest) against hostile and switched-off input, without a relay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opensupport.host.policy import policy_from_options
from opensupport.host.reverse import AgentScreenGuest
from opensupport.protocol import ControlMessage, SessionCode
from opensupport.tools.agent_screen import (
    AgentScreenOffer,
    new_reverse_code,
    offer_message,
    parse_accepted,
    parse_offer,
    parse_stop,
    stop_message,
)
from opensupport.tools.messages import ToolRequestError


def test_reverse_codes_have_their_own_shape_and_round_trip() -> None:
    codes = {str(new_reverse_code()) for _ in range(50)}
    assert len(codes) == 50
    for text in codes:
        code = SessionCode.parse(text)
        assert code.routing_id.startswith("R") and len(code.routing_id) == 13
        assert not code.routing_id.isdigit()
        offer = AgentScreenOffer(7, code, True)
        assert parse_offer(offer_message(offer).data) == offer


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        json.dumps({"id": 1, "control": False}).encode(),  # no code
        json.dumps({"id": -1, "code": str(new_reverse_code()), "control": False}).encode(),
        json.dumps({"id": 1, "code": str(new_reverse_code()), "control": "yes"}).encode(),
        json.dumps({"id": 1, "code": "123456789-12345678", "control": False}).encode(),  # a support session's
        json.dumps({"id": 1, "code": "RABC-12345678", "control": False}).encode(),  # too short
        json.dumps({"id": 1, "code": "R" + "A" * 12 + "-1234", "control": False}).encode(),  # short secret
        json.dumps({"id": 1, "code": "R" + "A" * 200 + "-12345678", "control": False}).encode(),
    ],
)
def test_malformed_offers_are_refused(payload: bytes) -> None:
    with pytest.raises(ToolRequestError):
        parse_offer(payload)


def test_stop_reason_is_printable_and_bounded() -> None:
    message = stop_message(3, "bye\x00\x1b[2J" + "x" * 500)
    request_id, reason = parse_stop(message.data)
    assert request_id == 3 and reason.startswith("bye[2J") and len(reason) == 200
    with pytest.raises(ToolRequestError):
        parse_accepted(b'{"id": 1}')


class FakeLink:
    """Only what the guest uses of a SessionLink: the messages it would send."""

    established = True

    def __init__(self) -> None:
        self.sent: list[ControlMessage] = []

    def send(self, event: ControlMessage) -> None:
        self.sent.append(event)


class Presenter:
    def __init__(self) -> None:
        self.shown: list[Any] = []
        self.dismissed: list[str] = []

    def present(self, offer: AgentScreenOffer, server: str) -> None:
        self.shown.append((offer, server))

    def dismiss(self, reason: str) -> None:
        self.dismissed.append(reason)


def _guest(options: dict[str, bool] | None, presenter: Presenter | None) -> tuple[AgentScreenGuest, FakeLink]:
    link = FakeLink()
    policy = policy_from_options(options) if options is not None else None
    guest = AgentScreenGuest(link, "http://relay", lambda: policy, post=lambda f, *a: f(*a) or True)  # type: ignore[arg-type]
    guest.set_presenter(presenter)
    return guest, link


def _answers(link: FakeLink) -> list[tuple[str, dict[str, Any]]]:
    return [(m.topic, json.loads(m.data)) for m in link.sent]


def _offer(control: bool, request_id: int = 1) -> ControlMessage:
    return offer_message(AgentScreenOffer(request_id, new_reverse_code(), control))


@pytest.mark.parametrize(
    ("options", "control", "tool"),
    [
        ({"agent_screen_send": False}, False, "agent_screen_send"),
        ({"agent_screen_send": False}, True, "agent_screen_send"),
        ({"agent_screen_control": False}, True, "agent_screen_control"),
        (None, False, None),  # the options are not known yet
    ],
)
def test_switched_off_options_are_refused_and_nothing_is_shown(
    options: dict[str, bool] | None, control: bool, tool: str | None
) -> None:
    presenter = Presenter()
    guest, link = _guest(options, presenter)
    assert guest.handle(_offer(control, 5))
    ((topic, payload),) = _answers(link)
    assert topic == "tool.refused"
    assert payload["id"] == 5 and payload["request"] == "agent_screen.offer" and payload["tool"] == tool
    assert presenter.shown == [] and guest.current is None


def test_no_window_refuses_and_a_hostile_offer_is_refused_with_its_id() -> None:
    guest, link = _guest({}, None)
    guest.handle(_offer(False, 2))
    assert _answers(link)[-1][1]["reason"] == "this applet has no window to show the agent's screen on"
    presenter = Presenter()
    guest.set_presenter(presenter)
    bad = json.dumps({"id": 9, "code": "123456789-12345678", "control": True}).encode()
    guest.handle(ControlMessage("agent_screen.offer", bad))
    assert _answers(link)[-1][1]["id"] == 9 and _answers(link)[-1][0] == "tool.refused"
    guest.handle(ControlMessage("agent_screen.offer", b"\xff\xfe"))
    assert _answers(link)[-1][1]["id"] is None
    assert presenter.shown == []
    assert not guest.handle(ControlMessage("sysinfo.request", b"{}"))  # not the guest's


def test_an_allowed_offer_is_shown_and_either_side_ends_it() -> None:
    presenter = Presenter()
    guest, link = _guest({}, presenter)
    guest.handle(_offer(True, 1))
    assert _answers(link) == [("agent_screen.accepted", {"id": 1, "control": True})]
    ((offer, server),) = presenter.shown
    assert offer.control and server == "http://relay"
    # A stop naming another offer changes nothing; the agent's stop closes the window.
    guest.handle(stop_message(99, "old"))
    assert presenter.dismissed == [] and guest.current is offer
    guest.handle(stop_message(1, "the agent stopped showing the screen"))
    assert presenter.dismissed == ["the agent stopped showing the screen"] and guest.current is None
    # The customer closes the next one: the agent is told.
    guest.handle(_offer(False, 2))
    guest.closed_by_customer(2)
    assert _answers(link)[-1] == (
        "agent_screen.stop",
        {"id": 2, "reason": "the customer closed the agent's screen"},
    )
    # The support session ends with one shown.
    guest.handle(_offer(False, 3))
    guest.close()
    assert presenter.dismissed[-1] == "the support session ended" and guest.current is None


def test_options_switched_off_under_a_running_agent_screen_close_it() -> None:
    presenter = Presenter()
    options: dict[str, bool] = {}
    link = FakeLink()
    guest = AgentScreenGuest(
        link,  # type: ignore[arg-type]
        "http://relay",
        lambda: policy_from_options(options),
        post=lambda f, *a: f(*a) or True,
    )
    guest.set_presenter(presenter)
    guest.handle(_offer(False, 1))
    options["agent_screen_control"] = False  # does not concern a view-only screen
    guest.follow_policy()
    assert guest.current is not None and presenter.dismissed == []
    options["agent_screen_send"] = False
    guest.follow_policy()
    assert guest.current is None and presenter.dismissed == [
        "agent screen send is switched off for this agent"
    ]
    assert _answers(link)[-1][0] == "agent_screen.stop"


@settings(max_examples=300, deadline=None)
@given(
    topic=st.sampled_from(
        ["agent_screen.offer", "agent_screen.stop", "agent_screen.accepted", "tool.refused"]
    ),
    data=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.sampled_from(["id", "code", "control", "reason", "request", "tool"]),
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=80), st.lists(st.integers())),
        ).map(lambda d: json.dumps(d).encode()),
    ),
)
def test_hostile_agent_screen_messages_never_raise_nor_show(topic: str, data: bytes) -> None:
    from opensupport.viewer.reverse import AgentScreenShare, AgentScreenState

    presenter = Presenter()
    guest, link = _guest({}, presenter)
    guest.handle(ControlMessage(topic, data))  # must not raise
    assert presenter.shown == [] or topic == "agent_screen.offer"
    for answer_topic, payload in _answers(link):  # an offer is accepted or refused, with a JSON answer
        if answer_topic == "tool.refused":
            assert payload["request"] == "agent_screen.offer"
        else:
            assert answer_topic == "agent_screen.accepted" and presenter.shown

    made: list[Any] = []

    class Thread:
        def call(self, func: Any, *args: Any) -> bool:
            func(*args)
            return True

    share = AgentScreenShare(
        FakeLink(),  # type: ignore[arg-type]
        Thread(),  # type: ignore[arg-type]
        "http://relay",
        open_host=lambda *a, **k: made.append(a),
    )
    share.handle(ControlMessage(topic, data))  # nothing offered: nothing may start
    assert made == [] and share.status.state is AgentScreenState.IDLE
