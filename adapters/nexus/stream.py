"""An open ConverseStream HTTP response, read as bytes arrive and decoded frame by frame.

A stream read to its end hands its connection back to the pool, so the next turn skips
the TCP and TLS handshakes; one left early (client gone, failure, shutdown) is shut down,
since unread bytes would poison the connection for the next request.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import re
from collections.abc import Iterator
from typing import Any

import requests

from adapters.blocking_waits import blocking
from adapters.nexus.errors import translated_errors
from adapters.nexus.eventstream import EventStreamDecoder
from adapters.nexus.stream_events import read_events
from domain.errors import UpstreamFailureError
from domain.vocab import builders
from domain.vocab import converse as c

_READ_SIZE = 64 * 1024
# A chunk-size line longer than this is not HTTP/1.1 chunking (http.client allows 64 KB).
_MAX_SIZE_LINE = 4096
# The size line every chunk of Bedrock's has: hex digits and CRLF. Anything else (extensions,
# spaces, leading zeros past 15 digits) takes the careful path, which reads it as http.client.
_PLAIN_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})\r\n")


class _Dechunker:
    """HTTP/1.1 chunked transfer coding, undone over reads of any size.

    http.client's ``read1`` stops at the end of each chunk, and Bedrock sends one frame per
    chunk: reading through it costs a pass through urllib3 and http.client per event. This
    takes whatever one socket read brought, many chunks at once, and returns their data.
    """

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
    match, size = _PLAIN_SIZE.match, len(buffer)
    while (line := match(buffer, pos)) is not None:
        start = line.end()
        end = start + int(line[1], 16)
        if end == start or end + 2 > size or buffer[end : end + 2] != b"\r\n":
            break
        out.append(buffer[start:end])
        pos = end + 2
    return pos


def _read(fp: Any) -> bytes:
    try:
        data: bytes = fp.read1(_READ_SIZE)
    except ValueError:  # close() from the loop closed the file between two reads
        return b""
    return data


def _plain_chunked(raw: Any) -> http.client.HTTPResponse | None:
    """http.client's response under ``raw`` if its body is plain chunked and still unread."""
    original = getattr(raw, "_fp", None)
    if not isinstance(original, http.client.HTTPResponse) or not hasattr(raw, "_error_catcher"):
        return None  # not a socket (a test double), or a urllib3 this was not written for
    if not original.chunked or original.chunk_left is not None or original.fp is None:
        return None
    encoding = str(raw.headers.get("content-encoding", "")).strip().lower()
    return original if encoding in ("", "identity") and not raw.tell() else None


class RequestsConverseStream:
    """An open ConverseStream HTTP response, read frame by frame as bytes arrive."""

    def __init__(self, response: requests.Response, host: str, secrets: tuple[str, ...] = ()) -> None:
        self._response = response
        self._host = host
        self._secrets = secrets  # scrubbed from exception frames' messages
        self._closed = False
        self._whole = False  # the body was read to its end: the connection is reusable

    def _chunks(self) -> Iterator[bytes]:
        original = _plain_chunked(self._response.raw)
        return self._unchunked(original) if original is not None else self._read1_chunks()

    def _unchunked(self, original: http.client.HTTPResponse) -> Iterator[bytes]:
        """The body, a socket read at a time, HTTP chunks undone here (one read, many frames)."""
        raw, body = self._response.raw, _Dechunker()
        fp = original.fp
        while not self._closed:
            # urllib3's own error mapping, so a cut or a timeout reads as through read1.
            with raw._error_catcher():
                data = blocking(functools.partial(_read, fp))
                if not data:
                    raise http.client.IncompleteRead(b"")
                payload = body.feed(data)
            if payload:
                yield payload
            if body.done:
                # Asked for more past the end, as read1 would have been: what http.client does
                # at a body's end, so the connection can go back to the pool at close().
                if not body.extra:
                    original._close_conn()  # type: ignore[attr-defined]
                    self._whole = True
                return

    def _read1_chunks(self) -> Iterator[bytes]:
        raw = self._response.raw
        while not self._closed:
            # read1 returns what the socket has now, so each frame is passed on at once;
            # decoded, in case something between us and Bedrock compressed the stream.
            data = raw.read1(_READ_SIZE, decode_content=True)
            if not data:
                self._whole = True
                return
            yield data

    def __iter__(self) -> Iterator[c.StreamEvent]:
        """The events one at a time, each run as the deltas it stands for."""
        for batch in self.batches():
            for event in batch:
                if type(event) is c.DeltaRun:
                    yield from builders.converse_deltas(event)
                else:
                    yield event

    def batches(self) -> Iterator[list[c.StreamEvent]]:
        """The events each socket read completes, as one list; see ``ConverseStream``."""
        try:
            with translated_errors(self._host):
                chunks = self._chunks()
                decoder = EventStreamDecoder()
                for chunk in chunks:
                    events, last, failure = read_events(decoder.messages(chunk), self._secrets)
                    if last:
                        # Bedrock's last event: the body ends right after it. Read that end
                        # now, in the reading thread, as the consumer stops at this event.
                        _drain(chunks)
                    if events:
                        yield events
                    if failure is not None:
                        raise failure
                    if last:
                        return
                decoder.finish()
        except UpstreamFailureError:
            if not self._closed:
                raise

    def close(self) -> None:
        """Release the connection now; safe from another thread during a blocked read.

        A body read to its end goes back to the pool; any other is shut down, which
        also wakes a reader blocked in ``recv()``.
        """
        if self._closed:
            return
        self._closed = True
        if self._whole:
            self._response.raw.release_conn()
            return
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            self._response.raw.shutdown()  # wakes a reader blocked in recv()
        self._response.close()


def _drain(chunks: Iterator[bytes]) -> None:
    # Anything after the last event is not Bedrock's: the connection is not reused then.
    for _ in chunks:
        return
