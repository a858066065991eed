"""Resume: a dropped transport loses nothing reliable, duplicates nothing, and resyncs the screen."""

from __future__ import annotations

import hashlib
import os

import pytest
from opensupport.protocol import (
    ChatMessage,
    FileChunk,
    FileEnd,
    FileOffer,
    IntegrityError,
    KeyEvent,
    KeyframeRequest,
    LocalProtocolError,
    Resumed,
    ResumeRejected,
    Role,
    ScreenUpdate,
    State,
    TransportLost,
)
from opensupport.protocol.testing import ConnectionPair


class FileSender:
    """Sends one file in chunks as far as the file credit allows."""

    def __init__(self, pair: ConnectionPair, role: Role, data: bytes, chunk: int = 40_000) -> None:
        self.session = pair.session(role)
        self.data, self.chunk, self.offset = data, chunk, 0
        self.session.send(FileOffer(9, "payload.bin", len(data)))
        self.ended = False

    def feed(self) -> None:
        while self.offset < len(self.data):
            piece = self.data[self.offset : self.offset + self.chunk]
            if self.session.file_credit() < len(piece):
                return
            self.session.send(FileChunk(9, self.offset, piece))
            self.offset += len(piece)
        if not self.ended:
            self.session.send(FileEnd(9, hashlib.sha256(self.data).digest()))
            self.ended = True


def received_file(pair: ConnectionPair, role: Role) -> bytes:
    chunks = pair.of_type(role, FileChunk)
    offsets = [c.offset for c in chunks]  # type: ignore[attr-defined]
    assert offsets == sorted(set(offsets)), "chunks arrive once each, in order"
    return b"".join(c.data for c in chunks)  # type: ignore[attr-defined]


def test_resume_mid_transfer_delivers_every_reliable_byte_exactly_once() -> None:
    pair = ConnectionPair(fragment_size=4096, bulk_fragment_size=4096)
    pair.handshake()
    data = os.urandom(3_000_000)
    sender = FileSender(pair, Role.VIEWER, data)
    pair.host.send(ScreenUpdate(b"frame-1", keyframe=True))
    chats = [f"line {i}" for i in range(30)]
    for round_ in range(12):
        sender.feed()
        pair.viewer.send(ChatMessage(chats[round_]))
        pair.transfer(Role.VIEWER, max_records=25)
        pair.transfer(Role.HOST)
    # the link dies: some records were pulled by the transport but never arrived
    pair.viewer.data_to_send(7)
    pair.host.data_to_send(3)
    pair.viewer.send(KeyEvent(0x61, True))  # stale input is not replayed after the resume
    pair.drop_link()
    assert TransportLost() in pair.events[Role.HOST] and TransportLost() in pair.events[Role.VIEWER]
    assert pair.host.state is State.SUSPENDED and pair.viewer.state is State.SUSPENDED
    pair.viewer.send(ChatMessage(chats[12]))  # typed while reconnecting: waits for the resume
    pair.viewer.send(KeyEvent(0x62, True))  # input while suspended is discarded
    assert not pair.host.can_send_frame()
    pair.resume()
    assert pair.host.state is State.ESTABLISHED and pair.viewer.state is State.ESTABLISHED
    assert any(isinstance(e, Resumed) for e in pair.events[Role.HOST])
    assert KeyframeRequest("resume") in pair.events[Role.HOST]
    assert pair.host.keyframe_required
    with pytest.raises(LocalProtocolError, match="key frame"):
        pair.host.send(ScreenUpdate(b"delta"))
    pair.host.send(ScreenUpdate(b"frame-2", keyframe=True))
    for round_ in range(13, 30):
        sender.feed()
        pair.viewer.send(ChatMessage(chats[round_]))
        pair.pump()
    while not sender.ended:
        sender.feed()
        pair.pump()
    pair.pump()
    assert received_file(pair, Role.HOST) == data
    assert pair.of_type(Role.HOST, FileEnd) == [FileEnd(9, hashlib.sha256(data).digest())]
    assert [e.text for e in pair.of_type(Role.HOST, ChatMessage)] == chats  # type: ignore[attr-defined]
    # input queued when the link died, or sent while it was down, is never replayed late
    assert pair.of_type(Role.HOST, KeyEvent) == []
    frames = pair.of_type(Role.VIEWER, ScreenUpdate)
    assert frames[-1] == ScreenUpdate(b"frame-2", keyframe=True, frame_id=2)


