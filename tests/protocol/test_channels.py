"""Channels, priorities, frame flow control, file credit, rekeying."""

from __future__ import annotations

import hashlib
import os

import pytest
from opensupport.protocol import (
    DEFAULT_FRAGMENT_SIZE,
    FILE_CREDIT_WINDOW,
    FRAME_WINDOW,
    MAX_FILE_CHUNK_SIZE,
    MAX_FILE_CHUNK_SIZE_V1,
    MAX_FRAGMENT_SIZE,
    MAX_RECORD_SIZE,
    ChatMessage,
    ClipboardData,
    ControlMessage,
    CursorPosition,
    DrawingStroke,
    FileChunk,
    FileEnd,
    FileOffer,
    FlowControlError,
    FrameAcknowledged,
    FramingError,
    KeyCombo,
    KeyEvent,
    LocalProtocolError,
    MessageError,
    Monitor,
    MonitorLayout,
    Ping,
    PointerEvent,
    Pong,
    Role,
    ScreenUpdate,
    TextInput,
    UnknownMessage,
    WheelEvent,
    _crypto,
)
from opensupport.protocol._crypto import SEALED_HEADER_SIZE, TAG_SIZE
from opensupport.protocol._wire import Lane, encode_message
from opensupport.protocol.testing import ConnectionPair

#: The chunk size of the older tests: 16 of them fill the credit window.
CHUNK = MAX_FILE_CHUNK_SIZE_V1


def established(**options: int) -> ConnectionPair:
    pair = ConnectionPair(**options)
    pair.handshake()
    return pair


