"""HTTP/1.x only: any other version is a 400 before Falcon sees it.

uvicorn's h11 parser accepts an HTTP/2 connection preface (``PRI * HTTP/2.0``) as a
request line and hands the app an ``http_version`` of "2.0", which Falcon refuses by
raising from its ASGI entry, before any error handler: uvicorn then logs a traceback
and answers a plain-text 500. Garbage request lines never reach the app (uvicorn answers
them 400 itself, logging one warning line).
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.http.errors import error_body
from adapters.http.json_limits import to_json_bytes

log = logging.getLogger("nexus_claude_api.http")
SUPPORTED = ("1.0", "1.1")


def unsupported_message(version: str) -> str:
    """What a request in HTTP ``version``, which this proxy does not speak, is told."""
    return f"HTTP/{version[:10]} is not supported; this proxy speaks HTTP/1.1"


def bad_request_body(message: str) -> bytes:
    """Anthropic's JSON body for a 400 refused before the app (no request id yet)."""
    return to_json_bytes(error_body("invalid_request_error", message, None))


class HttpVersionGuard:
    """ASGI wrapper answering requests in an unsupported HTTP version with a JSON 400."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on, or refuse it when it is not HTTP/1.x."""
        version = scope.get("http_version", "1.1") if scope["type"] == "http" else None
        if version is None or version in SUPPORTED:
            await self._app(scope, receive, send)
            return
        log.info("refused an HTTP/%.10s request", version)
        body = bad_request_body(unsupported_message(version))
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
