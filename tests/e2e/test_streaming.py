"""Streaming through the real server (uvicorn) with a fake Nexus gateway behind it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from adapters.http.threads import BlockingRunner
from domain import errors
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events
from tests.support.proxy import sdk_client
from tests.support.sse_client import post_stream, sse_events, text_deltas

HELLO: dict[str, Any] = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
WAIT = 10


@pytest.fixture
def runner() -> BlockingRunner:
    return BlockingRunner(max_workers=64)


@pytest.fixture
def url(mount: Callable[[Any], str], gateway: FakeConverseGateway, runner: BlockingRunner) -> str:
    return mount(create_app(Settings(api_key="k"), gateway, runner=runner, ping_interval=0.2))


def test_sdk_stream_returns_the_text_and_final_message(url: str, gateway: FakeConverseGateway) -> None:
    gateway.on_stream = lambda _: text_events("Hello", ", ", "world")
    with sdk_client(url) as client, client.messages.stream(**HELLO) as stream:
        assert stream.get_final_text() == "Hello, world"
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (20, 3)
    assert gateway.calls[0][:2] == ("converse-stream", "claude-opus-4.6")


def test_raw_sse_names_every_event_and_pairs_block_indices(url: str) -> None:
    with post_stream(url, HELLO) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["request-id"].startswith("req_")
        events = list(sse_events(response))
    assert all(name == data["type"] for name, data in events)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_") and start["content"] == [] and start["usage"]["input_tokens"] > 0
    indices = [data["index"] for name, data in events if (name or "").startswith("content_block")]
    assert indices == [0, 0, 0, 0]
    assert events[5][1]["usage"]["output_tokens"] == 2 and events[5][1]["usage"]["input_tokens"] == 20


def test_each_event_reaches_the_client_before_the_next_is_produced(url: str, gateway: FakeConverseGateway) -> None:
    seen = [threading.Event() for _ in range(3)]
    chunks = ["one", "two", "three"]

    def held(_: c.ConverseRequest) -> Iterator[Any]:
        events = text_events(*chunks)
        yield events[0]
        for i in range(3):
            yield events[1 + i]
            yield seen[i]  # the next chunk waits until the client saw this one
        yield from events[4:]

    gateway.on_stream = held
    assert text_deltas(url, HELLO, arrived=seen) == chunks


def test_pings_fill_upstream_silence(url: str, gateway: FakeConverseGateway) -> None:
    release = threading.Event()

    def slow(_: c.ConverseRequest) -> Iterator[Any]:
        events = text_events("late")
        yield events[0]
        yield release
        yield from events[1:]

    gateway.on_stream = slow
    names = []
    with post_stream(url, HELLO) as response:
        for name, _ in sse_events(response):
            names.append(name)
            if name == "ping":
                release.set()
    assert names[0] == "message_start" and "ping" in names
    assert names.index("ping") < names.index("content_block_delta")
    assert names[-1] == "message_stop"


def test_failures_before_the_first_byte_are_json_errors(url: str, gateway: FakeConverseGateway) -> None:
    def throttled(_: c.ConverseRequest) -> Any:
        raise errors.UpstreamThrottledError("Too many requests")

    gateway.on_stream = throttled
    with post_stream(url, HELLO) as response:
        assert response.status_code == 429
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["type"] == "rate_limit_error"
    with post_stream(url, {**HELLO, "model": "gpt-4o"}) as response:
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (errors.UpstreamThrottledError("throttled mid-stream"), "rate_limit_error"),
        (errors.UpstreamFailureError("the connection to AI Nexus was cut"), "api_error"),
        (errors.UpstreamTimeoutError("AI Nexus stopped responding"), "timeout_error"),
    ],
)
def test_failures_after_the_first_byte_end_with_an_error_event(
    url: str, gateway: FakeConverseGateway, failure: Exception, kind: str
) -> None:
    gateway.on_stream = lambda _: [*text_events("partial")[:2], failure]
    with post_stream(url, HELLO) as response:
        events = list(sse_events(response))
    assert events[-1] == ("error", {"type": "error", "error": {"type": kind, "message": str(failure)}})
    assert "message_stop" not in [name for name, _ in events]


def test_a_stream_that_ends_without_message_stop_is_an_error(url: str, gateway: FakeConverseGateway) -> None:
    gateway.on_stream = lambda _: text_events("cut")[:3]
    with post_stream(url, HELLO) as response:
        events = list(sse_events(response))
    assert events[-1][0] == "error" and "before the message was complete" in events[-1][1]["error"]["message"]


def test_client_disconnect_closes_the_upstream_and_frees_the_thread(
    url: str, gateway: FakeConverseGateway, runner: BlockingRunner
) -> None:
    never = threading.Event()
    gateway.on_stream = lambda _: [*text_events("first")[:2], never, *text_events("never")[1:]]
    response = post_stream(url, HELLO)
    stream = sse_events(response)
    assert next(stream)[0] == "message_start"
    assert next(stream)[0] == "content_block_start"
    response.close()
    upstream = gateway.streams[0]
    assert upstream.closed.wait(WAIT), "the upstream stream was not closed"
    assert upstream.finished.wait(WAIT)
    assert runner.wait_idle(WAIT), "a worker thread is still busy"
    assert requests.get(f"{url}/health", timeout=5).status_code == 200


def test_many_parallel_streams_complete_while_health_answers(url: str, gateway: FakeConverseGateway) -> None:
    count = 32
    all_open = threading.Event()
    opened = []
    lock = threading.Lock()

    def parallel(_: c.ConverseRequest) -> Iterator[Any]:
        with lock:
            opened.append(1)
            if len(opened) == count:
                all_open.set()
        events = text_events("parallel")
        yield events[0]
        yield all_open
        yield from events[1:]

    gateway.on_stream = parallel
    results: list[str] = [""] * count

    def consume(i: int) -> None:
        results[i] = "".join(text_deltas(url, HELLO))

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    assert all_open.wait(WAIT), f"only {len(opened)} streams opened upstream"
    # Every stream is now held open upstream: the event loop must still answer.
    assert requests.get(f"{url}/health", timeout=2).json()["status"] == "healthy"
    for thread in threads:
        thread.join(WAIT)
    assert results == ["parallel"] * count
