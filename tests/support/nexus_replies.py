"""Replies the fake AI Nexus server sends, in Bedrock's wire format.

A test queues replies on ``FakeNexus.enqueue``; each incoming request takes the next one.
``JsonReply`` serves Converse, CountTokens and every error before a stream starts;
``StreamReply`` serves ConverseStream as an event stream written item by item.
"""

from __future__ import annotations

import json
import random
import string
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tests.support.eventstream_encoding import encode_frame, event_frame, exception_frame

ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_PADDING = string.ascii_lowercase + string.ascii_uppercase + string.digits


@attrs.frozen
class JsonReply:
    """A whole JSON response. ``body`` may be ``bytes`` to send something that is not JSON."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Event:
    """An ``event`` frame, payload sent exactly as given (add ``"p"`` with ``padded``)."""

    event_type: str
    payload: Mapping[str, Any]


@attrs.frozen
class StreamException:
    """An ``exception`` frame: a modeled error after HTTP 200, e.g. ``throttlingException``.

    ``extra`` adds members such as ``originalStatusCode`` for ``modelStreamErrorException``.
    """

    exception_type: str
    message: str
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class RawBytes:
    """Bytes written as they are, for corrupt or split frames."""

    data: bytes


@attrs.frozen
class Gate:
    """Write nothing further until ``event`` is set; stop if the client goes away first."""

    event: threading.Event


@attrs.frozen
class Cut:
    """Drop the connection without the terminating chunk: FIN, or RST when ``reset``."""

    reset: bool = False


StreamItem = Event | StreamException | RawBytes | Gate | Cut


@attrs.define(eq=False)
class StreamReply:
    """A 200 ``application/vnd.amazon.eventstream`` reply, each item flushed as its own chunk.

    Attributes:
        items: what to write, in order.
        client_closed: set when a write failed or the client closed the connection.
        finished: set when the server is done with this reply, whichever way it ended.
    """

    items: list[StreamItem]
    client_closed: threading.Event = attrs.field(factory=threading.Event)
    finished: threading.Event = attrs.field(factory=threading.Event)


Reply = JsonReply | StreamReply


def frame_bytes(item: Event | StreamException | RawBytes) -> bytes:
    """The bytes one stream item puts on the wire."""
    if isinstance(item, Event):
        return event_frame(item.event_type, dict(item.payload))
    if isinstance(item, RawBytes):
        return item.data
    if not item.extra:
        return exception_frame(item.exception_type, item.message)
    headers = [
        (":exception-type", 7, item.exception_type),
        (":content-type", 7, "application/json"),
        (":message-type", 7, "exception"),
    ]
    payload = {"message": item.message, **item.extra}
    return encode_frame(headers, json.dumps(payload).encode("utf-8"))


def error_reply(status: int, error_type: str, message: str, *, capital_m: bool = False) -> JsonReply:
    """A Bedrock error: ``x-amzn-ErrorType`` header and ``{"message": ...}``.

    ``capital_m`` sends ``{"Message": ...}``, as Bedrock's authentication front door does.
    """
    key = "Message" if capital_m else "message"
    headers = {"x-amzn-ErrorType": error_type + ERROR_TYPE_SUFFIX}
    return JsonReply({key: message}, status=status, headers=headers)


def token_usage(input_tokens: int = 10, output_tokens: int = 5, **extra: Any) -> dict[str, Any]:
    """A ``TokenUsage``; ``totalTokens`` adds the cache counts given in ``extra``."""
    cached = sum(extra.get(k, 0) for k in ("cacheReadInputTokens", "cacheWriteInputTokens"))
    total = input_tokens + output_tokens + cached
    return {
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": total,
        **extra,
    }


def text_reply(
    text: str,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 5,
    **usage_extra: Any,
) -> JsonReply:
    """A ConverseResponse holding one text block."""
    return JsonReply(
        {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop_reason,
            "usage": token_usage(input_tokens, output_tokens, **usage_extra),
            "metrics": {"latencyMs": 123},
        }
    )


def padded(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload plus Bedrock's ``"p"`` padding field, of random length."""
    return {**payload, "p": _PADDING[: random.randint(1, len(_PADDING))]}


def message_start() -> Event:
    """The ``messageStart`` event every ConverseStream reply begins with."""
    return Event("messageStart", padded({"role": "assistant"}))


def block_delta(index: int, delta: Mapping[str, Any]) -> Event:
    """A ``contentBlockDelta``: ``{"text": ...}``, ``{"toolUse": {"input": ...}}``, ..."""
    return Event("contentBlockDelta", padded({"contentBlockIndex": index, "delta": dict(delta)}))


def block_stop(index: int) -> Event:
    return Event("contentBlockStop", padded({"contentBlockIndex": index}))


def tool_use_events(index: int, tool_id: str, name: str, parts: Iterable[str]) -> list[Event]:
    """A ``toolUse`` block as Bedrock streams it: a start naming the tool, the input JSON in
    ``parts``, a stop."""
    start = {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool_id, "name": name}}}
    return [
        Event("contentBlockStart", padded(start)),
        *(block_delta(index, {"toolUse": {"input": part}}) for part in parts),
        block_stop(index),
    ]


def message_stream(
    blocks: Iterable[StreamItem], *, stop_reason: str = "end_turn", usage: Mapping[str, Any] | None = None
) -> StreamReply:
    """A whole ConverseStream reply: ``messageStart``, the blocks' events, ``messageStop``
    and the ``metadata`` with the usage."""
    metadata = {"usage": dict(usage or token_usage()), "metrics": {"latencyMs": 123}}
    return StreamReply(
        [
            message_start(),
            *blocks,
            Event("messageStop", padded({"stopReason": stop_reason})),
            Event("metadata", padded(metadata)),
        ]
    )


def text_stream(*chunks: str, stop_reason: str = "end_turn", usage: Mapping[str, Any] | None = None) -> StreamReply:
    """A ConverseStream reply in Bedrock's order: no ``contentBlockStart`` for text."""
    deltas = [block_delta(0, {"text": chunk}) for chunk in chunks]
    return message_stream([*deltas, block_stop(0)], stop_reason=stop_reason, usage=usage)
