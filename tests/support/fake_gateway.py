"""``FakeConverseGateway``: the Nexus port, driven by plain functions, recording calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from domain import converse as c


def text_response(text: str = "Hello!", *, stop_reason: str = "end_turn", **usage: int) -> c.ConverseResponse:
    tokens = {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15, **usage}
    return c.ConverseResponse(
        output=c.Output(message=c.Message(role="assistant", content=(c.TextContent(text=text),))),
        stop_reason=stop_reason,
        usage=c.TokenUsage(**tokens),
    )


def text_events(*chunks: str, stop_reason: str = "end_turn") -> list[c.StreamEvent]:
    return [
        c.MessageStartEvent(),
        *(c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text=t)) for t in chunks),
        c.ContentBlockStopEvent(content_block_index=0),
        c.MessageStopEvent(stop_reason=stop_reason),
        c.MetadataEvent(usage=c.TokenUsage(input_tokens=20, output_tokens=len(chunks), total_tokens=20 + len(chunks))),
    ]


@attrs.define
class FakeStream:
    events: Iterable[Any]
    closed: bool = False

    def __iter__(self) -> Iterator[c.StreamEvent]:
        for event in self.events:
            if self.closed:
                return
            if isinstance(event, Exception):
                raise event
            yield event

    def close(self) -> None:
        self.closed = True


@attrs.define
class FakeConverseGateway:
    """Answers with ``on_converse`` / ``on_stream`` / ``on_count``; records every call."""

    on_converse: Callable[[c.ConverseRequest], c.ConverseResponse] = lambda _: text_response()
    on_stream: Callable[[c.ConverseRequest], Iterable[Any]] = lambda _: text_events("Hel", "lo")
    on_count: Callable[[c.ConverseRequest], int] = lambda _: 42
    calls: list[tuple[str, str, c.ConverseRequest]] = attrs.field(factory=list)
    streams: list[FakeStream] = attrs.field(factory=list)

    def converse(self, model_id: str, request: c.ConverseRequest) -> c.ConverseResponse:
        self.calls.append(("converse", model_id, request))
        return self.on_converse(request)

    def converse_stream(self, model_id: str, request: c.ConverseRequest) -> FakeStream:
        self.calls.append(("converse-stream", model_id, request))
        stream = FakeStream(self.on_stream(request))
        self.streams.append(stream)
        return stream

    def count_tokens(self, model_id: str, request: c.ConverseRequest) -> int:
        self.calls.append(("count-tokens", model_id, request))
        return self.on_count(request)
