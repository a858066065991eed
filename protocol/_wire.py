"""Message encoding: events to bytes and back, with the message table (channel, type, lane, reliability).

A message is ``channel (1) | type (1) | body``; integers are big-endian. The table :data:`SPECS` is the one
place that says, for every message, its type byte, which lane carries it (its priority), whether it is
reliable (retransmitted after a resume) and which role may send it. PROTOCOL.md mirrors it.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from . import _events as ev
from ._errors import MessageError


class Lane(enum.IntEnum):
    """Outgoing queues, highest priority first. Records of different lanes interleave; messages in one
    lane keep their order."""

    CONTROL = 0  #: session control, acknowledgements, credit, key updates
    INTERACTIVE = 1  #: input and cursor position: tiny, latency-critical
    MESSAGES = 2  #: chat, drawing, cursor shape, monitor layout: small, reliable
    SCREEN = 3  #: codec updates (flow-controlled by the frame window)
    BULK = 4  #: clipboard and files (flow-controlled by file credit)


#: Number of lanes.
LANE_COUNT = len(Lane)


class Sender(enum.Flag):
    """Which role may send a message."""

    HOST = enum.auto()  #: the customer's side
    VIEWER = enum.auto()  #: the agent's side
    BOTH = HOST | VIEWER  #: either side


# -- internal control messages (channel 0, types 0x10..) : never shown to the application --------------------
@dataclass(frozen=True, slots=True)
class Ack:
    """Cumulative acknowledgement: the sender has received ``count`` reliable messages in total."""

    count: int


@dataclass(frozen=True, slots=True)
class FrameAck:
    """(viewer) Every screen update up to ``frame_id`` has been received."""

    frame_id: int


@dataclass(frozen=True, slots=True)
class FileCredit:
    """The sender may send file-chunk bytes up to the running total ``limit`` (absolute, so a lost or
    repeated credit message does no harm)."""

    limit: int


@dataclass(frozen=True, slots=True)
class KeyUpdate:
    """Every record after this one in this direction is sealed with the next key."""


Message = ev.Event | Ack | FrameAck | FileCredit | KeyUpdate


@dataclass(frozen=True, slots=True)
class Spec:
    """One row of the message table."""

    cls: type[Any]
    channel: int
    msg_type: int
    lane: Lane
    reliable: bool
    sender: Sender
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


def _take_text(body: bytes, length_size: int, offset: int = 0) -> tuple[str, int]:
    """Read a length-prefixed UTF-8 string at ``offset``; returns (text, next offset)."""
    fmt = ">B" if length_size == 1 else ">H"
    if len(body) < offset + length_size:
        raise MessageError("string length cut short")
    (length,) = struct.unpack_from(fmt, body, offset)
    start = offset + length_size
    if len(body) < start + length:
        raise MessageError("string cut short")
    try:
        return body[start : start + length].decode("utf-8"), start + length
    except UnicodeDecodeError as exc:
        raise MessageError("string is not UTF-8") from exc


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError("text is not UTF-8") from exc


def _fixed(fmt: str) -> Callable[[bytes], tuple[Any, ...]]:
    size = struct.calcsize(fmt)

    def unpack(body: bytes) -> tuple[Any, ...]:
        if len(body) != size:
            raise MessageError(f"expected {size} bytes, got {len(body)}")
        return struct.unpack(fmt, body)

    return unpack


_KEY = _fixed(">IB")
_POINTER = _fixed(">iiH")
_WHEEL = _fixed(">iihh")
_CURSOR_POS = _fixed(">iiB")
_U64 = _fixed(">Q")


def _enc_combo(e: ev.KeyCombo) -> bytes:
    return bytes([len(e.keysyms)]) + struct.pack(f">{len(e.keysyms)}I", *e.keysyms)


def _dec_combo(body: bytes) -> ev.KeyCombo:
    if not body or len(body) != 1 + 4 * body[0]:
        raise MessageError("key combination length does not match its count")
    return ev.KeyCombo(struct.unpack(f">{body[0]}I", body[1:]))


def _bool_byte(value: int) -> bool:
    if value not in (0, 1):
        raise MessageError("boolean byte must be 0 or 1")
    return bool(value)


def _dec_key(body: bytes) -> ev.KeyEvent:
    keysym, down = _KEY(body)
    return ev.KeyEvent(keysym, _bool_byte(down))


def _dec_cursor_pos(body: bytes) -> ev.CursorPosition:
    x, y, visible = _CURSOR_POS(body)
    return ev.CursorPosition(x, y, _bool_byte(visible))


def _dec_control(body: bytes) -> ev.ControlMessage:
    topic, pos = _take_text(body, 1)
    return ev.ControlMessage(topic, body[pos:])


def _dec_screen(body: bytes) -> ev.ScreenUpdate:
    if len(body) < 9:
        raise MessageError("screen update header cut short")
    frame_id, flags = struct.unpack_from(">QB", body)
    if flags & ~1:
        raise MessageError("unknown screen update flags")
    return ev.ScreenUpdate(body[9:], keyframe=bool(flags & 1), frame_id=frame_id)


def _dec_cursor_shape(body: bytes) -> ev.CursorShape:
    if len(body) < 8:
        raise MessageError("cursor shape header cut short")
    w, h, hx, hy = struct.unpack_from(">HHHH", body)
    return ev.CursorShape(w, h, hx, hy, body[8:])


_MONITOR = struct.Struct(">iiIIB")


def _enc_layout(e: ev.MonitorLayout) -> bytes:
    return bytes([len(e.monitors)]) + b"".join(
        _MONITOR.pack(m.x, m.y, m.width, m.height, int(m.primary)) for m in e.monitors
    )


def _dec_layout(body: bytes) -> ev.MonitorLayout:
    if not body or len(body) != 1 + body[0] * _MONITOR.size:
        raise MessageError("monitor layout length does not match its count")
    monitors = []
    for i in range(body[0]):
        x, y, w, h, primary = _MONITOR.unpack_from(body, 1 + i * _MONITOR.size)
        monitors.append(ev.Monitor(x, y, w, h, _bool_byte(primary)))
    return ev.MonitorLayout(tuple(monitors))


def _dec_clipboard(body: bytes) -> ev.ClipboardData:
    mime, pos = _take_text(body, 1)
    return ev.ClipboardData(mime, body[pos:])


_OFFER = struct.Struct(">IIQBH")


def _enc_offer(e: ev.FileOffer) -> bytes:
    path = _utf8(e.path)
    return _OFFER.pack(e.transfer_id, e.batch_id, e.size, int(e.folder), len(path)) + path


def _dec_offer(body: bytes) -> ev.FileOffer:
    if len(body) < _OFFER.size:
        raise MessageError("file offer cut short")
    tid, batch, size, flags, _ = _OFFER.unpack_from(body)
    if flags & ~1:
        raise MessageError("unknown file offer flags")
    path, pos = _take_text(body, 2, _OFFER.size - 2)
    if pos != len(body):
        raise MessageError("trailing bytes after file offer")
    return ev.FileOffer(tid, path, size, batch_id=batch, folder=bool(flags & 1))


_BATCH = _fixed(">IIQI")
_ACCEPT = _fixed(">IQ")


def _dec_request(body: bytes) -> ev.FileRequest:
    if len(body) < 4:
        raise MessageError("file request cut short")
    return ev.FileRequest(struct.unpack_from(">I", body)[0], _decode_utf8(body[4:]))


def _dec_chunk(body: bytes | memoryview) -> ev.FileChunk:
    if len(body) < 12:
        raise MessageError("file chunk header cut short")
    tid, offset = struct.unpack_from(">IQ", body)
    return ev.FileChunk(tid, offset, bytes(body[12:]))  # one copy, from bytes or from a view


def _dec_file_end(body: bytes) -> ev.FileEnd:
    if len(body) != 36:
        raise MessageError("file end must be 36 bytes")
    return ev.FileEnd(struct.unpack_from(">I", body)[0], body[4:])


def _dec_file_cancel(body: bytes) -> ev.FileCancel:
    if len(body) < 4:
        raise MessageError("file cancel cut short")
    return ev.FileCancel(struct.unpack_from(">I", body)[0], _decode_utf8(body[4:]))


_POINT = struct.Struct(">ii")


_STROKE_HEAD = struct.Struct(">IBIHH")


def _enc_stroke(e: ev.DrawingStroke) -> bytes:
    head = _STROKE_HEAD.pack(e.stroke_id, e.shape, e.color, e.width, len(e.points))
    text = _utf8(e.text)
    points = b"".join(_POINT.pack(x, y) for x, y in e.points)
    return head + points + struct.pack(">H", len(text)) + text


def _dec_stroke(body: bytes) -> ev.DrawingStroke:
    if len(body) < _STROKE_HEAD.size:
        raise MessageError("stroke header cut short")
    sid, shape, color, width, count = _STROKE_HEAD.unpack_from(body)
    if shape not in ev.StrokeShape._value2member_map_:
        raise MessageError(f"unknown stroke shape {shape}")
    end = _STROKE_HEAD.size + count * _POINT.size
    if len(body) < end:
        raise MessageError("stroke points cut short")
    points = tuple(_POINT.unpack_from(body, _STROKE_HEAD.size + i * _POINT.size) for i in range(count))
    text, pos = _take_text(body, 2, end)
    if pos != len(body):
        raise MessageError("trailing bytes after stroke text")
    return ev.DrawingStroke(sid, color, width, points, ev.StrokeShape(shape), text)


def _empty(cls: type[Any]) -> Callable[[bytes], Any]:
    def decode(body: bytes) -> Any:
        if body:
            raise MessageError(f"{cls.__name__} carries no body")
        return cls()

    return decode


_C = ev.Channel
_L = Lane
_H, _V, _B = Sender.HOST, Sender.VIEWER, Sender.BOTH

#: The message table: (class, channel, type, lane, reliable, sender, encode, decode).
SPECS: tuple[Spec, ...] = (
    # channel 0: control
    Spec(ev.CloseSession, _C.CONTROL, 0x01, _L.CONTROL, True, _B,
         lambda e: _utf8(e.reason), lambda b: ev.CloseSession(_decode_utf8(b))),
    Spec(ev.Ping, _C.CONTROL, 0x02, _L.CONTROL, False, _B, lambda e: e.payload, lambda b: ev.Ping(b)),
    Spec(ev.Pong, _C.CONTROL, 0x03, _L.CONTROL, False, _B, lambda e: e.payload, lambda b: ev.Pong(b)),
    Spec(ev.ControlMessage, _C.CONTROL, 0x04, _L.CONTROL, True, _B,
         lambda e: bytes([len(_utf8(e.topic))]) + _utf8(e.topic) + e.data, _dec_control),
    Spec(ev.KeyframeRequest, _C.CONTROL, 0x05, _L.CONTROL, True, _V,
         lambda e: _utf8(e.reason), lambda b: ev.KeyframeRequest(_decode_utf8(b))),
    Spec(Ack, _C.CONTROL, 0x10, _L.CONTROL, False, _B,
         lambda e: struct.pack(">Q", e.count), lambda b: Ack(*_U64(b))),
    Spec(FrameAck, _C.CONTROL, 0x11, _L.CONTROL, False, _V,
         lambda e: struct.pack(">Q", e.frame_id), lambda b: FrameAck(*_U64(b))),
    Spec(FileCredit, _C.CONTROL, 0x12, _L.CONTROL, False, _B,
         lambda e: struct.pack(">Q", e.limit), lambda b: FileCredit(*_U64(b))),
    Spec(KeyUpdate, _C.CONTROL, 0x13, _L.CONTROL, False, _B, lambda e: b"", _empty(KeyUpdate)),
    # channel 1: input
    Spec(ev.KeyEvent, _C.INPUT, 0x01, _L.INTERACTIVE, False, _V,
         lambda e: struct.pack(">IB", e.keysym, int(e.down)),
         _dec_key),
    Spec(ev.PointerEvent, _C.INPUT, 0x02, _L.INTERACTIVE, False, _V,
         lambda e: struct.pack(">iiH", e.x, e.y, e.buttons), lambda b: ev.PointerEvent(*_POINTER(b))),
    Spec(ev.WheelEvent, _C.INPUT, 0x03, _L.INTERACTIVE, False, _V,
         lambda e: struct.pack(">iihh", e.x, e.y, e.dx, e.dy), lambda b: ev.WheelEvent(*_WHEEL(b))),
    Spec(ev.TextInput, _C.INPUT, 0x04, _L.INTERACTIVE, False, _V,
         lambda e: _utf8(e.text), lambda b: ev.TextInput(_decode_utf8(b))),
    Spec(ev.KeyCombo, _C.INPUT, 0x05, _L.INTERACTIVE, False, _V, _enc_combo, _dec_combo),
    # channel 2: screen
    Spec(ev.ScreenUpdate, _C.SCREEN, 0x01, _L.SCREEN, False, _H,
         lambda e: struct.pack(">QB", e.frame_id, int(e.keyframe)) + e.data, _dec_screen),
    Spec(ev.CursorShape, _C.SCREEN, 0x02, _L.MESSAGES, True, _H,
         lambda e: struct.pack(">HHHH", e.width, e.height, e.hot_x, e.hot_y) + e.pixels, _dec_cursor_shape),
    Spec(ev.CursorPosition, _C.SCREEN, 0x03, _L.INTERACTIVE, False, _H,
         lambda e: struct.pack(">iiB", e.x, e.y, int(e.visible)),
         _dec_cursor_pos),
    Spec(ev.MonitorLayout, _C.SCREEN, 0x04, _L.MESSAGES, True, _H, _enc_layout, _dec_layout),
    # channel 3: clipboard
    Spec(ev.ClipboardData, _C.CLIPBOARD, 0x01, _L.BULK, True, _B,
         lambda e: bytes([len(e.mime)]) + e.mime.encode("ascii") + e.data, _dec_clipboard),
    # channel 4: files (all in one lane, so that the end of a file never overtakes its chunks)
    Spec(ev.FileOffer, _C.FILES, 0x01, _L.BULK, True, _B, _enc_offer, _dec_offer),
    Spec(ev.FileChunk, _C.FILES, 0x02, _L.BULK, True, _B,
         lambda e: struct.pack(">IQ", e.transfer_id, e.offset) + e.data, _dec_chunk),
    Spec(ev.FileEnd, _C.FILES, 0x03, _L.BULK, True, _B,
         lambda e: struct.pack(">I", e.transfer_id) + e.sha256, _dec_file_end),
    Spec(ev.FileCancel, _C.FILES, 0x04, _L.BULK, True, _B,
         lambda e: struct.pack(">I", e.transfer_id) + _utf8(e.reason), _dec_file_cancel),
    Spec(ev.FileAccept, _C.FILES, 0x05, _L.BULK, True, _B,
         lambda e: struct.pack(">IQ", e.transfer_id, e.offset), lambda b: ev.FileAccept(*_ACCEPT(b))),
    Spec(ev.FileBatch, _C.FILES, 0x06, _L.BULK, True, _B,
         lambda e: struct.pack(">IIQI", e.batch_id, e.count, e.total, e.request_id),
         lambda b: ev.FileBatch(*_BATCH(b))),
    Spec(ev.FileRequest, _C.FILES, 0x07, _L.BULK, True, _B,
         lambda e: struct.pack(">I", e.request_id) + _utf8(e.path), _dec_request),
    # channel 5: chat
    Spec(ev.ChatMessage, _C.CHAT, 0x01, _L.MESSAGES, True, _B,
         lambda e: _utf8(e.text), lambda b: ev.ChatMessage(_decode_utf8(b))),
    # channel 6: drawing
    Spec(ev.DrawingStroke, _C.DRAWING, 0x01, _L.MESSAGES, True, _B, _enc_stroke, _dec_stroke),
    Spec(ev.DrawingClear, _C.DRAWING, 0x02, _L.MESSAGES, True, _B, lambda e: b"", _empty(ev.DrawingClear)),
)  # fmt: skip

SPEC_BY_CLASS: dict[type[Any], Spec] = {s.cls: s for s in SPECS}
SPEC_BY_ID: dict[tuple[int, int], Spec] = {(s.channel, s.msg_type): s for s in SPECS}

#: Largest encoded message: a screen update plus its channel, type and frame header.
MAX_MESSAGE_SIZE = ev.MAX_SCREEN_UPDATE_SIZE + 2 + 9
#: Largest message of each lane (the bound on that lane's reassembly buffer).
MAX_LANE_MESSAGE_SIZE: dict[Lane, int] = {
    Lane.CONTROL: 2 + 1 + ev.MAX_TOPIC_SIZE + ev.MAX_CONTROL_DATA_SIZE,
    Lane.INTERACTIVE: 64,
    Lane.MESSAGES: 2 + 8 + ev.MAX_CURSOR_SIDE * ev.MAX_CURSOR_SIDE * 4,
    Lane.SCREEN: MAX_MESSAGE_SIZE,
    Lane.BULK: 2 + 1 + ev.MAX_MIME_SIZE + ev.MAX_CLIPBOARD_SIZE,
}


def spec_for(message: Message) -> Spec:
    """The table row of a message object. Raises KeyError for objects that are not messages."""
    return SPEC_BY_CLASS[type(message)]


def encode_message(message: Message) -> bytes:
    """``channel | type | body`` for a message that already passed its constructor's checks."""
    spec = SPEC_BY_CLASS[type(message)]
    return bytes([spec.channel, spec.msg_type]) + spec.encode(message)


def decode_message(data: bytes | memoryview) -> Message:
    """Parse one reassembled message. Unknown channels or types give :class:`UnknownMessage`.

    ``data`` may be a view into a record's plaintext: a file chunk's data is then copied once, straight
    into its event (a 256 KiB chunk was copied three times on its way here); every other body is copied
    to bytes first. Raises MessageError if the message is shorter than its header or breaks a field rule
    or bound.
    """
    if len(data) < 2:
        raise MessageError("message shorter than its channel and type bytes")
    spec = SPEC_BY_ID.get((data[0], data[1]))
    if spec is None:
        return ev.UnknownMessage(data[0], data[1], bytes(data[2:]))
    body = data[2:]
    if isinstance(body, memoryview) and spec.cls is not ev.FileChunk:
        body = body.tobytes()
    try:
        # (a view reaches only the FileChunk decoder, which takes one)
        message: Message = spec.decode(cast(bytes, body))
    except ev.InvalidEvent as exc:
        raise MessageError(f"{spec.cls.__name__}: {exc}") from exc
    except struct.error as exc:  # pragma: no cover - every decoder checks lengths first
        raise MessageError(f"{spec.cls.__name__}: {exc}") from exc
    return message
