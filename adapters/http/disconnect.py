"""Knowing, without polling, that the HTTP client has gone away, or the server is stopping.

An ASGI server's ``send()`` silently does nothing once the client has disconnected, so
a stream would keep reading Nexus (and billing tokens) for nobody. Falcon's SSE loop
already listens for ``http.disconnect``; this wrapper turns that message into a
``Disconnected`` event, which also calls back the stream waiting on it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from adapters.http.threads import succeeded
from domain.errors import ShuttingDownError

SCOPE_KEY = "nexus_claude_api.disconnected"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")


class Disconnected(asyncio.Event):
    """The client's disconnect: an ``asyncio.Event`` that also calls back who asked to know.

    A stream learns of it through a callback, not a task waiting on the event: one task
    fewer to create, step and cancel per stream.
    """

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        """Set the event, then call each callback once (loop thread)."""
        super().set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def call_on_set(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the event is set: now, if it already is."""
        if self.is_set():
            callback()
        else:
            self._callbacks.append(callback)

    def forget(self, callback: Callable[[], None]) -> None:
        """No call for ``callback`` any more (idempotent)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)


class DisconnectSignal:
    """ASGI middleware: ``scope[SCOPE_KEY]`` is set once the client disconnects."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve HTTP requests with the disconnect event in ``scope``; pass other scopes through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        disconnected = Disconnected()

        async def watched_receive() -> MutableMapping[str, Any]:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected.set()
            return message

        await self._app({**scope, SCOPE_KEY: disconnected}, watched_receive, send)


def disconnect_event(scope: Scope) -> Disconnected:
    """The request's disconnect signal (a never-set event outside ``DisconnectSignal``)."""
    found: Disconnected | None = scope.get(SCOPE_KEY)
    return found or Disconnected()


class ShutdownSignal:
    """The server is stopping: open streams end with an error event, pending calls answer 503.

    Loop-agnostic (each waiter is a future on the loop that asked), since one app may be
    driven by several loops in tests. ``begin()`` runs on the server's loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._begun = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._cleanups: list[Callable[[], None]] = []

    @property
    def begun(self) -> bool:
        """True once ``begin()`` was called."""
        return self._begun

    def on_begin(self, cleanup: Callable[[], None]) -> None:
        """Call ``cleanup`` when shutdown begins, after every waiter was woken.

        For example closing the connections to Nexus, which ends the calls still waiting.
        """
        self._cleanups.append(cleanup)

    def waiter(self) -> asyncio.Future[None]:
        """A future on the running loop, done once shutdown has begun; cancel it when done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._begun:
                future.set_result(None)
            else:
                self._waiters.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            self._waiters.discard(future)

    def begin(self) -> None:
        """Wake every waiter, then run the cleanups (idempotent)."""
        with self._lock:
            if self._begun:
                return
            self._begun = True
            waiters, self._waiters = list(self._waiters), set()
        for future in waiters:
            future.get_loop().call_soon_threadsafe(succeeded, future, None)
        for cleanup in self._cleanups:
            cleanup()


def shutting_down_error() -> ShuttingDownError:
    """What a request still pending when the server stops is told (503, retried later)."""
    return ShuttingDownError("nexus-claude-api is shutting down; retry once it is running again")


def _settle(call: asyncio.Future[Any]) -> None:
    # A call abandoned at shutdown: its failure is expected, and a stream it opened after
    # all is closed here, since nobody else will.
    if call.cancelled() or call.exception() is not None:
        return
    close = getattr(call.result(), "close", None)
    if close is not None:
        close()


async def unless_stopping(call: asyncio.Future[T], shutdown: ShutdownSignal | None) -> T:
    """The result of ``call``, or ``ShuttingDownError`` if the server begins to stop first."""
    if shutdown is None:
        return await call
    stopping = shutdown.waiter()
    # One future that either completes: cheaper than asyncio.wait's sets and waiter per call.
    either: asyncio.Future[None] = call.get_loop().create_future()

    def wake(_: object) -> None:
        if not either.done():
            either.set_result(None)

    call.add_done_callback(wake)
    stopping.add_done_callback(wake)
    try:
        await either
    finally:
        stopping.cancel()
        call.remove_done_callback(wake)
    # The flag, not the futures: closing Nexus's sockets may fail the call first.
    if shutdown.begun:
        call.add_done_callback(_settle)
        raise shutting_down_error()
    return call.result()
