"""A hostile viewer sends any sequence of well-formed file messages: the host's transfers never raise,
never write outside the download folder, and keep no temporary file once the session is closed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opensupport.host.policy import FILE_TRANSFER_CONSENT, HostPolicy
from opensupport.host.tools.files import HostFileGate
from opensupport.protocol import (
    Event,
    FileAccept,
    FileBatch,
    FileCancel,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRequest,
)
from opensupport.server.options import defaults
from opensupport.tools.files import FileTransfers

IDS = st.integers(0, 12)
NAMES = st.sampled_from(["a.txt", "d", "d/b.bin", "d/e/f", "CON", "a:b", "x.", "a.txt", "d/a.txt", "..x"])
DATA = st.binary(max_size=40)

EVENTS = st.one_of(
    st.builds(FileBatch, IDS, st.integers(1, 3), st.integers(0, 80), st.integers(0, 3)),
    st.builds(FileOffer, IDS, NAMES, st.integers(0, 40), batch_id=IDS),
    st.builds(lambda t, p, b: FileOffer(t, p, 0, batch_id=b, folder=True), IDS, NAMES, IDS),
    st.builds(FileChunk, IDS, st.integers(0, 60), DATA),
    st.builds(lambda t, d: FileEnd(t, hashlib.sha256(d).digest()), IDS, DATA),
    st.builds(lambda t: FileEnd(t, bytes(32)), IDS),
    st.builds(FileCancel, IDS, st.text(max_size=10)),
    st.builds(FileAccept, IDS, st.integers(0, 50)),
    st.builds(FileRequest, IDS, st.sampled_from(["/etc/passwd", "/", "a.txt", "../../x"])),
)


class Sink:
    """Stands in for the session: records what the host would send, always has room."""

    from opensupport.protocol import Role

    role = Role.HOST

    def __init__(self) -> None:
        self.sent: list[Event] = []

    def send(self, event: Event) -> None:
        self.sent.append(event)

    def file_credit(self) -> int:
        return 1 << 20

    def reliable_buffer_space(self) -> int:
        return 1 << 23

    def max_file_chunk(self) -> int:
        return 1 << 18


@st.composite
def well_formed(draw: st.DrawFn, batch: int, transfer: int) -> list[Event]:
    """A one-file batch a sender would send, chunk by chunk (so that some files really get written)."""
    name = draw(NAMES)
    data = draw(st.binary(max_size=100))
    out: list[Event] = [FileBatch(batch, 1, len(data)), FileOffer(transfer, name, len(data), batch_id=batch)]
    for offset in range(0, len(data), 32):
        out.append(FileChunk(transfer, offset, data[offset : offset + 32]))
    out.append(FileEnd(transfer, hashlib.sha256(data).digest()))
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> list[Event]:
    events = draw(well_formed(1, 3)) + draw(well_formed(5, 7))
    for noise in draw(st.lists(EVENTS, max_size=12)):
        events.insert(draw(st.integers(0, len(events))), noise)
    return events


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.one_of(st.lists(EVENTS, max_size=25), scenarios()))
def test_any_file_messages_from_a_hostile_viewer(events: list[Event]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder, outside = root / "downloads", root / "outside"
        folder.mkdir()
        outside.mkdir()
        (folder / "a.txt").write_bytes(b"the customer's")
        (folder / "link").symlink_to(outside, target_is_directory=True)
        gate = HostFileGate(HostPolicy({**defaults(), "fetch_files": False, FILE_TRANSFER_CONSENT: False}))
        transfers = FileTransfers(Sink(), folder, gate=gate)
        for event in events:
            assert transfers.handle(event)
            transfers.pump()
        transfers.close()
        assert os.listdir(outside) == []
        assert (folder / "a.txt").read_bytes() == b"the customer's"
        leftovers = [p for p in folder.rglob("*") if p.name.endswith(".part")]
        assert leftovers == []
