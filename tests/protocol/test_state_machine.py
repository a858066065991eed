"""A Hypothesis state machine over a host and a viewer: any interleaving of sends, partial transfers,
dropped links (losing records in flight) and resumes delivers every reliable message exactly once and in
order, frames in order, and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from opensupport.protocol import (
    ChatMessage,
    FileChunk,
    PointerEvent,
    Role,
    ScreenUpdate,
    State,
)
from opensupport.protocol.testing import ConnectionPair

ROLES = st.sampled_from([Role.HOST, Role.VIEWER])


class SessionPair(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.pair = ConnectionPair(fragment_size=512, bulk_fragment_size=512, rekey_after_records=40)
        self.pair.handshake()
        self.chats: dict[Role, list[str]] = {Role.HOST: [], Role.VIEWER: []}
        self.file_sent = b""
        self.frames_sent: list[int] = []
        self.pointers_sent: list[PointerEvent] = []
        self.drops = 0

    def received_chats(self, role: Role) -> list[str]:
        return [e.text for e in self.pair.of_type(role, ChatMessage)]  # type: ignore[attr-defined]

    @rule(role=ROLES, text=st.text(max_size=40))
    def chat(self, role: Role, text: str) -> None:
        self.pair.session(role).send(ChatMessage(text))
        self.chats[role].append(text)

    @rule(size=st.integers(min_value=1, max_value=3000))
    def file_chunk(self, size: int) -> None:
        viewer = self.pair.viewer
        if viewer.file_credit() >= size:
            data = bytes([len(self.file_sent) % 251]) * size
            viewer.send(FileChunk(1, len(self.file_sent), data))
            self.file_sent += data

    @rule(size=st.integers(min_value=1, max_value=5000))
    def frame(self, size: int) -> None:
        host = self.pair.host
        if host.can_send_frame():
            number = len(self.frames_sent) + 1
            host.send(
                ScreenUpdate(number.to_bytes(4, "big") * (size // 4 + 1), keyframe=host.keyframe_required)
            )
            self.frames_sent.append(number)

    @rule(x=st.integers(min_value=0, max_value=5000))
    def pointer(self, x: int) -> None:
        if self.pair.viewer.state is State.ESTABLISHED:
            event = PointerEvent(x, x)
            self.pair.viewer.send(event)
            self.pointers_sent.append(event)

    @rule(role=ROLES, count=st.integers(min_value=1, max_value=20))
    def transfer(self, role: Role, count: int) -> None:
        self.pair.transfer(role, max_records=count)

    @rule()
    def pump(self) -> None:
        self.pair.pump()

    @precondition(lambda self: self.drops < 4)
    @rule(lost_host=st.integers(min_value=0, max_value=5), lost_viewer=st.integers(min_value=0, max_value=5))
    def drop_and_resume(self, lost_host: int, lost_viewer: int) -> None:
        self.drops += 1
        self.pair.host.data_to_send(lost_host)  # pulled by the dying transport, never delivered
        self.pair.viewer.data_to_send(lost_viewer)
        self.pair.drop_link()
        self.pair.viewer.resume()
        self.pair.host.resume()

    @invariant()
    def reliable_data_is_a_prefix_in_order(self) -> None:
        for role, peer in ((Role.HOST, Role.VIEWER), (Role.VIEWER, Role.HOST)):
            got = self.received_chats(peer)
            assert got == self.chats[role][: len(got)]
        got_file = b"".join(e.data for e in self.pair.of_type(Role.HOST, FileChunk))  # type: ignore[attr-defined]
        assert self.file_sent.startswith(got_file)
        frames = [int.from_bytes(e.data[:4], "big") for e in self.pair.of_type(Role.VIEWER, ScreenUpdate)]  # type: ignore[attr-defined]
        assert frames == sorted(set(frames)) and set(frames) <= set(self.frames_sent)
        pointers = self.pair.of_type(Role.HOST, PointerEvent)
        it = iter(self.pointers_sent)
        assert all(any(p == q for q in it) for p in pointers), "input arrives in order, never invented"

    def teardown(self) -> None:
        self.pair.pump()
        assert self.pair.host.state is State.ESTABLISHED and self.pair.viewer.state is State.ESTABLISHED
        for role, peer in ((Role.HOST, Role.VIEWER), (Role.VIEWER, Role.HOST)):
            assert self.received_chats(peer) == self.chats[role]
        got_file = b"".join(e.data for e in self.pair.of_type(Role.HOST, FileChunk))  # type: ignore[attr-defined]
        assert got_file == self.file_sent


SessionPair.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestSessionPair = SessionPair.TestCase
