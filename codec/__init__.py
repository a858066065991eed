"""The screen codec: ``Encoder`` turns BGRA frames into updates, ``Decoder`` turns them back.

Exact by default; ``Quality`` lets regions that look like video be sent lossy (text always stays exact).

The update format is described in ``codec/FORMAT.md``; every bad input raises ``CodecError``.
"""

from ._decoder import Decoder, Rect
from ._encoder import Encoder
from ._errors import CodecError
from ._quality import Quality

__all__ = ["CodecError", "Decoder", "Encoder", "Quality", "Rect"]
