"""Events: what the application sends with ``Session.send`` and gets back from ``Session.next_event``.

Every event is a frozen dataclass whose constructor checks every field against its named bound, so an
event that exists is an event that fits on the wire. A bad field raises :class:`InvalidEvent`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._errors import LocalProtocolError


class InvalidEvent(LocalProtocolError, ValueError):
    """An event field is out of its bound (raised by the event's constructor)."""


class Channel(enum.IntEnum):
    """The channel id byte of every message. Ids above :attr:`DRAWING` are reserved for later features;
    a message on an unknown channel arrives as :class:`UnknownMessage`."""

    CONTROL = 0  #: session control: close, ping, key-frame requests, application control messages
    INPUT = 1  #: keys, pointer, wheel (viewer -> host), in the host's screen coordinates
    SCREEN = 2  #: codec updates, cursor shape and position, monitor layout (host -> viewer)
    CLIPBOARD = 3  #: clipboard contents, both ways
    FILES = 4  #: file transfers, both ways
    CHAT = 5  #: chat lines, both ways
    DRAWING = 6  #: drawing over the host's screen, both ways (the agent's and, when allowed, the customer's)


class NeedData:
    """The type of :data:`NEED_DATA` (annotate ``next_event()`` results as ``Event | NeedData``)."""

    _instance: NeedData | None = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by ``Session.next_event()`` when no event can be produced until more data is received.
NEED_DATA = NeedData()

# -- bounds (bytes unless said otherwise) -------------------------------------------------------------------
#: Longest close reason, file-cancel reason or key-frame-request reason (UTF-8 bytes).
MAX_REASON_SIZE = 256
#: Longest ping payload.
MAX_PING_SIZE = 64
#: Longest control-message topic (UTF-8 bytes).
MAX_TOPIC_SIZE = 64
#: Longest control-message body (it travels ahead of input, so it stays small).
MAX_CONTROL_DATA_SIZE = 16 * 1024
#: Largest codec update: a lossless key frame of a 4K screen fits comfortably.
MAX_SCREEN_UPDATE_SIZE = 32 * 1024 * 1024
#: Largest cursor image side (pixels).
MAX_CURSOR_SIDE = 128
#: Most monitors in a layout.
MAX_MONITORS = 16
#: Largest monitor side (pixels).
MAX_MONITOR_SIDE = 1 << 16
#: Longest clipboard MIME type (ASCII bytes).
MAX_MIME_SIZE = 128
#: Largest clipboard content; anything bigger goes as a file.
MAX_CLIPBOARD_SIZE = 1024 * 1024
#: Longest component of a transferred path (UTF-8 bytes): one file or folder name.
MAX_FILE_NAME_SIZE = 255
#: Longest relative path of an entry in a file batch, or of a requested path (UTF-8 bytes).
MAX_FILE_PATH_SIZE = 1024
#: Most entries (files and folders) in one file batch.
MAX_BATCH_ENTRIES = 100_000
#: Largest file.
MAX_FILE_SIZE = 1 << 48
#: Largest file chunk (protocol version 2; ``Session.max_file_chunk()`` is what may be sent now).
MAX_FILE_CHUNK_SIZE = 256 * 1024
#: Largest file chunk a version-1 peer accepts.
MAX_FILE_CHUNK_SIZE_V1 = 64 * 1024
#: Longest chat line (UTF-8 bytes).
MAX_CHAT_SIZE = 4096
#: Longest text typed in one TextInput (UTF-8 bytes).
MAX_TEXT_INPUT_SIZE = 4096
#: Most keys in one KeyCombo.
MAX_COMBO_KEYS = 6
#: Most points in one drawing stroke.
MAX_STROKE_POINTS = 1024
#: Largest stroke width (pixels).
MAX_STROKE_WIDTH = 256
#: Longest text of a text stroke (UTF-8 bytes).
MAX_STROKE_TEXT_SIZE = 1024

_I32 = (-(1 << 31), (1 << 31) - 1)
_U32 = (0, (1 << 32) - 1)
_U64 = (0, (1 << 64) - 1)


def _int(name: str, value: object, bounds: tuple[int, int]) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not bounds[0] <= value <= bounds[1]:
        raise InvalidEvent(f"{name} must be an int in {bounds[0]}..{bounds[1]}, got {value!r}")


def _bytes(name: str, value: object, limit: int) -> None:
    if not isinstance(value, bytes):
        raise InvalidEvent(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidEvent(f"{name} is {len(value)} bytes, more than its bound {limit}")


def _text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        raise InvalidEvent(f"{name} must be str, got {type(value).__name__}")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidEvent(f"{name} is not encodable as UTF-8") from exc
    if size > limit:
        raise InvalidEvent(f"{name} is {size} UTF-8 bytes, more than its bound {limit}")


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidEvent(f"{name} must be bool, got {type(value).__name__}")


class Event:
    """Base class of all events."""

    __slots__ = ()


# -- control ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CloseSession(Event):
    """The authenticated end of the session. Sending it is the only clean way to end a session; an
    application that receives it should close the transport."""

    reason: str = ""

    def __post_init__(self) -> None:
        _text("reason", self.reason, MAX_REASON_SIZE)


@dataclass(frozen=True, slots=True)
class Ping(Event):
    """Keep-alive; the receiving session answers with a :class:`Pong` carrying the same payload."""

    payload: bytes = b""

    def __post_init__(self) -> None:
        _bytes("payload", self.payload, MAX_PING_SIZE)


@dataclass(frozen=True, slots=True)
class Pong(Event):
    """The answer to a :class:`Ping`."""

    payload: bytes = b""

    def __post_init__(self) -> None:
        _bytes("payload", self.payload, MAX_PING_SIZE)


@dataclass(frozen=True, slots=True)
class ControlMessage(Event):
    """An application control message (options, permissions, host information...), delivered reliably."""

    topic: str
    data: bytes = b""

    def __post_init__(self) -> None:
        _text("topic", self.topic, MAX_TOPIC_SIZE)
        if not self.topic:
            raise InvalidEvent("topic must not be empty")
        _bytes("data", self.data, MAX_CONTROL_DATA_SIZE)


@dataclass(frozen=True, slots=True)
class KeyframeRequest(Event):
    """The host should send a key frame next (sent by a viewer whose decoder lost track, and generated by
    the host's own session after a resume)."""

    reason: str = ""

    def __post_init__(self) -> None:
        _text("reason", self.reason, MAX_REASON_SIZE)


# -- events made by the session itself, never sent ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HandshakeComplete(Event):
    """Both ends proved they know the session code; application data may flow."""

    version: int


@dataclass(frozen=True, slots=True)
class TransportLost(Event):
    """The transport ended without an authenticated close. The session is SUSPENDED: reconnect and call
    ``Session.resume()``. Until it is resumed this is not a clean end (it may be a truncation attack)."""


@dataclass(frozen=True, slots=True)
class Resumed(Event):
    """The session resumed on a new transport; ``retransmitted`` reliable messages are being sent again."""

    retransmitted: int


@dataclass(frozen=True, slots=True)
class FrameAcknowledged(Event):
    """(host) The viewer has received the screen update ``frame_id``; ``can_send_frame()`` may be true."""

    frame_id: int


# -- input (viewer -> host) ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeyEvent(Event):
    """A key pressed or released, as an X11 keysym (Unicode characters as 0x01000000 + code point)."""

    keysym: int
    down: bool

    def __post_init__(self) -> None:
        _int("keysym", self.keysym, _U32)
        _bool("down", self.down)


@dataclass(frozen=True, slots=True)
class TextInput(Event):
    """Text the agent typed or an input method committed (any script: Hangul, Kana...), to be typed on
    the host as it is. It travels on the input lane, so it stays in order with the keys and pointer moves
    around it. Non-empty, at most :data:`MAX_TEXT_INPUT_SIZE` UTF-8 bytes, no NUL."""

    text: str

    def __post_init__(self) -> None:
        _text("text", self.text, MAX_TEXT_INPUT_SIZE)
        if not self.text or "\x00" in self.text:
            raise InvalidEvent("text input must be non-empty and free of NUL")


@dataclass(frozen=True, slots=True)
class KeyCombo(Event):
    """A key combination the agent's own desktop would catch (Ctrl+Alt+Del, Alt+Tab...): the host presses
    the keys in order and releases them in reverse order. 1..:data:`MAX_COMBO_KEYS` distinct keysyms."""

    keysyms: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.keysyms, tuple) or not 1 <= len(self.keysyms) <= MAX_COMBO_KEYS:
            raise InvalidEvent(f"a key combination is a tuple of 1..{MAX_COMBO_KEYS} keysyms")
        for keysym in self.keysyms:
            _int("keysym", keysym, _U32)
        if len(set(self.keysyms)) != len(self.keysyms):
            raise InvalidEvent("a key combination names a key twice")


@dataclass(frozen=True, slots=True)
class PointerEvent(Event):
    """The pointer at (x, y) in pixels of the shared monitor's frame; ``buttons`` is the mask of pressed buttons
    (bit 0 left, 1 middle, 2 right, 3 back, 4 forward)."""

    x: int
    y: int
    buttons: int = 0

    def __post_init__(self) -> None:
        _int("x", self.x, _I32)
        _int("y", self.y, _I32)
        _int("buttons", self.buttons, (0, 0xFFFF))


@dataclass(frozen=True, slots=True)
class WheelEvent(Event):
    """Wheel steps at (x, y): ``dy`` > 0 scrolls up, ``dx`` > 0 scrolls right (units of 1/120 notch)."""

    x: int
    y: int
    dx: int
    dy: int

    def __post_init__(self) -> None:
        _int("x", self.x, _I32)
        _int("y", self.y, _I32)
        _int("dx", self.dx, (-32768, 32767))
        _int("dy", self.dy, (-32768, 32767))


# -- screen (host -> viewer) ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScreenUpdate(Event):
    """One codec update (``opensupport.codec`` bytes). ``frame_id`` is assigned by the sending session
    (leave it 0 when sending) and acknowledged by the receiving one."""

    data: bytes
    keyframe: bool = False
    frame_id: int = 0

    def __post_init__(self) -> None:
        _bytes("data", self.data, MAX_SCREEN_UPDATE_SIZE)
        _bool("keyframe", self.keyframe)
        _int("frame_id", self.frame_id, _U64)


@dataclass(frozen=True, slots=True)
class CursorShape(Event):
    """The cursor image: ``pixels`` is width*height*4 bytes BGRA, hot spot at (hot_x, hot_y)."""

    width: int
    height: int
    hot_x: int
    hot_y: int
    pixels: bytes

    def __post_init__(self) -> None:
        _int("width", self.width, (1, MAX_CURSOR_SIDE))
        _int("height", self.height, (1, MAX_CURSOR_SIDE))
        _int("hot_x", self.hot_x, (0, self.width - 1))
        _int("hot_y", self.hot_y, (0, self.height - 1))
        _bytes("pixels", self.pixels, MAX_CURSOR_SIDE * MAX_CURSOR_SIDE * 4)
        if len(self.pixels) != self.width * self.height * 4:
            raise InvalidEvent("pixels must be width*height*4 bytes")


@dataclass(frozen=True, slots=True)
class CursorPosition(Event):
    """Where the host's cursor is, in the host's screen coordinates."""

    x: int
    y: int
    visible: bool = True

    def __post_init__(self) -> None:
        _int("x", self.x, _I32)
        _int("y", self.y, _I32)
        _bool("visible", self.visible)


@dataclass(frozen=True, slots=True)
class Monitor:
    """One monitor's rectangle in the host's virtual screen."""

    x: int
    y: int
    width: int
    height: int
    primary: bool = False

    def __post_init__(self) -> None:
        _int("x", self.x, _I32)
        _int("y", self.y, _I32)
        _int("width", self.width, (1, MAX_MONITOR_SIDE))
        _int("height", self.height, (1, MAX_MONITOR_SIDE))
        _bool("primary", self.primary)


@dataclass(frozen=True, slots=True)
class MonitorLayout(Event):
    """The host's monitors (1..MAX_MONITORS)."""

    monitors: tuple[Monitor, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.monitors, tuple) or not 1 <= len(self.monitors) <= MAX_MONITORS:
            raise InvalidEvent(f"monitors must be a tuple of 1..{MAX_MONITORS} Monitor")
        if not all(isinstance(m, Monitor) for m in self.monitors):
            raise InvalidEvent("monitors must hold Monitor values")


# -- clipboard, files, chat, drawing -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClipboardData(Event):
    """Clipboard contents of one MIME type (``text/plain;charset=utf-8`` for text)."""

    mime: str
    data: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.mime, str) or not self.mime.isascii() or not self.mime.isprintable():
            raise InvalidEvent("mime must be printable ASCII")
        _text("mime", self.mime, MAX_MIME_SIZE)
        _bytes("data", self.data, MAX_CLIPBOARD_SIZE)