def test_resume_twice_and_records_of_the_old_transport_are_refused() -> None:
    pair = ConnectionPair()
    pair.handshake()
    old: list[bytes] = []
    for i in range(3):
        pair.host.send(ChatMessage(f"before drop {i}"))
        old = pair.host.data_to_send()
        pair.drop_link()
        pair.resume()
    assert [e.text for e in pair.of_type(Role.VIEWER, ChatMessage)] == [f"before drop {i}" for i in range(3)]  # type: ignore[attr-defined]
    # a record sealed for an old transport, replayed by the relay onto the new one, is refused
    pair.viewer.receive_data(old[0])
    with pytest.raises(IntegrityError):
        pair.viewer.next_event()


def test_messages_lost_before_the_drop_are_retransmitted() -> None:
    pair = ConnectionPair()
    pair.handshake()
    pair.host.send(ChatMessage("lost in the relay"))
    assert pair.host.data_to_send()  # pulled by the transport, never delivered
    pair.drop_link()
    pair.resume()
    assert pair.of_type(Role.VIEWER, ChatMessage) == [ChatMessage("lost in the relay")]
    resumed = [e for e in pair.events[Role.HOST] if isinstance(e, Resumed)]
    assert resumed == [Resumed(1)]


def test_resume_interrupted_by_another_drop_can_be_retried() -> None:
    pair = ConnectionPair()
    pair.handshake()
    pair.viewer.send(ChatMessage("m"))
    pair.drop_link()
    pair.viewer.resume()
    pair.host.resume()
    pair.transfer(Role.VIEWER)  # resume hello arrives, the answer is lost
    pair.host.data_to_send()
    pair.drop_link()
    assert pair.viewer.state is State.SUSPENDED and pair.host.state is State.SUSPENDED
    pair.resume()
    assert pair.of_type(Role.HOST, ChatMessage) == [ChatMessage("m")]


def test_resume_from_another_session_is_rejected() -> None:
    pair = ConnectionPair()
    pair.handshake()
    other = ConnectionPair(pair.code)  # same code, different session keys
    other.handshake()
    pair.drop_link()
    other.drop_link()
    pair.host.resume()
    other.viewer.resume()
    pair.host.receive_data(other.viewer.data_to_send()[0])
    with pytest.raises(ResumeRejected, match="another session"):
        pair.host.next_event()


def test_forged_resume_proof_is_rejected() -> None:
    pair = ConnectionPair()
    pair.handshake()
    pair.drop_link()
    pair.viewer.resume()
    pair.host.resume()
    hello = bytearray(pair.viewer.data_to_send()[0])
    hello[-1] ^= 1
    pair.host.receive_data(bytes(hello))
    with pytest.raises(ResumeRejected, match="prove"):
        pair.host.next_event()


def test_resume_before_the_transport_is_lost_is_refused() -> None:
    pair = ConnectionPair()
    pair.handshake()
    with pytest.raises(LocalProtocolError):
        pair.viewer.resume()


def test_lost_resume_confirmation_does_not_strand_the_session() -> None:
    """The viewer moved to the new secrets, the host never saw its confirmation: the next resume works."""
    pair = ConnectionPair()
    pair.handshake()
    pair.host.send(ChatMessage("from host"))
    pair.viewer.send(ChatMessage("from viewer"))
    pair.drop_link()
    pair.viewer.resume()
    pair.host.resume()
    pair.transfer(Role.VIEWER)  # resume hello
    pair.transfer(Role.HOST)  # resume accept: the viewer is established with the new secrets
    assert pair.viewer.state is State.ESTABLISHED
    pair.viewer.data_to_send()  # its confirmation and retransmissions die with the transport
    pair.drop_link()
    pair.resume()
    assert pair.of_type(Role.HOST, ChatMessage) == [ChatMessage("from viewer")]
    assert pair.of_type(Role.VIEWER, ChatMessage) == [ChatMessage("from host")]
    pair.drop_link()  # and the session keeps resuming after that
    pair.resume()
    pair.viewer.send(ChatMessage("again"))
    pair.pump()
    assert pair.of_type(Role.HOST, ChatMessage)[-1] == ChatMessage("again")


def test_ping_flood_does_not_grow_the_queue() -> None:
    from opensupport.protocol import Ping, Pong

    pair = ConnectionPair()
    pair.handshake()
    for i in range(100):
        pair.viewer.send(Ping(bytes([i])))
    pair.transfer(Role.VIEWER)
    pair.transfer(Role.HOST)
    assert 1 <= len(pair.of_type(Role.VIEWER, Pong)) <= 16
