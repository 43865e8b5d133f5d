"""Bedrock error responses and low-level failures -> domain errors, in one place."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from domain import errors

# Longer messages from Nexus are cut: they go into one JSON error and one log line.
MAX_MESSAGE_CHARS = 4096
_MAX_CODE_CHARS = 100
_MASK = "****"
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
KEY_HINT = (
    "set another with `nexus-claude-api config set --api-key` (it asks for it) or NEXUS_API_KEY, then restart the proxy"
)

# Bedrock error codes (from x-amzn-ErrorType or an in-stream :exception-type), lower-cased.
_BY_CODE: dict[str, type[errors.UpstreamError]] = {
    "validationexception": errors.UpstreamRejectedError,
    "accessdeniedexception": errors.UpstreamAuthError,
    "unrecognizedclientexception": errors.UpstreamAuthError,
    "resourcenotfoundexception": errors.UpstreamNotFoundError,
    "throttlingexception": errors.UpstreamThrottledError,
    "servicequotaexceededexception": errors.UpstreamThrottledError,
    "modelnotreadyexception": errors.UpstreamOverloadedError,
    "serviceunavailableexception": errors.UpstreamOverloadedError,
    "modeltimeoutexception": errors.UpstreamTimeoutError,
    "internalserverexception": errors.UpstreamFailureError,
    "modelstreamerrorexception": errors.UpstreamFailureError,
    "modelerrorexception": errors.UpstreamFailureError,
}
_BY_STATUS: dict[int, type[errors.UpstreamError]] = {
    400: errors.UpstreamRejectedError,
    401: errors.UpstreamAuthError,
    403: errors.UpstreamAuthError,
    404: errors.UpstreamNotFoundError,
    408: errors.UpstreamTimeoutError,
    413: errors.UpstreamRejectedError,
    429: errors.UpstreamThrottledError,
    503: errors.UpstreamOverloadedError,
    504: errors.UpstreamTimeoutError,
}


def error_code(header: str | None) -> str:
    """``ValidationException:http://...`` or ``aws#ThrottlingException`` -> the bare code."""
    return (header or "").split(":", 1)[0].rsplit("#", 1)[-1].strip()


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` from Nexus made safe to show: secrets and ``Bearer`` tokens masked, length bounded.

    A gateway may echo the request's ``Authorization`` header in its error text; that text
    reaches Claude Code and the log. Exact secrets go first, before the cut, so no part of
    one survives at the edge; the regular expression then runs on a bounded prefix.
    """
    # Keys shorter than 8 characters are not real keys (tests use "k"); masking them would
    # garble the text.
    for secret in sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "…"
    return _BEARER.sub(rf"\1 {_MASK}", text)


def upstream_error(status: int | None, code: str, message: str, secrets: Iterable[str] = ()) -> errors.UpstreamError:
    """The domain error for a Bedrock error: by its code first, else by HTTP status.

    ``code`` and ``message`` come from Nexus and are scrubbed of ``secrets`` (the key) and
    bearer tokens before they go into the error's message.
    """
    cls = _BY_CODE.get(code.lower()) or _BY_STATUS.get(status or 0, errors.UpstreamFailureError)
    code, message = scrub(code, secrets)[:_MAX_CODE_CHARS], scrub(message, secrets)
    label = code or f"HTTP {status}"
    if cls is errors.UpstreamAuthError:
        return cls(f"AI Nexus refused the API key ({label}: {message}); {KEY_HINT}")
    return cls(f"{message} ({label} from AI Nexus)" if message else f"AI Nexus answered {label}")


def bedrock_message(body: Any) -> str:
    """Bedrock's error text: ``message``, or ``Message`` from its auth front door."""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("Message") or "")
    return ""


def error_from_response(response: requests.Response, secrets: Iterable[str] = ()) -> errors.UpstreamError:
    """The domain error for a failed Nexus response, from its headers and JSON body (scrubbed)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code = error_code(response.headers.get("x-amzn-ErrorType")) or str(
        (body or {}).get("__type", "") if isinstance(body, dict) else ""
    )
    return upstream_error(response.status_code, error_code(code), bedrock_message(body), secrets)


def redirect_error(response: requests.Response) -> errors.UpstreamError:
    """A 3xx from Nexus, never followed: an ``api_error`` naming the status and where it pointed."""
    location = response.headers.get("Location", "")
    # Only the host: a Location may carry a token in its query.
    target = (urlsplit(location).hostname or "the same host") if location else "nowhere"
    return errors.UpstreamFailureError(
        f"AI Nexus answered HTTP {response.status_code}, a redirect to {target}; "
        "nexus-claude-api never follows redirects (check endpoint_url)"
    )


@contextlib.contextmanager
def translated_errors(host: str) -> Iterator[None]:
    """Turn requests/urllib3 failures, also those raised mid-stream, into domain errors."""
    try:
        yield
    except (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError) as error:
        raise errors.UpstreamUnreachableError(f"AI Nexus at {host} did not accept a connection in time") from error
    except (requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError) as error:
        raise errors.UpstreamTimeoutError(f"AI Nexus at {host} stopped responding (read timeout)") from error
    except requests.exceptions.SSLError as error:
        raise errors.UpstreamUnreachableError(f"TLS handshake with AI Nexus at {host} failed") from error
    except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError) as error:
        raise errors.UpstreamFailureError(f"the connection to AI Nexus at {host} was cut") from error
    except UnicodeEncodeError as error:
        # Only the key can carry what an HTTP header cannot (bodies go out as bytes).
        raise errors.UpstreamAuthError(
            f"the API key holds characters an HTTP header cannot carry; {KEY_HINT}"
        ) from error
    except requests.ConnectionError as error:
        raise errors.UpstreamUnreachableError(f"cannot connect to AI Nexus at {host}") from error
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        raise errors.UpstreamFailureError(f"talking to AI Nexus at {host} failed: {type(error).__name__}") from error
