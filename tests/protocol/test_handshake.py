"""The handshake: success, wrong code on both sides, five wrong codes kill the code, MITM, versions."""

from __future__ import annotations

import pytest
from opensupport.protocol import (
    AuthenticationFailed,
    ChatMessage,
    CodeDead,
    CodeGuard,
    HandshakeComplete,
    HandshakeError,
    LocalProtocolError,
    Role,
    Session,
    SessionCode,
    State,
    VersionMismatch,
    WrongCode,
)
from opensupport.protocol.testing import ConnectionPair


def test_handshake_establishes_both_sides_and_carries_data() -> None:
    pair = ConnectionPair()
    pair.handshake()
    assert pair.host.state is State.ESTABLISHED and pair.viewer.state is State.ESTABLISHED
    assert pair.events[Role.HOST] == [HandshakeComplete(2)]
    assert pair.events[Role.VIEWER] == [HandshakeComplete(2)]
    pair.viewer.send(ChatMessage("안녕하세요"))
    pair.pump()
    assert pair.of_type(Role.HOST, ChatMessage) == [ChatMessage("안녕하세요")]


def test_wrong_code_fails_clearly_on_both_sides() -> None:
    code = SessionCode.generate()
    wrong = SessionCode(code.routing_id, str((int(code.secret) + 1) % 10**8).zfill(8))
    pair = ConnectionPair(code, host_code=wrong)
    with pytest.raises(WrongCode, match="wrong session code"):
        pair.pump()
    assert pair.viewer.state is State.FAILED
    assert pair.viewer_guard.failures == 1
    # The viewer's alert reaches the host, which fails with a clear error too.
    with pytest.raises(WrongCode, match="session code is wrong"):
        pair.transfer(Role.VIEWER)
    assert pair.host.state is State.FAILED
    assert pair.host_guard.failures == 1
    # No application data can be sent on either side.
    with pytest.raises(LocalProtocolError):
        pair.viewer.send(ChatMessage("x"))


def test_five_wrong_codes_kill_the_code_and_further_attempts_are_refused() -> None:
    code = SessionCode.generate()
    guard = CodeGuard()
    for attempt in range(1, 6):
        attacker = SessionCode(code.routing_id, f"{attempt:08d}")
        if attacker == code:
            continue
        pair = ConnectionPair(code, host_code=attacker, viewer_guard=guard)
        expected = CodeDead if attempt == 5 else WrongCode
        with pytest.raises(expected):
            pair.pump()
        assert guard.failures == attempt
    assert guard.dead
    with pytest.raises(CodeDead, match="dead"):
        Session(Role.VIEWER, code, guard=guard)
    # Even the right code is refused now.
    with pytest.raises(CodeDead):
        ConnectionPair(code, viewer_guard=guard)


def test_man_in_the_middle_running_its_own_handshakes_fails() -> None:
    """A relay that terminates the handshake on both sides with its own sessions (it does not know the
    secret, so it guesses) fails key confirmation on both sides."""
    code = SessionCode.generate()
    guess = SessionCode(code.routing_id, "12345678" if code.secret != "12345678" else "87654321")
    viewer_guard, host_guard = CodeGuard(), CodeGuard()
    viewer = Session(Role.VIEWER, code, guard=viewer_guard)
    host = Session(Role.HOST, code, guard=host_guard)
    fake_host = Session(Role.HOST, guess)
    fake_viewer = Session(Role.VIEWER, guess)
    # viewer <-> fake_host
    for record in viewer.data_to_send():
        fake_host.receive_data(record)
    fake_host.next_event()
    for record in fake_host.data_to_send():
        viewer.receive_data(record)
    with pytest.raises(AuthenticationFailed):
        viewer.next_event()
    # fake_viewer <-> host
    for record in fake_viewer.data_to_send():
        host.receive_data(record)
    host.next_event()
    for record in host.data_to_send():
        fake_viewer.receive_data(record)
    with pytest.raises(AuthenticationFailed):
        fake_viewer.next_event()
    for record in fake_viewer.data_to_send():  # the fake viewer's alert
        host.receive_data(record)
    with pytest.raises(AuthenticationFailed):
        host.next_event()
    assert viewer_guard.failures == 1 and host_guard.failures == 1


def test_man_in_the_middle_swapping_x25519_keys_fails() -> None:
    """A relay that passes the SPAKE2 messages but substitutes its own X25519 keys changes the
    transcript: key confirmation fails, no key is shared with the attacker."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    pair = ConnectionPair()
    evil = X25519PrivateKey.generate().public_key().public_bytes_raw()

    def swap(sender: Role, record: bytes) -> list[bytes]:
        if record[0] == 0x01:  # CLIENT_HELLO: ... spake (33) | x25519 (32) | nonce (32)
            return [record[:-64] + evil + record[-32:]]
        if record[0] == 0x02:  # SERVER_HELLO: ... spake | x25519 | nonce | mac
            return [record[:-96] + evil + record[-64:]]
        return [record]

    pair.tap = swap
    with pytest.raises(AuthenticationFailed):
        pair.pump()
    assert pair.viewer.state is State.FAILED


def test_version_mismatch_is_reported_on_both_sides() -> None:
    pair = ConnectionPair()
    pair.tap = lambda sender, record: (
        [bytes([record[0], 7, 9]) + record[3:]] if record[0] == 0x01 else [record]
    )
    with pytest.raises(VersionMismatch):
        pair.transfer(Role.VIEWER)
    with pytest.raises(VersionMismatch):
        pair.transfer(Role.HOST)
    assert pair.host_guard.failures == 0  # no key material was exchanged: no guess spent


def test_transport_lost_during_handshake_is_a_handshake_error_and_counts_for_the_host() -> None:
    pair = ConnectionPair()
    pair.transfer(Role.VIEWER)  # hello reaches the host, which answers with its confirmation
    pair.host.data_to_send()  # ...that is lost with the transport
    pair.host.receive_data(b"")
    with pytest.raises(HandshakeError, match="transport ended"):
        pair.host.next_event()
    assert pair.host_guard.failures == 1


def test_session_code_parse_and_generate() -> None:
    code = SessionCode.generate()
    assert SessionCode.parse(str(code)) == code
    assert SessionCode.parse(f"  {code.routing_id.lower()}-{code.secret[:4]} {code.secret[4:]} ") == code
    assert code.secret not in repr(code)
    for bad in ("", "ABC", "ABC-123", "ABC-1234567x", "-12345678", "A B-12345678"):
        with pytest.raises(ValueError):
            SessionCode.parse(bad)
    assert SessionCode.parse("AB-CD-12345678").routing_id == "AB-CD"
