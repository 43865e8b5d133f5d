"""Per-request bookkeeping: a request id on every response, and a one-line summary log."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import falcon.asgi

log = logging.getLogger("nexus_claude_api.http")


def new_request_id() -> str:
    """A fresh ``req_`` id for one request's response and log lines."""
    return "req_" + secrets.token_hex(12)


class RequestContext:
    """Stamps ``request-id`` and logs method, path, status, size and time (never bodies)."""

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Give the request its id and start its clock."""
        req.context.request_id = new_request_id()
        req.context.started = time.perf_counter()
        resp.set_header("request-id", req.context.request_id)

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, req_succeeded: bool
    ) -> None:
        """Stamp the id on the final response too, and log the request's one-line summary."""
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
