"""A read's event-stream messages as domain events, consecutive plain deltas as one run.

Bedrock sends one frame per delta, and a read of a busy stream brings hundreds. Consecutive
plain deltas of one block (text, tool input, reasoning text) become one ``c.DeltaRun``; the
other frames become one event each, a common delta built directly, anything else through
``converse_wire``. Only exact JSON types take the direct paths (cattrs would also coerce,
say, an index of ``"0"``), so no payload is read differently from cattrs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from adapters.nexus import converse_wire
from adapters.nexus.converse_wire import UNREADABLE
from adapters.nexus.errors import bedrock_message, upstream_error
from adapters.nexus.eventstream import Message
from domain.errors import UpstreamError, UpstreamFailureError
from domain.vocab import builders
from domain.vocab import converse as c

_loads = orjson.loads
# The kind of run a plain delta's key (and, within it, its one key) makes.
_PLAIN = {("toolUse", "input"): "tool_input", ("reasoningContent", "text"): "reasoning"}
_NO_RUN = object()


def plain_piece(payload: Any) -> tuple[int, c.RunKind, str] | None:
    """A plain ``contentBlockDelta`` payload's block index, run kind and text; None for others."""
    if type(payload) is not dict or type(index := payload.get("contentBlockIndex")) is not int:
        return None
    delta = payload.get("delta")
    if type(delta) is not dict or len(delta) != 1:
        return None
    [(key, value)] = delta.items()
    if key == "text":
        return (index, "text", value) if type(value) is str else None
    if type(value) is not dict or len(value) != 1:
        return None
    [(inner, text)] = value.items()
    kind: Any = _PLAIN.get((key, inner))
    return (index, kind, text) if kind is not None and type(text) is str else None


def fast_block_delta(payload: Any) -> c.ContentBlockDeltaEvent | None:
    """A common ``contentBlockDelta`` built directly, as cattrs would structure it, or None.

    Text, tool input, and reasoning text or signature take this path; anything else (None)
    is left to cattrs, whose hooks cost several times the event's other work.
    """
    piece = plain_piece(payload)
    return builders.converse_piece(*piece) if piece is not None else _signature_delta(payload)


def _signature_delta(payload: Any) -> c.ContentBlockDeltaEvent | None:
    """A reasoning block's signature delta built directly, or None."""
    if type(payload) is not dict or type(index := payload.get("contentBlockIndex")) is not int:
        return None
    delta = payload.get("delta")
    if type(delta) is not dict or len(delta) != 1 or type(reasoning := delta.get("reasoningContent")) is not dict:
        return None
    if len(reasoning) != 1 or type(signature := reasoning.get("signature")) is not str:
        return None
    return builders.converse_delta(index, c.ReasoningDelta(reasoning_content=c.ReasoningChunk(signature=signature)))


class _Run:
    """The plain deltas gathered so far, of one block and kind."""

    def __init__(self, events: list[c.StreamEvent]) -> None:
        self._events = events
        self.index: int | None = None  # None: no run under way
        self.kind: c.RunKind = "text"
        self.pieces: list[str] = []

    def add(self, index: int, kind: c.RunKind, text: str) -> None:
        """One more piece: of the run under way, or the first of a new one."""
        if index != self.index or kind != self.kind:
            self.end()
            self.index, self.kind = index, kind
        self.pieces.append(text)

    def end(self) -> None:
        """The run so far into the events: a lone piece as its own delta, more as a run."""
        pieces, index = self.pieces, self.index
        if index is None or not pieces:
            return
        if len(pieces) == 1:
            self._events.append(builders.converse_piece(index, self.kind, pieces[0]))
        else:
            self._events.append(c.DeltaRun(content_block_index=index, kind=self.kind, pieces=tuple(pieces)))
        pieces.clear()  # the same list: read_events holds its append
        self.index = None

    def text_index(self) -> object:
        """The block index of the text run under way, or a marker no payload holds."""
        return self.index if self.kind == "text" and self.index is not None else _NO_RUN


def read_events(
    messages: list[Message], secrets: tuple[str, ...]
) -> tuple[list[c.StreamEvent], bool, UpstreamError | None]:
    """The events of ``messages`` up to Bedrock's last (``metadata``), and whether it came.

    Also the failure that stopped them early: the events before an exception frame count.
    One loop with its steps written out, not called: it runs once per frame of every stream.
    """
    events: list[c.StreamEvent] = []
    run = _Run(events)
    add_piece, text_index = run.pieces.append, _NO_RUN
    delta_headers: Mapping[str, Any] | None = None  # a delta's headers: most frames of a read share them
    try:
        for headers, payload in messages:
            if headers is delta_headers or _is_delta(headers):
                delta_headers = headers
                try:
                    data = _loads(payload)
                except orjson.JSONDecodeError:
                    data = _lenient_json(payload)
                # Most frames: the next text piece of the text run under way, taken here. The
                # index is compared by identity: orjson shares small ints as Python does, a
                # bool is never the run's int, and any other index takes plain_piece below.
                if type(data) is dict and data.get("contentBlockIndex") is text_index:
                    delta = data.get("delta")
                    if type(delta) is dict and len(delta) == 1 and type(text := delta.get("text")) is str:
                        add_piece(text)
                        continue
                piece = plain_piece(data)
                if piece is not None:
                    run.add(*piece)
                    text_index = run.text_index()
                    continue
                event = _signature_delta(data) or _parsed("contentBlockDelta", data)
            else:
                event = _event(headers, payload, secrets)
            run.end()
            text_index = _NO_RUN
            if event is not None:
                events.append(event)
                if type(event) is c.MetadataEvent:
                    return events, True, None
    except UpstreamError as error:
        run.end()
        return events, False, error
    run.end()
    return events, False, None


def _is_delta(headers: Mapping[str, Any]) -> bool:
    return bool(headers.get(":event-type") == "contentBlockDelta" and headers.get(":message-type") == "event")


def _parsed(event_type: str, data: Any) -> c.StreamEvent | None:
    # Through cattrs: what no direct path took.
    try:
        return converse_wire.parse_stream_event(event_type, data)
    except UNREADABLE as error:
        raise UpstreamFailureError("Nexus sent a stream event this proxy cannot read") from error


def _event(headers: Any, payload: bytes, secrets: tuple[str, ...]) -> c.StreamEvent | None:
    message_type = headers.get(":message-type")
    if message_type == "event":
        return _parsed(headers.get(":event-type", ""), _json(payload))
    if message_type == "exception":
        code = str(headers.get(":exception-type", ""))
        raise upstream_error(None, code, bedrock_message(_json(payload)), secrets)
    code = str(headers.get(":error-code", "unknown"))
    raise upstream_error(None, code, str(headers.get(":error-message", "")), secrets)


def _json(payload: bytes) -> Any:
    try:
        return _loads(payload)
    except orjson.JSONDecodeError:
        return _lenient_json(payload)


def _lenient_json(payload: bytes) -> Any:
    # What orjson refuses and json reads: a lone surrogate, NaN, a huge integer.
    try:
        return json.loads(payload)
    except ValueError as error:
        raise UpstreamFailureError("Nexus sent an event that is not valid JSON") from error
