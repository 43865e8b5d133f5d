"""A ConverseStream body's HTTP/1.1 chunked coding, undone over socket reads of any size.

http.client's ``read1`` stops at the end of each chunk, and Bedrock sends one event-stream
frame per chunk: reading through it costs a pass through urllib3 and http.client per
event. ``FrameReader`` takes whatever one socket read brought, hundreds of chunks at once,
and returns their frames: while every chunk is exactly one frame it finds them in one pass
(``eventstream.chunked_frames``); from the first chunk that is not, ``Dechunker`` and
``EventStreamDecoder`` read the rest the general way.
"""

from __future__ import annotations

import http.client

from adapters.nexus.eventstream import CHUNK_SIZE_LINE, EventStreamDecoder, Message, chunked_frames
from domain.errors import UpstreamFailureError

# A chunk cut by a read is kept for the next one up to this size; a longer one (a frame
# of over 64 KB, far beyond Bedrock's) goes the general way, which copies it only once.
_HELD_CHUNK = 64 * 1024
# A size line cut by a read is at most this long: 15 hex digits and its CR.
_SIZE_LINE = 16


# A chunk-size line longer than this is not HTTP/1.1 chunking (http.client allows 64 KB).
_MAX_SIZE_LINE = 4096


class Dechunker:
    """HTTP/1.1 chunked transfer coding, undone over reads of any size: the data of any chunks."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._left = 0  # data bytes of the current chunk still to come
        self._crlf = False  # the CRLF after a chunk's data is still to come
        self._trailers = False  # past the last chunk: trailer lines until an empty one
        self.done = False
        self.extra = False  # bytes came after the body's end

    def feed(self, data: bytes) -> bytes:
        """The body bytes ``data`` completes; raises ``IncompleteRead`` on bad chunking."""
        if self.done:
            self.extra = self.extra or bool(data)
            return b""
        buffer = self._buffer
        buffer += data
        out: list[bytearray] = []
        pos = self._step(buffer, out)
        self.extra = self.done and pos < len(buffer)
        del buffer[:pos]
        return b"".join(out)

    def _step(self, buffer: bytearray, out: list[bytearray]) -> int:
        pos, size = 0, len(buffer)
        while pos < size and not self.done:
            if not (self._left or self._crlf or self._trailers):
                pos = _whole_chunks(buffer, pos, out)
                if pos == size:
                    break
            if self._left:
                take = min(self._left, size - pos)
                out.append(buffer[pos : pos + take])
                pos, self._left = pos + take, self._left - take
                self._crlf = not self._left
                continue
            if self._crlf:
                if size - pos < 2:
                    break
                if buffer[pos : pos + 2] != b"\r\n":
                    raise http.client.IncompleteRead(b"")
                pos, self._crlf = pos + 2, False
                continue
            end = buffer.find(b"\r\n", pos, pos + _MAX_SIZE_LINE)
            if end < 0:
                if size - pos >= _MAX_SIZE_LINE:
                    raise http.client.IncompleteRead(b"")
                break
            line, pos = bytes(buffer[pos:end]), end + 2
            if self._trailers:
                self.done = not line
            else:
                self._chunk_size(line)
        return pos

    def _chunk_size(self, line: bytes) -> None:
        text = line.split(b";", 1)[0].strip()
        if not text or text.strip(b"0123456789abcdefABCDEF"):  # "-5", "0x5", "1_0" are not sizes
            raise http.client.IncompleteRead(b"")
        size = int(text, 16)
        self._left, self._trailers = size, size == 0


def _whole_chunks(buffer: bytearray, pos: int, out: list[bytearray]) -> int:
    """The data of the whole plain chunks from ``pos`` on; where the first other one starts.

    One regular-expression match per chunk instead of the state machine's steps: a socket
    read brings hundreds of chunks, one event each. The last chunk, a chunk cut by the read
    and a malformed one are left to the state machine, which also raises for the last.
    """
    match, size = CHUNK_SIZE_LINE.match, len(buffer)
    while (line := match(buffer, pos)) is not None:
        start = line.end()
        end = start + int(line[1], 16)
        if end == start or end + 2 > size or buffer[end : end + 2] != b"\r\n":
            break
        out.append(buffer[start:end])
        pos = end + 2
    return pos


class FrameReader:
    """The frames of a chunked body, read by read; raises ``IncompleteRead`` on bad chunking.

    Frames completed before a corrupt one are returned first; its error comes from the
    next ``feed`` or from ``finish``, as with ``EventStreamDecoder``.
    """

    def __init__(self) -> None:
        self._held = b""  # the start of a chunk the last read cut
        self._body: Dechunker | None = None  # the general way, once a chunk needed it
        self._decoder = EventStreamDecoder()

    @property
    def done(self) -> bool:
        """The body's last chunk and trailers have been read."""
        return self._body is not None and self._body.done

    @property
    def extra(self) -> bool:
        """Bytes came after the body's end."""
        return self._body is not None and self._body.extra

    def feed(self, data: bytes) -> list[Message]:
        """The frames ``data`` completes, in order."""
        if self._body is not None:
            return self._decoder.messages(self._body.feed(data))
        body = self._held + data if self._held else data
        messages: list[Message] = []
        rest = body[chunked_frames(body, messages) :]
        self._held = b""
        if not rest:
            return messages
        if _cut_chunk(rest):
            self._held = rest
            return messages
        self._body = Dechunker()
        try:
            more = self._decoder.messages(self._body.feed(rest))
        except UpstreamFailureError:
            if not messages:  # the decoder keeps its error for the next call
                raise
            return messages
        return messages + more

    def finish(self) -> None:
        """Declare the body over; raise ``UpstreamFailureError`` if it stopped mid-frame."""
        if self._held:  # the reading stopped (close()) after a read that cut a chunk
            raise UpstreamFailureError(f"Nexus's stream ended inside a frame ({len(self._held)} bytes left over)")
        self._decoder.finish()


def _cut_chunk(rest: bytes) -> bool:
    """``rest`` is a chunk the read cut short that may be one frame, small enough to hold.

    Frames of a chunk that holds several (not Bedrock's way) are not held back until the
    whole chunk is in: the general way gives each as soon as its own bytes are.
    """
    line = CHUNK_SIZE_LINE.match(rest)
    if line is None:
        return len(rest) < _SIZE_LINE and not rest.strip(b"0123456789abcdefABCDEF\r")
    size, start = int(line[1], 16), line.end()
    if not 0 < size <= _HELD_CHUNK or start + size + 2 <= len(rest):
        return False
    total = rest[start : start + 4]  # the frame's length, if it has come
    return len(total) < 4 or int.from_bytes(total, "big") == size
