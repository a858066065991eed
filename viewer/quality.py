"""The bandwidth mode in the viewer: the agent's choice and the host's report of what is in force.

The agent picks a :class:`~opensupport.link.topics.QualityMode` (the Quality menu); it travels to the host
as the ``quality.mode`` topic, and the host, which enforces it, answers with ``quality.state``: the mode in
force, the codec quality it chose (automatic mode changes it with the link) and the link's throughput and
round trip as the host measures them. This module parses that report, without trusting it (a modified
host is a peer like any other), and words it for the status line. No Qt here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from opensupport.codec import Quality
from opensupport.link.topics import QualityMode

from .meter import format_bandwidth

__all__ = [
    "MODE_LABELS",
    "QUALITY_LABELS",
    "InvalidQualityState",
    "QualityState",
    "format_quality",
    "parse_state",
]

#: The Quality menu, English first as the viewer's other menus.
MODE_LABELS = {
    QualityMode.AUTO: "Automatic (자동)",
    QualityMode.BEST: "Best quality (최고 화질)",
    QualityMode.BALANCED: "Balanced (균형)",
    QualityMode.LOW: "Low bandwidth (저대역폭)",
}
#: The codec quality in force, as the status line names it.
QUALITY_LABELS = {
    Quality.LOSSLESS: "lossless (무손실)",
    Quality.HIGH: "high (높음)",
    Quality.BALANCED: "balanced (균형)",
    Quality.LOW: "low (낮음)",
}
#: Largest report accepted (a real one is under 100 bytes).
MAX_STATE_SIZE = 512


class InvalidQualityState(ValueError):
    """A ``quality.state`` report that does not parse: ignored, the status line keeps the last one."""


@dataclass(frozen=True)
class QualityState:
    """The host's report."""

    mode: QualityMode
    quality: Quality
    #: the link's throughput in bytes per second, as the host measures it (None: not measured yet)
    throughput: float | None
    rtt_ms: float | None


def _number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidQualityState(f"{name} is not a non-negative number")
    return float(value)


def parse_state(data: bytes) -> QualityState:
    """The host's ``quality.state`` payload. Raises InvalidQualityState for anything malformed."""
    if len(data) > MAX_STATE_SIZE:
        raise InvalidQualityState(f"quality report of {len(data)} bytes")
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidQualityState("quality report is not JSON") from None
    if not isinstance(fields, dict):
        raise InvalidQualityState("quality report is not an object")
    try:
        mode = QualityMode(fields.get("mode"))
        quality = Quality(fields.get("quality"))
    except ValueError:
        raise InvalidQualityState("unknown mode or quality in the report") from None
    return QualityState(
        mode,
        quality,
        _number(fields.get("throughput"), "throughput"),
        _number(fields.get("rtt_ms"), "rtt_ms"),
    )


def format_quality(state: QualityState | None) -> str:
    """The status line's part: "Automatic (자동): balanced (균형) · link 1.2 MB/s · rtt 12 ms"."""
    if state is None:
        return "Quality (화질): –"
    parts = [f"{MODE_LABELS[state.mode]}: {QUALITY_LABELS[state.quality]}"]
    parts.append("link –" if state.throughput is None else f"link {format_bandwidth(state.throughput)}")
    if state.rtt_ms is not None:
        parts.append(f"rtt {state.rtt_ms:.0f} ms")
    return " · ".join(parts)
