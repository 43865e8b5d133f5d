"""A request body as JSON bytes, without a second and third copy of its large strings.

``requests``' ``json=`` makes the whole body a ``str`` and then ``bytes``: with 24 MB of
base64 images that is 48 MB more at the moment of sending. Here the body's small part is
encoded at once, and each large string (base64 media) is encoded slice by slice as the
connection reads it, so a large body costs little beyond the strings it already holds.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

# Strings this long are sent slice by slice; shorter ones go in the encoded skeleton.
LARGE = 256 * 1024
_SLICE = 64 * 1024
# What JSON would escape (with ensure_ascii, as json.dumps does by default).
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _verbatim(value: str) -> bool:
    return len(value) >= LARGE and value.isascii() and _ESCAPED.search(value) is None


def _skeleton(value: Any, large: list[str], mark: str) -> Any:
    """``value`` with each large verbatim string replaced by a numbered marker."""
    if isinstance(value, dict):
        return {k: _skeleton(v, large, mark) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_skeleton(v, large, mark) for v in value]
    if isinstance(value, str) and _verbatim(value):
        large.append(value)
        return f"{mark}{len(large) - 1}"
    return value


def json_bytes(body: Any) -> bytes | JsonBody:
    """The body to send: plain bytes, or a ``JsonBody`` reader when it holds large strings."""
    large: list[str] = []
    mark = f"\x00{uuid.uuid4().hex}:"
    skeleton = _skeleton(body, large, mark)
    text = json.dumps(skeleton, allow_nan=False)
    if not large:
        return text.encode("utf-8")
    quoted = json.dumps(mark)[:-1]  # the marker as dumps writes it, opening quote included
    pieces: list[str] = []
    rest = text
    for index, value in enumerate(large):
        before, _, rest = rest.partition(f'{quoted}{index}"')
        pieces += [before, '"', value, '"']
    pieces.append(rest)
    return JsonBody(pieces)


class JsonBody(io.RawIOBase):
    """A read-only file over ASCII pieces, encoded a slice at a time as it is read.

    ``requests`` sends a body with ``read()`` and a length as it is, with a
    ``Content-Length``; ``seek``/``tell`` let urllib3 rewind it for a retried connection.
    """

    def __init__(self, pieces: list[str]) -> None:
        super().__init__()
        self._pieces = pieces
        self._length = sum(len(p) for p in pieces)
        self._index = self._offset = self._position = 0

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        """Always: this is a body to read."""
        return True

    def seekable(self) -> bool:
        """Always: urllib3 rewinds a body it sends again."""
        return True

    def tell(self) -> int:
        """Bytes read so far."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewind (or move) to ``offset`` from the start; other origins are not needed."""
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("JsonBody seeks from the start only")
        self._index = self._offset = self._position = 0
        remaining = offset
        while self._index < len(self._pieces) and remaining >= len(self._pieces[self._index]) - self._offset:
            remaining -= len(self._pieces[self._index]) - self._offset
            self._index, self._offset = self._index + 1, 0
        self._offset += remaining
        self._position = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (a slice of one piece at most); ``b""`` at the end."""
        while self._index < len(self._pieces) and self._offset >= len(self._pieces[self._index]):
            self._index, self._offset = self._index + 1, 0
        if self._index >= len(self._pieces):
            return b""
        piece = self._pieces[self._index]
        step = _SLICE if size is None or size < 0 else min(size, _SLICE)
        chunk = piece[self._offset : self._offset + step].encode("ascii")
        self._offset += len(chunk)
        self._position += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from ``read``: what ``io`` readers built on this call."""
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
