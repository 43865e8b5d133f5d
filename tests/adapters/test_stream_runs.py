"""A read's plain deltas travel as runs: read, and written as SSE, exactly as one by one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http.sse import sse
from adapters.nexus.eventstream import EventStreamDecoder
from adapters.nexus.stream_events import _event, read_events
from domain import errors
from domain.vocab import anthropic as a
from domain.vocab import builders
from domain.vocab import converse as c
from tests.support.eventstream_encoding import event_frame, exception_frame

TEXT = st.sampled_from(["a", "", "é", "\ud83d", '"\\\n', "\x00", "漢字"])
PLAIN: st.SearchStrategy[Any] = st.one_of(
    st.builds(lambda t: {"text": t}, TEXT),
    st.builds(lambda t: {"toolUse": {"input": t}}, TEXT),
    st.builds(lambda t: {"reasoningContent": {"text": t}}, TEXT),
    st.builds(lambda t: {"reasoningContent": {"signature": t}}, TEXT),
    st.just({"text": 5}),  # not plain: left to cattrs, which refuses it
    st.just({"text": "a", "x": "b"}),
)
# 300: an int Python does not share; True: equal to 1, yet no index.
INDEX = st.sampled_from([0, 0, 0, 1, 300, True])
FRAME: st.SearchStrategy[Any] = st.one_of(
    st.builds(lambda i, d: ("contentBlockDelta", {"contentBlockIndex": i, "delta": d}), INDEX, PLAIN),
    st.just(("contentBlockDelta", ["not", "an", "object"])),
    st.builds(lambda i: ("contentBlockStop", {"contentBlockIndex": i}), st.integers(0, 1)),
    st.just(("messageStop", {"stopReason": "end_turn"})),
)


def messages(frames: list[bytes]) -> list[Any]:
    return EventStreamDecoder().messages(b"".join(frames))


def one_by_one(found: list[Any]) -> tuple[list[c.StreamEvent], type[BaseException] | None]:
    events: list[c.StreamEvent] = []
    for headers, payload in found:
        try:
            event = _event(headers, payload, ())
        except errors.UpstreamError as error:
            return events, type(error)
        if event is not None:
            events.append(event)
    return events, None


@settings(max_examples=150, deadline=None)
@given(frames=st.lists(FRAME, max_size=30))
def test_a_read_gives_the_events_one_by_one_parsing_gives(frames: list[tuple[str, Any]]) -> None:
    found = messages([event_frame(name, payload) for name, payload in frames])
    events, last, failure = read_events(found, ())
    flat = [one for e in events for one in (builders.converse_deltas(e) if isinstance(e, c.DeltaRun) else [e])]
    assert (flat, type(failure) if failure else None) == one_by_one(found)
    assert not last


def read_as_one_by_one(frames: list[tuple[str, Any]]) -> None:
    found = messages([event_frame(name, payload) for name, payload in frames])
    events, _, failure = read_events(found, ())
    flat = [one for e in events for one in (builders.converse_deltas(e) if isinstance(e, c.DeltaRun) else [e])]
    assert (flat, type(failure) if failure else None) == one_by_one(found)


@pytest.mark.parametrize(
    "payload",
    [
        {"contentBlockIndex": 0, "delta": {"text": 5}},
        {"contentBlockIndex": 0, "delta": {"text": None}},
        {"contentBlockIndex": 0, "delta": {"text": "b", "toolUse": {"input": "c"}}},
        {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "b"}}},
        {"contentBlockIndex": 0, "delta": "b"},
        {"contentBlockIndex": True, "delta": {"text": "b"}},
        {"contentBlockIndex": "0", "delta": {"text": "b"}},
        {"contentBlockIndex": 1, "delta": {"text": "b"}},
        {"delta": {"text": "b"}},
        ["b"],
    ],
)
def test_what_follows_a_text_run_reads_as_it_reads_alone(payload: Any) -> None:
    # The run's next piece is taken before anything else is tried: only a text piece of its block may be.
    run = [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in "aa"]
    read_as_one_by_one([*run, ("contentBlockDelta", payload), *run])


def test_consecutive_plain_deltas_of_a_block_are_one_run_and_the_rest_cut_it() -> None:
    text = [event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in "abc"]
    stop = event_frame("contentBlockStop", {"contentBlockIndex": 0})
    events, _, _ = read_events(messages([*text, stop, text[0]]), ())
    assert events == [
        c.DeltaRun(content_block_index=0, kind="text", pieces=("a", "b", "c")),
        c.ContentBlockStopEvent(content_block_index=0),
        c.ContentBlockDeltaEvent(content_block_index=0, delta=c.TextChunk(text="a")),  # alone: a plain delta
    ]


def test_a_run_before_an_exception_frame_comes_out_with_the_failure() -> None:
    text = [event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in "ab"]
    events, _, failure = read_events(messages([*text, exception_frame("throttlingException", "slow")]), ())
    assert events == [c.DeltaRun(content_block_index=0, kind="text", pieces=("a", "b"))]
    assert isinstance(failure, errors.UpstreamThrottledError)


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, 10**6),
    kind=st.sampled_from(["text_delta", "input_json_delta", "thinking_delta"]),
    pieces=st.lists(st.text(max_size=8) | TEXT, max_size=6),
)
def test_a_run_is_written_as_its_deltas_are(index: int, kind: Any, pieces: list[str]) -> None:
    run = a.DeltaRun(type="content_block_deltas", index=index, kind=kind, pieces=tuple(pieces))
    assert sse(run) == b"".join(sse(event) for event in builders.block_deltas(run))


def test_a_written_run_is_one_sse_event_per_piece() -> None:
    written = sse(a.DeltaRun(type="content_block_deltas", index=2, kind="text_delta", pieces=("Hel", "lo")))
    events = [block.split("\ndata: ", 1) for block in written.decode().split("\n\n") if block]
    assert [name for name, _ in events] == ["event: content_block_delta"] * 2
    assert [json.loads(data)["delta"] for _, data in events] == [
        {"type": "text_delta", "text": "Hel"},
        {"type": "text_delta", "text": "lo"},
    ]


def test_an_empty_run_writes_nothing() -> None:
    assert sse(a.DeltaRun(type="content_block_deltas", index=0, kind="text_delta", pieces=())) == b""


def test_a_lone_surrogate_in_a_run_is_written_replaced() -> None:
    written = sse(a.DeltaRun(type="content_block_deltas", index=0, kind="text_delta", pieces=("ok", "\ud83d")))
    texts = [json.loads(block.split("data: ", 1)[1])["delta"]["text"] for block in written.decode().split("\n\n")[:2]]
    assert texts == ["ok", "\ufffd"]
