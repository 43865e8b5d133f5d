"""A dead connection to Nexus is replaced before a byte is sent, and never retried after."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import urllib3.util.connection

from adapters.nexus.gateway import RequestsConverseGateway
from domain import errors
from domain.vocab import converse as c

REQUEST = c.ConverseRequest(messages=(c.Message(role="user", content=(c.TextContent(text="hi"),)),))
ANSWER = (
    b'{"output":{"message":{"role":"assistant","content":[{"text":"Hello!"}]}},"stopReason":"end_turn",'
    b'"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1}}'
)
WAIT = 10


def _read_request(conn: socket.socket) -> bytes | None:
    """One whole HTTP request (head and Content-Length body), or None at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head


class RawNexus:
    """A tiny HTTP server on a raw socket: each connection serves the answers its script says.

    ``script[i]`` is for connection ``i``: one entry per request, ``"answer"`` (200, kept
    alive) or ``"drop"`` (read the request, close without a word); after its entries the
    server closes that connection and sets ``idle_closed[i]``.
    """

    def __init__(self, script: list[list[str]]) -> None:
        self.script = script
        self.requests: list[int] = []  # the connection each request arrived on
        self.idle_closed = [threading.Event() for _ in script]
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for index, steps in enumerate(self.script):
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed at the test's end: a scripted connection never came
                return
            with conn:
                for step in steps:
                    if _read_request(conn) is None:
                        break
                    self.requests.append(index)
                    if step == "drop":
                        break
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                    conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER))
            self.idle_closed[index].set()

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def nexus() -> Iterator[Callable[[list[list[str]]], RawNexus]]:
    servers: list[RawNexus] = []

    def start(script: list[list[str]]) -> RawNexus:
        servers.append(RawNexus(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _gateway(url: str) -> RequestsConverseGateway:
    return RequestsConverseGateway(endpoint_url=url, api_key="k", connect_timeout=5, read_timeout=5)


def _text(response: c.ConverseResponse) -> str:
    [block] = response.output.message.content
    assert isinstance(block, c.TextContent)
    return block.text


def test_a_kept_alive_connection_nexus_closed_is_replaced_before_sending(
    nexus: Callable[[list[list[str]]], RawNexus],
) -> None:
    server = nexus([["answer"], ["answer"]])
    gateway = _gateway(server.url)
    assert _text(gateway.converse("m", REQUEST)) == "Hello!"
    assert server.idle_closed[0].wait(WAIT)  # Nexus dropped the idle kept-alive connection
    assert _text(gateway.converse("m", REQUEST)) == "Hello!"
    assert server.requests == [0, 1]  # the second request went once, on a fresh connection


def test_a_request_that_reached_nexus_is_never_sent_again(nexus: Callable[[list[list[str]]], RawNexus]) -> None:
    server = nexus([["answer", "drop"], ["answer"]])
    gateway = _gateway(server.url)
    assert _text(gateway.converse("m", REQUEST)) == "Hello!"
    with pytest.raises(errors.UpstreamError):
        gateway.converse("m", REQUEST)  # read by Nexus, then the connection died
    assert server.requests == [0, 0]
    assert not server.idle_closed[1].is_set()  # no second connection was made for it


def test_a_connection_that_could_not_be_made_is_tried_once_more(
    nexus: Callable[[list[list[str]]], RawNexus], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = nexus([["answer"]])
    real = urllib3.util.connection.create_connection
    attempts: list[Any] = []

    def refused_once(*args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(args[0])
        if len(attempts) == 1:
            raise ConnectionRefusedError("refused")
        return real(*args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refused_once)
    assert _text(_gateway(server.url).converse("m", REQUEST)) == "Hello!"
    assert len(attempts) == 2 and server.requests == [0]


def test_a_connection_refused_twice_is_not_tried_a_third_time(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refused(*args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(args[0])
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refused)
    with pytest.raises(errors.UpstreamUnreachableError):
        _gateway("http://127.0.0.1:9").converse("m", REQUEST)
    assert len(attempts) == 2