def kinds(events: list[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_every_message_type_round_trips() -> None:
    pair = established()
    from_viewer = [
        KeyEvent(0x01000000 + ord("한"), True),
        PointerEvent(-1920, 1079, 0b101),
        WheelEvent(10, 20, 0, -120),
        TextInput("안녕하세요 ｶﾅ text"),
        KeyCombo((0xFFE3, 0xFFE9, 0xFFFF)),
        ChatMessage("hello 안녕"),
        ClipboardData("text/plain;charset=utf-8", "복사".encode()),
        DrawingStroke(7, 0xFF0000FF, 3, ((1, 2), (3, 4), (-5, 6))),
        ControlMessage("options", b'{"files": true}'),
        FileOffer(1, "report.pdf", 3),
        FileChunk(1, 0, b"abc"),
        FileEnd(1, hashlib.sha256(b"abc").digest()),
    ]
    from_host = [
        ScreenUpdate(b"\x00" * 10, keyframe=True),
        CursorPosition(100, -200, False),
        MonitorLayout((Monitor(0, 0, 1920, 1080, True), Monitor(1920, 0, 1280, 1024))),
        ChatMessage("host says hi"),
    ]
    for event in from_viewer:
        pair.viewer.send(event)
    for event in from_host:
        pair.host.send(event)
    pair.pump()
    got_host = [e for e in pair.events[Role.HOST] if type(e) in {type(x) for x in from_viewer}]
    assert sorted(map(repr, got_host)) == sorted(map(repr, from_viewer))
    got_viewer = [e for e in pair.events[Role.VIEWER] if type(e) in {type(x) for x in from_host}]
    assert ScreenUpdate(b"\x00" * 10, keyframe=True, frame_id=1) in got_viewer
    assert sorted(map(repr, [e for e in got_viewer if not isinstance(e, ScreenUpdate)])) == sorted(
        map(repr, from_host[1:])
    )


def test_input_sent_after_bulk_data_is_delivered_first() -> None:
    pair = established()
    # viewer -> host: a megabyte of file chunks, then a key press
    pair.viewer.send(FileOffer(1, "big.bin", 16 * CHUNK))
    for i in range(15):
        pair.viewer.send(FileChunk(1, i * CHUNK, bytes([i]) * CHUNK))
    pair.viewer.send(KeyEvent(0x61, True))
    pair.transfer(Role.VIEWER, max_records=1)
    assert kinds(pair.events[Role.HOST])[-1] == "KeyEvent"
    # host -> viewer: a 2 MB key frame and file chunks, then the cursor and a control message
    pair.host.send(ScreenUpdate(bytes(2_000_000), keyframe=True))
    pair.host.send(FileOffer(2, "log.txt", CHUNK))
    pair.host.send(FileChunk(2, 0, b"x" * CHUNK))
    pair.transfer(Role.HOST, max_records=3)  # the big update has started to flow
    before = len(pair.events[Role.VIEWER])
    pair.host.send(CursorPosition(5, 5))
    pair.host.send(ControlMessage("quality", b"high"))
    pair.transfer(Role.HOST, max_records=2)
    assert kinds(pair.events[Role.VIEWER][before:]) == ["ControlMessage", "CursorPosition"]
    pair.pump()
    assert [e.frame_id for e in pair.of_type(Role.VIEWER, ScreenUpdate)] == [1]  # type: ignore[attr-defined]


def test_file_transfer_never_starves_input() -> None:
    pair = established()
    pair.viewer.send(FileOffer(1, "f", FILE_CREDIT_WINDOW))
    for offset in range(0, FILE_CREDIT_WINDOW, CHUNK):
        pair.viewer.send(FileChunk(1, offset, bytes(CHUNK)))
    for i in range(20):
        pair.transfer(Role.VIEWER, max_records=3)
        pair.viewer.send(PointerEvent(i, i))
        pair.transfer(Role.VIEWER, max_records=1)
        assert pair.events[Role.HOST][-1] == PointerEvent(i, i)


def test_screen_and_files_share_the_bulk_bandwidth() -> None:
    pair = established()
    pair.host.send(ScreenUpdate(bytes(1_000_000), keyframe=True))
    pair.host.send(FileOffer(1, "f", CHUNK))
    pair.host.send(FileChunk(1, 0, bytes(CHUNK)))
    pair.transfer(Role.HOST, max_records=40)
    # the 64 KiB file finished long before the 1 MB frame did
    assert kinds(pair.events[Role.VIEWER])[-2:] == ["FileOffer", "FileChunk"]
    assert not pair.of_type(Role.VIEWER, ScreenUpdate)


def test_frame_window_makes_the_host_skip_to_the_newest_frame() -> None:
    pair = established()
    pending: bytes | None = None
    sent: list[int] = []
    max_in_flight = 0
    for tick in range(1, 41):
        pending = tick.to_bytes(4, "big")  # the newest capture replaces the pending one
        if pair.host.can_send_frame():
            pair.host.send(ScreenUpdate(pending, keyframe=not sent))
            sent.append(tick)
            pending = None
        else:
            with pytest.raises(LocalProtocolError, match="window full"):
                pair.host.send(ScreenUpdate(b"late"))
        acked = [e.frame_id for e in pair.of_type(Role.HOST, FrameAcknowledged)]  # type: ignore[attr-defined]
        in_flight = len(sent) - max(acked, default=0)
        max_in_flight = max(max_in_flight, in_flight)
        pair.transfer(Role.HOST)  # the link carries the frames...
        if tick % 8 == 0:  # ...but the slow viewer only gets round to acknowledging every 8th tick
            pair.transfer(Role.VIEWER)
            pair.transfer(Role.HOST)
    pair.pump()
    if pending is not None:
        assert pair.host.can_send_frame()
        pair.host.send(ScreenUpdate(pending))
        sent.append(40)
        pair.pump()
    received = [int.from_bytes(e.data, "big") for e in pair.of_type(Role.VIEWER, ScreenUpdate)]  # type: ignore[attr-defined]
    assert received == sent  # every frame sent arrives, in order
    assert received[-1] == 40  # the newest capture is what the viewer ends up with
    assert len(received) < 40  # stale captures were skipped, not queued
    assert max_in_flight <= FRAME_WINDOW


def test_first_frame_must_be_a_keyframe_and_only_the_host_sends_frames() -> None:
    pair = established()
    with pytest.raises(LocalProtocolError, match="key frame"):
        pair.host.send(ScreenUpdate(b"delta"))
    with pytest.raises(LocalProtocolError, match="viewer may not send"):
        pair.viewer.send(ScreenUpdate(b"x", keyframe=True))
    with pytest.raises(LocalProtocolError, match="host may not send"):
        pair.host.send(KeyEvent(1, True))


def test_forged_direction_is_refused_by_the_receiver() -> None:
    pair = established()
    # a modified viewer that sends screen updates anyway
    pair.viewer._enqueue(encode_message(ScreenUpdate(b"x", True, 1)), Lane.SCREEN, False)
    with pytest.raises(MessageError, match="viewer may not send ScreenUpdate"):
        pair.transfer(Role.VIEWER)


def test_file_credit_bounds_bytes_in_flight() -> None:
    pair = established()
    sent = 0
    pair.host.send(FileOffer(3, "data.bin", 3 * FILE_CREDIT_WINDOW))
    while pair.host.file_credit() >= CHUNK:
        pair.host.send(FileChunk(3, sent, bytes(CHUNK)))
        sent += CHUNK
    assert sent == FILE_CREDIT_WINDOW
    with pytest.raises(LocalProtocolError, match="file credit"):
        pair.host.send(FileChunk(3, sent, b"x"))
    pair.pump()  # the viewer receives the chunks and grants more credit
    assert pair.host.file_credit() == FILE_CREDIT_WINDOW
    assert sum(len(e.data) for e in pair.of_type(Role.VIEWER, FileChunk)) == FILE_CREDIT_WINDOW  # type: ignore[attr-defined]


def test_sender_exceeding_credit_is_a_flow_control_error() -> None:
    pair = established()
    pair.host._file_limit = 10 * FILE_CREDIT_WINDOW  # a modified host that ignores credit
    for i in range(FILE_CREDIT_WINDOW // CHUNK + 1):
        pair.host.send(FileChunk(1, i * CHUNK, bytes(CHUNK)))
    with pytest.raises(FlowControlError, match="credit"):
        pair.transfer(Role.HOST)


def test_frames_beyond_the_window_are_a_flow_control_error() -> None:
    pair = established()
    pair.host._frames_acked = 100  # a modified host that ignores the window
    for i in range(FRAME_WINDOW + 1):
        pair.host.send(ScreenUpdate(bytes([i]), keyframe=True))
    with pytest.raises(FlowControlError, match="window"):
        pair.transfer(Role.HOST)


@pytest.mark.parametrize("options", [{"rekey_after_records": 5}, {"rekey_after_bytes": 100}])
def test_rekeying_after_the_bound_keeps_data_flowing(options: dict[str, int]) -> None:
    pair = established(**options)
    for i in range(60):
        pair.viewer.send(ChatMessage(f"viewer {i}"))
        pair.host.send(ChatMessage(f"host {i}"))
        if i % 7 == 0:
            pair.pump()
    pair.pump()
    assert [e.text for e in pair.of_type(Role.HOST, ChatMessage)] == [f"viewer {i}" for i in range(60)]  # type: ignore[attr-defined]
    assert [e.text for e in pair.of_type(Role.VIEWER, ChatMessage)] == [f"host {i}" for i in range(60)]  # type: ignore[attr-defined]
    for role in (Role.HOST, Role.VIEWER):
        epochs = [int.from_bytes(r[1:5], "big") for sender, r in pair.wire if sender is role and r[0] == 0x17]
        assert max(epochs) >= 5, "the key was updated several times in each direction"
        assert epochs == sorted(epochs)


def test_old_key_records_are_refused_after_a_key_update() -> None:
    pair = established(rekey_after_records=2)
    records = []
    for i in range(4):
        pair.viewer.send(ChatMessage(str(i)))
        records += pair.viewer.data_to_send()
    pair.deliver(Role.HOST, records)
    pair.host.receive_data(records[0])  # a record from epoch 0 replayed in epoch 1+
    with pytest.raises(Exception) as info:
        pair.host.next_event()
    assert type(info.value).__name__ == "ReplayError"


def test_unknown_channel_is_delivered_cleanly_and_the_session_goes_on() -> None:
    pair = established()
    pair.viewer.send(UnknownMessage(42, 7, b"future feature"))
    pair.viewer.send(ChatMessage("still here"))
    pair.pump()
    assert pair.of_type(Role.HOST, UnknownMessage) == [UnknownMessage(42, 7, b"future feature")]
    assert pair.of_type(Role.HOST, ChatMessage) == [ChatMessage("still here")]
    with pytest.raises(LocalProtocolError):
        pair.viewer.send(UnknownMessage(5, 1, b"chat is known"))


def test_ping_is_answered_by_the_session() -> None:
    pair = established()
    pair.viewer.send(Ping(b"t=1"))
    pair.pump()
    assert pair.of_type(Role.VIEWER, Pong) == [Pong(b"t=1")]


def test_event_bounds_are_checked_at_construction() -> None:
    from opensupport.protocol import InvalidEvent

    with pytest.raises(InvalidEvent):
        ChatMessage("x" * 5000)
    with pytest.raises(InvalidEvent):
        FileOffer(1, "../etc/passwd", 1)
    with pytest.raises(InvalidEvent):
        PointerEvent(1 << 31, 0)
    with pytest.raises(InvalidEvent):
        FileChunk(1, 0, bytes(MAX_FILE_CHUNK_SIZE + 1))


def test_drawing_goes_both_ways_with_every_shape() -> None:
    from opensupport.protocol import DrawingClear, StrokeShape

    pair = established()
    strokes = [
        DrawingStroke(1, 0xFF0000FF, 3, ((1, 2), (3, 4), (5, 6))),
        DrawingStroke(2, 0x00FF00FF, 2, ((0, 0), (10, 10)), StrokeShape.LINE),
        DrawingStroke(3, 0x0000FFFF, 4, ((10, 10), (-20, 40)), StrokeShape.RECTANGLE),
        DrawingStroke(4, 0x000000FF, 5, ((0, 0), (100, 0)), StrokeShape.ARROW),
        DrawingStroke(5, 0xFFFF0080, 20, ((0, 5), (50, 5)), StrokeShape.HIGHLIGHTER),
        DrawingStroke(6, 0x000000FF, 18, ((30, 40),), StrokeShape.TEXT, "여기를 누르세요"),
    ]
    for stroke in strokes:
        pair.viewer.send(stroke)
        pair.host.send(stroke)
    pair.host.send(DrawingClear())
    pair.pump()
    assert pair.of_type(Role.HOST, DrawingStroke) == strokes
    assert pair.of_type(Role.VIEWER, DrawingStroke) == strokes
    assert pair.of_type(Role.VIEWER, DrawingClear) == [DrawingClear()]


def test_drawing_shapes_check_their_points_and_text() -> None:
    from opensupport.protocol import InvalidEvent, StrokeShape

    with pytest.raises(InvalidEvent, match="line stroke takes"):
        DrawingStroke(1, 0, 1, ((0, 0),), StrokeShape.LINE)
    with pytest.raises(InvalidEvent, match="text is required"):
        DrawingStroke(1, 0, 1, ((0, 0),), StrokeShape.TEXT)
    with pytest.raises(InvalidEvent, match="text is required"):
        DrawingStroke(1, 0, 1, ((0, 0),), StrokeShape.PEN, "x")
    with pytest.raises(InvalidEvent, match="UTF-8 bytes"):
        DrawingStroke(1, 0, 1, ((0, 0),), StrokeShape.TEXT, "x" * 1025)
    # a hostile peer's bytes: unknown shape, a line of 3 points, trailing bytes
    from opensupport.protocol._wire import decode_message

    good = encode_message(DrawingStroke(9, 1, 2, ((0, 0), (1, 1)), StrokeShape.LINE))
    for bad in (good[:6] + b"\x09" + good[7:], good + b"x"):
        with pytest.raises(MessageError):
            decode_message(bad)
    three = bytearray(encode_message(DrawingStroke(9, 1, 2, ((0, 0), (1, 1), (2, 2)))))
    three[6] = StrokeShape.LINE
    with pytest.raises(MessageError, match="line stroke takes"):
        decode_message(bytes(three))


def test_text_input_and_key_combo_bounds_and_wire() -> None:
    from opensupport.protocol import MAX_COMBO_KEYS, MAX_TEXT_INPUT_SIZE, InvalidEvent, MessageError
    from opensupport.protocol._wire import decode_message, encode_message

    for bad in ("", "a\x00b", "한" * (MAX_TEXT_INPUT_SIZE // 3 + 1)):
        with pytest.raises(InvalidEvent):
            TextInput(bad)
    for keys in ((), (1, 1), tuple(range(1, MAX_COMBO_KEYS + 2)), (-1,), (1 << 32,)):
        with pytest.raises(InvalidEvent):
            KeyCombo(keys)  # type: ignore[arg-type]
    combo = KeyCombo((0xFFE3, 0xFFFF))
    assert encode_message(combo)[2:] == bytes([2]) + (0xFFE3).to_bytes(4, "big") + (0xFFFF).to_bytes(4, "big")
    assert decode_message(encode_message(combo)) == combo
    for body in (b"", b"\x02\x00\x00\xff\xe3", b"\x01" + b"\x00" * 8):
        with pytest.raises(MessageError):
            decode_message(bytes([1, 5]) + body)


def _record_sizes(pair: ConnectionPair, role: Role) -> list[int]:
    return [len(record) for sender, record in pair.wire if sender is role]


def test_version_2_carries_a_whole_file_chunk_in_one_record() -> None:
    pair = established()
    assert pair.host.version == pair.viewer.version == 2
    assert pair.viewer.max_file_chunk() == MAX_FILE_CHUNK_SIZE
    data = os.urandom(MAX_FILE_CHUNK_SIZE)
    pair.viewer.send(FileOffer(1, "f", 3 * MAX_FILE_CHUNK_SIZE))
    pair.viewer.send(ControlMessage("t", bytes(12_000)))  # other lanes still cut at the 8 KiB default
    del pair.wire[:]
    for i in range(3):
        pair.viewer.send(FileChunk(1, i * MAX_FILE_CHUNK_SIZE, data))
    pair.pump()
    sizes = _record_sizes(pair, Role.VIEWER)
    chunk_record = SEALED_HEADER_SIZE + 2 + 2 + 12 + MAX_FILE_CHUNK_SIZE + TAG_SIZE
    assert sizes.count(chunk_record) == 3 and max(sizes) == chunk_record <= MAX_RECORD_SIZE
    chats = [len(r) for s, r in pair.wire if s is Role.VIEWER and len(r) > 100 and len(r) != chunk_record]
    assert all(size <= SEALED_HEADER_SIZE + 2 + DEFAULT_FRAGMENT_SIZE + TAG_SIZE for size in chats)
    got = pair.of_type(Role.HOST, FileChunk)
    assert [c.data for c in got] == [data] * 3  # type: ignore[attr-defined]
    assert all(type(c.data) is bytes for c in got)  # type: ignore[attr-defined]  # copied out of the record
    assert ControlMessage("t", bytes(12_000)) in pair.events[Role.HOST]


def test_a_version_1_peer_gets_bulk_fragments_of_the_default_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_crypto, "SUPPORTED_VERSIONS", (1, 1))  # the viewer's hello offers 1..1
    pair = ConnectionPair()
    monkeypatch.undo()
    pair.handshake()
    assert pair.host.version == pair.viewer.version == 1
    assert pair.host.max_file_chunk() == MAX_FILE_CHUNK_SIZE_V1 < MAX_FILE_CHUNK_SIZE
    with pytest.raises(LocalProtocolError, match="exceeds the peer's"):
        pair.host.send(FileChunk(2, 0, bytes(MAX_FILE_CHUNK_SIZE)))
    data = os.urandom(MAX_FILE_CHUNK_SIZE_V1)
    pair.host.send(FileOffer(2, "f", MAX_FILE_CHUNK_SIZE_V1))
    pair.pump()
    del pair.wire[:]
    pair.host.send(FileChunk(2, 0, data))
    pair.pump()
    sizes = _record_sizes(pair, Role.HOST)
    assert max(sizes) == SEALED_HEADER_SIZE + 2 + DEFAULT_FRAGMENT_SIZE + TAG_SIZE and len(sizes) >= 8
    assert pair.of_type(Role.VIEWER, FileChunk) == [FileChunk(2, 0, data)]


@pytest.mark.parametrize(
    ("version", "lane", "size"),
    [
        (2, Lane.MESSAGES, MAX_FRAGMENT_SIZE + 1),  # only the bulk lane has large fragments
        (2, Lane.SCREEN, MAX_FRAGMENT_SIZE + 1),
        (1, Lane.BULK, MAX_FRAGMENT_SIZE + 1),  # and only under version 2
    ],
)
def test_a_large_fragment_outside_its_lane_or_version_is_a_framing_error(
    monkeypatch: pytest.MonkeyPatch, version: int, lane: Lane, size: int
) -> None:
    if version == 1:
        monkeypatch.setattr(_crypto, "SUPPORTED_VERSIONS", (1, 1))
    pair = ConnectionPair()
    monkeypatch.undo()
    pair.handshake()
    assert pair.host.version == version
    sealer = pair.viewer._sealer
    assert sealer is not None
    message = encode_message(ClipboardData("a", bytes(size - 4)))
    assert len(message) == size
    pair.host.receive_data(sealer.seal(bytes([lane, 0x01 | 0x02 | 0x04]) + message))
    with pytest.raises(FramingError, match="fragment of"):
        pair.host.next_event()
