"""File transfers over a protocol session, both ways: batches of files and folders, consent, streaming.

Theory of operation
-------------------
One :class:`FileTransfers` sits on each end of a session, driven from the session's thread: hand it every
file event (:meth:`FileTransfers.handle`) and call :meth:`FileTransfers.pump` after each round of events,
which streams as much as the peer's file credit and the reliable buffer allow.

Sending a batch (what the user chose: files and folders)::

    sender                                      receiver
    FileBatch(b, count, total, request)  ──►
    FileOffer(t1, "Photos", folder)      ──►
    FileOffer(t2, "Photos/a.jpg", 3 MB)  ──►    all offers in: ask the gate (options, the customer's consent)
                                         ◄──    FileAccept(t2, 0)      (one file at a time)
    FileChunk(t2, 0..)... FileEnd(t2, sha) ──►  verify, publish as a unique name, accept the next
                                         ◄──    FileCancel(b, "the customer refused")  (instead, on a no)

Files are read and written in chunks of at most ``MAX_FILE_CHUNK_SIZE`` (256 KiB; 64 KiB to a version-1
peer), one record each; the SHA-256 is computed while
streaming on both sides, so a file of any size costs the same few hundred kilobytes. The receiver writes a
private temporary file in the target folder and publishes it under its final name only when the digest
matches; a mismatch, a cancel or an error deletes it. After a dropped transport the protocol retransmits
every unacknowledged chunk, so a transfer simply goes on after the resume.

Nothing here touches a GUI or the network, and nothing blocks except file I/O. Not thread-safe: the UIs
call :meth:`FileTransfers.snapshot` (which takes the lock) and post their commands to the session thread.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import os
import shutil
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from opensupport.protocol import (
    MAX_BATCH_ENTRIES,
    MAX_FILE_CHUNK_SIZE,
    Event,
    FileAccept,
    FileBatch,
    FileCancel,
    FileChunk,
    FileEnd,
    FileOffer,
    FileRequest,
    InvalidEvent,
    LocalProtocolError,
    Role,
)

from ._errors import FileTransferError, TransferRefused, UnsafeName
from ._paths import DownloadFolder, safe_parts
from ._progress import Progress

__all__ = [
    "AgentGate",
    "Batch",
    "BatchState",
    "BatchView",
    "ConsentRequest",
    "Direction",
    "Entry",
    "FileTransfers",
    "Outbox",
    "TransferGate",
    "Verdict",
]

FILE_EVENTS = (FileBatch, FileOffer, FileAccept, FileChunk, FileEnd, FileCancel, FileRequest)
#: Incoming batches (and consent questions) open at once; a peer that floods offers is refused beyond.
MAX_OPEN_BATCHES = 16
#: Room left in the reliable buffer before a chunk is queued (message headers, a few control messages).
_SLACK = 4096
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Outbox(Protocol):
    """What the transfers need of a session (``opensupport.protocol.Session`` is one)."""

    @property
    def role(self) -> Role: ...

    def send(self, event: Event) -> None: ...

    def file_credit(self) -> int: ...

    def reliable_buffer_space(self) -> int: ...

    def max_file_chunk(self) -> int: ...


class Direction(enum.StrEnum):
    SEND = "send"
    RECEIVE = "receive"


class BatchState(enum.StrEnum):
    OFFERING = "offering"  #: sender: offered, waiting for the receiver
    COLLECTING = "collecting"  #: receiver: the offers are arriving
    AWAITING_CONSENT = "awaiting consent"  #: receiver (or a request being served): the customer decides
    ACTIVE = "active"
    DONE = "done"
    FAILED = "failed"  #: finished, but some entries failed (see their errors)
    CANCELLED = "cancelled"
    REFUSED = "refused"


_FINAL = (BatchState.DONE, BatchState.FAILED, BatchState.CANCELLED, BatchState.REFUSED)


class Verdict(enum.Enum):
    ALLOW = "allow"
    ASK = "ask"  #: ask the customer first (the UI answers with :meth:`FileTransfers.answer_consent`)


class TransferGate(Protocol):
    """Decides what the peer may do. The host's gate enforces the agent's options (``host/tools``);
    every method raises :class:`TransferRefused` to refuse."""

    def incoming_batch(self, batch: Batch, own_request: bool) -> Verdict:
        """The peer wants to send ``batch`` (``own_request``: it answers our own request)."""
        ...

    def peer_request(self, path: str) -> Verdict:
        """The peer asks for our ``path``."""
        ...

    def outgoing_batch(self, request_id: int) -> None:
        """We are about to send (``request_id`` != 0: answering the peer's request we allowed)."""
        ...

    def own_request(self, path: str) -> None:
        """We are about to ask the peer for ``path``."""
        ...


@dataclass
class AgentGate:
    """The agent's side: it takes what the customer sends, and serves the customer only the files the
    agent copied to the clipboard (``announced``); any other path a (possibly hostile) host asks for is
    refused, so the agent's disk is never open to the customer's side."""

    announced: Callable[[], frozenset[str]] = field(default=lambda: frozenset())

    def incoming_batch(self, batch: Batch, own_request: bool) -> Verdict:
        return Verdict.ALLOW

    def peer_request(self, path: str) -> Verdict:
        if path in self.announced():
            return Verdict.ALLOW
        raise TransferRefused("the agent did not offer this file")

    def outgoing_batch(self, request_id: int) -> None:
        return None

    def own_request(self, path: str) -> None:
        return None


@dataclass
class Entry:
    """One file or folder of a batch."""

    transfer_id: int
    path: str  #: relative path as on the wire
    size: int
    folder: bool
    source: Path | None = None  #: sender: where it is read from
    state: str = "waiting"  #: waiting | active | done | failed | cancelled
    error: str = ""
    saved_as: Path | None = None  #: receiver: where it was written


@dataclass
class Batch:
    """What the user chose to send (or what the peer offered): entries, progress, state."""

    batch_id: int
    direction: Direction
    count: int
    total: int
    request_id: int = 0
    entries: list[Entry] = field(default_factory=list)
    state: BatchState = BatchState.COLLECTING
    error: str = ""
    skipped: list[str] = field(default_factory=list)  #: sender: links and special files left out
    folder: Path | None = None  #: receiver: where it goes
    progress: Progress = field(default_factory=lambda: Progress(0))
    current: str = ""  #: the entry being streamed
    expected_root: str = ""  #: receiver: the name a requested path must arrive as

    @property
    def title(self) -> str:
        """The items the user chose: ``report.pdf``, ``Photos``, or ``report.pdf and 2 more``."""
        roots: list[str] = []
        for entry in self.entries:
            root = entry.path.split("/", 1)[0]
            if root not in roots:
                roots.append(root)
        if not roots:
            return f"{self.count} items"
        return roots[0] if len(roots) == 1 else f"{roots[0]} and {len(roots) - 1} more"

    def view(self) -> BatchView:
        """An immutable snapshot for the UIs."""
        return BatchView(
            self.batch_id,
            self.direction,
            self.title,
            self.state,
            self.progress.done,
            self.total,
            self.progress.speed,
            self.progress.eta,
            self.current,
            self.error,
            sum(1 for e in self.entries if e.state == "done" and not e.folder),
            sum(1 for e in self.entries if not e.folder),
        )


@dataclass(frozen=True)
class BatchView:
    """What a transfer list row shows."""

    batch_id: int
    direction: Direction
    title: str
    state: BatchState
    done: int
    total: int
    speed: float
    eta: float | None
    current: str
    error: str
    files_done: int
    files: int


@dataclass(frozen=True)
class ConsentRequest:
    """A question for the customer: may the agent send (``receive``) or take (``send``) these files?"""

    key: int  #: the batch id (receive) or the peer's request id (send)
    kind: Direction
    summary: str
    total: int


@dataclass
class _Source:
    entry: Entry
    batch: Batch
    fd: int
    position: int
    sha: hashlib._Hash


@dataclass
class _Sink:
    entry: Entry
    batch: Batch
    dir_fd: int
    temp: str
    fd: int
    parts: list[str]  #: where it goes, relative to the folder (the batch's root already made unique)
    written: int = 0
    sha: hashlib._Hash = field(default_factory=hashlib.sha256)


@dataclass
class _Request:
    request_id: int
    path: str
    into: Path
    error: str = ""


class FileTransfers:
    """Both directions of file transfer for one end of a session (see the module docstring).

    ``download_dir`` receives what the peer sends unless a request names another folder; ``gate``
    decides what the peer may do (default: :class:`AgentGate`, the agent's side).
    """

    def __init__(
        self,
        outbox: Outbox,
        download_dir: Path,
        *,
        gate: TransferGate | None = None,
        chunk_size: int = MAX_FILE_CHUNK_SIZE,
        clock: Callable[[], float] = time.monotonic,
        keep_partials: bool = False,
    ) -> None:
        if not 1 <= chunk_size <= MAX_FILE_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be 1..{MAX_FILE_CHUNK_SIZE}")
        self._outbox = outbox
        self.download_dir = Path(download_dir)
        self._gate: TransferGate = gate if gate is not None else AgentGate()
        self._chunk = chunk_size
        self._clock = clock
        self._keep_partials = keep_partials
        # Ids: the viewer's are odd, the host's even, so a FileCancel names exactly one thing.
        self._next_id = 1 if outbox.role is Role.VIEWER else 2
        self._peer_parity = 0 if outbox.role is Role.VIEWER else 1
        self.batches: dict[int, Batch] = {}
        self._entries: dict[int, tuple[Batch, Entry]] = {}
        self._requests: dict[int, _Request] = {}
        self._queue: deque[Event] = deque()
        self._sending: deque[_Source] = deque()
        self._receiving: dict[int, _Sink] = {}
        self._folders: dict[int, DownloadFolder] = {}
        self._roots: dict[int, dict[str, str]] = {}
        self._pending_requests: dict[int, str] = {}
        self.consents: dict[int, ConsentRequest] = {}
        self.request_errors: dict[int, str] = {}
        self._listeners: list[Callable[[], None]] = []
        self.lock = threading.RLock()

    # -- API for the UIs ---------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[], None]) -> None:
        """``callback()`` runs (on the session thread) whenever a batch changes state or a consent
        question appears; progress is read with :meth:`snapshot` on the UI's own timer."""
        self._listeners.append(callback)

    def snapshot(self) -> list[BatchView]:
        """Every batch, oldest first (thread-safe)."""
        with self.lock:
            return [b.view() for b in self.batches.values()]

    def send_paths(self, paths: Sequence[Path], *, request_id: int = 0) -> Batch:
        """Offer files and folders to the peer. Links and special files inside folders are left out
        (listed in ``Batch.skipped``).

        Raises TransferRefused (an option is off), FileTransferError (nothing to send, a chosen path is
        a link, too many entries), OSError (a path cannot be read).
        """
        with self.lock:
            self._gate.outgoing_batch(request_id)
            skipped: list[str] = []
            # Stop walking one entry past the bound: a request for "/" must not walk the whole disk.
            found = list(itertools.islice(_walk(paths, skipped), MAX_BATCH_ENTRIES + 1))
            if not found:
                raise FileTransferError(
                    "nothing to send" + (f" ({', '.join(skipped)} left out)" if skipped else "")
                )
            if len(found) > MAX_BATCH_ENTRIES:
                raise FileTransferError(f"more than {MAX_BATCH_ENTRIES} entries in one batch")
            total = sum(size for _, _, size, _ in found)
            batch = Batch(self._new_id(), Direction.SEND, len(found), total, request_id)
            batch.state = BatchState.OFFERING
            batch.skipped = skipped
            batch.progress = Progress(total)
            offers: list[Event] = []
            for rel, source, size, folder in found:
                entry = Entry(
                    self._new_id(), rel, size, folder, source, state="done" if folder else "waiting"
                )
                batch.entries.append(entry)
                self._entries[entry.transfer_id] = (batch, entry)
                offers.append(FileOffer(entry.transfer_id, rel, size, batch_id=batch.batch_id, folder=folder))
            self.batches[batch.batch_id] = batch
            self._queue.append(FileBatch(batch.batch_id, batch.count, total, request_id))
            self._queue.extend(offers)
            if all(e.folder for e in batch.entries):
                batch.state = BatchState.DONE  # folders only: nothing to stream
            self._notify()
            return batch

    def request(self, path: str, into: Path | None = None) -> int:
        """Ask the peer for its file or folder ``path`` (파일 가져오기, or a paste of files the peer
        announced); it lands in ``into`` (default: the download folder). Returns the request id.

        Raises TransferRefused (an option is off), InvalidEvent (a path the protocol cannot carry).
        """
        with self.lock:
            self._gate.own_request(path)
            request_id = self._new_id()
            self._queue.append(FileRequest(request_id, path))
            self._requests[request_id] = _Request(request_id, path, Path(into) if into else self.download_dir)
            return request_id

    def answer_consent(self, key: int, allowed: bool) -> None:
        """The customer's answer to a :class:`ConsentRequest` (ignored if it is no longer pending)."""
        with self.lock:
            question = self.consents.pop(key, None)
            if question is None:
                return
            if question.kind is Direction.RECEIVE:
                batch = self.batches[key]
                if allowed:
                    self._start_receiving(batch)
                else:
                    self._refuse_batch(batch, "the customer refused the transfer")
            else:
                path = self._pending_requests.pop(key)
                if allowed:
                    self._serve_request(key, path)
                else:
                    self._queue.append(FileCancel(key, "the customer refused the transfer"))
            self._notify()

    def cancel(self, batch_id: int, reason: str = "cancelled by the user") -> None:
        """Stop a batch in either direction; the peer is told, partial files are deleted."""
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None or batch.state in _FINAL:
                return
            self._queue.append(FileCancel(batch_id, reason[:200]))
            self._stop_batch(batch, BatchState.CANCELLED, reason)

    def close(self) -> None:
        """The session ended: stop everything, release descriptors. Partial files are deleted, or, with
        ``keep_partials``, kept (hidden) so that a later session can resume a top-level file at its
        length (:class:`FileAccept` with an offset)."""
        with self.lock:
            if self._keep_partials:
                for sink in list(self._receiving.values()):
                    if len(sink.parts) == 1:
                        del self._receiving[sink.entry.transfer_id]
                        os.close(sink.fd)
                        os.rename(
                            sink.temp,
                            _partial_name(sink.entry),
                            src_dir_fd=sink.dir_fd,
                            dst_dir_fd=sink.dir_fd,
                        )
                        os.close(sink.dir_fd)
            for batch in list(self.batches.values()):
                if batch.state not in _FINAL:
                    self._stop_batch(batch, BatchState.CANCELLED, "the session ended")
            for folder in self._folders.values():
                folder.close()
            self._folders.clear()

    # -- the session thread ------------------------------------------------------------------------------
    def handle(self, event: Event) -> bool:
        """Process one event from the session; returns False if it is not a file event."""
        if not isinstance(event, FILE_EVENTS):
            return False
        with self.lock:
            if isinstance(event, FileChunk):
                self._on_chunk(event)
            elif isinstance(event, FileOffer):
                self._on_offer(event)
            elif isinstance(event, FileBatch):
                self._on_batch(event)
            elif isinstance(event, FileAccept):
                self._on_accept(event)
            elif isinstance(event, FileEnd):
                self._on_end(event)
            elif isinstance(event, FileCancel):
                self._on_cancel(event)
            else:
                self._on_request(event)
        return True

    def pump(self) -> None:
        """Queue what may go out now: control messages, then chunks while credit and buffer allow.
        Once the session no longer takes messages (closed or failed) this does nothing: call
        :meth:`close`."""
        with self.lock:
            try:
                self._pump()
            except LocalProtocolError:
                return  # the session is over; close() cleans up

    def _pump(self) -> None:
        out = self._outbox
        while self._queue and out.reliable_buffer_space() > _SLACK:
            out.send(self._queue.popleft())
        if self._queue:
            return
        now = self._clock()
        while self._sending:
            source = self._sending[0]
            entry, batch = source.entry, source.batch
            remaining = entry.size - source.position
            if remaining == 0:
                out.send(FileEnd(entry.transfer_id, source.sha.digest()))
                self._sending.popleft()
                os.close(source.fd)
                entry.state = "done"
                self._maybe_finish_sender(batch)
                continue
            n = min(self._chunk, out.max_file_chunk(), remaining)
            if out.file_credit() < n or out.reliable_buffer_space() < n + _SLACK:
                break
            data = _read_exactly(source.fd, n)
            if len(data) != n:
                self._sending.popleft()
                os.close(source.fd)
                self._fail_entry(batch, entry, "the file changed while it was being sent")
                self._queue.append(FileCancel(entry.transfer_id, "the file changed while it was sent"))
                continue
            source.sha.update(data)
            out.send(FileChunk(entry.transfer_id, source.position, data))
            source.position += n
            batch.current = entry.path
            batch.progress.update(batch.progress.done + n, now)
        while self._queue and out.reliable_buffer_space() > _SLACK:
            out.send(self._queue.popleft())

    # -- receiving -----------------------------------------------------------------------------------------
    def _on_batch(self, event: FileBatch) -> None:
        bid = event.batch_id
        if bid % 2 != self._peer_parity or bid in self.batches:
            self._queue.append(FileCancel(bid, "bad batch id"))
            return
        open_batches = sum(
            1 for b in self.batches.values() if b.direction is Direction.RECEIVE and b.state not in _FINAL
        )
        if open_batches >= MAX_OPEN_BATCHES:
            self._queue.append(FileCancel(bid, "too many transfers at once"))
            return
        batch = Batch(bid, Direction.RECEIVE, event.count, event.total, event.request_id)
        batch.progress = Progress(event.total)
        self.batches[bid] = batch
        if event.request_id:
            # One answer per request: a peer cannot reuse our request to push more batches.
            request = self._requests.pop(event.request_id, None)
            if request is None:
                self._refuse_batch(batch, "answers no request of ours")
                return
            batch.folder = request.into
            batch.expected_root = request.path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        else:
            batch.folder = self.download_dir

    def _on_offer(self, event: FileOffer) -> None:
        tid = event.transfer_id
        batch = self.batches.get(event.batch_id)
        if batch is None or batch.direction is not Direction.RECEIVE or tid % 2 != self._peer_parity:
            self._queue.append(FileCancel(tid, "offer outside a batch"))
            return
        if (
            batch.state is not BatchState.COLLECTING
            or tid in self._entries
            or len(batch.entries) >= batch.count
        ):
            self._queue.append(FileCancel(tid, "unexpected offer"))
            return
        entry = Entry(tid, event.path, event.size, event.folder)
        batch.entries.append(entry)
        self._entries[tid] = (batch, entry)
        if len(batch.entries) < batch.count:
            return
        if sum(e.size for e in batch.entries) != batch.total:
            self._refuse_batch(batch, "the offers do not add up to the announced size")
            return
        if batch.expected_root and any(e.path.split("/", 1)[0] != batch.expected_root for e in batch.entries):
            self._refuse_batch(batch, f"the answer is not {batch.expected_root!r}, which was asked for")
            return
        try:
            verdict = self._gate.incoming_batch(batch, batch.request_id != 0)
        except TransferRefused as exc:
            self._refuse_batch(batch, str(exc))
            return
        if verdict is Verdict.ASK:
            batch.state = BatchState.AWAITING_CONSENT
            self.consents[batch.batch_id] = ConsentRequest(
                batch.batch_id, Direction.RECEIVE, batch.title, batch.total
            )
            self._notify()
        else:
            self._start_receiving(batch)

    def _start_receiving(self, batch: Batch) -> None:
        assert batch.folder is not None
        try:
            folder = DownloadFolder(batch.folder)
        except OSError as exc:
            self._refuse_batch(batch, f"the download folder cannot be used: {exc.strerror}")
            return
        self._folders[batch.batch_id] = folder
        free = shutil.disk_usage(folder.root).free
        if batch.total > free:
            self._refuse_batch(batch, f"not enough disk space ({batch.total} bytes offered, {free} free)")
            return
        roots: dict[str, str] = {}
        self._roots[batch.batch_id] = roots
        batch.state = BatchState.ACTIVE
        for entry in batch.entries:
            try:
                parts = safe_parts(entry.path)
                root = parts[0]
                if entry.folder or len(parts) > 1:
                    if parts[0] not in roots:
                        roots[parts[0]] = folder.make_unique_dir([], parts[0])
                    root = roots[parts[0]]
                if entry.folder:
                    os.close(folder.open_dir([root, *parts[1:]], create=True))
                    entry.state = "done"
                    entry.saved_as = folder.root.joinpath(root, *parts[1:])
            except (UnsafeName, OSError) as exc:
                reason = str(exc) if isinstance(exc, UnsafeName) else f"cannot create it: {exc.strerror}"
                self._fail_entry(batch, entry, reason)
                if not entry.folder:
                    self._queue.append(FileCancel(entry.transfer_id, f"refused: {reason}"[:200]))
        self._notify()
        self._accept_next(batch)

    def _accept_next(self, batch: Batch) -> None:
        if batch.state is not BatchState.ACTIVE:
            return
        folder = self._folders[batch.batch_id]
        roots = self._roots[batch.batch_id]
        for entry in batch.entries:
            if entry.folder or entry.state != "waiting":
                continue
            try:
                parts = safe_parts(entry.path)
                if len(parts) > 1:
                    parts[0] = roots[parts[0]]
                dir_fd = folder.open_dir(parts[:-1], create=True)
            except (UnsafeName, OSError) as exc:
                reason = (
                    str(exc) if isinstance(exc, UnsafeName) else f"cannot create its folder: {exc.strerror}"
                )
                self._fail_entry(batch, entry, reason)
                self._queue.append(FileCancel(entry.transfer_id, f"refused: {reason}"[:200]))
                continue
            partial = self._open_partial(dir_fd, entry) if self._keep_partials and len(parts) == 1 else None
            if partial is not None:
                temp, fd, offset, sha = partial
                sink = _Sink(entry, batch, dir_fd, temp, fd, parts, offset, sha)
                self._receiving[entry.transfer_id] = sink
                entry.state = "active"
                batch.current = entry.path
                batch.progress.update(batch.progress.done + offset, self._clock())
                self._queue.append(FileAccept(entry.transfer_id, offset))
                return
            try:
                temp, fd = folder.create_temp(dir_fd)
            except OSError as exc:
                os.close(dir_fd)
                self._fail_entry(batch, entry, f"cannot write: {exc.strerror}")
                self._queue.append(FileCancel(entry.transfer_id, "the receiver cannot write the file"))
                continue
            self._receiving[entry.transfer_id] = _Sink(entry, batch, dir_fd, temp, fd, parts)
            entry.state = "active"
            batch.current = entry.path
            self._queue.append(FileAccept(entry.transfer_id, 0))
            return
        self._finish(batch)

    def _open_partial(self, dir_fd: int, entry: Entry) -> tuple[str, int, int, hashlib._Hash] | None:
        """A partial copy kept from an earlier session (same name and size): its name, a descriptor at
        its end, its length and the digest of what it holds. The final SHA-256 still covers the whole
        file, so a partial that does not match the sender's file is caught and deleted at the end."""
        name = _partial_name(entry)
        try:
            fd = os.open(name, os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
        except OSError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > entry.size:
            os.close(fd)
            return None
        sha = hashlib.sha256()
        while data := os.read(fd, 1 << 20):
            sha.update(data)
        return name, fd, info.st_size, sha

    def _on_chunk(self, event: FileChunk) -> None:
        sink = self._receiving.get(event.transfer_id)
        if sink is None:
            known = self._entries.get(event.transfer_id)
            if known is None or known[1].state == "active":
                self._queue.append(FileCancel(event.transfer_id, "chunk of no accepted transfer"))
            return  # chunks already on their way when we cancelled
        entry = sink.entry
        if event.offset != sink.written or sink.written + len(event.data) > entry.size:
            self._drop_sink(sink, "chunks out of order or beyond the offered size")
            self._queue.append(FileCancel(entry.transfer_id, "chunk out of order or beyond the size"))
            self._accept_next(sink.batch)
            return
        try:
            _write_all(sink.fd, event.data)
        except OSError as exc:
            self._drop_sink(sink, f"cannot write: {exc.strerror}")
            self._queue.append(FileCancel(entry.transfer_id, "the receiver cannot write the file"))
            self._accept_next(sink.batch)
            return
        sink.sha.update(event.data)
        sink.written += len(event.data)
        sink.batch.progress.update(sink.batch.progress.done + len(event.data), self._clock())

    def _on_end(self, event: FileEnd) -> None:
        sink = self._receiving.get(event.transfer_id)
        if sink is None:
            return
        if sink.written != sink.entry.size:
            self._drop_sink(sink, f"the file ended after {sink.written} of {sink.entry.size} bytes")
        elif sink.sha.digest() != event.sha256:
            self._drop_sink(sink, "SHA-256 mismatch: the file was corrupted on the way; nothing was kept")
            self._queue.append(FileCancel(event.transfer_id, "SHA-256 mismatch at the receiver: not kept"))
        else:
            del self._receiving[event.transfer_id]
            try:
                os.close(sink.fd)
                folder = self._folders[sink.batch.batch_id]
                final = folder.publish(sink.dir_fd, sink.temp, sink.parts[-1])
                sink.entry.saved_as = folder.root.joinpath(*sink.parts[:-1], final)
                sink.entry.state = "done"
            except (OSError, UnsafeName) as exc:
                DownloadFolder.discard(sink.dir_fd, sink.temp)
                self._fail_entry(sink.batch, sink.entry, f"cannot save it: {exc}")
            finally:
                os.close(sink.dir_fd)
        self._notify()
        self._accept_next(sink.batch)

    def _drop_sink(self, sink: _Sink, reason: str) -> None:
        self._receiving.pop(sink.entry.transfer_id, None)
        os.close(sink.fd)
        DownloadFolder.discard(sink.dir_fd, sink.temp)
        os.close(sink.dir_fd)
        self._fail_entry(sink.batch, sink.entry, reason)

    # -- sending --------------------------------------------------------------------------------------------
    def _on_accept(self, event: FileAccept) -> None:
        known = self._entries.get(event.transfer_id)
        if known is None or known[0].direction is not Direction.SEND:
            self._queue.append(FileCancel(event.transfer_id, "accept of no offer"))
            return
        batch, entry = known
        if batch.state in _FINAL or entry.state != "waiting" or entry.folder or event.offset > entry.size:
            return
        assert entry.source is not None
        batch.state = BatchState.ACTIVE
        try:
            fd = os.open(entry.source, _READ_FLAGS)
        except OSError as exc:
            self._fail_entry(batch, entry, f"cannot read: {exc.strerror}")
            self._queue.append(FileCancel(entry.transfer_id, "the sender cannot read the file"))
            return
        sha = hashlib.sha256()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            self._fail_entry(batch, entry, "not a regular file any more")
            self._queue.append(FileCancel(entry.transfer_id, "not a regular file"))
            return
        # A resumed transfer starts at ``offset``; the digest still covers the whole file.
        left = event.offset
        while left:
            data = os.read(fd, min(left, 1 << 20))
            if not data:
                break
            sha.update(data)
            left -= len(data)
        entry.state = "active"
        batch.progress.update(batch.progress.done + event.offset, self._clock())
        self._sending.append(_Source(entry, batch, fd, event.offset - left, sha))

    def _on_request(self, event: FileRequest) -> None:
        rid = event.request_id
        if rid % 2 != self._peer_parity:
            self._queue.append(FileCancel(rid, "bad request id"))
            return
        try:
            verdict = self._gate.peer_request(event.path)
        except TransferRefused as exc:
            self._queue.append(FileCancel(rid, str(exc)[:200]))
            return
        if verdict is Verdict.ASK:
            if len(self.consents) >= MAX_OPEN_BATCHES:
                self._queue.append(FileCancel(rid, "too many questions at once"))
                return
            self._pending_requests[rid] = event.path
            self.consents[rid] = ConsentRequest(rid, Direction.SEND, event.path, 0)
            self._notify()
        else:
            self._serve_request(rid, event.path)

    def _serve_request(self, rid: int, path: str) -> None:
        try:
            self.send_paths([Path(path)], request_id=rid)
        except (FileTransferError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._queue.append(FileCancel(rid, f"cannot send {path}: {reason}"[:200]))

    def _maybe_finish_sender(self, batch: Batch) -> None:
        if all(e.folder or e.state in ("done", "failed", "cancelled") for e in batch.entries):
            self._finish(batch)

    # -- cancel, failure, end ---------------------------------------------------------------------------------
    def _on_cancel(self, event: FileCancel) -> None:
        cid = event.transfer_id
        reason = event.reason or "cancelled by the peer"
        if cid in self.batches:
            batch = self.batches[cid]
            if batch.state not in _FINAL:
                nothing_yet = batch.state in (BatchState.OFFERING, BatchState.COLLECTING)
                self._stop_batch(batch, BatchState.REFUSED if nothing_yet else BatchState.CANCELLED, reason)
        elif cid in self._entries:
            batch, entry = self._entries[cid]
            if batch.direction is Direction.SEND and entry.state == "done" and not entry.folder:
                # The receiver could not keep a file we finished sending (e.g. a digest mismatch).
                self._fail_entry(batch, entry, reason)
                if batch.state is BatchState.DONE:
                    batch.state = BatchState.FAILED
                self._notify()
                return
            if entry.state in ("done", "failed", "cancelled"):
                return
            if batch.direction is Direction.SEND:
                for source in list(self._sending):
                    if source.entry is entry:
                        self._sending.remove(source)
                        os.close(source.fd)
                self._fail_entry(batch, entry, reason, state="cancelled")
                self._maybe_finish_sender(batch)
            else:
                sink = self._receiving.get(cid)
                if sink is not None:
                    self._drop_sink(sink, reason)
                else:
                    self._fail_entry(batch, entry, reason, state="cancelled")
                self._accept_next(batch)
        elif cid in self._requests:
            del self._requests[cid]
            self.request_errors[cid] = reason
            self._notify()

    def _fail_entry(self, batch: Batch, entry: Entry, reason: str, state: str = "failed") -> None:
        entry.state = state
        entry.error = reason
        batch.error = f"{entry.path}: {reason}"

    def _refuse_batch(self, batch: Batch, reason: str) -> None:
        self._queue.append(FileCancel(batch.batch_id, reason[:200]))
        self._stop_batch(batch, BatchState.REFUSED, reason)

    def _stop_batch(self, batch: Batch, state: BatchState, reason: str) -> None:
        for source in [s for s in self._sending if s.batch is batch]:
            self._sending.remove(source)
            os.close(source.fd)
        for sink in [s for s in self._receiving.values() if s.batch is batch]:
            self._drop_sink(sink, reason)
        for entry in batch.entries:
            if entry.state in ("waiting", "active"):
                entry.state = "cancelled"
        self.consents.pop(batch.batch_id, None)
        batch.state = state
        batch.error = reason
        self._release(batch)
        self._notify()

    def _finish(self, batch: Batch) -> None:
        failed = [e for e in batch.entries if e.state in ("failed", "cancelled")]
        batch.state = BatchState.FAILED if failed else BatchState.DONE
        batch.current = ""
        self._release(batch)
        self._notify()

    def _release(self, batch: Batch) -> None:
        folder = self._folders.pop(batch.batch_id, None)
        if folder is not None:
            folder.close()

    def _new_id(self) -> int:
        value = self._next_id
        self._next_id += 2
        if self._next_id >= 1 << 32:
            raise FileTransferError("transfer ids exhausted for this session")
        return value

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()


def _partial_name(entry: Entry) -> str:
    """The hidden name a partial copy of ``entry`` is kept under between sessions."""
    key = hashlib.sha256(f"{entry.path}\0{entry.size}".encode()).hexdigest()[:24]
    return f".opensupport-resume-{key}.part"


def _walk(paths: Iterable[Path], skipped: list[str]) -> Iterable[tuple[str, Path | None, int, bool]]:
    """(relative path, source, size, is folder) for every entry under the chosen paths, folders before
    their contents. Links are never followed: a chosen link is an error, a link inside is skipped."""
    for chosen in paths:
        chosen = Path(chosen)
        info = os.lstat(chosen)
        name = chosen.name or chosen.resolve().name
        if stat.S_ISLNK(info.st_mode):
            raise FileTransferError(f"{chosen} is a link; links are not followed")
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(chosen, name, skipped)
        elif stat.S_ISREG(info.st_mode):
            if _portable(name):
                yield name, chosen, info.st_size, False
            else:
                skipped.append(name)
        else:
            raise FileTransferError(f"{chosen} is not a file or folder")


def _walk_folder(folder: Path, rel: str, skipped: list[str]) -> Iterable[tuple[str, Path | None, int, bool]]:
    if not _portable(rel):
        skipped.append(rel)
        return
    yield rel, None, 0, True
    with os.scandir(folder) as it:
        children = sorted(it, key=lambda e: e.name)
    for child in children:
        child_rel = f"{rel}/{child.name}"
        if child.is_symlink():
            skipped.append(child_rel)
        elif child.is_dir(follow_symlinks=False):
            yield from _walk_folder(Path(child.path), child_rel, skipped)
        elif child.is_file(follow_symlinks=False) and _portable(child_rel):
            yield child_rel, Path(child.path), child.stat(follow_symlinks=False).st_size, False
        else:
            skipped.append(child_rel)


def _portable(rel: str) -> bool:
    """Whether the protocol can carry this path (the receiver applies its own, stricter rules)."""
    try:
        FileOffer(1, rel, 0)
    except InvalidEvent:
        return False
    return True


def _read_exactly(fd: int, n: int) -> bytes:
    data = os.read(fd, n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = os.read(fd, n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
