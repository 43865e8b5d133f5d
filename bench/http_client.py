"""A minimal HTTP/1.1 client on asyncio, cheap enough that it is never what is measured.

``requests`` and ``http.client`` spend several microseconds of Python per chunk; a stream of
5,000 events through them would time the client as much as the server. This one sends a
request prepared as bytes, reads with large ``read`` calls and walks the chunk framing with
``bytes.find``; it notes when the first body byte arrived and when the last did. The body
is checked after the clock has stopped, never while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

READ_SIZE = 256 * 1024


class Response(NamedTuple):
    """One answer. ``first`` and ``done`` are ``perf_counter`` seconds after sending."""

    status: int
    body: bytes
    first: float
    done: float


def request_bytes(method: str, path: str, host: str, body: bytes = b"", headers: Mapping[str, str] = {}) -> bytes:
    """A whole HTTP/1.1 request, ready to write."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "", ""]).encode("latin-1") + body


def json_post(path: str, host: str, body: Any) -> bytes:
    return request_bytes("POST", path, host, json.dumps(body).encode(), {"Content-Type": "application/json"})


class Connection:
    """One keep-alive connection; ``exchange`` may be awaited again once it has returned."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._buffer = b""

    @classmethod
    async def open(cls, host: str, port: int, tls: ssl.SSLContext | None = None) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=READ_SIZE)
        return cls(reader, writer)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):  # the server may close first
            await self._writer.wait_closed()

    async def _more(self) -> None:
        data = await self._reader.read(READ_SIZE)
        if not data:
            raise ConnectionError("the server closed the connection mid-response")
        self._buffer += data

    async def exchange(self, request: bytes) -> Response:
        """Send ``request`` and read its whole response."""
        start = time.perf_counter()
        self._writer.write(request)
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            await self._more()
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4 :]
        status = int(head.split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])}
        if "content-length" in headers:
            body, first = await self._sized(int(headers["content-length"]), start)
        else:
            body, first = await self._chunked(start)
        return Response(status, body, first - start, time.perf_counter() - start)

    async def _sized(self, length: int, start: float) -> tuple[bytes, float]:
        first = time.perf_counter() if self._buffer or not length else 0.0
        while len(self._buffer) < length:
            await self._more()
            first = first or time.perf_counter()
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return body, first

    async def _chunked(self, start: float) -> tuple[bytes, float]:
        buffer = bytearray(self._buffer)
        first = time.perf_counter() if buffer else 0.0
        pieces: list[bytes] = []
        at = 0
        while True:
            eol = buffer.find(b"\r\n", at)
            if eol >= 0:
                size = int(bytes(buffer[at:eol]).split(b";")[0], 16)
                end = eol + 2 + size + 2
                if len(buffer) >= end:
                    if size == 0:
                        self._buffer = bytes(buffer[end:])  # no trailers: the proxy and the fake send none
                        return b"".join(pieces), first
                    pieces.append(bytes(buffer[eol + 2 : eol + 2 + size]))
                    at = end
                    continue
            data = await self._reader.read(READ_SIZE)
            if not data:
                raise ConnectionError("the server closed the connection mid-stream")
            first = first or time.perf_counter()
            buffer += data


async def one_exchange(host: str, port: int, request: bytes, tls: ssl.SSLContext | None = None) -> Response:
    """A fresh connection for one request, closed after."""
    connection = await Connection.open(host, port, tls)
    try:
        return await connection.exchange(request)
    finally:
        await connection.close()
