"""A fake AI Nexus: Bedrock Runtime's Converse REST API on a loopback port, for tests.

It records every request, checks each body against botocore's service model
(``converse_validation``), and answers with queued replies (``nexus_replies``) or defaults.
A body Bedrock would reject gets Bedrock's 400 ``ValidationException`` and takes no reply
from the queue. Any ``Authorization`` is accepted; tests assert on the recorded headers.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import select
import socket
import struct
import sys
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from tests.support.converse_validation import validate_converse_body
from tests.support.nexus_replies import (
    Cut,
    Event,
    Gate,
    JsonReply,
    RawBytes,
    Reply,
    StreamException,
    StreamReply,
    error_reply,
    frame_bytes,
    padded,
    text_reply,
    text_stream,
    token_usage,
)

__all__ = [
    "Cut",
    "Event",
    "FakeNexus",
    "Gate",
    "JsonReply",
    "RawBytes",
    "RecordedRequest",
    "StreamException",
    "StreamReply",
    "error_reply",
    "padded",
    "text_reply",
    "text_stream",
    "token_usage",
]

_PATH = re.compile(r"/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream|count-tokens)")
_GATE_POLL_SECONDS = 0.02


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request as the fake received it.

    Attributes:
        operation: ``"converse"``, ``"converse-stream"``, ``"count-tokens"``, or
            ``"unknown"`` for any other method or path.
        model_id: the model ID path segment, unquoted.
        path: the request target exactly as sent, still percent-encoded.
        headers: the headers as received; ``header()`` looks one up case-insensitively.
        body: the parsed JSON body (``None`` when it was not JSON).
        errors: why Bedrock would reject the request; ``[]`` when it is valid.
    """

    operation: str
    model_id: str
    path: str
    headers: dict[str, str]
    body: Any
    errors: list[str]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


ReplySource = Reply | Callable[[RecordedRequest], Reply]


class FakeNexus:
    """The fake server. Use as a context manager, or ``start()`` then ``close()``.

    Attributes:
        url: the base URL, ``http://127.0.0.1:<port>``.
        requests: every request received, in arrival order.
        connections_closed_by_client: streams the client abandoned before their end.
        handler_errors: unexpected exceptions raised while serving (a bug in a test or here).
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.connections_closed_by_client = 0
        self.handler_errors: list[BaseException] = []
        self._replies: collections.deque[ReplySource] = collections.deque()
        self._lock = threading.Lock()
        self._invalid_allowed = False
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeNexus:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and drop open connections, which ends any handler still waiting."""
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeNexus:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def enqueue(self, *replies: ReplySource) -> None:
        """Queue replies, first in first out; a callable gets the request and returns a reply."""
        with self._lock:
            self._replies.extend(replies)

    def allow_invalid(self) -> None:
        """Let the test end without failing although some request was invalid."""
        self._invalid_allowed = True

    @property
    def invalid_allowed(self) -> bool:
        return self._invalid_allowed

    def invalid_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.errors]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            source = self._replies.popleft() if self._replies else _default_reply
        return source(request) if callable(source) else source

    def _client_went_away(self) -> None:
        with self._lock:
            self.connections_closed_by_client += 1


def _default_reply(request: RecordedRequest) -> Reply:
    if request.operation == "converse-stream":
        return text_stream("Hello", " from fake Nexus")
    if request.operation == "count-tokens":
        return JsonReply({"inputTokens": 42})
    return text_reply("Hello from fake Nexus")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, fake: FakeNexus) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client or a Cut
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, OSError):
            self.fake.handler_errors.append(error)


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked responses
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # Keep pytest output clean.

    def do_POST(self) -> None:
        fake = self.server.fake
        request = self._recorded(self._read_body())
        fake._record(request)
        if request.operation == "unknown":
            reply: Reply = error_reply(404, "UnknownOperationException", request.errors[0])
        elif request.errors:
            reply = error_reply(400, "ValidationException", "; ".join(request.errors))
        else:
            reply = fake._next_reply(request)
        if isinstance(reply, StreamReply):
            self._send_stream(reply)
        else:
            self._send_json(reply)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    def _read_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)

    def _recorded(self, raw: bytes) -> RecordedRequest:
        match = _PATH.fullmatch(urlsplit(self.path).path)
        operation = match["op"] if match and self.command == "POST" else "unknown"
        model_id = unquote(match["model"]) if match else ""
        body, errors = None, [f"unknown operation: {self.command} {self.path}"]
        if operation != "unknown":
            try:
                body = json.loads(raw)
                errors = validate_converse_body(operation, model_id, body)
            except ValueError as exc:
                errors = [f"body is not JSON: {exc}"]
        headers = dict(self.headers.items())
        return RecordedRequest(
            operation=operation,
            model_id=model_id,
            path=self.path,
            headers=headers,
            body=body,
            errors=errors,
        )

    def _start(self, status: int, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)

    def _send_json(self, reply: JsonReply) -> None:
        raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        headers = dict(reply.headers)
        content_type = headers.pop("Content-Type", "application/json")
        self._start(reply.status, content_type, {**headers, "Content-Length": str(len(raw))})
        self.end_headers()
        self.wfile.write(raw)

    def _send_stream(self, reply: StreamReply) -> None:
        try:
            self._start(200, "application/vnd.amazon.eventstream", {"Transfer-Encoding": "chunked"})
            self.end_headers()
            for item in reply.items:
                if isinstance(item, Gate):
                    self._wait(item)
                elif isinstance(item, Cut):
                    self._cut(item)
                    return
                else:
                    data = frame_bytes(item)
                    self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        except (_ClientGone, OSError):
            self.close_connection = True
            reply.client_closed.set()
            self.server.fake._client_went_away()
        finally:
            reply.finished.set()

    def _wait(self, gate: Gate) -> None:
        while not gate.event.wait(_GATE_POLL_SECONDS):
            if self._peer_closed():
                raise _ClientGone

    def _peer_closed(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _cut(self, cut: Cut) -> None:
        self.close_connection = True
        if cut.reset:
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            # The socket stays open while its file objects do; close them so close() sends RST.
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_RDWR)