def _relative_path(name: str, value: object) -> None:
    """A relative path of bare names joined by '/': no empty, '.' or '..' component, no backslash, no
    control character. The receiver still sanitises it for its own file system."""
    _text(name, value, MAX_FILE_PATH_SIZE)
    assert isinstance(value, str)
    for part in value.split("/"):
        if not part or part in (".", "..") or "\\" in part:
            raise InvalidEvent(f"{name} must be a relative path of bare names, got {value!r}")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in part):
            raise InvalidEvent(f"{name} must not contain control characters")
        _text(name + " component", part, MAX_FILE_NAME_SIZE)


@dataclass(frozen=True, slots=True)
class FileBatch(Event):
    """A batch of ``count`` entries (files and folders, ``total`` file bytes) follows as :class:`FileOffer`
    messages; the receiver asks for consent once per batch. ``request_id`` names the
    :class:`FileRequest` it answers (0: the sender offers on its own)."""

    batch_id: int
    count: int
    total: int
    request_id: int = 0

    def __post_init__(self) -> None:
        _int("batch_id", self.batch_id, _U32)
        _int("count", self.count, (1, MAX_BATCH_ENTRIES))
        _int("total", self.total, _U64)
        _int("request_id", self.request_id, _U32)


@dataclass(frozen=True, slots=True)
class FileOffer(Event):
    """One entry of batch ``batch_id``: a file of ``size`` bytes, or a folder (``folder``, size 0).
    ``path`` is relative to the batch ('/'-separated bare names, e.g. ``Photos/2024/a.jpg``); its first
    component is the item the user chose. Chunks follow only after the receiver's :class:`FileAccept`."""

    transfer_id: int
    path: str
    size: int
    batch_id: int = 0
    folder: bool = False

    def __post_init__(self) -> None:
        _int("transfer_id", self.transfer_id, _U32)
        _relative_path("path", self.path)
        _int("size", self.size, (0, MAX_FILE_SIZE))
        _int("batch_id", self.batch_id, _U32)
        _bool("folder", self.folder)
        if self.folder and self.size:
            raise InvalidEvent("a folder entry has size 0")


