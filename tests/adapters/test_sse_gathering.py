"""The stream reader hands on once per socket read of Nexus, and takes turns with other readers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from adapters.blocking_waits import blocking
from adapters.http import sse, sse_pipe
from adapters.http.threads import Lane
from adapters.nexus import stream as nexus_stream
from domain.vocab import anthropic as a
from tests.support.stand_in import ClosedByOwner, events_of


def _delta(i: int) -> a.ContentBlockDeltaEvent:
    return a.ContentBlockDeltaEvent(
        type="content_block_delta", index=0, delta=a.TextDelta(type="text_delta", text=f"d{i}.")
    )


class _Socket:
    """A file whose ``read1`` notes whether the reading thread held the lane meanwhile."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.held_while_reading: list[bool] = []

    def read1(self, _: int) -> bytes:
        free = self.lane.enter()
        if free:
            self.lane.leave()
        self.held_while_reading.append(not free)
        return b"x"


class _ReadingUpstream(ClosedByOwner):
    """A MessageStream stand-in that reads its socket (through the hooks) before each group."""

    def __init__(self, groups: list[list[list[Any]]], sock: _Socket) -> None:
        super().__init__()
        self._groups = groups
        self._sock = sock

    def __iter__(self) -> Iterator[list[Any]]:
        yield [a.PingEvent(type="ping")]  # before any read: handed on at once
        for group in self._groups:
            blocking(lambda: nexus_stream._read(self._sock))
            yield from group


def _chunks(upstream: _ReadingUpstream, reader_lane: Lane) -> list[bytes]:
    async def collect() -> list[bytes]:
        out = []
        async for chunk in events_of(upstream):
            out.append(chunk.serialize())
            await asyncio.sleep(0.05)  # a slow client: whatever the reader makes meanwhile waits
        return out

    return asyncio.run(collect())


def test_what_one_read_brings_goes_to_the_pipe_at_once_and_the_lane_is_left_while_reading(monkeypatch: Any) -> None:
    lane = Lane(patience=5)
    monkeypatch.setattr(sse, "LANE", lane)
    puts: list[bytes] = []
    put = sse_pipe.Pipe.put

    def noting(pipe: Any, data: bytes) -> bool:
        puts.append(data)
        return put(pipe, data)

    monkeypatch.setattr(sse_pipe.Pipe, "put", noting)
    sock = _Socket(lane)
    groups = [[[_delta(3 * g + i)] for i in range(3)] for g in range(4)]
    chunks = _chunks(_ReadingUpstream(groups, sock), lane)
    body = b"".join(chunks)
    assert body.count(b"event: content_block_delta") == 12
    assert [p.count(b"event: ") for p in puts] == [1, 3, 3, 3, 3]  # the ping, then one put per read
    assert sock.held_while_reading == [False] * 4
    assert lane.enter()  # the reader left the lane when it was done
    lane.leave()


def test_a_large_read_is_handed_on_in_parts_of_about_the_gather_limit(monkeypatch: Any) -> None:
    monkeypatch.setattr(sse, "GATHER_LIMIT", 200)
    puts: list[int] = []

    def noting(method: Any) -> Any:
        def noted(pipe: Any, data: bytes) -> bool:
            puts.append(len(data))
            return bool(method(pipe, data))

        return noted

    # Every hand-on: put() waits for room, offer() (in the lane, mid-read) only takes it if free.
    monkeypatch.setattr(sse_pipe.Pipe, "put", noting(sse_pipe.Pipe.put))
    monkeypatch.setattr(sse_pipe.Pipe, "offer", noting(sse_pipe.Pipe.offer))
    lane = Lane(patience=5)
    monkeypatch.setattr(sse, "LANE", lane)
    groups = [[[_delta(i)] for i in range(20)]]
    body = b"".join(_chunks(_ReadingUpstream(groups, _Socket(lane)), lane))
    assert body.count(b"event: content_block_delta") == 20
    assert len(puts) > 3
    assert max(puts[1:]) < 200 + 100  # never much past the limit before handing on


def test_a_hand_on_mid_read_keeps_the_lane_when_the_pipe_has_room(monkeypatch: Any) -> None:
    monkeypatch.setattr(sse, "GATHER_LIMIT", 200)
    lane = Lane(patience=5)
    monkeypatch.setattr(sse, "LANE", lane)
    entered: list[bool] = []
    enter = lane.enter

    def noting() -> bool:
        entered.append(True)
        return enter()

    monkeypatch.setattr(lane, "enter", noting)
    groups = [[[_delta(i)] for i in range(20)]]
    body = b"".join(_chunks(_ReadingUpstream(groups, _Socket(lane)), lane))
    assert body.count(b"event: content_block_delta") == 20
    assert len(entered) <= 2  # once to start, once after the read: not again per hand-on
