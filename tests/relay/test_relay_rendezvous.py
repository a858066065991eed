"""The rendezvous wire format: round trips, every malformed JOIN refused, the framing bounded."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opensupport.protocol.rendezvous import (
    MAX_JOIN_SIZE,
    FrameReader,
    Join,
    RelayStatus,
    RendezvousError,
    Role,
    encode_frame,
    encode_join,
    encode_status,
    is_status_message,
    parse_join,
    parse_status,
)

routing_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=32
)


def test_join_bytes_are_the_contract() -> None:
    assert encode_join(Join(Role.HOST, "ab-7")) == b"OSJ1\x01\x00\x04ab-7"
    assert encode_join(Join(Role.VIEWER, "Z", resume=True, kill=True)) == b"OSJ1\x02\x03\x01Z"
    assert encode_status(RelayStatus.PEER_LEFT) == b"OSR1\x06"


@given(role=st.sampled_from(Role), rid=routing_ids, resume=st.booleans(), kill=st.booleans())
def test_join_round_trip(role: Role, rid: str, resume: bool, kill: bool) -> None:
    kill = kill and role is Role.VIEWER
    join = Join(role, rid, resume=resume, kill=kill)
    data = encode_join(join)
    assert len(data) <= MAX_JOIN_SIZE
    assert parse_join(data) == join


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"OSJ1",
        b"OSJ2\x01\x00\x01a",
        b"OSJ1\x03\x00\x01a",  # unknown role
        b"OSJ1\x01\x04\x01a",  # unknown flag
        b"OSJ1\x01\x02\x01a",  # a host may not kill
        b"OSJ1\x01\x00\x02a",  # length disagrees
        b"OSJ1\x01\x00\x00",  # empty routing id
        b"OSJ1\x01\x00\x01_",  # bad character
        b"OSJ1\x01\x00\x21" + b"a" * 33,  # too long
        "OSJ1\x01\x00\x02é".encode(),
    ],
)
def test_bad_joins_are_refused(data: bytes) -> None:
    with pytest.raises(RendezvousError):
        parse_join(data)


@given(st.binary(max_size=80))
def test_parse_join_any_bytes(data: bytes) -> None:
    try:
        join = parse_join(data)
    except RendezvousError:
        return
    assert encode_join(join) == data


@given(st.binary(max_size=8))
def test_parse_status_any_bytes(data: bytes) -> None:
    try:
        status = parse_status(data)
    except RendezvousError:
        assert not (is_status_message(data) and data[4] <= 6)
        return
    assert encode_status(status) == data


def test_routing_id_validated_on_construction() -> None:
    with pytest.raises(RendezvousError):
        Join(Role.HOST, "has space")
    with pytest.raises(RendezvousError):
        Join(Role.HOST, "x" * 33)


@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(min_value=1, max_value=50))
def test_frames_split_anywhere(messages: list[bytes], step: int) -> None:
    stream = b"".join(encode_frame(m) for m in messages)
    reader = FrameReader(max_message_size=300)
    out: list[bytes] = []
    for i in range(0, len(stream), step):
        reader.receive_data(stream[i : i + step])
        while (m := reader.next_message()) is not None:
            out.append(m)
    reader.receive_data(b"")
    assert reader.next_message() is None
    assert out == messages


def test_frame_length_checked_before_buffering() -> None:
    reader = FrameReader(max_message_size=100)
    reader.receive_data(b"\x00\x00\x00\x65")
    with pytest.raises(RendezvousError):
        reader.next_message()


def test_truncated_stream_is_an_error() -> None:
    reader = FrameReader()
    reader.receive_data(encode_frame(b"hello")[:-1])
    assert reader.next_message() is None
    reader.receive_data(b"")
    with pytest.raises(RendezvousError):
        reader.next_message()


def test_many_messages_across_compaction() -> None:
    messages = [os.urandom(n % 3000) for n in range(600)]  # ~900 kB, compacted several times
    stream = b"".join(encode_frame(m) for m in messages)
    reader = FrameReader()
    out: list[bytes] = []
    for i in range(0, len(stream), 70_001):
        reader.receive_data(stream[i : i + 70_001])
        while (m := reader.next_message()) is not None:
            out.append(m)
        assert reader.buffered < 3004 + 70_001
    assert out == messages
    assert reader.buffered == 0
