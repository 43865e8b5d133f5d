"""``FakeConverseGateway``: the Nexus port, driven by plain functions, recording calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from domain.vocab import converse as c


def text_response(text: str = "Hello!", *, stop_reason: str = "end_turn", **usage: int) -> c.ConverseResponse:
    tokens: dict[str, Any] = {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15, **usage}
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


HOLD_LIMIT = 10.0


@attrs.define
class FakeStream:
    """Yields ``events`` in order. An ``Exception`` item is raised; a ``threading.Event``
    item holds the stream until it is set or the stream is closed."""

    events: Iterable[Any]
    closed: threading.Event = attrs.field(factory=threading.Event)
    finished: threading.Event = attrs.field(factory=threading.Event)

    def __iter__(self) -> Iterator[c.StreamEvent]:
        try:
            for item in self.events:
                if isinstance(item, threading.Event):
                    self._hold(item)
                elif isinstance(item, Exception):
                    raise item
                else:
                    yield item
                if self.closed.is_set():
                    return
        finally:
            self.finished.set()

    def batches(self) -> Iterator[list[c.StreamEvent]]:
        """Each event alone: the events of a test arrive one read at a time."""
        for event in self:
            yield [event]

    def _hold(self, release: threading.Event) -> None:
        # Like a socket read that a close() from another thread interrupts.
        for _ in range(int(HOLD_LIMIT / 0.01)):
            if release.wait(0.01) or self.closed.is_set():
                return
        raise TimeoutError("the test never released this stream")

    def close(self) -> None:
        self.closed.set()


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
