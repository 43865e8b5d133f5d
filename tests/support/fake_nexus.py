"""A fake AI Nexus: Bedrock Runtime's Converse REST API on a loopback port, for tests.

It records every request, checks each body against botocore's service model
(``converse_validation``), and answers with queued replies (``nexus_replies``) or defaults.
A body Bedrock would reject gets Bedrock's 400 ``ValidationException`` and takes no reply
from the queue; any other method or path gets a 404. Any ``Authorization`` is accepted;
tests assert on the recorded headers.
"""

from __future__ import annotations

import collections
import json
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from tests.support.converse_validation import validate_converse_body
from tests.support.nexus_http import ReplyServer
from tests.support.nexus_replies import (
    Cut,
    Event,
    Gate,
    JsonReply,
    RawBytes,
    Reply,
    StreamException,
    StreamReply,
    block_delta,
    block_stop,
    error_reply,
    message_start,
    message_stream,
    padded,
    text_reply,
    text_stream,
    token_usage,
    tool_use_events,
)

__all__ = [
    "Cut",
    "Event",
    "FakeNexus",
    "Gate",
    "JsonReply",
    "RawBytes",
    "RecordedRequest",
    "Reply",
    "StreamException",
    "StreamReply",
    "block_delta",
    "block_stop",
    "error_reply",
    "message_start",
    "message_stream",
    "padded",
    "text_reply",
    "text_stream",
    "token_usage",
    "tool_use_events",
]

_PATH = re.compile(r"/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream|count-tokens)")


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request as the fake received it.

    Attributes:
        operation: ``"converse"``, ``"converse-stream"``, ``"count-tokens"``, or
            ``"unknown"`` for any other method or path.
        model_id: the model ID path segment, unquoted.
        path: the request target exactly as sent, still percent-encoded.
        headers: the headers as received; ``header()`` looks one up case-insensitively.
        body: the parsed JSON body (``None`` when it was not JSON).
        errors: why Bedrock would reject the request; ``[]`` when it is valid.
    """

    operation: str
    model_id: str
    path: str
    headers: dict[str, str]
    body: Any
    errors: list[str]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


ReplySource = Reply | Callable[[RecordedRequest], Reply]


class FakeNexus:
    """The fake server. Use as a context manager, or ``start()`` then ``close()``;
    ``reset()`` between the tests that share it.

    Attributes:
        url: the base URL, ``http://127.0.0.1:<port>``.
        requests: every request received, in arrival order.
        connections_closed_by_client: streams the client left before their end.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.connections_closed_by_client = 0
        self._replies: collections.deque[ReplySource] = collections.deque()
        self._lock = threading.Lock()
        self._invalid_allowed = False
        self._server = ReplyServer(self._receive, self._client_went_away)
        self.url = self._server.url

    def start(self) -> FakeNexus:
        self._server.start()
        return self

    def close(self) -> None:
        """Stop serving and drop open connections, which ends any reply still waiting."""
        self._server.close()

    def __enter__(self) -> FakeNexus:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def reset(self) -> None:
        """Forget the requests, queued replies, counters and ``allow_invalid`` so far, so
        that one server serves many tests as if each had its own."""
        with self._lock:
            self.requests = []
            self.connections_closed_by_client = 0
            self._replies.clear()
            self._invalid_allowed = False
        self._server.reset()

    def enqueue(self, *replies: ReplySource) -> None:
        """Queue replies, first in first out; a callable gets the request and returns a reply."""
        with self._lock:
            self._replies.extend(replies)

    def allow_invalid(self) -> None:
        """Let the test end without failing although some request was invalid."""
        self._invalid_allowed = True

    @property
    def invalid_allowed(self) -> bool:
        return self._invalid_allowed

    @property
    def connections_accepted(self) -> int:
        """TCP connections opened so far: fewer than requests means keep-alive worked."""
        return self._server.accepted

    @property
    def handler_errors(self) -> list[BaseException]:
        """Unexpected exceptions raised while serving: a bug in a test's reply or here."""
        return self._server.errors

    def invalid_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.errors]

    def _receive(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        request = _recorded(method, target, headers, raw)
        with self._lock:
            self.requests.append(request)
            source = self._replies.popleft() if self._replies and not request.errors else None
        if request.operation == "unknown":
            return error_reply(404, "UnknownOperationException", request.errors[0])
        if request.errors:
            return error_reply(400, "ValidationException", "; ".join(request.errors))
        if source is None:
            return _default_reply(request)
        return source(request) if callable(source) else source

    def _client_went_away(self) -> None:
        with self._lock:
            self.connections_closed_by_client += 1


def _recorded(method: str, target: str, headers: dict[str, str], raw: bytes) -> RecordedRequest:
    match = _PATH.fullmatch(urlsplit(target).path)
    operation = match["op"] if match and method == "POST" else "unknown"
    model_id = unquote(match["model"]) if match else ""
    body, errors = None, [f"unknown operation: {method} {target}"]
    if operation != "unknown":
        try:
            body = json.loads(raw)
            errors = validate_converse_body(operation, model_id, body)
        except ValueError as exc:
            errors = [f"body is not JSON: {exc}"]
    return RecordedRequest(
        operation=operation,
        model_id=model_id,
        path=target,
        headers=headers,
        body=body,
        errors=errors,
    )


def _default_reply(request: RecordedRequest) -> Reply:
    if request.operation == "converse-stream":
        return text_stream("Hello", " from fake Nexus")
    if request.operation == "count-tokens":
        return JsonReply({"inputTokens": 42})
    return text_reply("Hello from fake Nexus")
