"""Sealed records: altered, replayed, reordered, truncated or unexpected records end the session clearly."""

from __future__ import annotations

import pytest
from opensupport.protocol import (
    MAX_FILE_CHUNK_SIZE,
    MAX_RECORD_SIZE,
    ChatMessage,
    CloseSession,
    FileChunk,
    FileOffer,
    FramingError,
    HandshakeError,
    IntegrityError,
    LocalProtocolError,
    ProtocolError,
    ReorderError,
    ReplayError,
    Role,
    State,
    TransportLost,
    TruncationError,
)
from opensupport.protocol.framing import StreamDeframer, frame
from opensupport.protocol.testing import ConnectionPair


def established() -> ConnectionPair:
    pair = ConnectionPair()
    pair.handshake()
    return pair


def three_chat_records(pair: ConnectionPair) -> list[bytes]:
    for text in ("one", "two", "three"):
        pair.viewer.send(ChatMessage(text))
    records = pair.viewer.data_to_send()
    assert len(records) == 3
    return records


def test_no_plaintext_on_the_wire() -> None:
    """Everything the relay forwards (the tap records every record) hides the markers."""
    pair = established()
    chat_marker = "MARKER-4f1c-secret-chat-line"
    file_marker = b"FILE-MARKER-9d2e-" * 1000
    pair.viewer.send(ChatMessage(chat_marker))
    pair.host.send(FileOffer(1, "secret-name.txt", len(file_marker)))
    pair.host.send(FileChunk(1, 0, file_marker[:MAX_FILE_CHUNK_SIZE]))
    pair.pump()
    assert pair.of_type(Role.HOST, ChatMessage) == [ChatMessage(chat_marker)]
    assert pair.of_type(Role.VIEWER, FileChunk) == [FileChunk(1, 0, file_marker[:MAX_FILE_CHUNK_SIZE])]
    stream = b"".join(record for _, record in pair.wire)
    for needle in (chat_marker.encode(), b"FILE-MARKER", b"secret-name", pair.code.secret.encode()):
        assert needle not in stream


@pytest.mark.parametrize("position", [0, 1, 4, 6, -1, -16])
def test_altered_record_is_an_integrity_error(position: int) -> None:
    pair = established()
    record = three_chat_records(pair)[0]
    altered = bytearray(record)
    altered[position] ^= 0x40
    pair.host.receive_data(bytes(altered))
    with pytest.raises(ProtocolError) as info:
        pair.host.next_event()
    assert isinstance(info.value, IntegrityError | FramingError)
    assert pair.host.state is State.FAILED
    # The failure is sticky and the host tells the viewer, authenticated, why it stopped.
    with pytest.raises(type(info.value)):
        pair.host.next_event()


def test_replayed_record_is_a_replay_error() -> None:
    pair = established()
    first, second, _ = three_chat_records(pair)
    pair.deliver(Role.HOST, [first, second])
    pair.host.receive_data(first)
    with pytest.raises(ReplayError, match="arrived again"):
        pair.host.next_event()
    assert [e.text for e in pair.of_type(Role.HOST, ChatMessage)] == ["one", "two"]


def test_reordered_record_is_a_reorder_error() -> None:
    pair = established()
    first, second, _ = three_chat_records(pair)
    pair.host.receive_data(second)
    with pytest.raises(ReorderError, match="dropped or reordered"):
        pair.host.next_event()
    del first


def test_dropped_record_is_detected_at_the_next_one() -> None:
    pair = established()
    first, _, third = three_chat_records(pair)
    pair.deliver(Role.HOST, [first])
    pair.host.receive_data(third)
    with pytest.raises(ReorderError):
        pair.host.next_event()


@pytest.mark.parametrize("keep", [0, 1, 5, 20, -1])
def test_truncated_record_is_an_error(keep: int) -> None:
    pair = established()
    (record, *_) = three_chat_records(pair)
    cut = record[:keep]
    if not cut:
        pair.host.receive_data(b"")  # a record cut to nothing is the end of the transport
        assert pair.host.next_event() == TransportLost()
        return
    pair.host.receive_data(cut)
    with pytest.raises((IntegrityError, FramingError)):
        pair.host.next_event()


def test_truncated_stream_is_a_truncation_error() -> None:
    pair = established()
    stream = b"".join(frame(r) for r in three_chat_records(pair))
    deframer = StreamDeframer()
    records = deframer.feed(stream[:-7])
    assert len(records) == 2
    pair.deliver(Role.HOST, records)
    with pytest.raises(TruncationError, match="inside a record"):
        deframer.eof()


def test_end_without_authenticated_close_is_not_a_clean_end() -> None:
    pair = established()
    pair.host.receive_data(b"")
    assert pair.host.next_event() == TransportLost()
    assert pair.host.state is State.SUSPENDED


def test_authenticated_close_is_a_clean_end() -> None:
    pair = established()
    pair.viewer.send(ChatMessage("bye"))
    pair.viewer.send(CloseSession("done"))
    assert pair.viewer.state is State.CLOSING
    with pytest.raises(LocalProtocolError):
        pair.viewer.send(ChatMessage("too late"))
    pair.pump()
    assert pair.of_type(Role.HOST, ChatMessage) == [ChatMessage("bye")]
    assert pair.of_type(Role.HOST, CloseSession) == [CloseSession("done")]
    assert pair.host.state is State.CLOSED and pair.viewer.state is State.CLOSED
    pair.drop_link()
    assert pair.host.state is State.CLOSED


def test_oversized_record_is_refused_before_it_is_buffered() -> None:
    pair = established()
    with pytest.raises(FramingError, match="MAX_RECORD_SIZE"):
        pair.host.receive_data(b"\x17" + bytes(MAX_RECORD_SIZE))


def test_plaintext_handshake_record_after_establishment_is_refused() -> None:
    pair = established()
    pair.host.receive_data(b"\x01" + bytes(100))
    with pytest.raises(HandshakeError, match="unexpected"):
        pair.host.next_event()


def test_sealed_record_during_handshake_is_refused() -> None:
    pair = ConnectionPair()
    pair.host.receive_data(b"\x17" + bytes(40))
    with pytest.raises(HandshakeError, match="before the handshake"):
        pair.host.next_event()


def test_unknown_record_type_is_a_framing_error() -> None:
    pair = established()
    pair.viewer.receive_data(b"\x99abc")
    with pytest.raises(FramingError, match="unknown record type"):
        pair.viewer.next_event()


def test_integrity_failure_tells_the_peer_with_an_authenticated_close() -> None:
    pair = established()
    (record, *_) = three_chat_records(pair)
    pair.host.receive_data(record[:-1] + bytes([record[-1] ^ 1]))
    with pytest.raises(IntegrityError):
        pair.host.next_event()
    pair.deliver(Role.VIEWER, pair.host.data_to_send())
    (close,) = pair.of_type(Role.VIEWER, CloseSession)
    assert isinstance(close, CloseSession) and "IntegrityError" in close.reason
    assert pair.viewer.state is State.CLOSED
