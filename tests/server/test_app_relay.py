"""The server app carries the relay on its own port: a host and a viewer meet at /relay by routing id."""

from __future__ import annotations

from adminclient import Client
from opensupport.protocol.rendezvous import Join, RelayStatus, Role, encode_join, parse_status


def test_relay_is_mounted_and_pairs(client: Client) -> None:
    with client.websocket_connect("/relay") as host:
        host.send_bytes(encode_join(Join(Role.HOST, "12345678")))
        assert parse_status(host.receive_bytes()) is RelayStatus.WAITING
        with client.websocket_connect("/relay") as viewer:
            viewer.send_bytes(encode_join(Join(Role.VIEWER, "12345678")))
            assert parse_status(viewer.receive_bytes()) is RelayStatus.PAIRED
            assert parse_status(host.receive_bytes()) is RelayStatus.PAIRED
            viewer.send_bytes(b"sealed record")
            assert host.receive_bytes() == b"sealed record"
