"""A request body as JSON bytes, without a second and third copy of its large strings.

``requests``' ``json=`` makes the whole body a ``str`` and then ``bytes``: with 24 MB of
base64 images that is 48 MB more at the moment of sending. Here the body's small part is
encoded at once, and each large string (base64 media) is encoded slice by slice as the
connection reads it, so a large body costs little beyond the strings it already holds.

Compact bodies (what the gateway sends) are written by orjson, several times faster than
``json``; a body orjson refuses (an integer past 64 bits in a tool's input) goes json's way.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

import orjson

# Strings this long are sent slice by slice; shorter ones go in the encoded skeleton.
LARGE = 256 * 1024
_SLICE = 64 * 1024
# Parts of a Converse body not searched for large strings: the tool schemas, half of a
# Claude Code request's nodes and never media. Should one hold a large string after all,
# orjson encodes it with the rest, one copy more: the choice is only about memory.
_SMALL_PARTS = frozenset({"toolConfig"})
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


def holds_large(value: Any) -> bool:
    """Whether any string in ``value`` is ``LARGE`` or longer (a walk that copies nothing)."""
    level = [value]
    while level:
        below: list[Any] = []
        for node in level:
            for item in node.values() if type(node) is dict else node:
                kind = type(item)
                if kind is str:
                    if len(item) >= LARGE:
                        return True
                elif kind is dict or kind is list:
                    below.append(item)
        level = below
    return False


def _dumps(value: Any, compact: bool) -> bytes:
    if compact:
        try:
            return orjson.dumps(value)
        except (orjson.JSONEncodeError, TypeError):
            pass  # an integer past 64 bits: json writes it exactly
        return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return json.dumps(value, allow_nan=False).encode("utf-8")


def json_bytes(body: Any, *, compact: bool = False) -> bytes | JsonBody:
    """The body to send: plain bytes, or a ``JsonBody`` reader when it holds large strings.

    Args:
        body: JSON-ready data (dicts and lists, as the converters make them).
        compact: no spaces, and UTF-8 rather than ASCII escapes; written by orjson.
    """
    if compact and type(body) is dict and not holds_large([v for k, v in body.items() if k not in _SMALL_PARTS]):
        try:
            return orjson.dumps(body)  # the common case: no skeleton to build
        except (orjson.JSONEncodeError, TypeError):
            pass
    large: list[str] = []
    mark = f"\x00{uuid.uuid4().hex}:"
    encoded = _dumps(_skeleton(body, large, mark), compact)
    if not large:
        return encoded
    quoted = json.dumps(mark)[:-1].encode("ascii")  # as both encoders write it, opening quote included
    pieces: list[str | bytes] = []
    rest = encoded
    for index, value in enumerate(large):
        before, _, rest = rest.partition(b'%s%d"' % (quoted, index))
        pieces += [before, b'"', value, b'"']
    pieces.append(rest)
    return JsonBody(pieces)


class JsonBody(io.RawIOBase):
    """A read-only file over bytes and ASCII text, the text encoded a slice at a time as read.

    ``requests`` sends a body with ``read()`` and a length as it is, with a
    ``Content-Length``; ``seek``/``tell`` let urllib3 rewind it for a retried connection.
    """

    def __init__(self, pieces: list[str | bytes]) -> None:
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
        part = piece[self._offset : self._offset + step]
        chunk = part.encode("ascii") if isinstance(part, str) else part
        self._offset += len(chunk)
        self._position += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from ``read``: what ``io`` readers built on this call."""
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