@dataclass(frozen=True, slots=True)
class FileAccept(Event):
    """(receiver) Send the file of ``transfer_id`` from ``offset`` on (0, or the length of a partial copy
    kept from an earlier session). Refusing is a :class:`FileCancel`."""

    transfer_id: int
    offset: int = 0

    def __post_init__(self) -> None:
        _int("transfer_id", self.transfer_id, _U32)
        _int("offset", self.offset, (0, MAX_FILE_SIZE))


@dataclass(frozen=True, slots=True)
class FileRequest(Event):
    """Ask the peer to send ``path`` (a file or folder on the peer's machine, in its own syntax); it
    answers with a :class:`FileBatch` whose ``request_id`` is this one, or a :class:`FileCancel` of it."""

    request_id: int
    path: str

    def __post_init__(self) -> None:
        _int("request_id", self.request_id, _U32)
        _text("path", self.path, MAX_FILE_PATH_SIZE)
        if not self.path or any(ord(c) < 0x20 for c in self.path):
            raise InvalidEvent("path must be non-empty text without control characters")


@dataclass(frozen=True, slots=True)
class FileChunk(Event):
    """Bytes of a file at ``offset``. Sending one consumes file credit (``Session.file_credit()``)."""

    transfer_id: int
    offset: int
    data: bytes

    def __post_init__(self) -> None:
        _int("transfer_id", self.transfer_id, _U32)
        _int("offset", self.offset, (0, MAX_FILE_SIZE))
        _bytes("data", self.data, MAX_FILE_CHUNK_SIZE)


