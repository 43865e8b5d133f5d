"""Per-request bookkeeping: a request id on every response, and a one-line summary log."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from typing import Any

import falcon.asgi

from adapters.http.traffic import Exchange, TrafficLog
from domain.vocab import anthropic as a

log = logging.getLogger("nexus_claude_api.http")


# Unique, not secret: seeded once, as a draw from the system per id is a system call,
# which lets go of the GIL behind busy streams (as domain.to_anthropic.response's ids).
_DRAWS = random.Random(secrets.randbits(128))


def new_request_id() -> str:
    """A fresh ``req_`` id for one request's response and log lines."""
    return f"req_{_DRAWS.getrandbits(96):024x}"


class RequestContext:
    """Stamps ``request-id`` and logs method, path, status, size and time (never bodies).

    With a ``TrafficLog``, each ``/v1/messages`` answered whole (or refused) is recorded
    there too; a stream that started records itself when it ends (``ObservedStream``).
    """

    def __init__(self, traffic: TrafficLog | None = None) -> None:
        self._traffic = traffic

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
        self._account(req, resp)
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

    def _account(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self._traffic is None or req.path != "/v1/messages" or req.method != "POST":
            return
        if getattr(req.context, "streaming", False) and resp.status_code < 400:
            return  # the stream records itself at its end
        requested, upstream = getattr(req.context, "models", ("-", "-"))
        # Logged once the loop is free again: the answer is written first, not after the line.
        asyncio.get_running_loop().call_soon(
            self._traffic.record,
            Exchange(
                request_id=req.context.request_id,
                requested_model=requested,
                upstream_model=upstream,
                streamed=bool(getattr(req.context, "streaming", False)),
                status=resp.status_code,
                total_s=time.perf_counter() - req.context.started,
                usage=getattr(req.context, "usage", None) or a.Usage(),
                error_type=getattr(req.context, "error_type", None),
            ),
        )
