"""Every connection the gateway opened to Nexus, so that stopping can end the calls on them.

A call waiting for Nexus's first byte is blocked in ``recv()`` inside urllib3, where
nothing but the socket can reach it: shutting the socket down ends that read at once
(the call fails, its thread returns), where waiting would hold the process up to the read
timeout. The pools make their connections from the classes here, which note each one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager


class OpenConnections:
    """The connections made so far and not yet collected; ``shut_all()`` ends their reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: weakref.WeakSet[HTTPConnection] = weakref.WeakSet()

    def add(self, connection: HTTPConnection) -> None:
        """Note a connection just connected."""
        with self._lock:
            self._connections.add(connection)

    def shut_all(self) -> int:
        """Shut every connected socket down for reading and writing; returns how many."""
        with self._lock:
            connections = list(self._connections)
        shut = 0
        for connection in connections:
            sock: Any = connection.sock
            if sock is None:
                continue
            # The plain socket's shutdown, even under TLS: SSLSocket.shutdown would also
            # drop the TLS state a reader in another thread is using.
            raw = getattr(sock, "socket", sock)  # urllib3's SSLTransport wraps a socket
            with contextlib.suppress(OSError, ValueError):
                socket.socket.shutdown(raw, socket.SHUT_RDWR)
                shut += 1
        return shut


def track(manager: PoolManager, connections: OpenConnections) -> None:
    """Have ``manager``'s pools note every connection they make in ``connections``."""

    class Http(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            connections.add(self)

    class Https(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            connections.add(self)

    class HttpPool(HTTPConnectionPool):
        ConnectionCls = Http

    class HttpsPool(HTTPSConnectionPool):
        ConnectionCls = Https

    manager.pool_classes_by_scheme = {"http": HttpPool, "https": HttpsPool}
