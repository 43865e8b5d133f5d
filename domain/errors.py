"""The failures the proxy knows about, in its own words.

Adapters raise these; the HTTP edge maps each class to one status and Anthropic error
type (``adapters/http/errors.py``, first match along the class's MRO). Messages are
shown to users, so they never hold secrets, prompt text or base64 data::

    ProxyError                        500 api_error (only when nothing below matches)
    ├── InvalidRequestError           400 invalid_request_error
    ├── RequestTooLargeError          413 request_too_large
    ├── AuthenticationRequiredError   401 authentication_error (wide bind, no access token)
    ├── ForbiddenRequestError         403 permission_error
    ├── ModelNotFoundError            404 not_found_error
    ├── ProxyBusyError                429 rate_limit_error, retry-after (stream limit, body budget)
    ├── ShuttingDownError             503 api_error, retry-after (the server is stopping)
    ├── ConfigError                   (start-up only: one line, exit status 2)
    └── UpstreamError                 Nexus failed to serve the request
        ├── UpstreamRejectedError     400 invalid_request_error (Nexus's 400, reworded)
        ├── UpstreamAuthError         403 permission_error
        ├── UpstreamNotFoundError     404 not_found_error
        ├── UpstreamThrottledError    429 rate_limit_error, retry-after
        ├── UpstreamOverloadedError   503 api_error, retry-after (never 529)
        ├── UpstreamTimeoutError      504 timeout_error
        ├── UpstreamUnreachableError  502 api_error
        └── UpstreamFailureError      502 api_error

Any other exception is a bug: logged with its traceback, answered 500 ``api_error``
with no detail. After a stream's first byte the same table fills an SSE ``error`` event.
"""

from __future__ import annotations


class ProxyError(Exception):
    """Base of every failure a client can be told about."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(ProxyError):
    """The client's request is malformed or asks for something we cannot do."""


class RequestTooLargeError(ProxyError):
    """The request body exceeds the size the proxy accepts."""


class AuthenticationRequiredError(ProxyError):
    """A request to a proxy bound beyond loopback without its access token."""


class ForbiddenRequestError(ProxyError):
    """A request the proxy will not serve from where it came (a browser page, a foreign host)."""


class ModelNotFoundError(ProxyError):
    """The requested model id does not resolve to any exposed model."""


class ProxyBusyError(ProxyError):
    """The proxy serves as many streams, or holds as many request bytes, as it allows."""


class ShuttingDownError(ProxyError):
    """The server began to stop while the request was pending."""


class UpstreamError(ProxyError):
    """Nexus failed to serve the request; subclasses say how."""


class UpstreamRejectedError(UpstreamError):
    """Nexus answered 400: the converted request was refused (validation)."""


class UpstreamAuthError(UpstreamError):
    """Nexus refused the key (401/403)."""


class UpstreamNotFoundError(UpstreamError):
    """Nexus does not know the model or route (404)."""


class UpstreamThrottledError(UpstreamError):
    """Nexus is rate limiting this key (429)."""


class UpstreamOverloadedError(UpstreamError):
    """Nexus or the model is temporarily unavailable (503, model not ready)."""


class UpstreamTimeoutError(UpstreamError):
    """Nexus did not answer in time."""


class UpstreamUnreachableError(UpstreamError):
    """No connection to Nexus could be made."""


class UpstreamFailureError(UpstreamError):
    """Nexus failed internally, or sent something we could not read."""


class ConfigError(ProxyError):
    """The configuration is missing or unusable (raised at start-up)."""
