"""Incremental decoder for AWS event-stream frames (``application/vnd.amazon.eventstream``).

ConverseStream bodies arrive cut into arbitrary chunks. Header values come out exactly as
``botocore.eventstream`` returns them, so a frame reads the same here as through boto3.
"""

from __future__ import annotations

import re
import struct
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
from zlib_ng import zlib_ng

from domain.errors import UpstreamFailureError

# zlib-ng's CRC-32 (the same checksum as zlib's) runs a frame's ~200 bytes in a quarter of
# the time: one check per frame, thousands of frames per stream.
_crc32 = zlib_ng.crc32
_PRELUDE = struct.Struct(">III")  # total length, headers length, prelude CRC
_CRC = struct.Struct(">I")
_OVERHEAD = _PRELUDE.size + _CRC.size
# botocore's limits. Checking them on the prelude keeps a corrupt length from making us
# buffer gigabytes while waiting for a frame that never ends.
_MAX_HEADERS_LENGTH = 128 * 1024
_MAX_PAYLOAD_LENGTH = 24 * 1024 * 1024
# Codes 2-5 are signed integers; 8 is a timestamp, which botocore leaves as epoch millis.
_FIXED = {code: struct.Struct(fmt) for code, fmt in [(2, ">b"), (3, ">h"), (4, ">i"), (5, ">q"), (8, ">q")]}


def _read_only(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(headers))


@attrs.frozen(kw_only=True)
class Frame:
    """One decoded event-stream message.

    Attributes:
        headers: Read-only name to value, typed as botocore decodes them: ``bool`` (types
            0-1), ``int`` (2-5, and 8: a timestamp in epoch milliseconds), ``bytes`` (6, and
            9: a UUID's 16 raw bytes) or ``str`` (7).
        payload: The frame body, usually JSON.
    """

    headers: Mapping[str, Any] = attrs.field(converter=_read_only)
    payload: bytes


def _corrupt(reason: str) -> UpstreamFailureError:
    return UpstreamFailureError(f"Nexus sent a corrupt event-stream frame: {reason}")


def _check_prelude(total: int, headers_length: int) -> None:
    if total < _OVERHEAD:
        raise _corrupt(f"length {total} is shorter than the prelude and checksum")
    if headers_length > total - _OVERHEAD:
        raise _corrupt("headers are longer than the frame")
    if headers_length > _MAX_HEADERS_LENGTH:
        raise _corrupt(f"{headers_length} bytes of headers exceed the limit")
    if total - _OVERHEAD - headers_length > _MAX_PAYLOAD_LENGTH:
        raise _corrupt(f"{total - _OVERHEAD - headers_length} bytes of payload exceed the limit")


def _take(data: bytes, pos: int, size: int) -> tuple[bytes, int]:
    if pos + size > len(data):
        raise _corrupt("a header runs past the headers section")
    return data[pos : pos + size], pos + size


def _take_sized(data: bytes, pos: int, length_size: int) -> tuple[bytes, int]:
    raw_length, pos = _take(data, pos, length_size)
    return _take(data, pos, int.from_bytes(raw_length, "big"))


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _corrupt("a header is not valid UTF-8") from error


def _read_value(data: bytes, pos: int, type_code: int) -> tuple[Any, int]:
    if type_code in (0, 1):
        return type_code == 0, pos
    if type_code in _FIXED:
        raw, pos = _take(data, pos, _FIXED[type_code].size)
        return _FIXED[type_code].unpack(raw)[0], pos
    if type_code in (6, 7):
        raw, pos = _take_sized(data, pos, 2)
        return (_text(raw) if type_code == 7 else raw), pos
    if type_code == 9:
        return _take(data, pos, 16)
    raise _corrupt(f"unknown header type {type_code}")


