"""Screen capture and recording in the viewer: a PNG of the framebuffer, a session recording file, its
player core (seek, speed) and the export to MP4.

The recording file (``.osrec``) keeps the codec's own updates, so recording costs no encoding and plays
back losslessly. All integers little-endian::

    header   32 bytes  magic b"OSREC\\r\\n\\x1a", version u16 (1), flags u16 (0), created (Unix ms) u64,
                       index offset u64 (0 while recording), reserved u32
    record   16 bytes  b"R", kind u8 (1 = screen update), flags u8 (bit 0 key frame), reserved u8,
                       time (ms since the first key frame) u32, size u32 (<= MAX_RECORD_PAYLOAD), CRC-32
                       of the payload u32; then the payload (one codec update)
    index              b"OSRIDX\\0\\0", key frames u32, records u32, duration ms u32, then per key frame
                       time u32, record number u32, file offset u64
    trailer  16 bytes  index offset u64, b"OSRECEND"

The index lists every key frame, so a seek decodes from the last key frame at or before the target and
no further than the target. A recording starts at a key frame (updates before the first one are dropped),
and the recorder asks the host for another one every ``keyframe_interval`` seconds (the host may refuse:
then seeking decodes from further back, it still works). A file whose recorder died has no index: the
reader rebuilds it by scanning the records, up to the first one that is cut short or fails its CRC.
"""

from __future__ import annotations

import bisect
import itertools
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from opensupport.codec import CodecError, Decoder
from opensupport.protocol import MAX_SCREEN_UPDATE_SIZE

__all__ = [
    "KEYFRAME_INTERVAL",
    "MAX_RECORD_PAYLOAD",
    "SPEEDS",
    "Player",
    "Recorder",
    "RecordingError",
    "RecordingReader",
    "export_mp4",
    "write_png",
]

MAGIC = b"OSREC\r\n\x1a"
INDEX_MAGIC = b"OSRIDX\0\0"
TRAILER_MAGIC = b"OSRECEND"
VERSION = 1
_HEADER = struct.Struct("<8sHHQQI")
_RECORD = struct.Struct("<cBBBIII")
_INDEX_HEAD = struct.Struct("<8sIII")
_INDEX_ENTRY = struct.Struct("<IIQ")
_TRAILER = struct.Struct("<Q8s")
_KIND_SCREEN = 1
#: Largest payload of one record: one codec update as the protocol bounds it.
MAX_RECORD_PAYLOAD = MAX_SCREEN_UPDATE_SIZE
#: Seconds between the recorder's key-frame requests.
KEYFRAME_INTERVAL = 10.0
#: Playback speeds the player offers (any value in 0.5..4 is accepted).
SPEEDS = (0.5, 1.0, 1.5, 2.0, 4.0)
#: The longest time a record may carry (u32 milliseconds: 49 days).
_MAX_TIME_MS = 0xFFFFFFFF


class RecordingError(Exception):
    """A recording file is not one, is damaged, or cannot be written or played."""


