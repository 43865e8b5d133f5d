"""Domain errors -> Anthropic error responses: the one table, and Falcon's handlers."""

from __future__ import annotations

import logging
from typing import Any

import falcon
import falcon.asgi

from adapters.http.json_limits import to_json_bytes
from domain import errors

log = logging.getLogger("nexus_claude_api.http")

# Exception class -> (HTTP status, Anthropic error type). The first match in MRO wins.
ERROR_TABLE: dict[type[errors.ProxyError], tuple[int, str]] = {
    errors.InvalidRequestError: (400, "invalid_request_error"),
    errors.RequestTooLargeError: (413, "request_too_large"),
    errors.AuthenticationRequiredError: (401, "authentication_error"),
    errors.ForbiddenRequestError: (403, "permission_error"),
    errors.ModelNotFoundError: (404, "not_found_error"),
    errors.ProxyBusyError: (429, "rate_limit_error"),
    errors.ShuttingDownError: (503, "api_error"),
    errors.UpstreamRejectedError: (400, "invalid_request_error"),
    errors.UpstreamAuthError: (403, "permission_error"),
    errors.UpstreamNotFoundError: (404, "not_found_error"),
    errors.UpstreamThrottledError: (429, "rate_limit_error"),
    # Not 529 nor "overloaded_error": Claude Code counts either as a 529 and gives up on
    # Opus after three in a row, where a plain 5xx is retried with backoff.
    errors.UpstreamOverloadedError: (503, "api_error"),
    errors.UpstreamTimeoutError: (504, "timeout_error"),
    errors.UpstreamUnreachableError: (502, "api_error"),
    errors.UpstreamFailureError: (502, "api_error"),
    errors.ProxyError: (500, "api_error"),
}
# Seconds Claude Code should wait before retrying a throttled or overloaded request.
RETRY_AFTER = "5"


def classify(error: BaseException) -> tuple[int, str, str]:
    """(status, error type, message) for any exception; unknown ones reveal nothing."""
    for cls in type(error).__mro__:
        if cls in ERROR_TABLE:
            status, kind = ERROR_TABLE[cls]
            return status, kind, getattr(error, "message", str(error))
    return 500, "api_error", "internal error in nexus-claude-api; see its log file"


def error_body(kind: str, message: str, request_id: str | None) -> dict[str, Any]:
    """Anthropic's JSON error body; ``request_id`` repeats the ``request-id`` header."""
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}


def _respond(req: falcon.asgi.Request, resp: falcon.asgi.Response, status: int, kind: str, message: str) -> None:
    resp.status = status
    req.context.error_type = kind  # for the traffic log
    # Not resp.media: Falcon's encoder fails on a lone surrogate in a message from Nexus.
    resp.data = to_json_bytes(error_body(kind, message, getattr(req.context, "request_id", None)))
    resp.content_type = falcon.MEDIA_JSON
    if status in (429, 503):
        resp.set_header("retry-after", RETRY_AFTER)


async def handle_proxy_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: Exception, params: Any
) -> None:
    """Answer a domain error from ``ERROR_TABLE``; expected, so logged briefly."""
    status, kind, message = classify(error)
    log.info("request %s failed: %s %s", getattr(req.context, "request_id", "-"), status, type(error).__name__)
    _respond(req, resp, status, kind, message)


async def handle_http_error(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: Exception, params: Any
) -> None:
    """Answer Falcon's own errors (unknown route, bad method...) in Anthropic's shape."""
    assert isinstance(error, falcon.HTTPError)
    status = error.status_code
    kind = "not_found_error" if status in (404, 405) else "invalid_request_error"
    message = f"{req.method} {req.path} is not part of this API" if status in (404, 405) else error.title
    _respond(req, resp, status, kind, message)


async def handle_unexpected(
    req: falcon.asgi.Request, resp: falcon.asgi.Response, error: Exception, params: Any
) -> None:
    """Answer a bug: logged with its traceback, answered 500 without its details."""
    log.error(
        "request %s: unexpected %s", getattr(req.context, "request_id", "-"), type(error).__name__, exc_info=error
    )
    status, kind, message = classify(error)
    _respond(req, resp, status, kind, message)


def install(app: falcon.asgi.App[falcon.asgi.Request, falcon.asgi.Response]) -> None:
    """Register the handlers; most specific last, as Falcon matches the newest first."""
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(errors.ProxyError, handle_proxy_error)