def _parse_headers(data: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    pos = 0
    while pos < len(data):
        raw_name, pos = _take_sized(data, pos, 1)
        name = _text(raw_name)
        if name in headers:
            raise _corrupt(f"duplicate header {name!r}")
        raw_type, pos = _take(data, pos, 1)
        headers[name], pos = _read_value(data, pos, raw_type[0])
    return headers


# Frames of one stream repeat a few header sections byte for byte (``:event-type``,
# ``:content-type``, ``:message-type``): each is parsed once and its read-only mapping shared.
_HEADER_CACHE: dict[bytes, Mapping[str, Any]] = {}
_HEADER_CACHE_SIZE = 256
_HEADER_CACHE_BYTES = 512  # longer sections (rare, odd) are parsed every time


def _headers(raw: bytes) -> Mapping[str, Any]:
    """A header section's read-only mapping; raises UpstreamFailureError if it is corrupt."""
    headers = _HEADER_CACHE.get(raw)
    if headers is None:
        headers = types.MappingProxyType(_parse_headers(raw))
        if len(raw) <= _HEADER_CACHE_BYTES and len(_HEADER_CACHE) < _HEADER_CACHE_SIZE:
            _HEADER_CACHE[raw] = headers
    return headers


def _frame(headers: Mapping[str, Any], payload: bytes) -> Frame:
    # A Frame without its converter's copy: ``headers`` is already a read-only mapping
    # (shared by the frames whose header bytes are the same), so copying it per frame is waste.
    frame = object.__new__(Frame)
    object.__setattr__(frame, "headers", headers)
    object.__setattr__(frame, "payload", payload)
    return frame


# A frame's headers and payload, before they become a ``Frame`` (the stream reader skips that).
Message = tuple[Mapping[str, Any], bytes]


def _decode_all(view: memoryview, messages: list[Message]) -> int:
    """Decode the whole frames at the front of ``view`` into ``messages``; return the bytes used.

    One pass over one view of the buffer: each frame's checksums run on slices of it, and
    only its header bytes (the key to their parsed mapping) and its payload are copied out.
    """
    pos, size = 0, len(view)
    unpack, crc32, append = _PRELUDE.unpack_from, _crc32, messages.append
    while size - pos >= _PRELUDE.size:
        total, headers_length, prelude_crc = unpack(view, pos)
        prelude = crc32(view[pos : pos + 8])
        if prelude != prelude_crc:
            raise _corrupt("prelude checksum mismatch")
        # The four limits in two comparisons (headers_length is unsigned); which one failed is
        # for _check_prelude to say.
        if not 0 <= total - _OVERHEAD - headers_length <= _MAX_PAYLOAD_LENGTH or headers_length > _MAX_HEADERS_LENGTH:
            _check_prelude(total, headers_length)
        end = pos + total
        if end > size:
            break
        if crc32(view[pos + 8 : end - 4], prelude) != _CRC.unpack_from(view, end - 4)[0]:
            raise _corrupt("message checksum mismatch")
        headers_end = pos + _PRELUDE.size + headers_length
        append((_headers(bytes(view[pos + _PRELUDE.size : headers_end])), bytes(view[headers_end : end - 4])))
        pos = end
    return pos


# An HTTP chunk's size line as Bedrock writes it: hex digits and CRLF, nothing else.
CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,15})\r\n")


def chunked_frames(body: bytes, messages: list[Message]) -> int:
    """The frames of the HTTP chunks at the front of ``body``, each chunk exactly one frame.

    Bedrock sends every frame as an HTTP chunk of its own: read that way, each frame is
    found, checked and copied out once, not first unchunked and then decoded. Stops at the
    first chunk that is anything else (cut by the read, the last chunk, an extension, a
    frame split across chunks or sharing one, a frame that fails a check) and returns where
    it starts, for the general decoders to read from there and say what is wrong, if
    anything. ``body`` is at most two reads long, so no payload can pass its limit.

    Both checksums, as botocore checks them: the message CRC alone would catch any damaged
    byte, but not a prelude CRC its sender got wrong, which the general way refuses. The
    frames of a run mostly share their header bytes: they are compared in place with the
    last frame's, not copied and looked up again.
    """
    match, unpack, crc32, crc_at = CHUNK_SIZE_LINE.match, _PRELUDE.unpack_from, _crc32, _CRC.unpack_from
    append, startswith, pos, size = messages.append, body.startswith, 0, len(body)
    known, known_length, headers = b"", 0, _headers(b"")  # the last frame's header bytes, parsed
    with memoryview(body) as view:
        while (line := match(body, pos)) is not None:
            start = line.end()
            end = start + int(line[1], 16)
            if end - start < _OVERHEAD or end + 2 > size or body[end : end + 2] != b"\r\n":
                break
            # The chunk must be the frame: its length the chunk's, its headers within it.
            total, headers_length, prelude_crc = unpack(body, start)
            if total != end - start or total < _OVERHEAD + headers_length or headers_length > _MAX_HEADERS_LENGTH:
                break
            prelude = crc32(view[start : start + 8])
            if prelude != prelude_crc or crc32(view[start + 8 : end - 4], prelude) != crc_at(body, end - 4)[0]:
                break
            headers_end = start + 12 + headers_length  # past the prelude
            if headers_length != known_length or not startswith(known, start + 12):
                known, known_length = body[start + 12 : headers_end], headers_length
                try:
                    headers = _headers(known)
                except UpstreamFailureError:
                    break
            append((headers, body[headers_end : end - 4]))
            pos = end + 2
    return pos


class EventStreamDecoder:
    """Turns event-stream bytes, chunked any way, into frames.

    Frames completed before a corrupt one are still returned; the error then comes from the
    next ``feed`` or ``finish``. Nothing after a corrupt frame is ever returned.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._error: UpstreamFailureError | None = None

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return the frames they complete, in order. Raises UpstreamFailureError."""
        return [_frame(headers, payload) for headers, payload in self.messages(data)]

    def messages(self, data: bytes) -> list[Message]:
        """``feed``, with each frame as its (headers, payload) pair."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        buffer += data
        messages: list[Message] = []
        try:
            with memoryview(buffer) as view:
                used = _decode_all(view, messages)
        except UpstreamFailureError as error:
            self._error = error
            if not messages:
                raise
            return messages
        # Once per call, not per frame: a chunk of many small frames is not copied per frame.
        del buffer[:used]
        return messages

    def finish(self) -> None:
        """Declare the stream over; raise UpstreamFailureError if it stopped mid-frame."""
        if self._error is not None:
            raise self._error
        if left := len(self._buffer):
            raise _corrupt(f"the stream ended inside a frame ({left} bytes left over)")


def decode_frames(chunks: Iterable[bytes]) -> Iterator[Frame]:
    """Yield each frame as soon as the chunks read so far complete it.

    Raises:
        UpstreamFailureError: A frame is corrupt, or the chunks stop inside a frame.
    """
    decoder = EventStreamDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    decoder.finish()
