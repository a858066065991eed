"""The file messages added for batches, folders, consent, fetch and resume: bounds and canonical bytes."""

from __future__ import annotations

import pytest
from opensupport.protocol import (
    FileAccept,
    FileBatch,
    FileCancel,
    FileOffer,
    FileRequest,
    InvalidEvent,
    MessageError,
    Role,
)
from opensupport.protocol._wire import decode_message, encode_message
from opensupport.protocol.testing import ConnectionPair

MESSAGES = [
    FileBatch(3, 2, 1234, request_id=5),
    FileOffer(7, "Photos", 0, batch_id=3, folder=True),
    FileOffer(9, "Photos/2024/사진 1.jpg", 1234, batch_id=3),
    FileAccept(9, 1000),
    FileRequest(11, "/home/고객/report.pdf"),
    FileRequest(13, "C:\\Users\\me\\Desktop"),
    FileCancel(3, "the customer refused the transfer"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip_is_canonical(message: object) -> None:
    data = encode_message(message)  # type: ignore[arg-type]
    assert decode_message(data) == message
    assert encode_message(decode_message(data)) == data


def test_messages_cross_a_real_session_both_ways() -> None:
    pair = ConnectionPair()
    pair.handshake()
    for m in MESSAGES:
        pair.viewer.send(m)  # type: ignore[arg-type]
        pair.host.send(m)  # type: ignore[arg-type]
    pair.pump()
    for role in (Role.HOST, Role.VIEWER):
        got = [e for e in pair.events[role] if type(e) in {type(m) for m in MESSAGES}]
        assert got == MESSAGES


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "a/../../b", "a\0b", "a//b", "./a", "a/", "a\\..\\b", "a\nb", ""]
)
def test_hostile_offer_paths_cannot_be_built(path: str) -> None:
    with pytest.raises(InvalidEvent):
        FileOffer(1, path, 0)


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "a\0b"])
def test_hostile_offer_paths_do_not_parse_from_the_wire(path: str) -> None:
    raw = encode_message(FileOffer(1, "x" * len(path.encode()), 0))
    raw = raw.replace(b"x" * len(path.encode()), path.encode())
    with pytest.raises(MessageError):
        decode_message(raw)


def test_bounds() -> None:
    with pytest.raises(InvalidEvent):
        FileOffer(1, "dir", 5, folder=True)  # a folder has no size
    with pytest.raises(InvalidEvent):
        FileBatch(1, 0, 0)  # an empty batch
    with pytest.raises(InvalidEvent):
        FileOffer(1, "a/" + "n" * 256, 1)  # one name longer than 255 bytes
    with pytest.raises(InvalidEvent):
        FileRequest(1, "")
    with pytest.raises(MessageError):
        decode_message(encode_message(FileOffer(1, "a", 0))[:-1] + b"")  # cut short
    raw = bytearray(encode_message(FileOffer(1, "a", 0)))
    raw[2 + 16] = 2  # unknown flag bit
    with pytest.raises(MessageError):
        decode_message(bytes(raw))
