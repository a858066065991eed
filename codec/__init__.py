"""The lossless screen codec: ``Encoder`` turns BGRA frames into updates, ``Decoder`` turns them back.

The update format is described in ``codec/FORMAT.md``; every bad input raises ``CodecError``.
"""

from ._decoder import Decoder, Rect
from ._encoder import Encoder
from ._errors import CodecError

__all__ = ["CodecError", "Decoder", "Encoder", "Rect"]
