"""Knowing, without polling, that the HTTP client has gone away.

An ASGI server's ``send()`` silently does nothing once the client has disconnected, so
a stream would keep reading Nexus (and billing tokens) for nobody. Falcon's SSE loop
already listens for ``http.disconnect``; this wrapper turns that message into an
``asyncio.Event`` the streaming code can wait on alongside the upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

SCOPE_KEY = "nexus_claude_api.disconnected"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DisconnectSignal:
    """ASGI middleware: ``scope[SCOPE_KEY]`` is set once the client disconnects."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve HTTP requests with the disconnect event in ``scope``; pass other scopes through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        disconnected = asyncio.Event()

        async def watched_receive() -> MutableMapping[str, Any]:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected.set()
            return message

        await self._app({**scope, SCOPE_KEY: disconnected}, watched_receive, send)


def disconnect_event(scope: Scope) -> asyncio.Event:
    """The request's disconnect signal (a never-set event outside ``DisconnectSignal``)."""
    return scope.get(SCOPE_KEY) or asyncio.Event()