@dataclass(frozen=True, slots=True)
class FileEnd(Event):
    """The transfer is complete; ``sha256`` is the digest of the whole file."""

    transfer_id: int
    sha256: bytes

    def __post_init__(self) -> None:
        _int("transfer_id", self.transfer_id, _U32)
        if not isinstance(self.sha256, bytes) or len(self.sha256) != 32:
            raise InvalidEvent("sha256 must be 32 bytes")


@dataclass(frozen=True, slots=True)
class FileCancel(Event):
    """Either side abandons (or refuses) a transfer, a batch or a request: ``transfer_id`` is any of
    those ids (the viewer allocates odd ids, the host even ones, so they never collide)."""

    transfer_id: int
    reason: str = ""

    def __post_init__(self) -> None:
        _int("transfer_id", self.transfer_id, _U32)
        _text("reason", self.reason, MAX_REASON_SIZE)


@dataclass(frozen=True, slots=True)
class ChatMessage(Event):
    """One chat line."""

    text: str

    def __post_init__(self) -> None:
        _text("text", self.text, MAX_CHAT_SIZE)


class StrokeShape(enum.IntEnum):
    """What a :class:`DrawingStroke` draws, and how many points it takes."""

    PEN = 0  #: a free-hand line through 1..MAX_STROKE_POINTS points
    LINE = 1  #: a straight line: 2 points
    RECTANGLE = 2  #: a rectangle's outline between 2 opposite corners
    ARROW = 3  #: a line from the first point with an arrow head at the second
    HIGHLIGHTER = 4  #: a free-hand, translucent, wide line through 1..MAX_STROKE_POINTS points
    TEXT = 5  #: ``text`` with its top-left corner at the single point


