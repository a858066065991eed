"""Chat both ways over a real session, the transcript, and the option enforced on the host."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from opensupport.host.policy import FeatureDisabled, HostPolicy
from opensupport.host.tools.chat import HostChat
from opensupport.protocol import ChatMessage, ControlMessage, Role
from opensupport.protocol.testing import ConnectionPair
from opensupport.server.options import defaults
from opensupport.tools.chat import Chat, ChatError, Speaker, Transcript, clean_text


def chat_pair(options: dict[str, bool]) -> tuple[ConnectionPair, Chat, HostChat]:
    pair = ConnectionPair()
    pair.handshake()
    viewer = Chat(Role.VIEWER, pair.viewer.send)
    host = HostChat(HostPolicy(options), Chat(Role.HOST, pair.host.send))
    return pair, viewer, host


def deliver(pair: ConnectionPair, viewer: Chat, host: HostChat) -> None:
    seen = {Role.HOST: 0, Role.VIEWER: 0}
    for _ in range(10):
        pair.pump()
        for event in pair.events[Role.HOST][seen[Role.HOST] :]:
            for answer in host.handle(event) or []:
                pair.host.send(answer)
        for event in pair.events[Role.VIEWER][seen[Role.VIEWER] :]:
            if isinstance(event, ChatMessage):
                viewer.receive(event)
        seen = {r: len(pair.events[r]) for r in seen}
    pair.pump()


def test_chat_both_ways_and_the_transcript() -> None:
    pair, viewer, host = chat_pair(defaults())
    viewer.say("안녕하세요, 상담원입니다.")
    host.say("  네, 프린터가 안 돼요\n두 줄  ")
    viewer.say("잠시만요")
    deliver(pair, viewer, host)
    expected = [
        (Speaker.AGENT, "안녕하세요, 상담원입니다."),
        (Speaker.CUSTOMER, "네, 프린터가 안 돼요\n두 줄"),
        (Speaker.AGENT, "잠시만요"),
    ]
    # each side records lines in the order it saw them: its own at once, the peer's on arrival
    assert sorted((x.speaker, x.text) for x in host.chat.transcript.lines) == sorted(expected)
    assert [(x.speaker, x.text) for x in viewer.transcript.lines] == [expected[0], expected[2], expected[1]]
    text = host.chat.transcript.as_text()
    assert "상담원: 안녕하세요, 상담원입니다." in text and "고객: 네, 프린터가 안 돼요\n    두 줄" in text
    assert text.splitlines()[0][:4] == str(datetime.now(UTC).year)
    records = json.loads(json.dumps(viewer.transcript.as_records()))
    assert {r["speaker"] for r in records} == {"agent", "customer"}


def test_chat_off_is_refused_on_the_host() -> None:
    pair, viewer, host = chat_pair({**defaults(), "text_chat": False})
    # a modified viewer sends anyway
    pair.viewer.send(ChatMessage("click this link"))
    deliver(pair, viewer, host)
    assert host.chat.transcript.lines == [] and host.refusals == 1
    refusals = [e for e in pair.events[Role.VIEWER] if isinstance(e, ControlMessage)]
    assert refusals and json.loads(refusals[0].data)["tool"] == "text_chat"
    with pytest.raises(FeatureDisabled):
        host.say("hello")


def test_lines_are_cleaned_and_bounded() -> None:
    assert clean_text("\x1b[31mred\x07\x00 ok\t\n") == "[31mred ok"
    chat = Chat(Role.VIEWER, lambda e: None)
    with pytest.raises(ChatError):
        chat.say(" \x00 ")
    with pytest.raises(ChatError):
        chat.say("가" * 2000)  # 6000 UTF-8 bytes
    small = Transcript(max_size=10)
    small.add(Speaker.AGENT, "12345")
    small.add(Speaker.AGENT, "123456")
    assert len(small.lines) == 1 and "1 later lines not kept" in small.as_text()
