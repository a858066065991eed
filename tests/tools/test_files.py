"""File transfer over real protocol sessions in memory, on real files: both ways, folders, SHA-256,
hostile names, no overwrite, consent, options enforced on the host, resume, bounded memory."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tracemalloc
from pathlib import Path

import pytest
from opensupport.host.policy import FILE_TRANSFER_CONSENT, HostPolicy
from opensupport.host.tools.files import HostFileGate
from opensupport.protocol import (
    Event,
    FileBatch,
    FileChunk,
    FileEnd,
    FileOffer,
    Role,
)
from opensupport.server.options import defaults
from opensupport.tools.files import (
    BatchState,
    DownloadFolder,
    FileTransfers,
    Loopback,
    Progress,
    UnsafeName,
    format_duration,
    measure_throughput,
    safe_parts,
)


def tree(root: Path) -> dict[str, bytes | None]:
    """Every entry under ``root``: relative path -> bytes (None for a folder); links as 'link'."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = b"link"
            elif path.is_dir():
                out[rel] = None
            else:
                out[rel] = path.read_bytes()
    return out


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    agent, customer, outside = tmp_path / "agent", tmp_path / "customer", tmp_path / "outside"
    for d in (agent, customer, outside):
        d.mkdir()
    return agent, customer, outside


def make_folder(root: Path) -> Path:
    folder = root / "Project"
    (folder / "src" / "deep").mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "README.md").write_text("# 프로젝트\n", encoding="utf-8")
    (folder / "src" / "main.py").write_bytes(b"print('hi')\n" * 1000)
    (folder / "src" / "deep" / "blob.bin").write_bytes(os.urandom(300_000))
    (folder / "src" / "zero.bin").write_bytes(b"")
    return folder


def allow_all_host() -> HostFileGate:
    return HostFileGate(HostPolicy({**defaults(), FILE_TRANSFER_CONSENT: False}))


