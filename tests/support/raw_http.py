"""Bytes to a local server on a plain socket, and every byte it answers until it closes."""

from __future__ import annotations

import socket


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` to 127.0.0.1:``port``, end the sending side, and read the whole reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply
