"""The AI Nexus outbound adapter: Bedrock Runtime REST over a pooled ``requests`` session."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from adapters.nexus import converse_wire
from adapters.nexus.errors import bedrock_message, error_from_response, translated_errors, upstream_error
from adapters.nexus.eventstream import decode_frames
from domain.errors import UpstreamFailureError
from domain.vocab import converse as c

log = logging.getLogger("nexus_claude_api.nexus")
_READ_SIZE = 64 * 1024


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <key>``, as Bedrock API keys are sent; never shown in repr."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


def _session(pool_size: int, api_key: str) -> requests.Session:
    session = requests.Session()
    # One pool per host, wide enough for every concurrent stream; never retry a POST
    # here, since a retried generation is billed twice.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Session-wide auth keeps the environment useful (HTTPS_PROXY, NO_PROXY,
    # REQUESTS_CA_BUNDLE for company TLS inspection) while ~/.netrc is never consulted.
    session.auth = BearerAuth(api_key)
    return session


class RequestsConverseStream:
    """An open ConverseStream HTTP response, read frame by frame as bytes arrive."""

    def __init__(self, response: requests.Response, host: str) -> None:
        self._response = response
        self._host = host
        self._closed = False

    def _chunks(self) -> Iterator[bytes]:
        raw = self._response.raw
        while not self._closed:
            # read1 returns what the socket has now, so each frame is passed on at once;
            # decoded, in case something between us and Bedrock compressed the stream.
            data = raw.read1(_READ_SIZE, decode_content=True)
            if not data:
                return
            yield data

    def __iter__(self) -> Iterator[c.StreamEvent]:
        try:
            with translated_errors(self._host):
                for frame in decode_frames(self._chunks()):
                    event = _event(frame.headers, frame.payload)
                    if event is not None:
                        yield event
        except UpstreamFailureError:
            if not self._closed:
                raise

    def close(self) -> None:
        """Release the connection now; safe from another thread during a blocked read."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            self._response.raw.shutdown()  # wakes a reader blocked in recv()
        self._response.close()


def _event(headers: Any, payload: bytes) -> c.StreamEvent | None:
    message_type = headers.get(":message-type")
    if message_type == "event":
        try:
            return converse_wire.parse_stream_event(headers.get(":event-type", ""), _json(payload))
        except UpstreamFailureError:
            raise
        except Exception:
            raise UpstreamFailureError("Nexus sent a stream event this proxy cannot read") from None
    if message_type == "exception":
        code = str(headers.get(":exception-type", ""))
        raise upstream_error(None, code, bedrock_message(_json(payload)))
    code = str(headers.get(":error-code", "unknown"))
    raise upstream_error(None, code, str(headers.get(":error-message", "")))


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        raise UpstreamFailureError("Nexus sent an event that is not valid JSON") from None


class RequestsConverseGateway:
    """``ConverseGateway`` for AI Nexus, authenticated with ``Authorization: Bearer``."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        api_key: str,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
        count_timeout: float = 10.0,
        pool_size: int = 64,
    ) -> None:
        self._base = endpoint_url.rstrip("/")
        self._host = urlsplit(self._base).netloc or self._base
        self._headers = {"Content-Type": "application/json"}
        self._timeout = (connect_timeout, read_timeout)
        # Counting answers in well under a second when it works; waiting long for it
        # would stall Claude Code's /context, which has a local estimate to fall back on.
        self._count_timeout = (connect_timeout, count_timeout)
        self._session = _session(pool_size, api_key)

    def _post(
        self,
        model_id: str,
        operation: str,
        body: dict[str, Any],
        *,
        stream: bool,
        timeout: tuple[float, float] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        url = f"{self._base}/model/{quote(model_id, safe='')}/{operation}"
        with translated_errors(self._host):
            response = self._session.post(
                url,
                json=body,
                headers={**self._headers, **(headers or {})},
                timeout=timeout or self._timeout,
                stream=stream,
            )
        log.debug("nexus %s %s -> %s", operation, model_id, response.status_code)
        if response.status_code >= 400:
            error = error_from_response(response)
            response.close()
            raise error
        return response

    def converse(self, model_id: str, request: c.ConverseRequest) -> c.ConverseResponse:
        response = self._post(model_id, "converse", converse_wire.request_json(request), stream=False)
        with translated_errors(self._host):
            body = response.json()
        try:
            return converse_wire.parse_response(body)
        except Exception:
            raise UpstreamFailureError("Nexus sent a Converse response this proxy cannot read") from None

    def converse_stream(self, model_id: str, request: c.ConverseRequest) -> RequestsConverseStream:
        body = converse_wire.request_json(request)
        # Compression would make a gateway buffer the stream; ask for none.
        response = self._post(model_id, "converse-stream", body, stream=True, headers={"Accept-Encoding": "identity"})
        return RequestsConverseStream(response, self._host)

    def count_tokens(self, model_id: str, request: c.ConverseRequest) -> int:
        body = converse_wire.count_tokens_json(request)
        response = self._post(model_id, "count-tokens", body, stream=False, timeout=self._count_timeout)
        with translated_errors(self._host):
            answer = response.json()
        count = answer.get("inputTokens") if isinstance(answer, dict) else None
        if not isinstance(count, int):
            raise UpstreamFailureError("Nexus sent a CountTokens response without inputTokens")
        return count
