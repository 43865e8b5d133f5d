"""An open ConverseStream HTTP response, read as bytes arrive and decoded frame by frame.

A stream read to its end hands its connection back to the pool, so the next turn skips
the TCP and TLS handshakes; one left early (client gone, failure, shutdown) is shut down,
since unread bytes would poison the connection for the next request.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import orjson
import requests

from adapters.nexus import converse_wire
from adapters.nexus.converse_wire import UNREADABLE
from adapters.nexus.errors import bedrock_message, translated_errors, upstream_error
from adapters.nexus.eventstream import decode_frames
from domain.errors import UpstreamFailureError
from domain.vocab import converse as c

_READ_SIZE = 64 * 1024


class RequestsConverseStream:
    """An open ConverseStream HTTP response, read frame by frame as bytes arrive."""

    def __init__(self, response: requests.Response, host: str, secrets: tuple[str, ...] = ()) -> None:
        self._response = response
        self._host = host
        self._secrets = secrets  # scrubbed from exception frames' messages
        self._closed = False
        self._whole = False  # the body was read to its end: the connection is reusable

    def _chunks(self) -> Iterator[bytes]:
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
        try:
            with translated_errors(self._host):
                chunks = self._chunks()
                for frame in decode_frames(chunks):
                    event = _event(frame.headers, frame.payload, self._secrets)
                    if isinstance(event, c.MetadataEvent):
                        # Bedrock's last event: the body ends right after it. Read that end
                        # now, in the reading thread, as the consumer stops at this event.
                        _drain(chunks)
                    if event is not None:
                        yield event
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


def _event(headers: Any, payload: bytes, secrets: tuple[str, ...]) -> c.StreamEvent | None:
    message_type = headers.get(":message-type")
    if message_type == "event":
        try:
            return converse_wire.parse_stream_event(headers.get(":event-type", ""), _json(payload))
        except UNREADABLE as error:
            raise UpstreamFailureError("Nexus sent a stream event this proxy cannot read") from error
    if message_type == "exception":
        code = str(headers.get(":exception-type", ""))
        raise upstream_error(None, code, bedrock_message(_json(payload)), secrets)
    code = str(headers.get(":error-code", "unknown"))
    raise upstream_error(None, code, str(headers.get(":error-message", "")), secrets)


def _json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass  # what orjson refuses and json reads: a lone surrogate, NaN, a huge integer
    try:
        return json.loads(payload)
    except ValueError as error:
        raise UpstreamFailureError("Nexus sent an event that is not valid JSON") from error
