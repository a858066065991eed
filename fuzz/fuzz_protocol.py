"""atheris harness for the session protocol: any input parses or raises ProtocolError.

    .venv/bin/python fuzz/fuzz_protocol.py -runs=100000          # or -max_total_time=60

The first byte picks the layer: the message decoder alone; plaintext sealed with the right key into an
established host (the parser behind the AEAD, as a peer holding the keys could reach it); or raw records
into a fresh host or viewer (what the relay could inject). Anything other than ProtocolError is a crash.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from opensupport.protocol import NEED_DATA, ProtocolError, Role, Session, SessionCode
    from opensupport.protocol._wire import decode_message, encode_message
    from opensupport.protocol.testing import ConnectionPair

CODE = SessionCode("FUZZ", "12345678")
_established: list[ConnectionPair] = []


def _pair() -> ConnectionPair:
    # The handshake costs a few SPAKE2 operations, so the established pair is reused until it fails.
    if not _established or _established[0].host.state.value != "established":
        pair = ConnectionPair(CODE)
        pair.handshake()
        _established[:] = [pair]
    return _established[0]


def _drain(session: Session) -> None:
    for _ in range(64):
        if session.next_event() is NEED_DATA:
            return
    raise AssertionError("next_event did not reach NEED_DATA")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    try:
        if mode == 0:
            payload = fdp.ConsumeBytes(fdp.remaining_bytes())
            message = decode_message(payload)
            if type(message).__name__ != "UnknownMessage":
                assert encode_message(message) == payload, "decoding is not canonical"
        elif mode == 1:
            pair = _pair()
            sealer = pair.viewer._sealer
            assert sealer is not None
            while fdp.remaining_bytes():
                plaintext = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 600))
                pair.host.receive_data(sealer.seal(plaintext))
                _drain(pair.host)
        else:
            session = Session(Role.HOST if mode == 2 else Role.VIEWER, CODE)
            while fdp.remaining_bytes():
                session.receive_data(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300)))
                _drain(session)
    except ProtocolError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