# -- screenshot ---------------------------------------------------------------------------------------------
def write_png(framebuffer: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Save a BGRA framebuffer (height, width, 4) as an 8-bit RGB PNG, pixel for pixel. The file appears
    complete or not at all (written beside it, then renamed). Raises ValueError for a bad array, OSError."""
    if framebuffer.ndim != 3 or framebuffer.shape[2] != 4 or framebuffer.dtype != np.uint8:
        raise ValueError("framebuffer must be a (height, width, 4) uint8 array")
    height, width = int(framebuffer.shape[0]), int(framebuffer.shape[1])
    rgb = framebuffer[:, :, 2::-1]  # BGRA -> RGB
    raw = np.zeros((height, 1 + width * 3), dtype=np.uint8)  # filter byte 0 (none) per row
    raw[:, 1:] = rgb.reshape(height, width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
    png += chunk(b"IEND", b"")
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(png)
    partial.replace(target)
    return target


# -- writing ------------------------------------------------------------------------------------------------
class Recorder:
    """Writes a session's screen updates to a recording file (thread-safe).

    ``request_keyframe()`` is called at the start and every ``keyframe_interval`` seconds (by the time of
    the updates): the session sends the host a ``KeyframeRequest("recording")``. ``clock`` gives seconds.
    Raises RecordingError (OSError inside) if the file cannot be written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        request_keyframe: Callable[[], object] | None = None,
        keyframe_interval: float = KEYFRAME_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._request = request_keyframe
        self._interval = keyframe_interval
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            self._file.write(_HEADER.pack(MAGIC, VERSION, 0, int(time.time() * 1000), 0, 0))
        except OSError as exc:
            raise RecordingError(f"cannot write {self.path}: {exc}") from exc
        self._start: float | None = None
        self._last_keyframe_at = 0.0
        self._asked_at: float | None = None
        self._keyframes: list[tuple[int, int, int]] = []
        self._last_ms = 0
        #: Updates written.
        self.records = 0
        #: Updates dropped because the recording had not reached its first key frame.
        self.skipped = 0
        self.closed = False
        self._ask(clock())

    def _ask(self, now: float) -> None:
        self._asked_at = now
        if self._request is not None:
            self._request()

    def add(self, update: bytes, keyframe: bool, at: float | None = None) -> bool:
        """Record one codec update received at ``at`` (default: now); False if it was dropped (before the
        first key frame). Raises RecordingError if the update is too large or the file fails."""
        if len(update) > MAX_RECORD_PAYLOAD:
            raise RecordingError(f"update of {len(update)} bytes exceeds {MAX_RECORD_PAYLOAD}")
        now = self._clock() if at is None else at
        with self._lock:
            if self.closed:
                raise RecordingError("the recording is closed")
            if self._start is None:
                if not keyframe:
                    self.skipped += 1
                    if self._asked_at is None or now - self._asked_at >= self._interval:
                        self._ask(now)
                    return False
                self._start = now
            ms = min(_MAX_TIME_MS, max(self._last_ms, round((now - self._start) * 1000)))
            self._last_ms = ms
            try:
                offset = self._file.tell()
                head = _RECORD.pack(b"R", _KIND_SCREEN, int(keyframe), 0, ms, len(update), zlib.crc32(update))
                self._file.write(head)
                self._file.write(update)
            except OSError as exc:
                raise RecordingError(f"cannot write {self.path}: {exc}") from exc
            if keyframe:
                self._keyframes.append((ms, self.records, offset))
                self._last_keyframe_at = now
            self.records += 1
            due = now - self._last_keyframe_at >= self._interval
            ask = due and (self._asked_at is None or now - self._asked_at >= self._interval)
        if ask:
            self._ask(now)
        return True

    def close(self) -> None:
        """Write the index and the trailer and close the file (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                offset = self._file.tell()
                f = self._file
                f.write(_INDEX_HEAD.pack(INDEX_MAGIC, len(self._keyframes), self.records, self._last_ms))
                f.write(b"".join(_INDEX_ENTRY.pack(*k) for k in self._keyframes))
                f.write(_TRAILER.pack(offset, TRAILER_MAGIC))
                f.seek(_HEADER.size - 12)
                f.write(struct.pack("<Q", offset))
                f.close()
            except OSError as exc:
                raise RecordingError(f"cannot finish {self.path}: {exc}") from exc

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- reading ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """One recorded update."""

    number: int
    time_ms: int
    keyframe: bool
    payload: bytes
    #: the file offset of the next record
    next_offset: int


@dataclass(frozen=True)
class KeyframeEntry:
    """One index entry."""

    time_ms: int
    number: int
    offset: int


class RecordingReader:
    """A recording file opened for playback. Raises RecordingError if it is not a recording, or holds
    no key frame. ``recovered`` is True when the index was rebuilt (a recording that was not closed)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed by close()
            self.size = os.fstat(self._file.fileno()).st_size
        except OSError as exc:
            raise RecordingError(f"cannot read {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        head = self._file.read(_HEADER.size)
        if len(head) < _HEADER.size:
            raise RecordingError("not a recording: the file is shorter than its header")
        magic, version, flags, created, index_offset, _ = _HEADER.unpack(head)
        if magic != MAGIC:
            raise RecordingError("not a recording (wrong magic)")
        if version != VERSION or flags != 0:
            raise RecordingError(f"recording version {version} (flags {flags}) is not supported")
        self.created_unix_ms = created
        self.recovered = False
        if index_offset:
            self.keyframes, self.record_count, self.duration_ms = self._read_index(index_offset)
        else:
            self.recovered = True
            self.keyframes, self.record_count, self.duration_ms = self._scan()
        if not self.keyframes:
            raise RecordingError("the recording holds no key frame")
        self._times = [k.time_ms for k in self.keyframes]

    def _read_index(self, offset: int) -> tuple[list[KeyframeEntry], int, int]:
        if not _HEADER.size <= offset <= self.size - _INDEX_HEAD.size - _TRAILER.size:
            raise RecordingError("the index offset lies outside the file")
        self._file.seek(self.size - _TRAILER.size)
        trailer_offset, magic = _TRAILER.unpack(self._file.read(_TRAILER.size))
        if magic != TRAILER_MAGIC or trailer_offset != offset:
            raise RecordingError("the trailer does not match the header")
        self._file.seek(offset)
        magic, count, records, duration = _INDEX_HEAD.unpack(self._file.read(_INDEX_HEAD.size))
        if (
            magic != INDEX_MAGIC
            or offset + _INDEX_HEAD.size + count * _INDEX_ENTRY.size + _TRAILER.size != self.size
        ):
            raise RecordingError("the index is damaged")
        entries = [
            KeyframeEntry(*_INDEX_ENTRY.unpack(self._file.read(_INDEX_ENTRY.size))) for _ in range(count)
        ]
        for a, b in itertools.pairwise(entries):
            if not (a.time_ms <= b.time_ms and a.number < b.number and a.offset < b.offset):
                raise RecordingError("the index is not in order")
        if entries and not (_HEADER.size <= entries[0].offset and entries[-1].offset < offset):
            raise RecordingError("an index entry points outside the records")
        self._records_end = offset
        return entries, records, duration

    def _scan(self) -> tuple[list[KeyframeEntry], int, int]:
        entries: list[KeyframeEntry] = []
        offset, number, last = _HEADER.size, 0, 0
        self._records_end = self.size
        while True:
            try:
                record = self._read_at(offset, number)
            except RecordingError:
                break
            if record.keyframe:
                entries.append(KeyframeEntry(record.time_ms, number, offset))
            last = record.time_ms
            offset, number = record.next_offset, number + 1
        self._records_end = offset
        return entries, number, last

    def _read_at(self, offset: int, number: int) -> Record:
        with self._lock:
            if offset + _RECORD.size > self._records_end:
                raise RecordingError("end of the records")
            self._file.seek(offset)
            head = self._file.read(_RECORD.size)
            if len(head) < _RECORD.size:
                raise RecordingError("a record header is cut short")
            tag, kind, flags, _, ms, size, crc = _RECORD.unpack(head)
            if tag != b"R" or kind != _KIND_SCREEN or flags & ~1:
                raise RecordingError(f"record {number} is damaged (bad header)")
            if size > MAX_RECORD_PAYLOAD or offset + _RECORD.size + size > self._records_end:
                raise RecordingError(f"record {number} is cut short")
            payload = self._file.read(size)
        if len(payload) != size or zlib.crc32(payload) != crc:
            raise RecordingError(f"record {number} is damaged (CRC)")
        return Record(number, ms, bool(flags & 1), payload, offset + _RECORD.size + size)

    def records_from(self, entry: KeyframeEntry) -> Iterator[Record]:
        """The records from a key frame on, in order. Raises RecordingError for a damaged record."""
        offset, number = entry.offset, entry.number
        while number < self.record_count and offset < self._records_end:
            record = self._read_at(offset, number)
            yield record
            offset, number = record.next_offset, number + 1

    def keyframe_before(self, time_ms: int) -> KeyframeEntry:
        """The last key frame at or before ``time_ms`` (the first one for earlier times)."""
        return self.keyframes[max(0, bisect.bisect_right(self._times, time_ms) - 1)]

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Player:
    """Plays a recording: :meth:`seek` to any time, :meth:`advance` by wall-clock time at ``speed``.
    ``framebuffer`` is the picture at ``position_ms`` (BGRA, owned by the decoder: copy to keep it)."""

    def __init__(self, reader: RecordingReader) -> None:
        self.reader = reader
        self._speed = 1.0
        self.position_ms = 0
        #: The number of the last record applied (-1: none).
        self.frame_number = -1
        self._decoder: Decoder | None = None
        self._records: Iterator[Record] | None = None
        self._next: Record | None = None
        self.seek(0)

    @property
    def speed(self) -> float:
        """Playback speed, 0.5 to 4."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not 0.5 <= value <= 4.0:
            raise ValueError("speed must be between 0.5 and 4")
        self._speed = float(value)

    @property
    def duration_ms(self) -> int:
        """The recording's length."""
        return int(self.reader.duration_ms)

    @property
    def at_end(self) -> bool:
        """Every record has been shown."""
        return self._next is None

    @property
    def framebuffer(self) -> np.ndarray:
        """The picture at the current position."""
        assert self._decoder is not None
        picture: np.ndarray = self._decoder.framebuffer
        return picture

    def seek(self, time_ms: int) -> np.ndarray:
        """Show the picture at ``time_ms`` (clamped to the recording): decode from the last key frame at or
        before it. Returns the framebuffer. Raises RecordingError for a damaged record."""
        time_ms = max(0, min(int(time_ms), self.duration_ms))
        entry = self.reader.keyframe_before(time_ms)
        self._decoder = Decoder(16, 16)
        self._records = self.reader.records_from(entry)
        self._next = next(self._records, None)
        self.frame_number = -1
        self.position_ms = time_ms
        self._apply_until(max(time_ms, entry.time_ms))
        return self.framebuffer

    def goto(self, time_ms: int) -> np.ndarray:
        """Show the picture at ``time_ms``: forward from here when it lies ahead (cheap), else a seek."""
        if time_ms < self.position_ms:
            return self.seek(time_ms)
        self.position_ms = min(self.duration_ms, int(time_ms))
        self._apply_until(self.position_ms)
        return self.framebuffer

    def advance(self, seconds: float) -> bool:
        """Move the position on by ``seconds`` of wall-clock time at the current speed; True if the
        picture changed."""
        before = self.frame_number
        self.position_ms = min(self.duration_ms, self.position_ms + round(seconds * 1000 * self._speed))
        self._apply_until(self.position_ms)
        return self.frame_number != before

    def _apply_until(self, time_ms: int) -> None:
        assert self._decoder is not None and self._records is not None
        while self._next is not None and self._next.time_ms <= time_ms:
            record = self._next
            try:
                self._decoder.decode(record.payload)
            except CodecError as exc:
                raise RecordingError(f"record {record.number} does not decode: {exc}") from exc
            self.frame_number = record.number
            self._next = next(self._records, None)


# -- export -------------------------------------------------------------------------------------------------
def export_mp4(
    reader: RecordingReader,
    path: str | os.PathLike[str],
    *,
    fps: int = 25,
    crf: int = 20,
    progress: Callable[[float], object] | None = None,
) -> int:
    """Export the recording to an H.264 MP4 (PyAV, libx264, yuv420p) at a constant ``fps``: frame k shows
    the picture at k / fps seconds. Odd sizes are padded with black to even ones (4:2:0 needs them).
    Returns the number of frames written. Raises RecordingError (PyAV's errors inside)."""
    import av

    if not 1 <= fps <= 120:
        raise RecordingError("fps must be 1..120")
    player = Player(reader)
    frames = reader.duration_ms * fps // 1000 + 1
    target = Path(path)
    partial = target.with_name(target.name + ".partial.mp4")
    try:
        with av.open(str(partial), mode="w") as container:
            stream: Any = None
            for k in range(frames):
                picture = player.goto(k * 1000 // fps)
                height, width = picture.shape[0], picture.shape[1]
                if stream is None:
                    stream = container.add_stream("libx264", rate=fps)
                    stream.width, stream.height = width + width % 2, height + height % 2
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
                if (width + width % 2, height + height % 2) != (stream.width, stream.height):
                    raise RecordingError("the recording changes size; export each part separately")
                if width % 2 or height % 2:
                    picture = np.pad(picture, ((0, height % 2), (0, width % 2), (0, 0)))
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="bgra")
                frame.pts = k
                for packet in stream.encode(frame):
                    container.mux(packet)
                if progress is not None:
                    progress((k + 1) / frames)
            if stream is not None:
                for packet in stream.encode(None):
                    container.mux(packet)
    except (av.error.FFmpegError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise RecordingError(f"MP4 export failed: {exc}") from exc
    partial.replace(target)
    return frames
