"""The bandwidth budget: the agent's quality mode, the link's measured throughput, and the frame gate.

Theory of operation
-------------------
The agent picks a mode in the viewer (topic ``quality.mode``, :class:`~opensupport.link.topics.QualityMode`):
best quality, balanced and low bandwidth fix the codec's quality (``Quality.LOSSLESS``, ``BALANCED``,
``LOW``; it governs the lossy regions only, text and UI stay exact in all of them); automatic follows the
link. The default is automatic.

Everything is measured on the host, from what the protocol already carries:

- **throughput**: a ``FrameAcknowledged`` says when the viewer had a whole update. The bytes it
  acknowledges drained from when they were sent, or from the previous acknowledgement if the link was
  still busy with earlier frames (less one base round trip: that part is not the link's rate). The
  estimate is the bytes over the draining time of the last :data:`THROUGHPUT_WINDOW` seconds, so it is
  the link's rate while the link limits the frames, and a lower bound while the screen does;
- **round trip**: the host pings once a second on the control lane; the smallest answer of the last 10 s is
  the base round trip (propagation), the newest shows a queue building in the network (other traffic).

**The frame gate** (every mode): a new frame is grabbed only once what is still in flight should have
drained to within :data:`QUEUE_TARGET` at the measured throughput. The protocol's window of 3 frames alone
lets three whole frames queue behind a slow link (three lossless frames of a video at 10 Mbit/s: well over
a second of stale pictures); with the gate, the screen keeps changing while the link is busy, the capture
loop keeps it marked dirty, and the frame grabbed when the gate opens is the newest one: frames are
skipped, never queued. The host learns of progress only at acknowledgements, so the gate is re-checked on
each one and after the delay it computed.

**Automatic mode** moves one step at a time along LOW < BALANCED < HIGH < LOSSLESS, at most every
:data:`DECIDE_INTERVAL`. What a frame costs is its *airtime*, its size over the throughput: every change
on the screen waits that long behind the frame before it. *Down* when the newest frames' airtime exceeds
:data:`AIRTIME_DOWN`, or when two round trips in a row were :data:`RTT_QUEUE` above the base (a queue in
the network: other traffic on the link). *Up* when a frame at the next quality would take at most
:data:`AIRTIME_UP` on the wire (its size as seen at that quality lately, else assumed twice the current
one; for LOSSLESS at least the encoder's lossy region sent exact, which ends a video's stream), or when
the screen is idle, after a hold. The hold doubles (up to :data:`UP_HOLD_MAX`) each time a
step up had to be undone within :data:`FAILED_PROBE`, so a link that cannot carry the next quality is not
probed every two seconds, and returns to :data:`UP_HOLD` on any other step down. Text and UI cost the same
at every quality (they stay exact), so a screen of text climbs back to lossless by itself.

Threads: :class:`BudgetDriver` runs on the link's loop (every event, send and timer is there); the capture
thread only reads the quality to apply (:meth:`BudgetDriver.apply`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensupport.codec import Quality
from opensupport.link import SessionLink
from opensupport.link.topics import TOPIC_QUALITY_MODE, TOPIC_QUALITY_STATE, QualityMode
from opensupport.protocol import (
    ControlMessage,
    Event,
    FrameAcknowledged,
    HandshakeComplete,
    Ping,
    Pong,
    Resumed,
)

from .errors import HostError

__all__ = [
    "FIXED_QUALITY",
    "LADDER",
    "QUEUE_TARGET",
    "BudgetDriver",
    "BudgetState",
    "InvalidQualityMode",
    "LinkBudget",
    "parse_mode",
]

log = logging.getLogger(__name__)

#: The codec quality each fixed mode asks for.
FIXED_QUALITY = {
    QualityMode.BEST: Quality.LOSSLESS,
    QualityMode.BALANCED: Quality.BALANCED,
    QualityMode.LOW: Quality.LOW,
}
#: Automatic mode's ladder, lowest first.
LADDER = (Quality.LOW, Quality.BALANCED, Quality.HIGH, Quality.LOSSLESS)

#: What may still be in flight when the next frame is grabbed, in seconds of the link's throughput.
QUEUE_TARGET = 0.020
#: Automatic mode decides at most this often (seconds).
DECIDE_INTERVAL = 0.5
#: Seconds on the wire per frame above which automatic mode steps down; at most what a step up may
#: predict (a frame at the next quality: its size seen recently, else twice the current one).
AIRTIME_DOWN, AIRTIME_UP = 0.050, 0.025
#: Frames whose sizes make the current airtime (the newest ones, no older than FRAME_MEMORY seconds); how
#: long the sizes seen at each quality are remembered for predictions.
RECENT_FRAMES, FRAME_MEMORY, SIZE_MEMORY = 8, 5.0, 20.0
#: What a lossy region costs once lossless, per pixel: the step up to LOSSLESS ends the lossy stream and
#: sends the region exact (a 960x540 video: about 1.2 MB, measured on the codec corpus's video).
LOSSLESS_BYTES_PER_PIXEL = 2.5
#: Two round trips in a row this much above the base mean a queue in the network: step down (seconds).
RTT_QUEUE = 0.150
#: Seconds after a change before automatic mode tries a higher quality; doubled after a failed try.
UP_HOLD, UP_HOLD_MAX = 2.0, 16.0
#: A step down within this many seconds of a step up undoes a failed try.
FAILED_PROBE = 3.0
#: Seconds of delivery samples the throughput estimate aggregates; of round trips the base keeps.
THROUGHPUT_WINDOW, RTT_WINDOW = 2.0, 10.0
#: Acknowledged bytes below which a delivery sample is not taken (timer noise would dominate).
MIN_SAMPLE_BYTES = 4096
#: Seconds between two pings; between two state reports to the viewer while anything changes.
PING_INTERVAL, STATE_INTERVAL = 1.0, 1.0
#: Period of the driver's timer on the link's loop (seconds).
TICK = 0.25

_PING = struct.Struct(">4sQ")
_PING_TAG = b"bw01"  # our pings' payloads; the viewer's own pings never reach the host's handler
#: Pings awaiting their answer; an answer to none of them (a modified viewer's forgery) is ignored.
MAX_OUTSTANDING_PINGS = 8


class InvalidQualityMode(HostError, ValueError):
    """A ``quality.mode`` message that names no mode: logged and ignored, the mode in force stays."""


def parse_mode(data: bytes) -> QualityMode:
    """The mode a ``quality.mode`` payload names. Raises InvalidQualityMode for anything else."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidQualityMode(f"quality mode of {len(data)} bytes is not ASCII") from None
    try:
        return QualityMode(text)
    except ValueError:
        raise InvalidQualityMode(f"unknown quality mode {text[:32]!r}") from None