#: How many points each shape takes (inclusive range).
STROKE_POINT_COUNTS: dict[StrokeShape, tuple[int, int]] = {
    StrokeShape.PEN: (1, MAX_STROKE_POINTS),
    StrokeShape.LINE: (2, 2),
    StrokeShape.RECTANGLE: (2, 2),
    StrokeShape.ARROW: (2, 2),
    StrokeShape.HIGHLIGHTER: (1, MAX_STROKE_POINTS),
    StrokeShape.TEXT: (1, 1),
}


@dataclass(frozen=True, slots=True)
class DrawingStroke(Event):
    """A stroke drawn over the host's screen, by either side: points in host screen coordinates, colour as
    0xRRGGBBAA, ``width`` in pixels (the font's pixel size for text). A stroke with the ``stroke_id`` of an
    earlier stroke from the same side replaces it (a pen stroke grows while it is drawn). ``text`` is
    non-empty for :attr:`StrokeShape.TEXT` and empty for every other shape."""

    stroke_id: int
    color: int
    width: int
    points: tuple[tuple[int, int], ...]
    shape: StrokeShape = StrokeShape.PEN
    text: str = ""

    def __post_init__(self) -> None:
        _int("stroke_id", self.stroke_id, _U32)
        _int("color", self.color, _U32)
        _int("width", self.width, (1, MAX_STROKE_WIDTH))
        if not isinstance(self.shape, StrokeShape):
            raise InvalidEvent(f"shape must be a StrokeShape, got {self.shape!r}")
        low, high = STROKE_POINT_COUNTS[self.shape]
        if not isinstance(self.points, tuple) or not low <= len(self.points) <= high:
            raise InvalidEvent(f"a {self.shape.name.lower()} stroke takes a tuple of {low}..{high} (x, y)")
        for point in self.points:
            if not isinstance(point, tuple) or len(point) != 2:
                raise InvalidEvent("each point must be an (x, y) tuple")
            _int("x", point[0], _I32)
            _int("y", point[1], _I32)
        _text("text", self.text, MAX_STROKE_TEXT_SIZE)
        if (self.shape is StrokeShape.TEXT) != bool(self.text):
            raise InvalidEvent("text is required for a text stroke and refused for any other shape")


@dataclass(frozen=True, slots=True)
class DrawingClear(Event):
    """Remove every stroke, both sides' (either side may send it)."""


@dataclass(frozen=True, slots=True)
class UnknownMessage(Event):
    """A message this version does not know (a newer peer's channel or type); safe to ignore."""

    channel: int
    msg_type: int
    payload: bytes

    def __post_init__(self) -> None:
        _int("channel", self.channel, (0, 255))
        _int("msg_type", self.msg_type, (0, 255))
        _bytes("payload", self.payload, MAX_SCREEN_UPDATE_SIZE + 16)
