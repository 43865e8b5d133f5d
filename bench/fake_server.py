"""A lean fake AI Nexus for the benchmark, in a process of its own: Bedrock's wire, no checks.

``tests/support/fake_nexus.py`` validates every body against botocore's model and writes from
a thread per connection; that is right for tests and too slow to be the physical limit the
proxy is measured against. This one is one asyncio loop, with every reply encoded in advance:
a ConverseStream reply is written one event-stream frame per HTTP chunk (as Bedrock sends
them), as fast as the socket takes them.

What to answer is read from the request body: a user text holding ``[[bench deltas=N]]``
streams N text deltas; any other stream gets a few, and ``converse`` a short text answer.
``GET /bench/stats`` answers the counts so far (connections that carried a model call, which
over TLS is one handshake each) and ``GET /bench/last/<operation>`` the last body received, so
the benchmark can send the very same bytes straight here and check them against botocore.

    python -m bench.fake_server [--tls CERT_PEM KEY_PEM]   # prints "ready <port>"
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import ssl
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find tests/

from tests.support.eventstream_encoding import event_frame
from tests.support.nexus_replies import text_reply, token_usage

MARKER = re.compile(rb"\[\[bench deltas=(\d+)\]\]")
DEFAULT_DELTAS = 3
# Bedrock pads every event with a "p" field of random length; a fixed one keeps sizes stable.
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEF"
_PATH = re.compile(r"/model/[^/]+/(converse|converse-stream|count-tokens)")


def delta_text(i: int) -> str:
    """The text of delta ``i``, so that a client can check the whole text arrived."""
    return f"delta {i} "


def _chunk(data: bytes) -> bytes:
    return b"%X\r\n%s\r\n" % (len(data), data)


@functools.lru_cache(maxsize=8)
def stream_chunks(deltas: int) -> tuple[bytes, ...]:
    """The HTTP chunks of a text stream of ``deltas`` deltas, one event frame each."""
    events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": delta_text(i)}}) for i in range(deltas)]
    events += [("contentBlockStop", {"contentBlockIndex": 0}), ("messageStop", {"stopReason": "end_turn"})]
    usage = token_usage(10, deltas)
    events.append(("metadata", {"usage": usage, "metrics": {"latencyMs": 123}}))
    return tuple(_chunk(event_frame(name, {**payload, "p": PADDING})) for name, payload in events)


def _head(status: int, content_type: str, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    lines = [f"HTTP/1.1 {status} OK", f"Content-Type: {content_type}", framing, "x-amzn-RequestId: bench", "", ""]
    return "\r\n".join(lines).encode("ascii")


def _json_response(status: int, body: bytes) -> bytes:
    return _head(status, "application/json", len(body)) + body


CONVERSE_ANSWER = _json_response(200, json.dumps(text_reply("Hello from the bench fake").body).encode())
COUNT_ANSWER = _json_response(200, b'{"inputTokens": 42}')
NOT_FOUND = _json_response(404, b'{"message": "unknown operation"}')
STREAM_HEAD = _head(200, "application/vnd.amazon.eventstream", None)
# The loop writes on until this much waits in its buffer, then lets the socket drain.
HIGH_WATER = 256 * 1024


class FakeServer:
    """The server's state: counters and the last body of each operation."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.last: dict[str, bytes] = {}
        self.paths: dict[str, str] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counted = False
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, target, headers = _parse_head(head)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not target.startswith("/bench/") and not counted:
                    counted = True
                    self.connections += 1
                await self._answer(method, target, body, writer)
                if headers.get("connection", "").lower() == "close":
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the client left mid-request or mid-stream
        finally:
            writer.close()

    async def _answer(self, method: str, target: str, body: bytes, writer: asyncio.StreamWriter) -> None:
        if target.startswith("/bench/"):
            writer.write(self._bench_answer(target))
            return
        match = _PATH.fullmatch(target)
        if method != "POST" or match is None:
            writer.write(NOT_FOUND)
            return
        self.requests += 1
        operation = match[1]
        self.last[operation] = body
        self.paths[operation] = target
        if operation == "converse-stream":
            await _write_stream(writer, body)
        else:
            writer.write(COUNT_ANSWER if operation == "count-tokens" else CONVERSE_ANSWER)
        await writer.drain()

    def _bench_answer(self, target: str) -> bytes:
        if target == "/bench/stats":
            stats = {"connections": self.connections, "requests": self.requests, "paths": self.paths}
            return _json_response(200, json.dumps(stats).encode())
        operation = target.removeprefix("/bench/last/")
        return _json_response(200, self.last[operation]) if operation in self.last else NOT_FOUND


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _write_stream(writer: asyncio.StreamWriter, body: bytes) -> None:
    found = MARKER.search(body)
    writer.write(STREAM_HEAD)
    for chunk in stream_chunks(int(found[1]) if found else DEFAULT_DELTAS):
        writer.write(chunk)
        if writer.transport.get_write_buffer_size() > HIGH_WATER:
            await writer.drain()
    writer.write(b"0\r\n\r\n")


async def _serve(tls: ssl.SSLContext | None) -> None:
    fake = FakeServer()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0, ssl=tls, backlog=256)
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    # Ends when the parent closes our stdin: no signals, no orphan left behind.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tls", nargs=2, metavar=("CERT_PEM", "KEY_PEM"), help="serve HTTPS with this certificate")
    args = parser.parse_args()
    tls = None
    if args.tls:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.tls)
    stream_chunks(5000)  # encoded before "ready", not during the first timed stream
    asyncio.run(_serve(tls))


if __name__ == "__main__":
    main()
