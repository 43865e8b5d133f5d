"""The failures the proxy knows about, in its own words.

Adapters raise these; the HTTP edge maps each class to one status and Anthropic error
type (see ``adapters/http/errors.py``). Messages are shown to users, so they never hold
secrets, prompt text or base64 data.
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


class ForbiddenRequestError(ProxyError):
    """A request the proxy will not serve from where it came (a browser page, a foreign host)."""


class ModelNotFoundError(ProxyError):
    """The requested model id does not resolve to any exposed model."""


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
