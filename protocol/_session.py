"""The sans-IO session: records in, events out; events in, records out.

The application moves bytes; the session does everything else. One transport message (a WebSocket binary
message, or one length-prefixed frame of a byte stream, see :mod:`framing`) is one record:

    session.receive_data(record)        # b"" when the transport ended
    while (event := session.next_event()) is not NEED_DATA: handle(event)
    session.send(ChatMessage("hi"))     # queues; never blocks, never writes
    for record in session.data_to_send(): transport.write(record)

``data_to_send`` is a pull: it seals records only when asked, highest-priority lane first, so a transport
that pulls as it drains keeps input ahead of a queued screen update or file. State changes go through the
table in :mod:`_states`.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass

from . import _events as ev
from ._code import CodeGuard, SessionCode
from ._crypto import (
    ALERT_AUTHENTICATION,
    ALERT_CODE_DEAD,
    ALERT_MALFORMED,
    ALERT_RESUME,
    ALERT_VERSION,
    RECORD_ALERT,
    RECORD_CLIENT_HELLO,
    RECORD_CONFIRM,
    RECORD_RESUME_ACCEPT,
    RECORD_RESUME_CONFIRM,
    RECORD_RESUME_HELLO,
    RECORD_SEALED,
    RECORD_SERVER_HELLO,
    SEALED_HEADER_SIZE,
    SUPPORTED_VERSIONS,
    TAG_SIZE,
    HostHandshake,
    HostResume,
    Opener,
    Sealer,
    SessionSecrets,
    ViewerHandshake,
    ViewerResume,
)
from ._errors import (
    AuthenticationFailed,
    CodeDead,
    FlowControlError,
    FramingError,
    HandshakeError,
    IntegrityError,
    LocalProtocolError,
    MessageError,
    ProtocolError,
    RemoteProtocolError,
    ResumeRejected,
    VersionMismatch,
    WrongCode,
)
from ._states import HANDSHAKE_STATES, RESUMING_STATES, SEALING_STATES, Role, State, Trigger, next_state
from ._wire import (
    LANE_COUNT,
    MAX_LANE_MESSAGE_SIZE,
    SPEC_BY_CLASS,
    SPEC_BY_ID,
    Ack,
    FileCredit,
    FrameAck,
    KeyUpdate,
    Lane,
    Message,
    Sender,
    decode_message,
    encode_message,
)

# -- bounds ------------------------------------------------------------------------------------------------
#: Largest fragment of a message in one record (plaintext bytes after the lane and flags bytes).
MAX_FRAGMENT_SIZE = 16 * 1024
#: Default fragment size: small enough that input waits at most one 8 KiB record behind bulk data.
DEFAULT_FRAGMENT_SIZE = 8 * 1024
#: Largest fragment of a bulk-lane message in one record (protocol version 2): a whole ``FileChunk``
#: (channel, type, transfer id, offset and ``MAX_FILE_CHUNK_SIZE`` bytes), so that a file costs one record
#: per 256 KiB chunk. The per-record cost (sealing, the relay, the WebSockets) bounds file throughput; input
#: still overtakes bulk data between records, and a 256 KiB record crosses loopback in about a millisecond.
MAX_BULK_FRAGMENT_SIZE = 2 + 12 + ev.MAX_FILE_CHUNK_SIZE
#: Largest record on the wire: header, lane and flags, the largest (bulk) fragment, the AEAD tag. Records
#: of the other lanes, and every record under version 1, stay within ``MAX_FRAGMENT_SIZE``.
MAX_RECORD_SIZE = SEALED_HEADER_SIZE + 2 + MAX_BULK_FRAGMENT_SIZE + TAG_SIZE
#: First protocol version whose bulk lane carries fragments up to ``MAX_BULK_FRAGMENT_SIZE``.
BULK_RECORDS_VERSION = 2
#: Received records not yet turned into events (bytes). Feeding more without calling ``next_event()``
#: is a LocalProtocolError.
MAX_RECEIVE_BUFFER = 4 * 1024 * 1024
#: Reliable bytes kept for retransmission (queued or sent and not yet acknowledged).
MAX_RELIABLE_BUFFER = 8 * 1024 * 1024
#: Screen updates the host may have in flight (sent, not yet acknowledged by the viewer).
FRAME_WINDOW = 3
#: File-chunk bytes a sender may have in flight before the receiver grants more credit.
FILE_CREDIT_WINDOW = 1024 * 1024
#: Default key-update bounds, per direction (records / plaintext bytes under one key).
REKEY_AFTER_RECORDS = 1 << 20
REKEY_AFTER_BYTES = 1 << 30
#: Hard ceilings for the key-update bounds.
MAX_REKEY_AFTER_RECORDS = 1 << 32
MAX_REKEY_AFTER_BYTES = 1 << 36

# Fragment flags (second plaintext byte of a sealed record).
FLAG_FIRST = 0x01  #: first fragment of a message
FLAG_LAST = 0x02  #: last fragment of a message
FLAG_RELIABLE = 0x04  #: the message is reliable (counted, acknowledged, retransmitted after a resume)
_KNOWN_FLAGS = FLAG_FIRST | FLAG_LAST | FLAG_RELIABLE

#: Unreliable control messages (pongs) queued at most; a peer's ping flood cannot grow our queue.
MAX_QUEUED_CONTROL = 16

_STRICT_LANES = (Lane.CONTROL, Lane.INTERACTIVE, Lane.MESSAGES)
_INTERNAL = (Ack, FrameAck, FileCredit, KeyUpdate)


@dataclass(eq=False)
class _Outgoing:
    """A message on its way out: its bytes, its lane, how much of it has been sealed."""

    data: bytes
    lane: Lane
    reliable: bool
    offset: int = 0


_ALERT_ERRORS: dict[int, tuple[type[HandshakeError], str]] = {
    ALERT_AUTHENTICATION: (WrongCode, "the peer rejected the key confirmation: the session code is wrong"),
    ALERT_VERSION: (VersionMismatch, "the peer shares no protocol version with us"),
    ALERT_MALFORMED: (HandshakeError, "the peer could not parse our handshake"),
    ALERT_RESUME: (ResumeRejected, "the peer rejected the resume"),
    ALERT_CODE_DEAD: (CodeDead, "the peer says the session code is dead"),
}

_RECORD_TRIGGERS = {
    RECORD_CLIENT_HELLO: Trigger.RECV_CLIENT_HELLO,
    RECORD_SERVER_HELLO: Trigger.RECV_SERVER_HELLO,
    RECORD_CONFIRM: Trigger.RECV_CONFIRM,
    RECORD_RESUME_HELLO: Trigger.RECV_RESUME_HELLO,
    RECORD_RESUME_ACCEPT: Trigger.RECV_RESUME_ACCEPT,
    RECORD_RESUME_CONFIRM: Trigger.RECV_RESUME_CONFIRM,
    RECORD_ALERT: Trigger.RECV_ALERT,
    RECORD_SEALED: Trigger.RECV_SEALED,
}


class Session:
    """One end of a secure support session (sans-IO).

    ``Session(Role.VIEWER, code, guard=guard)`` queues its CLIENT_HELLO at once; ``Session(Role.HOST,
    code)`` waits for it. Raises CodeDead if ``guard`` says the code is dead, ValueError for bad options.
    """

    def __init__(
        self,
        role: Role,
        code: SessionCode,
        *,
        guard: CodeGuard | None = None,
        fragment_size: int = DEFAULT_FRAGMENT_SIZE,
        bulk_fragment_size: int = MAX_BULK_FRAGMENT_SIZE,
        rekey_after_records: int = REKEY_AFTER_RECORDS,
        rekey_after_bytes: int = REKEY_AFTER_BYTES,
    ) -> None:
        if not isinstance(role, Role):
            raise ValueError("role must be Role.HOST or Role.VIEWER")
        if not 1 <= fragment_size <= MAX_FRAGMENT_SIZE:
            raise ValueError(f"fragment_size must be 1..{MAX_FRAGMENT_SIZE}")
        if not 1 <= bulk_fragment_size <= MAX_BULK_FRAGMENT_SIZE:
            raise ValueError(f"bulk_fragment_size must be 1..{MAX_BULK_FRAGMENT_SIZE}")
        if not 1 <= rekey_after_records <= MAX_REKEY_AFTER_RECORDS:
            raise ValueError(f"rekey_after_records must be 1..{MAX_REKEY_AFTER_RECORDS}")
        if not 1 <= rekey_after_bytes <= MAX_REKEY_AFTER_BYTES:
            raise ValueError(f"rekey_after_bytes must be 1..{MAX_REKEY_AFTER_BYTES}")
        self.role = role
        self.code = code
        self._guard = guard if guard is not None else CodeGuard()
        self._guard.check()
        self._bulk_fragment_wanted = bulk_fragment_size
        # Fragment size of each lane; the bulk lane's grows once version 2 is negotiated (_establish).
        self._lane_fragment = [fragment_size] * LANE_COUNT
        self._rekey_records = rekey_after_records
        self._rekey_bytes = rekey_after_bytes
        self._peer = Role.HOST if role is Role.VIEWER else Role.VIEWER
        self._peer_sender = Sender.HOST if self._peer is Role.HOST else Sender.VIEWER
        self._my_sender = Sender.VIEWER if self._peer is Role.HOST else Sender.HOST

        self._error: ProtocolError | None = None
        self._version = 0
        # Records that go out ahead of the scheduler: handshake messages, alerts, the failure close.
        self._ready: deque[bytes] = deque()
        self._inbox: deque[bytes | None] = deque()
        self._inbox_bytes = 0
        self._eof_received = False
        self._events: deque[ev.Event] = deque()
        self._lanes: list[deque[_Outgoing]] = [deque() for _ in range(LANE_COUNT)]
        self._bulk_turn = 0
        self._close_pending: _Outgoing | None = None
        self._close_sent = False
        self._reassembly: list[bytearray | None] = [None] * LANE_COUNT
        self._secrets: SessionSecrets | None = None
        self._sealer: Sealer | None = None
        self._opener: Opener | None = None
        self._host_handshake: HostHandshake | None = None
        self._viewer_handshake: ViewerHandshake | None = None
        self._host_resume: HostResume | None = None
        self._viewer_resume: ViewerResume | None = None
        # reliability: messages whose last fragment is sealed wait in _unacked until acknowledged
        self._unacked: deque[_Outgoing] = deque()
        self._peer_acked = 0
        self._reliable_buffered = 0
        self._received_reliable = 0
        self._ack_sent = 0
        # A reliable message other than a file chunk arrived since the last Ack: acknowledge at once.
        self._ack_due = False
        # screen frames
        self._next_frame_id = 1
        self._frames_acked = 0
        self._keyframe_required = True
        self._last_frame_received = 0
        self._frame_ack_sent = 0
        self._frame_window_base: int | None = 0
        # file credit
        self._file_sent = 0
        self._file_limit = FILE_CREDIT_WINDOW
        self._file_received = 0
        self._file_limit_granted = FILE_CREDIT_WINDOW
        self._force_credit = False
        self._resume_peer_received = 0
        self._pending_secrets: SessionSecrets | None = None
        self._alert_received = False

        if role is Role.VIEWER:
            self._viewer_handshake = ViewerHandshake(code.routing_id.encode("ascii"), code.secret.encode())
            self._ready.append(self._viewer_handshake.client_hello)
            self._state = State.HELLO_SENT
        else:
            self._host_handshake = HostHandshake(code.routing_id.encode("ascii"), code.secret.encode())
            self._state = State.AWAIT_HELLO

    # -- public queries -------------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The current :class:`State`."""
        return self._state

    @property
    def version(self) -> int:
        """The negotiated protocol version (0 before the handshake completes)."""
        return self._version

    @property
    def guard(self) -> CodeGuard:
        """The failed-guess counter this session reports to."""
        return self._guard

    def can_send_frame(self) -> bool:
        """(host) True if a ScreenUpdate may be sent now: the session is established and fewer than
        :data:`FRAME_WINDOW` updates are unacknowledged. When False, keep only the newest frame pending."""
        return (
            self.role is Role.HOST
            and self._state is State.ESTABLISHED
            and self._next_frame_id - 1 - self._frames_acked < FRAME_WINDOW
        )

    @property
    def keyframe_required(self) -> bool:
        """(host) True if the next ScreenUpdate must be a key frame (at the start and after a resume)."""
        return self._keyframe_required

    def file_credit(self) -> int:
        """File-chunk bytes that may be sent now without waiting for the peer."""
        return self._file_limit - self._file_sent

    def max_file_chunk(self) -> int:
        """Largest ``FileChunk`` the peer accepts: 256 KiB under version 2, 64 KiB under version 1."""
        return ev.MAX_FILE_CHUNK_SIZE if self._version >= BULK_RECORDS_VERSION else ev.MAX_FILE_CHUNK_SIZE_V1

    def reliable_buffer_space(self) -> int:
        """Bytes of reliable messages that may still be queued (see :data:`MAX_RELIABLE_BUFFER`)."""
        return MAX_RELIABLE_BUFFER - self._reliable_buffered

    # -- input ----------------------------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Hand over one received transport message (one record), or ``b""`` when the transport ended.

        Raises FramingError for a record above :data:`MAX_RECORD_SIZE` (the session fails), and
        LocalProtocolError if data follows the end of the transport or if more than
        :data:`MAX_RECEIVE_BUFFER` bytes wait for ``next_event()``.
        """
        if self._error is not None:
            raise self._error
        if self._eof_received:
            raise LocalProtocolError("data after the end of the transport: call resume() first")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise LocalProtocolError("receive_data takes bytes")
        if not data:
            self._eof_received = True
            self._inbox.append(None)
            return
        if len(data) > MAX_RECORD_SIZE:
            self._fail(FramingError(f"record of {len(data)} bytes exceeds MAX_RECORD_SIZE {MAX_RECORD_SIZE}"))
            assert self._error is not None
            raise self._error
        if self._inbox_bytes + len(data) > MAX_RECEIVE_BUFFER:
            raise LocalProtocolError("receive buffer full: call next_event() until NEED_DATA first")
        self._inbox.append(bytes(data))
        self._inbox_bytes += len(data)

    def next_event(self) -> ev.Event | ev.NeedData:
        """The next event, or :data:`NEED_DATA` if the received records are used up.

        Raises the RemoteProtocolError that ended the session (again on every later call).
        """
        if self._error is not None:
            raise self._error
        while not self._events and self._inbox:
            record = self._inbox.popleft()
            try:
                if record is None:
                    self._transport_lost()
                else:
                    self._inbox_bytes -= len(record)
                    self._receive_record(record)
            except RemoteProtocolError as exc:
                self._fail(exc)
                raise
        if self._events:
            return self._events.popleft()
        return ev.NEED_DATA

    # -- output ---------------------------------------------------------------------------------------------
    def send(self, event: ev.Event) -> None:
        """Queue an application event. Records are made by :meth:`data_to_send`.

        Reliable events sent while the session is suspended wait for the resume; unreliable ones (input,
        cursor position, pings) are discarded then, as they would have been with the lost transport.
        Raises LocalProtocolError (InvalidEvent for a bad field) if the event may not be sent now: wrong
        state or role, frame window full, not enough file credit, reliable buffer full.
        """
        if self._error is not None:
            raise LocalProtocolError(f"the session failed: {self._error}")
        if isinstance(event, ev.UnknownMessage):
            self._send_unknown(event)
            return
        spec = SPEC_BY_CLASS.get(type(event))
        if spec is None or isinstance(event, _INTERNAL) or not isinstance(event, ev.Event):
            raise LocalProtocolError(f"{type(event).__name__} is not an event that can be sent")
        if not spec.sender & self._my_sender:
            raise LocalProtocolError(f"the {self.role.value} may not send {type(event).__name__}")
        if isinstance(event, ev.CloseSession):
            self._queue_close(event)
            return
        trigger_state = self._require(Trigger.SEND_DATA)
        if trigger_state is not State.ESTABLISHED and not spec.reliable:
            return  # suspended: unreliable messages are stale by the time the transport is back
        if isinstance(event, ev.ScreenUpdate):
            if not self.can_send_frame():
                raise LocalProtocolError(
                    "frame window full: wait for can_send_frame(), keep only the newest frame"
                )
            if self._keyframe_required and not event.keyframe:
                raise LocalProtocolError("a key frame must come first (session start or resume)")
            event = dataclasses.replace(event, frame_id=self._next_frame_id)
        if isinstance(event, ev.FileChunk) and len(event.data) > self.max_file_chunk():
            raise LocalProtocolError(
                f"file chunk of {len(event.data)} bytes exceeds the peer's {self.max_file_chunk()} (version {self._version})"
            )
        if isinstance(event, ev.FileChunk) and len(event.data) > self.file_credit():
            raise LocalProtocolError(
                f"file chunk of {len(event.data)} bytes exceeds the file credit {self.file_credit()}"
            )
        data = encode_message(event)
        self._enqueue(data, spec.lane, spec.reliable)
        if isinstance(event, ev.ScreenUpdate):
            self._next_frame_id += 1
            self._keyframe_required = False
        elif isinstance(event, ev.FileChunk):
            self._file_sent += len(event.data)

    def resume(self) -> None:
        """Start the resume handshake on a new transport (after ``TransportLost``).

        Raises LocalProtocolError if the session is not SUSPENDED (drain ``next_event()`` first).
        """
        self._check_failed()
        new = self._require(Trigger.RESUME)
        assert self._secrets is not None
        self._state = new
        self._eof_received = False
        if self.role is Role.VIEWER:
            self._viewer_resume = ViewerResume(self._secrets, self._received_reliable)
            self._ready.append(self._viewer_resume.resume_hello)

    def data_to_send(self, max_records: int | None = None) -> list[bytes]:
        """Seal and return up to ``max_records`` records (all that are ready if None), highest priority
        first. Call it after every ``send`` and after handling received events (acknowledgements and
        credit ride on it); pull as the transport drains to keep input ahead of bulk data."""
        out: list[bytes] = []
        while self._ready and (max_records is None or len(out) < max_records):
            out.append(self._ready.popleft())
        if self._state not in SEALING_STATES or self._sealer is None:
            return out
        self._housekeeping()
        while max_records is None or len(out) < max_records:
            record = self._next_record()
            if record is None:
                break
            out.append(record)
        return out

    # -- outgoing scheduler ----------------------------------------------------------------------------------
    def _enqueue(self, data: bytes, lane: Lane, reliable: bool) -> None:
        if len(data) > MAX_LANE_MESSAGE_SIZE[lane]:
            raise LocalProtocolError(f"message of {len(data)} bytes exceeds its lane's bound")
        if reliable:
            if self._reliable_buffered + len(data) > MAX_RELIABLE_BUFFER:
                raise LocalProtocolError("reliable buffer full: wait for the peer's acknowledgements")
            self._reliable_buffered += len(data)
        self._lanes[lane].append(_Outgoing(data, lane, reliable))

    def _send_unknown(self, event: ev.UnknownMessage) -> None:
        if (event.channel, event.msg_type) in SPEC_BY_ID:
            raise LocalProtocolError("UnknownMessage must not use a known channel and type")
        self._require(Trigger.SEND_DATA)
        self._enqueue(bytes([event.channel, event.msg_type]) + event.payload, Lane.MESSAGES, True)

    def _queue_close(self, event: ev.CloseSession) -> None:
        new = self._require(Trigger.SEND_CLOSE)
        self._state = new
        self._close_pending = _Outgoing(encode_message(event), Lane.CONTROL, True)
        self._reliable_buffered += len(self._close_pending.data)

    def _housekeeping(self) -> None:
        """Queue acknowledgements and credit the peer is waiting for."""
        if self._state not in (State.ESTABLISHED, State.CLOSING) or self._close_sent:
            return
        control = self._lanes[Lane.CONTROL]
        credit_due = (
            self._force_credit or self._file_limit_granted - self._file_received <= FILE_CREDIT_WINDOW // 2
        )
        # File chunks are acknowledged with the next credit grant (every half window) or with the next other
        # message (the FileEnd at the latest), not one Ack record per chunk: the Acks of a transfer would
        # otherwise be a record each way through the relay for every chunk. The sender's reliable buffer
        # (8 MiB) holds far more than the credit (1 MiB) lets it send unacknowledged.
        if self._received_reliable > self._ack_sent and (self._ack_due or credit_due):
            self._ack_sent = self._received_reliable
            self._ack_due = False
            control.append(_Outgoing(encode_message(Ack(self._ack_sent)), Lane.CONTROL, False))
        if self.role is Role.VIEWER and self._last_frame_received > self._frame_ack_sent:
            self._frame_ack_sent = self._last_frame_received
            self._frame_window_base = self._frame_ack_sent
            control.append(_Outgoing(encode_message(FrameAck(self._frame_ack_sent)), Lane.CONTROL, False))
        if credit_due:
            self._force_credit = False
            self._file_limit_granted = self._file_received + FILE_CREDIT_WINDOW
            control.append(
                _Outgoing(encode_message(FileCredit(self._file_limit_granted)), Lane.CONTROL, False)
            )

    def _pick_lane(self) -> deque[_Outgoing] | None:
        for lane in _STRICT_LANES:
            if self._lanes[lane]:
                return self._lanes[lane]
        screen, bulk = self._lanes[Lane.SCREEN], self._lanes[Lane.BULK]
        if screen and bulk:
            # Screen and files share what is left, record by record, so neither starves the other.
            self._bulk_turn ^= 1
            return bulk if self._bulk_turn else screen
        return screen or bulk or None

    def _next_record(self) -> bytes | None:
        sealer = self._sealer
        assert sealer is not None
        if self._close_sent:
            return None  # nothing follows the close
        control = self._lanes[Lane.CONTROL]
        control_busy = bool(control) and control[0].offset > 0
        if (sealer.counter >= self._rekey_records or sealer.bytes >= self._rekey_bytes) and not control_busy:
            # (a key update never splits a control message: both travel in the control lane)
            record = sealer.seal(bytes([Lane.CONTROL, FLAG_FIRST | FLAG_LAST]) + encode_message(KeyUpdate()))
            sealer.key_update()
            return record
        queue = self._pick_lane()
        if queue is None:
            if self._close_pending is None:
                return None
            # The close goes last, after everything queued before it, so nothing is cut off.
            queue = deque([self._close_pending])
            self._close_pending = None
            self._close_sent = True
        item = queue[0]
        chunk = item.data[item.offset : item.offset + self._lane_fragment[item.lane]]
        flags = (FLAG_FIRST if item.offset == 0 else 0) | (FLAG_RELIABLE if item.reliable else 0)
        item.offset += len(chunk)
        if item.offset >= len(item.data):
            flags |= FLAG_LAST
            queue.popleft()
            if item.reliable:
                self._unacked.append(item)
        return sealer.seal(bytes([item.lane, flags]) + chunk)

    # -- incoming records -------------------------------------------------------------------------------------
    def _require(self, trigger: Trigger) -> State:
        """The next state for a local action; LocalProtocolError if the table has no row."""
        new = next_state(self.role, self._state, trigger)
        if new is None:
            raise LocalProtocolError(
                f"{trigger.value} is not allowed for the {self.role.value} in state {self._state.value}"
            )
        return new

    def _check_failed(self) -> None:
        if self._error is not None:
            raise LocalProtocolError(f"the session failed: {self._error}")

    def _expect(self, trigger: Trigger, error: type[RemoteProtocolError]) -> State:
        """The next state for a record from the peer; ``error`` if the table has no row."""
        new = next_state(self.role, self._state, trigger)
        if new is None:
            raise error(f"unexpected {trigger.value} for the {self.role.value} in state {self._state.value}")
        return new

    def _receive_record(self, record: bytes) -> None:
        trigger = _RECORD_TRIGGERS.get(record[0])
        if trigger is None:
            raise FramingError(f"unknown record type 0x{record[0]:02x}")
        if trigger is Trigger.RECV_SEALED:
            if self._state in HANDSHAKE_STATES:
                raise HandshakeError(
                    f"sealed record before the handshake completed (state {self._state.value})"
                )
            self._state = self._expect(trigger, FramingError)
            assert self._opener is not None
            plaintext = self._opener.open(record)
            if (
                self._opener.counter > MAX_REKEY_AFTER_RECORDS + 2
                or self._opener.bytes > MAX_REKEY_AFTER_BYTES + 2 * MAX_RECORD_SIZE
            ):
                raise IntegrityError("the peer used one key beyond the hard bound without a key update")
            self._receive_plaintext(plaintext)
            return
        # Handshake records: the state changes only once the record has been checked, so that a failure
        # is judged (and a guess counted) in the state the record arrived in.
        new = self._expect(trigger, HandshakeError)
        if trigger is Trigger.RECV_ALERT:
            reason = record[1] if len(record) == 2 else ALERT_MALFORMED
            kind, text = _ALERT_ERRORS.get(reason, (HandshakeError, "the peer aborted the handshake"))
            self._alert_received = True
            raise kind(text)
        if trigger is Trigger.RECV_CLIENT_HELLO:
            self._on_client_hello(record)
        elif trigger is Trigger.RECV_SERVER_HELLO:
            self._on_server_hello(record)
        elif trigger is Trigger.RECV_CONFIRM:
            assert self._host_handshake is not None
            self._establish(self._host_handshake.receive_confirm(record))
        elif trigger is Trigger.RECV_RESUME_HELLO:
            self._on_resume_hello(record)
        elif trigger is Trigger.RECV_RESUME_ACCEPT:
            assert self._viewer_resume is not None
            peer_received, secrets, confirm = self._viewer_resume.receive_accept(record)
            self._check_peer_received(peer_received)
            self._ready.append(confirm)
            self._resumed(secrets, peer_received)
        elif trigger is Trigger.RECV_RESUME_CONFIRM:
            assert self._host_resume is not None
            self._resumed(self._host_resume.receive_confirm(record), self._resume_peer_received)
        self._state = new

    def _on_resume_hello(self, record: bytes) -> None:
        # If our last RESUME_ACCEPT was answered but the confirmation was lost with the transport, the
        # viewer already moved to the secrets that resume led to: accept a proof for either.
        assert self._secrets is not None
        rejection: ResumeRejected | None = None
        for candidate in (self._secrets, self._pending_secrets):
            if candidate is None:
                continue
            resume = HostResume(candidate)
            try:
                peer_received, accept = resume.receive_hello(record, self._received_reliable)
            except ResumeRejected as exc:
                rejection = rejection or exc
                continue
            self._check_peer_received(peer_received)
            self._secrets = candidate
            self._pending_secrets = resume.next_secrets()
            self._host_resume = resume
            self._resume_peer_received = peer_received
            self._ready.append(accept)
            return
        assert rejection is not None
        raise rejection

    def _on_client_hello(self, record: bytes) -> None:
        assert self._host_handshake is not None
        lo, hi = HostHandshake.parse_version_range(record)
        common = min(hi, SUPPORTED_VERSIONS[1])
        if common < max(lo, SUPPORTED_VERSIONS[0]):
            raise VersionMismatch(
                f"the viewer speaks versions {lo}..{hi}, this host {SUPPORTED_VERSIONS[0]}..{SUPPORTED_VERSIONS[1]}"
            )
        self._ready.append(self._host_handshake.receive_client_hello(record, common))
        self._version = common

    def _on_server_hello(self, record: bytes) -> None:
        assert self._viewer_handshake is not None
        if len(record) < 2:
            raise HandshakeError("server hello cut short")
        try:
            version, secrets, confirm = self._viewer_handshake.receive_server_hello(record)
        except WrongCode:
            self._guard.record_failure()
            if self._guard.dead:
                raise CodeDead(
                    f"wrong session code: {self._guard.failures} failed attempts, the code is dead "
                    "(make a new one; tell the relay to retire the routing id)"
                ) from None
            raise WrongCode(
                f"wrong session code: the host's key confirmation does not match "
                f"({self._guard.remaining} attempts left)"
            ) from None
        self._ready.append(confirm)
        self._version = version
        self._establish(secrets)

    def _establish(self, secrets: SessionSecrets) -> None:
        if self._version >= BULK_RECORDS_VERSION:
            self._lane_fragment[Lane.BULK] = self._bulk_fragment_wanted
        self._install(secrets)
        self._host_handshake = None
        self._viewer_handshake = None
        self._events.append(ev.HandshakeComplete(self._version))

    def _install(self, secrets: SessionSecrets) -> None:
        self._secrets = secrets
        outgoing, incoming = (
            (secrets.viewer_to_host, secrets.host_to_viewer)
            if self.role is Role.VIEWER
            else (secrets.host_to_viewer, secrets.viewer_to_host)
        )
        self._sealer = Sealer(outgoing)
        self._opener = Opener(incoming)

    def _check_peer_received(self, peer_received: int) -> None:
        sent = self._peer_acked + len(self._unacked)
        if not self._peer_acked <= peer_received <= sent:
            raise ResumeRejected(
                f"the peer claims {peer_received} reliable messages; {self._peer_acked}..{sent} are possible"
            )

    def _resumed(self, secrets: SessionSecrets, peer_received: int) -> None:
        """New keys are in place: retransmit what the peer lacks, resync the screen."""
        self._install(secrets)
        self._viewer_resume = None
        self._host_resume = None
        self._pending_secrets = None
        while self._peer_acked < peer_received:
            self._reliable_buffered -= len(self._unacked.popleft().data)
            self._peer_acked += 1
        retransmit = list(self._unacked)
        self._unacked.clear()
        for lane in Lane:
            pending = [item for item in self._lanes[lane] if item.reliable]
            dropped = [item for item in self._lanes[lane] if not item.reliable]
            del dropped  # unreliable messages (input, frames, acks) are stale now
            queue: deque[_Outgoing] = deque(item for item in retransmit if item.lane == lane)
            queue.extend(pending)
            for item in queue:
                item.offset = 0
            self._lanes[lane] = queue
        if self._close_pending is not None:
            self._close_pending.offset = 0
        self._ack_sent = self._received_reliable
        self._force_credit = True
        self._events.append(ev.Resumed(len(retransmit)))
        if self.role is Role.HOST:
            self._frames_acked = self._next_frame_id - 1
            self._keyframe_required = True
            self._events.append(ev.KeyframeRequest("resume"))
        else:
            self._frame_ack_sent = self._last_frame_received
            self._frame_window_base = None

    def _transport_lost(self) -> None:
        before = self._state
        new = self._expect(Trigger.TRANSPORT_LOST, HandshakeError)
        if new is State.FAILED:
            raise HandshakeError(f"the transport ended during the handshake (state {before.value})")
        self._state = new
        # Whatever was meant for the old transport (a handshake message, a half-sent message) is void.
        self._ready.clear()
        self._reassembly = [None] * LANE_COUNT
        if new is State.SUSPENDED and before is not State.SUSPENDED:
            self._events.append(ev.TransportLost())

    def _receive_plaintext(self, plaintext: bytes) -> None:
        if len(plaintext) < 2:
            raise FramingError("sealed record without lane and flags")
        lane, flags = plaintext[0], plaintext[1]
        if lane >= LANE_COUNT:
            raise FramingError(f"unknown lane {lane}")
        if flags & ~_KNOWN_FLAGS:
            raise FramingError(f"unknown fragment flags 0x{flags:02x}")
        size = len(plaintext) - 2
        if size > MAX_FRAGMENT_SIZE and (lane != Lane.BULK or self._version < BULK_RECORDS_VERSION):
            raise FramingError(f"lane {lane}: fragment of {size} bytes exceeds {MAX_FRAGMENT_SIZE}")
        buffer = self._reassembly[lane]
        if flags & FLAG_FIRST:
            if buffer is not None:
                raise FramingError(f"lane {lane}: a new message began before the previous one ended")
            if flags & FLAG_LAST:
                # A whole message in one record (every file chunk under version 2): no reassembly copy.
                if size > MAX_LANE_MESSAGE_SIZE[Lane(lane)]:
                    raise FramingError(
                        f"lane {lane}: message exceeds its bound {MAX_LANE_MESSAGE_SIZE[Lane(lane)]}"
                    )
                self._receive_message(lane, flags, memoryview(plaintext)[2:])
                return
            buffer = bytearray()
        elif buffer is None:
            raise FramingError(f"lane {lane}: a continuation fragment without a first fragment")
        if len(buffer) + size > MAX_LANE_MESSAGE_SIZE[Lane(lane)]:
            raise FramingError(f"lane {lane}: message exceeds its bound {MAX_LANE_MESSAGE_SIZE[Lane(lane)]}")
        buffer += memoryview(plaintext)[2:]
        if not flags & FLAG_LAST:
            self._reassembly[lane] = buffer
            return
        self._reassembly[lane] = None
        self._receive_message(lane, flags, bytes(buffer))

    def _receive_message(self, lane: int, flags: int, data: bytes | memoryview) -> None:
        """One reassembled message: decode it, check its lane, reliability and sender, handle it."""
        message = decode_message(data)
        reliable = bool(flags & FLAG_RELIABLE)
        if not isinstance(message, ev.UnknownMessage):
            spec = SPEC_BY_CLASS[type(message)]
            if spec.lane != lane or spec.reliable != reliable:
                raise MessageError(
                    f"{type(message).__name__} in the wrong lane or with the wrong reliability"
                )
            if not spec.sender & self._peer_sender:
                raise MessageError(f"the {self._peer.value} may not send {type(message).__name__}")
        if reliable:
            self._received_reliable += 1
            if not isinstance(message, ev.FileChunk):
                self._ack_due = True
        self._handle(message)

    def _handle(self, message: Message) -> None:
        if isinstance(message, Ack):
            sent = self._peer_acked + len(self._unacked)
            if message.count > sent:
                raise MessageError(f"acknowledgement of {message.count} messages, only {sent} were sent")
            while self._peer_acked < message.count:
                self._reliable_buffered -= len(self._unacked.popleft().data)
                self._peer_acked += 1
        elif isinstance(message, FrameAck):
            if message.frame_id >= self._next_frame_id:
                raise MessageError(f"acknowledgement of frame {message.frame_id}, which was never sent")
            if message.frame_id > self._frames_acked:
                self._frames_acked = message.frame_id
                self._events.append(ev.FrameAcknowledged(message.frame_id))
        elif isinstance(message, FileCredit):
            self._file_limit = max(self._file_limit, message.limit)
        elif isinstance(message, KeyUpdate):
            assert self._opener is not None
            self._opener.key_update()
        elif isinstance(message, ev.Ping):
            queued = sum(1 for item in self._lanes[Lane.CONTROL] if not item.reliable)
            if self._state is State.ESTABLISHED and queued < MAX_QUEUED_CONTROL:
                self._lanes[Lane.CONTROL].append(
                    _Outgoing(encode_message(ev.Pong(message.payload)), Lane.CONTROL, False)
                )
        elif isinstance(message, ev.CloseSession):
            self._state = self._expect(Trigger.RECV_CLOSE, MessageError)
            if not self._close_sent and self._close_pending is None:
                self._close_pending = _Outgoing(
                    encode_message(ev.CloseSession("closed by peer")), Lane.CONTROL, True
                )
                self._reliable_buffered += len(self._close_pending.data)
            self._events.append(message)
        elif isinstance(message, ev.ScreenUpdate):
            if message.frame_id <= self._last_frame_received:
                raise MessageError(f"frame {message.frame_id} after frame {self._last_frame_received}")
            if self._frame_window_base is None:
                self._frame_window_base = message.frame_id - 1
            if message.frame_id > self._frame_window_base + FRAME_WINDOW:
                raise FlowControlError(
                    f"frame {message.frame_id} exceeds the window ({self._frame_window_base} acknowledged)"
                )
            self._last_frame_received = message.frame_id
            self._events.append(message)
        elif isinstance(message, ev.FileChunk):
            if len(message.data) > self.max_file_chunk():
                raise MessageError(f"file chunk of {len(message.data)} bytes under version {self._version}")
            self._file_received += len(message.data)
            if self._file_received > self._file_limit_granted:
                raise FlowControlError(
                    f"the peer sent {self._file_received} file bytes, credit was {self._file_limit_granted}"
                )
            self._events.append(message)
        else:
            assert isinstance(message, ev.Event)
            self._events.append(message)

    # -- failure ----------------------------------------------------------------------------------------------
    def _fail(self, error: ProtocolError) -> None:
        """End the session: remember the error, count a guess if one was spent, tell the peer."""
        before = self._state
        if self.role is Role.HOST and before is State.AWAIT_CONFIRM:
            # We sent our confirmation: whoever is on the other side has had their guess.
            self._guard.record_failure()
            if isinstance(error, AuthenticationFailed) or self._guard.dead:
                text = str(error)
                if self._guard.dead:
                    error = CodeDead(f"{text} ({self._guard.failures} failed attempts: the code is dead)")
                else:
                    error = WrongCode(f"{text} ({self._guard.remaining} attempts left)")
        self._error = error
        self._state = State.FAILED
        for lane in self._lanes:
            lane.clear()
        self._close_pending = None
        if self._alert_received:
            return  # the peer already gave up; an alert back would only be noise
        if before in HANDSHAKE_STATES or before in RESUMING_STATES:
            self._ready.append(bytes([RECORD_ALERT, _alert_reason(error)]))
        elif (
            before in (State.ESTABLISHED, State.CLOSING) and self._sealer is not None and not self._close_sent
        ):
            # Our sending direction is intact: tell the peer why, authenticated.
            close = encode_message(ev.CloseSession(f"protocol error: {type(error).__name__}"))
            self._ready.append(
                self._sealer.seal(bytes([Lane.CONTROL, FLAG_FIRST | FLAG_LAST | FLAG_RELIABLE]) + close)
            )
            self._close_sent = True


def _alert_reason(error: ProtocolError) -> int:
    if isinstance(error, CodeDead):
        return ALERT_CODE_DEAD
    if isinstance(error, AuthenticationFailed):
        return ALERT_AUTHENTICATION
    if isinstance(error, VersionMismatch):
        return ALERT_VERSION
    if isinstance(error, ResumeRejected):
        return ALERT_RESUME
    return ALERT_MALFORMED
