"""Any bytes, in any state: the session parses them or raises ProtocolError; nothing else, and no hang.

Three layers are fuzzed: raw records (as the relay could inject them) into a session in every state,
arbitrary plaintext sealed with the right key (as a peer that holds the keys could send it), and the
message decoder on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opensupport.protocol import (
    NEED_DATA,
    ChatMessage,
    CloseSession,
    ProtocolError,
    Role,
    Session,
    SessionCode,
    UnknownMessage,
)
from opensupport.protocol._wire import decode_message, encode_message
from opensupport.protocol.testing import ConnectionPair

CODE = SessionCode("FUZZ", "12345678")
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fresh_host() -> Session:
    return Session(Role.HOST, CODE)


def fresh_viewer() -> Session:
    return Session(Role.VIEWER, CODE)


def host_awaiting_confirm() -> Session:
    pair = ConnectionPair(CODE)
    pair.transfer(Role.VIEWER)
    return pair.host


def established_host() -> Session:
    pair = ConnectionPair(CODE)
    pair.handshake()
    return pair.host


def suspended_viewer() -> Session:
    pair = ConnectionPair(CODE)
    pair.handshake()
    pair.drop_link()
    return pair.viewer


def resuming_host() -> Session:
    pair = ConnectionPair(CODE)
    pair.handshake()
    pair.drop_link()
    pair.host.resume()
    return pair.host


def resuming_viewer() -> Session:
    pair = ConnectionPair(CODE)
    pair.handshake()
    pair.drop_link()
    pair.viewer.resume()
    return pair.viewer


def closing_viewer() -> Session:
    pair = ConnectionPair(CODE)
    pair.handshake()
    pair.viewer.send(CloseSession("bye"))
    pair.transfer(Role.VIEWER)
    return pair.viewer


def closed_host() -> Session:
    pair = ConnectionPair(CODE)
    pair.handshake()
    pair.viewer.send(CloseSession("bye"))
    pair.pump()
    return pair.host


STATES: list[Callable[[], Session]] = [
    fresh_host,
    fresh_viewer,
    host_awaiting_confirm,
    established_host,
    suspended_viewer,
    resuming_host,
    resuming_viewer,
    closing_viewer,
    closed_host,
]

# Records that look like each kind of record, so the fuzzer gets past the first byte often.
RECORD = st.one_of(
    st.binary(min_size=0, max_size=200),
    st.tuples(st.sampled_from([1, 2, 3, 4, 5, 6, 0x15, 0x17]), st.binary(max_size=200)).map(
        lambda t: bytes([t[0]]) + t[1]
    ),
)


def drain(session: Session, limit: int) -> None:
    """next_event until NEED_DATA or a ProtocolError, within ``limit`` calls (no hang)."""
    for _ in range(limit):
        try:
            event = session.next_event()
        except ProtocolError:
            return
        if event is NEED_DATA:
            return
    raise AssertionError("next_event kept producing events")


@pytest.mark.parametrize("make", STATES, ids=lambda f: f.__name__)
@FAST
@given(records=st.lists(RECORD, max_size=6))
def test_any_records_in_any_state(make: Callable[[], Session], records: list[bytes]) -> None:
    session = make()
    for record in records:
        try:
            session.receive_data(record)
        except ProtocolError:
            return
        drain(session, limit=len(records) + 5)
    session.data_to_send()  # still answers, whatever state the garbage left it in


_PAIR: list[ConnectionPair] = []


def established_pair() -> ConnectionPair:
    if not _PAIR or _PAIR[0].host.state.value != "established":
        pair = ConnectionPair(CODE)
        pair.handshake()
        _PAIR[:] = [pair]
    return _PAIR[0]


PLAINTEXT = st.one_of(
    st.binary(max_size=300),
    st.tuples(
        st.integers(min_value=0, max_value=6),
        st.integers(min_value=0, max_value=8),
        st.integers(min_value=0, max_value=8),
        st.integers(min_value=0, max_value=0x14),
        st.binary(max_size=200),
    ).map(lambda t: bytes(t[:4]) + t[4]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plaintexts=st.lists(PLAINTEXT, min_size=1, max_size=8))
def test_any_plaintext_sealed_with_the_right_key(plaintexts: list[bytes]) -> None:
    """A peer that holds the keys (a buggy or hostile viewer) still cannot crash the host."""
    pair = established_pair()
    sealer = pair.viewer._sealer
    assert sealer is not None
    for plaintext in plaintexts:
        pair.host.receive_data(sealer.seal(plaintext))
        drain(pair.host, limit=20)
        if pair.host.state.value == "failed":
            return
    # the session survived the garbage: it still carries real messages (unless the garbage left a
    # message half reassembled: then a new message in that lane is rightly a framing error)
    if any(buffer is not None for buffer in pair.host._reassembly):
        _PAIR.clear()
        return
    if pair.host.state.value == "established" and pair.viewer.state.value == "established":
        pair.viewer.send(ChatMessage("still alive"))
        pair.transfer(Role.VIEWER)


@settings(max_examples=600, deadline=None)
@given(data=st.binary(max_size=100))
def test_decode_message_parses_or_raises_protocol_error(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_message(data)


@settings(max_examples=400, deadline=None)
@given(channel=st.integers(0, 7), msg_type=st.integers(0, 20), body=st.binary(max_size=80))
def test_decode_message_with_known_headers(channel: int, msg_type: int, body: bytes) -> None:
    """Whatever parses re-encodes to the very same bytes: one encoding per message, no slack to smuggle."""
    data = bytes([channel, msg_type]) + body
    try:
        message = decode_message(data)
    except ProtocolError:
        return
    if isinstance(message, UnknownMessage):
        assert (message.channel, message.msg_type, message.payload) == (channel, msg_type, body)
    else:
        assert encode_message(message) == data
