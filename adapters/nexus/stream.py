"""An open ConverseStream HTTP response, read as bytes arrive and decoded frame by frame.

A stream read to its end hands its connection back to the pool, so the next turn skips
the TCP and TLS handshakes; one left early (client gone, failure, shutdown) is shut down,
since unread bytes would poison the connection for the next request.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import requests

from adapters.blocking_waits import blocking
from adapters.nexus.chunked import FrameReader
from adapters.nexus.errors import translated_errors
from adapters.nexus.eventstream import EventStreamDecoder, Message
from adapters.nexus.stream_events import read_events
from domain.errors import UpstreamFailureError
from domain.vocab import builders
from domain.vocab import converse as c

_READ_SIZE = 64 * 1024


def _read(fp: Any) -> bytes:
    try:
        data: bytes = fp.read1(_READ_SIZE)
    except ValueError:  # close() from the loop closed the file between two reads
        return b""
    return data


def _arrived(fp: Any, sock: Any) -> bytes:
    """What a TLS socket has already received past the read just made, read without waiting.

    TLS hands over one record per read, and a server writes each frame as a record of its
    own: read one at a time, a busy stream waited (left the lane, handed its batch to the
    loop) once per event. Plain TCP needs none of this: its one read took all there was.
    """
    if not isinstance(sock, ssl.SSLSocket):
        return b""
    pieces: list[bytes] = []
    size, timeout = 0, sock.gettimeout()
    try:
        sock.settimeout(0.0)
        while size < _READ_SIZE and (piece := fp.read1(_READ_SIZE)):
            pieces.append(piece)
            size += len(piece)
    except (OSError, ValueError):  # nothing more yet (SSLWantReadError), or closed meanwhile
        pass
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)
    return b"".join(pieces)


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

    def _reads(self) -> tuple[Iterator[list[Message]], Callable[[], None]]:
        """The body's frames a socket read at a time, and what checks it ended whole."""
        original = _plain_chunked(self._response.raw)
        if original is not None:
            body = FrameReader()
            return self._unchunked(original, body), body.finish
        decoder = EventStreamDecoder()
        return map(decoder.messages, self._read1_chunks()), decoder.finish

    def _unchunked(self, original: http.client.HTTPResponse, body: FrameReader) -> Iterator[list[Message]]:
        """The body's frames, a socket read at a time, HTTP chunks undone here (one read, many frames)."""
        raw, fp = self._response.raw, original.fp
        sock = getattr(raw.connection, "sock", None)
        while not self._closed:
            # urllib3's own error mapping, so a cut or a timeout reads as through read1.
            with raw._error_catcher():
                data = blocking(functools.partial(_read, fp))
                if not data:
                    raise http.client.IncompleteRead(b"")
                messages = body.feed(data + _arrived(fp, sock))
            if messages:
                yield messages
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
                reads, finish = self._reads()
                for messages in reads:
                    events, last, failure = read_events(messages, self._secrets)
                    if last:
                        # Bedrock's last event: the body ends right after it. Read that end
                        # now, in the reading thread, as the consumer stops at this event.
                        _drain(reads)
                    if events:
                        yield events
                    if failure is not None:
                        raise failure
                    if last:
                        return
                finish()
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


def _drain(reads: Iterator[list[Message]]) -> None:
    # Anything after the last event is not Bedrock's: the connection is not reused then.
    for _ in reads:
        return