@dataclass(frozen=True)
class BudgetState:
    """What the viewer is told (topic ``quality.state``)."""

    mode: QualityMode
    quality: Quality
    #: the link's measured throughput in bytes per second (None before a measurement)
    throughput: float | None
    #: the latest round trip in seconds (None before a measurement)
    rtt: float | None

    def encode(self) -> bytes:
        """The topic's JSON payload."""
        return json.dumps(
            {
                "mode": self.mode.value,
                "quality": self.quality.value,
                "throughput": None if self.throughput is None else round(self.throughput),
                "rtt_ms": None if self.rtt is None else round(self.rtt * 1000, 1),
            },
            separators=(",", ":"),
        ).encode("ascii")


@dataclass
class _InFlight:
    seq: int
    size: int
    sent: float


class LinkBudget:
    """The measurements, the gate and the quality decision of one session (sans-IO: ``clock`` is the only
    source of time; see the module docstring). Not thread-safe: the driver calls it on the link's loop."""

    def __init__(self, mode: QualityMode = QualityMode.AUTO, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.mode = mode
        self.quality = Quality.LOSSLESS if mode is QualityMode.AUTO else FIXED_QUALITY[mode]
        self._seq = 0
        self._in_flight: deque[_InFlight] = deque()
        self._last_ack = 0.0
        #: (time, bytes, seconds draining) per acknowledgement
        self._samples: deque[tuple[float, int, float]] = deque()
        self._estimate: float | None = None
        #: (time, size) of the frames sent at each quality
        self._sizes: dict[Quality, deque[tuple[float, int]]] = {q: deque() for q in Quality}
        self._last_sent = -1e9
        self._rtts: deque[tuple[float, float]] = deque()
        self._recent_rtts: deque[float] = deque(maxlen=2)
        now = clock()
        self._last_change = now
        self._last_up = -1e9
        self._up_hold = UP_HOLD
        #: pixels the encoder shows lossy (its lossy rectangle) as of its last frame
        self.lossy_area = 0
        #: the qualities automatic mode stepped to, in order: (time, quality)
        self.history: list[tuple[float, Quality]] = []

    # -- events -----------------------------------------------------------------------------------------
    def set_mode(self, mode: QualityMode) -> None:
        """The agent chose ``mode``: a fixed quality at once, or automatic from the current one."""
        self.mode = mode
        if mode is not QualityMode.AUTO:
            self._set_quality(FIXED_QUALITY[mode], self._clock())
        else:
            self._last_change = self._clock()

    def reset(self) -> None:
        """A new handshake or a resume: nothing is in flight any more (the protocol's window reset)."""
        self._in_flight.clear()

    def frame_sent(self, size: int) -> None:
        """A frame of ``size`` bytes was queued on the session (frame ids count up by one per frame)."""
        now = self._clock()
        self._seq += 1
        self._in_flight.append(_InFlight(self._seq, size, now))
        self._sizes[self.quality].append((now, size))
        self._last_sent = now
        self._decide(now)

    def frame_acked(self, frame_id: int) -> None:
        """The viewer has every frame up to ``frame_id``."""
        now = self._clock()
        acked = 0
        first_sent: float | None = None
        while self._in_flight and self._in_flight[0].seq <= frame_id:
            frame = self._in_flight.popleft()
            acked += frame.size
            if first_sent is None:
                first_sent = frame.sent
        if first_sent is None:
            return
        # The bytes drained from when they were sent, or from the previous acknowledgement if the link
        # was still busy with earlier frames; one base round trip of that is not the link's rate.
        interval = now - max(first_sent, self._last_ack)
        self._last_ack = now
        drain = max(interval - self.base_rtt, interval / 2)
        if acked >= MIN_SAMPLE_BYTES and drain > 0:
            self._samples.append((now, acked, drain))
            self._estimate = None  # recomputed from the window
        self._decide(now)

    def rtt_sample(self, seconds: float, *, idle: bool) -> None:
        """A ping's round trip; ``idle``: no frame was in flight when it left (only such a ping measures
        the base: one sent behind a frame waits for it in the socket buffers on the way)."""
        if not 0 <= seconds < 60:
            return
        now = self._clock()
        if idle:
            self._rtts.append((now, seconds))
        self._recent_rtts.append(seconds)
        self._decide(now)

    def poll(self) -> None:
        """Decide without a new event (the driver's timer: a frame that takes seconds on the wire)."""
        self._decide(self._clock())

    # -- readings -------------------------------------------------------------------------------------------
    @property
    def throughput(self) -> float | None:
        """Bytes per second the link delivered while frames were on it, over the last few seconds (the
        last such figure when nothing was sent lately; None before any)."""
        self._expire(self._clock())
        if self._samples:
            self._estimate = sum(n for _, n, _ in self._samples) / sum(d for _, _, d in self._samples)
        return self._estimate

    @property
    def base_rtt(self) -> float:
        """The smallest round trip of the last RTT_WINDOW seconds measured with no frame in flight (0
        before any)."""
        return min((rtt for _, rtt in self._rtts), default=0.0)

    @property
    def rtt(self) -> float | None:
        """The latest round trip (None before any)."""
        return self._recent_rtts[-1] if self._recent_rtts else None

    @property
    def in_flight_bytes(self) -> int:
        """Bytes of frames sent and not yet acknowledged."""
        return sum(frame.size for frame in self._in_flight)

    def state(self) -> BudgetState:
        """What the viewer is told."""
        return BudgetState(self.mode, self.quality, self.throughput, self.rtt)

    def send_delay(self) -> float:
        """0 when a new frame may be grabbed now, else the seconds until the frames in flight should have
        drained to within QUEUE_TARGET (the gate; the protocol's window applies as well)."""
        if not self._in_flight:
            return 0.0
        rate = self.throughput
        if rate is None:
            # Not measured yet: a large frame goes alone, and its acknowledgement measures the link (the
            # driver re-checks on every acknowledgement; the delay is only a fallback).
            return 0.0 if self.in_flight_bytes < MIN_SAMPLE_BYTES else 1.0
        draining_since = max(self._in_flight[0].sent, self._last_ack)
        remaining = self.in_flight_bytes / rate - (self._clock() - draining_since)
        return max(0.0, remaining - QUEUE_TARGET)

    def frame_size(self, quality: Quality) -> float | None:
        """The mean size of the newest frames sent at ``quality`` (None: none lately)."""
        now = self._clock()
        sizes = self._sizes[quality]
        while sizes and sizes[0][0] < now - SIZE_MEMORY:
            sizes.popleft()
        recent = [
            n
            for t, n in list(sizes)[-RECENT_FRAMES:]
            if t >= now - FRAME_MEMORY or quality is not self.quality
        ]
        return sum(recent) / len(recent) if recent else None

    def airtime(self) -> float | None:
        """Seconds a frame at the current quality spends on the wire (None: nothing sent lately)."""
        rate, size = self.throughput, self.frame_size(self.quality)
        return None if rate is None or size is None else size / rate

    # -- the decision -------------------------------------------------------------------------------------
    def _expire(self, now: float) -> None:
        while self._samples and self._samples[0][0] < now - THROUGHPUT_WINDOW:
            self._samples.popleft()
        while self._rtts and self._rtts[0][0] < now - RTT_WINDOW:
            self._rtts.popleft()

    def _queued(self) -> bool:
        """Both latest round trips RTT_QUEUE above the base: a queue in the network, not a hiccup."""
        if not self._rtts:
            return False  # no base: a long path is not a queue
        base = self.base_rtt
        return len(self._recent_rtts) == 2 and all(rtt > base + RTT_QUEUE for rtt in self._recent_rtts)

    def _decide(self, now: float) -> None:
        if self.mode is not QualityMode.AUTO or now - self._last_change < DECIDE_INTERVAL:
            return
        step = LADDER.index(self.quality)
        airtime = self.airtime()
        if (airtime is not None and airtime > AIRTIME_DOWN) or self._queued():
            if step > 0:
                # Undoing a step up that just failed: wait longer before the next try. Any other step
                # down (the screen or the link changed) starts the tries over.
                failed = now - self._last_up < FAILED_PROBE
                self._up_hold = min(UP_HOLD_MAX, self._up_hold * 2) if failed else UP_HOLD
                self._set_quality(LADDER[step - 1], now)
            return
        if step + 1 == len(LADDER) or now - self._last_change < self._up_hold:
            return
        rate = self.throughput
        size = self.frame_size(self.quality)
        if size is not None and rate is not None:
            # The next quality's frames: as seen lately, else assumed twice as large; LOSSLESS ends the
            # lossy stream, and its region is then sent exact.
            upper = LADDER[step + 1]
            predicted = self.frame_size(upper) or 2 * size
            if upper is Quality.LOSSLESS:
                predicted = max(predicted, size + self.lossy_area * LOSSLESS_BYTES_PER_PIXEL)
            if predicted / rate > AIRTIME_UP:
                return
        elif self._in_flight or now - self._last_sent < FRAME_MEMORY:
            return  # frames flow but nothing is measured yet
        self._last_up = now
        self._set_quality(LADDER[step + 1], now)

    def _set_quality(self, quality: Quality, now: float) -> None:
        self._last_change = now
        if quality is not self.quality:
            log.info("quality %s -> %s (%s)", self.quality.value, quality.value, self.mode.value)
            self.quality = quality
            self.history.append((now, quality))


class BudgetDriver:
    """A :class:`LinkBudget` on the host's link loop: it reads the viewer's mode, times the frames, pings,
    reports the state to the viewer and re-opens the gate when the frames in flight should have drained.

    ``refresh`` is the session's "may a frame be sent now?" check (called on the loop)."""

    def __init__(
        self, link: SessionLink, refresh: Callable[[], None], clock: Callable[[], float] = time.monotonic
    ):
        self.link = link
        self.budget = LinkBudget(clock=clock)
        self._clock = clock
        self._refresh = refresh
        self._recheck: asyncio.TimerHandle | None = None
        self._ticking = False
        self._last_ping = -1e9
        #: the pings sent and not answered yet: send time (ns) -> nothing was in flight when it left
        self._pings: dict[int, bool] = {}
        self._last_report = -1e9
        self._reported: BudgetState | None = None
        #: malformed ``quality.mode`` messages ignored
        self.refused = 0
        #: the encoder's quality as of its last frame (None before the first)
        self.applied: Quality | None = None

    @property
    def quality(self) -> Quality:
        """The codec quality in force."""
        return self.budget.quality

    def apply(self, encoder: Any) -> None:
        """Set the encoder's quality to the one in force (the capture thread, before each encode)."""
        rect = encoder.lossy_rect  # as of the frame before: what a step up to LOSSLESS would refine
        self.budget.lossy_area = 0 if rect is None else rect[2] * rect[3]
        quality = self.budget.quality
        if encoder.quality is not quality:
            encoder.quality = quality
        self.applied = encoder.quality

    def handle(self, event: Event) -> bool:
        """Observe ``event``; True when it was the budget's alone (a mode message, our ping's answer)."""
        match event:
            case HandshakeComplete() | Resumed():
                self.budget.reset()
                self._report(force=True)
                if not self._ticking:
                    self._ticking = True
                    asyncio.get_running_loop().call_later(TICK, self._tick)
            case FrameAcknowledged(frame_id=frame_id):
                self.budget.frame_acked(frame_id)
            case ControlMessage(topic=topic, data=data) if topic == TOPIC_QUALITY_MODE:
                try:
                    mode = parse_mode(data)
                except InvalidQualityMode as exc:
                    self.refused += 1
                    log.warning("quality mode message ignored: %s", exc)
                    return True
                self.budget.set_mode(mode)
                self._report(force=True)
                return True
            case Pong(payload=payload) if len(payload) == _PING.size and payload[:4] == _PING_TAG:
                (_, sent) = _PING.unpack(payload)
                idle = self._pings.pop(sent, None)
                if idle is not None:
                    self.budget.rtt_sample((time.monotonic_ns() - sent) / 1e9, idle=idle)
                return True
        return False

    def may_send(self) -> bool:
        """The gate: True when a frame may be grabbed now; otherwise ``refresh`` runs again once the frames
        in flight should have drained (an acknowledgement re-checks sooner)."""
        delay = self.budget.send_delay()
        if self._recheck is not None:
            self._recheck.cancel()
            self._recheck = None
        if delay <= 0:
            return True
        self._recheck = asyncio.get_running_loop().call_later(delay, self._refresh)
        return False

    def frame_sent(self, size: int) -> None:
        """A frame of ``size`` bytes went to the session."""
        self.budget.frame_sent(size)

    def _tick(self) -> None:
        if self.link.session.state.name in ("CLOSED", "FAILED"):
            self._ticking = False
            return
        now = self._clock()
        if self.link.established and now - self._last_ping >= PING_INTERVAL:
            self._last_ping = now
            sent = time.monotonic_ns()
            if self.link.send(Ping(_PING.pack(_PING_TAG, sent))):
                self._pings[sent] = self.budget.in_flight_bytes == 0
                while len(self._pings) > MAX_OUTSTANDING_PINGS:  # lost with a dropped transport
                    del self._pings[next(iter(self._pings))]
        self.budget.poll()
        self._report()
        asyncio.get_running_loop().call_later(TICK, self._tick)

    def _report(self, *, force: bool = False) -> None:
        now = self._clock()
        state = self.budget.state()
        if not force and (state == self._reported or now - self._last_report < STATE_INTERVAL):
            return
        if self.link.established and self.link.send(ControlMessage(TOPIC_QUALITY_STATE, state.encode())):
            self._reported = state
            self._last_report = now