def test_file_and_folder_from_agent_to_customer(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    folder = make_folder(agent / "..")
    single = agent / "report.pdf"
    single.write_bytes(os.urandom(200_001))
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    sent = loop.viewer.send_paths([single, folder])
    loop.run()
    got = loop.host.batches[sent.batch_id]
    assert got.state is BatchState.DONE and sent.state is BatchState.DONE, got.error
    assert tree(customer) == {
        "report.pdf": single.read_bytes(),
        "Project": None,
        **{f"Project/{k}": v for k, v in tree(folder).items()},
    }
    files = [e for e in got.entries if not e.folder]
    for entry in files:
        assert entry.saved_as is not None
        source = next(e.source for e in sent.entries if e.path == entry.path)
        assert source is not None
        assert (
            hashlib.sha256(entry.saved_as.read_bytes()).digest()
            == hashlib.sha256(source.read_bytes()).digest()
        )
    view = got.view()
    assert (view.done, view.total, view.files_done, view.files) == (
        got.total,
        got.total,
        len(files),
        len(files),
    )


def test_customer_sends_to_agent_and_agent_fetches_from_customer(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    folder = make_folder(customer)
    note = customer / "log.txt"
    note.write_text("로그\n" * 5000, encoding="utf-8")
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    loop.host.send_paths([note])  # 양방향 파일 전송: the customer's own send
    request = loop.viewer.request(str(folder))  # 파일 가져오기
    loop.run()
    assert (agent / "log.txt").read_bytes() == note.read_bytes()
    assert tree(agent / "Project") == tree(folder)
    answered = [b for b in loop.viewer.batches.values() if b.request_id == request]
    assert [b.state for b in answered] == [BatchState.DONE]


def test_no_silent_overwrite_and_unique_names(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    (customer / "report.pdf").write_bytes(b"the customer's own report")
    (customer / "report (1).pdf").write_bytes(b"another one")
    (customer / "Project").mkdir()
    (customer / "Project" / "README.md").write_bytes(b"mine")
    src = agent / "report.pdf"
    src.write_bytes(b"the agent's report")
    folder = make_folder(agent / "..")
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    loop.viewer.send_paths([src, folder])
    loop.run()
    assert (customer / "report.pdf").read_bytes() == b"the customer's own report"
    assert (customer / "report (1).pdf").read_bytes() == b"another one"
    assert (customer / "report (2).pdf").read_bytes() == b"the agent's report"
    assert (customer / "Project" / "README.md").read_bytes() == b"mine"
    assert tree(customer / "Project (1)") == tree(folder)


class CorruptingOutbox:
    """A sender whose data changes on the way (a bad disk, a modified peer): one chunk has a flipped bit."""

    def __init__(self, inner: object, at: int) -> None:
        self._inner = inner
        self._at = at
        self._chunks = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def send(self, event: Event) -> None:
        if isinstance(event, FileChunk):
            self._chunks += 1
            if self._chunks == self._at:
                data = bytearray(event.data)
                data[17] ^= 0x40
                event = dataclasses.replace(event, data=bytes(data))
        self._inner.send(event)  # type: ignore[attr-defined]


def test_corrupted_chunk_fails_the_digest_and_leaves_no_file(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    src = agent / "data.bin"
    src.write_bytes(os.urandom(1_000_000))
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    loop.viewer = FileTransfers(CorruptingOutbox(loop.pair.viewer, at=3), agent)  # type: ignore[arg-type]
    sent = loop.viewer.send_paths([src])
    loop.run()
    got = loop.host.batches[sent.batch_id]
    assert got.state is BatchState.FAILED and "SHA-256 mismatch" in got.error
    assert os.listdir(customer) == []  # not the file, not its temporary
    assert sent.state is BatchState.FAILED  # the receiver told the sender


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/passwd",
        "a/../../b",
        "x\0y",
        "C:/Windows/evil.dll",
        "CON",
        "aux.txt",
        "a:b",
        "nul/x",
        "dots.",
    ],
)
def test_hostile_names_never_write_outside(dirs: tuple[Path, Path, Path], name: str) -> None:
    """A modified viewer builds offers the protocol would refuse and hands them straight to the receiver."""
    agent, customer, outside = dirs
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    offer = object.__new__(FileOffer)
    for key, value in {"transfer_id": 3, "path": name, "size": 5, "batch_id": 1, "folder": False}.items():
        object.__setattr__(offer, key, value)
    host = loop.host
    assert host.handle(FileBatch(1, 1, 5))
    host.handle(offer)
    host.handle(FileChunk(3, 0, b"owned"))
    host.handle(FileEnd(3, hashlib.sha256(b"owned").digest()))
    loop.run()
    assert os.listdir(customer) == [] and os.listdir(outside) == []
    assert host.batches[1].state is BatchState.FAILED
    with pytest.raises(UnsafeName):
        safe_parts(name)


def test_links_in_the_target_folder_are_never_followed(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, outside = dirs
    (outside / "secret.txt").write_bytes(b"outside")
    (customer / "Project").symlink_to(outside, target_is_directory=True)
    (customer / "secret.txt").symlink_to(outside / "secret.txt")
    folder = agent / "Project"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"from the agent")
    single = agent / "secret.txt"
    single.write_bytes(b"from the agent too")
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    loop.viewer.send_paths([folder, single])
    loop.run()
    assert tree(outside) == {"secret.txt": b"outside"}
    assert (customer / "Project (1)" / "secret.txt").read_bytes() == b"from the agent"
    assert (customer / "secret (1).txt").read_bytes() == b"from the agent too"
    # and the folder walk itself refuses a link on the way
    with DownloadFolder(customer) as target, pytest.raises(UnsafeName):
        target.open_dir(["Project", "sub"], create=True)
    assert tree(outside) == {"secret.txt": b"outside"}


def test_sender_never_follows_links_either(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, outside = dirs
    (outside / "private.key").write_bytes(b"do not send")
    folder = customer / "Shared"
    folder.mkdir()
    (folder / "ok.txt").write_bytes(b"ok")
    (folder / "key").symlink_to(outside / "private.key")
    (folder / "all").symlink_to(outside, target_is_directory=True)
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    loop.viewer.request(str(folder))
    loop.viewer.request(str(folder / "key"))
    loop.run()
    assert tree(agent) == {"Shared": None, "Shared/ok.txt": b"ok"}
    assert any("link" in reason for reason in loop.viewer.request_errors.values())


def test_consent_refused_writes_nothing_and_accepted_writes(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    src = agent / "setup.exe"
    src.write_bytes(os.urandom(100_000))
    gate = HostFileGate(HostPolicy(defaults()))  # the manual's defaults ask for consent
    loop = Loopback(customer, agent, host_gate=gate)
    first = loop.viewer.send_paths([src])
    loop.run()
    assert list(loop.host.consents) == [first.batch_id] and os.listdir(customer) == []
    loop.host.answer_consent(first.batch_id, False)
    loop.run()
    assert first.state is BatchState.REFUSED and "refused" in first.error
    assert os.listdir(customer) == []
    second = loop.viewer.send_paths([src])
    loop.run()
    loop.host.answer_consent(second.batch_id, True)
    loop.run()
    assert second.state is BatchState.DONE
    assert (customer / "setup.exe").read_bytes() == src.read_bytes()


def test_headless_consent_answer(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    (customer / "x.txt").write_bytes(b"x")
    gate = HostFileGate(HostPolicy(defaults()), consent_answer=False)
    loop = Loopback(customer, agent, host_gate=gate)
    request = loop.viewer.request(str(customer / "x.txt"))
    loop.run()
    assert "refused" in loop.viewer.request_errors[request] and os.listdir(agent) == []


@pytest.mark.parametrize("option", ["send_files", "fetch_files"])
def test_option_off_is_refused_on_the_host_whatever_the_viewer_sends(
    dirs: tuple[Path, Path, Path], option: str
) -> None:
    agent, customer, _ = dirs
    (customer / "private.txt").write_bytes(b"private")
    gate = HostFileGate(HostPolicy({**defaults(), option: False, FILE_TRANSFER_CONSENT: False}))
    loop = Loopback(customer, agent, host_gate=gate)
    # A modified viewer does not wait for an accept: it pushes the whole file at once.
    payload = b"unwanted" * 1000
    viewer = loop.pair.viewer
    viewer.send(FileBatch(1001, 1, len(payload)))
    viewer.send(FileOffer(1003, "unwanted.bin", len(payload), batch_id=1001))
    viewer.send(FileChunk(1003, 0, payload))
    viewer.send(FileEnd(1003, hashlib.sha256(payload).digest()))
    request = loop.viewer.request(str(customer / "private.txt"))
    loop.run()
    if option == "send_files":
        assert loop.host.batches[1001].state is BatchState.REFUSED
        assert "switched off" in loop.host.batches[1001].error
        assert sorted(os.listdir(customer)) == ["private.txt"]
        assert (agent / "private.txt").read_bytes() == b"private"
    else:
        assert "switched off" in loop.viewer.request_errors[request]
        assert os.listdir(agent) == []
        assert sorted(os.listdir(customer)) == ["private.txt", "unwanted.bin"]


def test_two_way_off_stops_the_customer_pushing(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    (customer / "a.txt").write_bytes(b"a")
    loop = Loopback(
        customer, agent, host_gate=HostFileGate(HostPolicy({**defaults(), "two_way_file_transfer": False}))
    )
    from opensupport.tools.files import TransferRefused

    with pytest.raises(TransferRefused):
        loop.host.send_paths([customer / "a.txt"])


def test_transfer_survives_a_dropped_and_resumed_link(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    src = agent / "big.bin"
    src.write_bytes(os.urandom(3_000_000))
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    sent = loop.viewer.send_paths([src])
    assert not loop.run(max_records=12)  # the link drops with records in flight (256 KiB each)
    got = loop.host.batches[sent.batch_id]
    assert got.state is BatchState.ACTIVE and 0 < got.progress.done < src.stat().st_size
    loop.drop_and_resume()
    assert got.state is BatchState.DONE, got.error
    assert (customer / "big.bin").read_bytes() == src.read_bytes()
    assert [type(e).__name__ for e in loop.events[Role.HOST]].count("Resumed") == 1


def chunk_offsets(loop: Loopback) -> list[int]:
    """Record the offsets of the chunks the viewer sends from now on."""
    seen: list[int] = []
    session = loop.pair.viewer
    original = session.send

    def spy(event: Event) -> None:
        if isinstance(event, FileChunk):
            seen.append(event.offset)
        original(event)

    session.send = spy  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("tamper", [False, True])
def test_a_fresh_session_resumes_a_kept_partial_at_its_offset(
    dirs: tuple[Path, Path, Path], tamper: bool
) -> None:
    """The first session dies for good half-way; the next one sends only the rest (or, if the kept
    part does not match the file, the digest says so and nothing is kept)."""
    agent, customer, _ = dirs
    data = os.urandom(3_000_000)
    (agent / "f.bin").write_bytes(data)
    first = Loopback(customer, agent, host_gate=allow_all_host())
    first.host = FileTransfers(first.pair.host, customer, gate=allow_all_host(), keep_partials=True)
    first.viewer.send_paths([agent / "f.bin"])
    assert not first.run(rounds=2)
    first.host.close()  # the session is over
    (partial,) = os.listdir(customer)
    kept = (customer / partial).stat().st_size
    assert partial.startswith(".opensupport-resume-") and 0 < kept < len(data)
    if tamper:
        with open(customer / partial, "r+b") as f:
            f.write(b"X")
    second = Loopback(customer, agent, host_gate=allow_all_host())
    second.host = FileTransfers(second.pair.host, customer, gate=allow_all_host(), keep_partials=True)
    offsets = chunk_offsets(second)
    sent = second.viewer.send_paths([agent / "f.bin"])
    second.run()
    assert offsets[0] == kept
    if tamper:
        assert sent.state is BatchState.FAILED and "SHA-256 mismatch" in sent.error
        assert os.listdir(customer) == []
    else:
        assert sent.state is BatchState.DONE
        assert os.listdir(customer) == ["f.bin"] and (customer / "f.bin").read_bytes() == data


def test_throughput_hook_moves_the_bytes(tmp_path: Path) -> None:
    result = measure_throughput(3 * 1024 * 1024 + 5, tmp_path)
    # version 2: one record per 256 KiB chunk (plus the offer, the end and the acknowledgements)
    assert result["bytes"] == 3 * 1024 * 1024 + 5 and result["records"] > 3 * 1024 * 1024 / (256 * 1024)


def test_cancel_mid_transfer_deletes_the_partial_file(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    src = agent / "movie.mkv"
    src.write_bytes(os.urandom(4_000_000))
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    sent = loop.viewer.send_paths([src])
    assert not loop.run(rounds=3)
    assert [n for n in os.listdir(customer) if n.endswith(".part")]  # half-way, in a temporary file
    loop.host.cancel(sent.batch_id)  # the customer cancels
    loop.run()
    assert sent.state is BatchState.CANCELLED and "cancelled by the user" in sent.error
    assert loop.host.batches[sent.batch_id].state is BatchState.CANCELLED
    assert os.listdir(customer) == []


def test_a_large_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    """200 MB through two real sessions: Python's peak allocation stays a few megabytes (the credit
    window and the reliable buffer), far below the file's size, so a file of several GB streams too."""
    size = 200 * 1000 * 1000
    src_dir, dst = tmp_path / "a", tmp_path / "b"
    src_dir.mkdir()
    dst.mkdir()
    src = src_dir / "large.bin"
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    with open(src, "wb") as f:
        written = 0
        while written < size:
            piece = block[: min(len(block), size - written)]
            piece = bytes([written % 251]) + piece[1:]
            f.write(piece)
            digest.update(piece)
            written += len(piece)
    loop = Loopback(dst, src_dir, host_gate=allow_all_host())
    tracemalloc.start()
    try:
        batch = loop.viewer.send_paths([src])
        loop.run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loop.host.batches[batch.batch_id].state is BatchState.DONE
    assert (dst / "large.bin").stat().st_size == size
    with open(dst / "large.bin", "rb") as f:
        assert hashlib.file_digest(f, "sha256").digest() == digest.digest()
    print(f"peak Python allocation while streaming {size / 1e6:.0f} MB: {peak / 1e6:.1f} MB")
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_progress_speed_and_time_left() -> None:
    p = Progress(total=10_000_000)
    for second in range(5):
        p.update(second * 1_000_000, float(second))
    assert p.speed == pytest.approx(1_000_000)
    assert p.eta == pytest.approx(6.0)
    assert p.fraction == pytest.approx(0.4)
    assert format_duration(p.eta) == "0:06" and format_duration(3723) == "1:02:03"
    assert format_duration(None) == "--:--"


def test_an_offer_larger_than_the_free_space_is_refused(
    dirs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, customer, _ = dirs
    (agent / "f.bin").write_bytes(b"x" * 1000)
    import shutil as shutil_module

    monkeypatch.setattr(
        shutil_module, "disk_usage", lambda path: shutil_module._ntuple_diskusage(10**9, 10**9 - 999, 999)
    )  # type: ignore[attr-defined]
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    sent = loop.viewer.send_paths([agent / "f.bin"])
    loop.run()
    assert sent.state is BatchState.REFUSED and "disk space" in sent.error and os.listdir(customer) == []


def test_a_flood_of_offers_is_bounded(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    gate = HostFileGate(HostPolicy(defaults()))  # consent asked: batches wait for the customer
    loop = Loopback(customer, agent, host_gate=gate)
    (agent / "a").write_bytes(b"a")
    batches = [loop.viewer.send_paths([agent / "a"]) for _ in range(40)]
    loop.run()
    assert len(loop.host.consents) == 16
    assert sum(b.state is BatchState.REFUSED for b in batches) == 24


def test_bench_files_prints_its_figure(capsys: pytest.CaptureFixture[str]) -> None:
    from opensupport.benchmarks.files import main

    assert main(["--mib", "2", "--runs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"][0]["bytes"] == 2 * 1024 * 1024 and out["mb_per_s"] > 0


def test_a_request_for_a_missing_path_is_answered_with_a_reason(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    request = loop.viewer.request(str(customer / "nope.txt"))
    loop.run()
    assert "No such file" in loop.viewer.request_errors[request] and os.listdir(agent) == []


def test_a_request_is_answered_once_and_only_with_what_was_asked(dirs: tuple[Path, Path, Path]) -> None:
    """A hostile host cannot use the agent's request to push other files, or more batches."""
    agent, customer, _ = dirs
    (customer / "report.pdf").write_bytes(b"%PDF")
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    rid = loop.viewer.request(str(customer / "report.pdf"))
    viewer = loop.viewer
    viewer.handle(FileBatch(2, 1, 4, request_id=rid))
    viewer.handle(FileOffer(4, "evil.desktop", 4, batch_id=2))
    viewer.handle(FileBatch(6, 1, 4, request_id=rid))
    viewer.handle(FileOffer(8, "report.pdf", 4, batch_id=6))
    loop.run()
    assert viewer.batches[2].state is BatchState.REFUSED and "asked for" in viewer.batches[2].error
    assert viewer.batches[6].state is BatchState.REFUSED and "no request" in viewer.batches[6].error
    assert os.listdir(agent) == []


def test_both_directions_at_once_across_two_drops(dirs: tuple[Path, Path, Path]) -> None:
    agent, customer, _ = dirs
    up = customer / "dump.bin"
    up.write_bytes(os.urandom(2_200_000))
    down = agent / "update.bin"
    down.write_bytes(os.urandom(2_700_000))
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    to_customer = loop.viewer.send_paths([down])
    to_agent = loop.host.send_paths([up])
    assert not loop.run(max_records=10)  # records past the limit (256 KiB each) are lost with the link
    loop.drop_and_resume(then_run=False)
    assert not loop.run(max_records=loop.records + 8)
    assert to_customer.state is BatchState.ACTIVE and to_agent.state is BatchState.ACTIVE
    loop.drop_and_resume()
    assert to_customer.state is BatchState.DONE and to_agent.state is BatchState.DONE
    assert (customer / "update.bin").read_bytes() == down.read_bytes()
    assert (agent / "dump.bin").read_bytes() == up.read_bytes()


def test_pump_after_the_session_closed_does_nothing(dirs: tuple[Path, Path, Path]) -> None:
    from opensupport.protocol import CloseSession

    agent, customer, _ = dirs
    (agent / "f.bin").write_bytes(os.urandom(3_000_000))
    loop = Loopback(customer, agent, host_gate=allow_all_host())
    loop.viewer.send_paths([agent / "f.bin"])
    loop.run(rounds=2)
    loop.pair.viewer.send(CloseSession("bye"))
    loop.run()
    loop.viewer.pump()  # no exception although the session takes nothing more
    loop.host.close()
    loop.viewer.close()
    assert os.listdir(customer) == []
