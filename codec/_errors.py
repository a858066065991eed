"""The codec's one error type."""


class CodecError(Exception):
    """An update could not be encoded or decoded: bad bytes, another format version, a rectangle outside
    the frame, a declared size beyond the frame, a lost update, or a frame of the wrong shape."""
