"""The HTTP side of the fake AI Nexus: a threaded HTTP/1.1 server that writes replies.

``ReplyServer`` hands each request to a ``receive`` function and writes the reply it
returns: a ``JsonReply`` whole, a ``StreamReply`` item by item as HTTP chunks. It knows
nothing of Bedrock's operations; ``fake_nexus`` does.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import select
import socket
import struct
import sys
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.nexus_replies import Cut, Gate, JsonReply, Reply, StreamReply, frame_bytes

# receive(method, target, headers, body) -> the reply to send.
Receive = Callable[[str, str, dict[str, str], bytes], Reply]
POLL_SECONDS = 0.02


class ReplyServer(ThreadingHTTPServer):
    """Serves on a free loopback port, one daemon thread per connection.

    Attributes:
        url: the base URL, ``http://127.0.0.1:<port>``.
        errors: unexpected exceptions raised while serving.
        accepted: how many connections were opened.
    """

    daemon_threads = True
    request_queue_size = 128  # many clients may connect at once

    def __init__(self, receive: Receive, on_client_gone: Callable[[], None]) -> None:
        self.receive = receive
        self.on_client_gone = on_client_gone
        self.errors: list[BaseException] = []
        self.accepted = 0
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        # A short poll interval, so that close() returns at once rather than in 0.5 s.
        serve = functools.partial(self.serve_forever, poll_interval=POLL_SECONDS)
        self._thread = threading.Thread(target=serve, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def reset(self) -> None:
        """Forget the errors and the count of connections so far."""
        self.errors.clear()
        with self._connections_lock:
            self.accepted = 0

    def close(self) -> None:
        """Stop serving and drop open connections, which ends any handler still waiting."""
        self.shutdown()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client or a Cut
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self._thread.join()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
            self.accepted += 1
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, OSError):
            self.errors.append(error)


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked responses
    # Headers and body go out in separate writes; with Nagle on, each answer would wait
    # ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: ReplyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # Keep pytest output clean.

    def do_POST(self) -> None:
        headers = dict(self.headers.items())
        reply = self.server.receive(self.command, self.path, headers, self._read_body())
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

    def _start(self, status: int, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_json(self, reply: JsonReply) -> None:
        raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        headers = dict(reply.headers)
        content_type = headers.pop("Content-Type", "application/json")
        self._start(reply.status, content_type, {**headers, "Content-Length": str(len(raw))})
        self.wfile.write(raw)

    def _send_stream(self, reply: StreamReply) -> None:
        try:
            self._start(200, "application/vnd.amazon.eventstream", {"Transfer-Encoding": "chunked"})
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
            self.server.on_client_gone()
        finally:
            reply.finished.set()

    def _wait(self, gate: Gate) -> None:
        while not gate.event.wait(POLL_SECONDS):
            if self._peer_closed():
                raise _ClientGone

    def _peer_closed(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True

    def _cut(self, cut: Cut) -> None:
        self.close_connection = True
        if not cut.reset:
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket stays open while its file objects do: close them, so that close()
        # really closes and sends RST, and leave dummies for the handler's final flush.
        self.rfile.close()
        self.wfile.close()
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.connection.close()
