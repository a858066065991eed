"""How much the encoder may give up on regions that look like video (codec/FORMAT.md, "Lossy regions").

Text and UI are always exact whatever the quality: only tiles the kernel classifies as video, animation
or photo (changing in most recent frames, with high entropy) are ever sent lossy, and a lossy region
that stops changing is refined to the exact pixels within a second.
"""

from __future__ import annotations

import enum


class Quality(enum.Enum):
    """The encoder's quality setting (``Encoder.quality``), from exact to smallest.

    ``LOSSLESS`` never sends a lossy tile (the default: every frame exact, as before version 3).
    ``HIGH``, ``BALANCED`` and ``LOW`` compress the lossy regions increasingly hard; the bandwidth budget
    in the host and viewer picks one. Text and UI stay exact in all of them."""

    LOSSLESS = "lossless"
    HIGH = "high"
    BALANCED = "balanced"
    LOW = "low"
