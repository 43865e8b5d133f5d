"""Per-request bookkeeping: a request id on every response, and a one-line summary log."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import falcon.asgi

from domain.errors import ForbiddenRequestError

log = logging.getLogger("nexus_claude_api.http")


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


class RequestContext:
    """Stamps ``request-id`` and logs method, path, status, size and time (never bodies)."""

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        req.context.request_id = new_request_id()
        req.context.started = time.perf_counter()
        resp.set_header("request-id", req.context.request_id)

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header("request-id", req.context.request_id)
        elapsed_ms = (time.perf_counter() - req.context.started) * 1000
        log.debug(
            "%s %s %s %s bytes in %.0f ms (%s)",
            req.method,
            req.path,
            resp.status,
            req.content_length or 0,
            elapsed_ms,
            req.context.request_id,
        )


_LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LocalOnly:
    """Serve local programs only, since the proxy spends the user's Nexus key unasked.

    A web page can POST to 127.0.0.1 without a CORS preflight (a ``text/plain`` body), and
    DNS rebinding lets it read the answer under its own host name. Browsers always send
    ``Origin`` on such requests and Claude Code never does; rebinding shows in ``Host``.
    The ``Host`` check applies only while bound to loopback (``check_host``).
    """

    def __init__(self, *, check_host: bool) -> None:
        self._check_host = check_host

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.get_header("Origin"):
            raise ForbiddenRequestError("requests from web pages are not accepted by nexus-claude-api")
        host = req.get_header("Host")
        if self._check_host and host and _host_name(host).lower() not in _LOOPBACK_NAMES:
            raise ForbiddenRequestError(f"host {host!r} is not this machine; use http://127.0.0.1")
