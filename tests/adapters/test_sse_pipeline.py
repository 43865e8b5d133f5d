"""The pipelined SSE writer: many events to a send, and a reader held to a bounded lead."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.http import sse, sse_pipe
from domain.vocab import anthropic as a
from tests.support.stand_in import ClosedByOwner, events_of

WAIT = 10


def _delta(i: int) -> a.ContentBlockDeltaEvent:
    return a.ContentBlockDeltaEvent(
        type="content_block_delta", index=0, delta=a.TextDelta(type="text_delta", text=f"d{i}.")
    )


class _Upstream(ClosedByOwner):
    """A MessageStream stand-in: ``events()`` gives the batches; counts what it produced."""

    def __init__(self, batches: Iterator[list[Any]]) -> None:
        super().__init__()
        self._batches = batches
        self.produced = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for batch in self._batches:
            self.produced += len(batch)
            yield batch


def test_events_that_arrived_together_go_out_as_one_chunk() -> None:
    reached, gate = threading.Event(), threading.Event()

    def batches() -> Iterator[list[Any]]:
        yield [a.PingEvent(type="ping")]
        yield from ([_delta(i)] for i in range(50))
        reached.set()
        gate.wait(WAIT)  # held until the client has taken what was there

    async def consume() -> list[bytes]:
        chunks = events_of(_Upstream(batches()))
        first = await anext(chunks)
        assert await asyncio.to_thread(reached.wait, WAIT)
        gate.set()
        return [first.serialize()] + [c.serialize() async for c in chunks]

    chunks = asyncio.run(consume())
    text = b"".join(chunks)
    assert text.count(b"event: content_block_delta\ndata: ") == 50
    # What the first send did not carry was all pending at once: one more send, not 50.
    assert len([chunk for chunk in chunks if b"content_block_delta" in chunk]) <= 2
    assert text.startswith(b'event: ping\ndata: {"type":"ping"}\n\n')


def test_a_slow_client_holds_the_reader_to_a_bounded_lead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse, "PIPE_LIMIT", 1)  # one batch in the pipe, one more in hand
    full = threading.Event()
    put = sse_pipe.Pipe.put

    def noting_full(pipe: Any, data: bytes) -> bool:
        if len(pipe._data) >= pipe._limit:
            full.set()  # the reader is about to wait for the client
        return put(pipe, data)

    monkeypatch.setattr(sse_pipe.Pipe, "put", noting_full)

    def endless() -> Iterator[list[Any]]:
        i = 0
        while True:
            yield [_delta(i)]
            i += 1

    upstream = _Upstream(endless())

    async def consume() -> None:
        chunks = events_of(upstream)
        received = (await anext(chunks)).serialize().count(b"content_block_delta")
        # The client reads nothing more for now: Nexus's endless answer must not pile up.
        assert await asyncio.to_thread(full.wait, WAIT)
        assert upstream.produced <= received + 2
        await chunks.aclose()

    asyncio.run(consume())
    assert upstream.closed.is_set()
