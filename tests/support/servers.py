"""The real proxy on a real uvicorn, on a free loopback port, for end-to-end tests.

Starting uvicorn is quick but stopping it is not (a tenth of a second at best), while
building the proxy costs next to nothing. So an ``AppServer`` is one uvicorn for a whole
test module, and each test mounts a freshly built app on it: every test still meets a new
proxy, with none of the memory (refused betas, uncountable models) an earlier test left.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from adapters.http.http_parser import HttpToolsProtocol


class _Server(uvicorn.Server):
    """A uvicorn that stops when told rather than at its next 0.1 s tick."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stop = threading.Event()

    async def main_loop(self) -> None:
        # The first tick sets the default headers; Date then stays fixed, which no test reads.
        await self.on_tick(0)
        await asyncio.get_running_loop().run_in_executor(None, self.stop.wait)


@contextlib.contextmanager
def serving(app: Any, http: type[asyncio.Protocol] | str = HttpToolsProtocol) -> Iterator[str]:
    """Serve ``app``; yields its base URL. The socket listens before the loop starts, so
    clients may connect at once (the kernel queues them). ``http`` is uvicorn's protocol."""
    # Naming TCP lets asyncio turn Nagle off, as uvicorn.run does for `start`.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    # The parser `start` uses, so raw bytes meet the answers a user's proxy gives.
    config = uvicorn.Config(app, log_config=None, lifespan="off", timeout_graceful_shutdown=1, http=http)
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        server.stop.set()
        # uvicorn closes idle keep-alive connections at once and gives a response still
        # being written timeout_graceful_shutdown; the join's bound is only a safety net.
        thread.join(timeout=10)
        sock.close()


class AppServer:
    """An ASGI app that passes each request to the app mounted last.

    Attributes:
        url: the base URL, once ``app_server`` serves it.
    """

    def __init__(self) -> None:
        self.url = ""
        self._app: Any = None

    def mount(self, app: Any) -> str:
        """Serve ``app`` from now on; returns the base URL."""
        self._app = app
        return self.url

    def unmount(self) -> None:
        self._app = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            raise RuntimeError("no app mounted on this test server")
        await self._app(scope, receive, send)


@contextlib.contextmanager
def app_server() -> Iterator[AppServer]:
    """One uvicorn whose app the caller swaps with ``mount``."""
    server = AppServer()
    with serving(server) as url:
        server.url = url
        yield server
