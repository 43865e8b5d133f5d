"""Streams waiting on Nexus never hold up short work; past the stream limit, a 429."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from adapters.http.threads import BlockingRunner
from domain.vocab import converse as c
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.support.fake_gateway import FakeConverseGateway, text_events
from tests.support.sse_client import post_stream, sse_events

HELLO: dict[str, Any] = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
LIMIT = 4
WAIT = 10


class HeldOpen:
    """An upstream that holds every stream before its first byte until released."""

    def __init__(self, count: int) -> None:
        self.release = threading.Event()
        self.all_waiting = threading.Event()
        self._count = count
        self._waiting = 0
        self._lock = threading.Lock()

    def __call__(self, _: c.ConverseRequest) -> list[c.StreamEvent]:
        with self._lock:
            self._waiting += 1
            if self._waiting == self._count:
                self.all_waiting.set()
        assert self.release.wait(WAIT), "the test never released the upstream"
        return text_events("done")


@pytest.fixture
def held(gateway: FakeConverseGateway) -> Iterator[HeldOpen]:
    upstream = HeldOpen(LIMIT)
    gateway.on_stream = upstream
    yield upstream
    upstream.release.set()


@pytest.fixture
def url(mount: Callable[[Any], str], gateway: FakeConverseGateway) -> str:
    # One short thread only: were short work queued behind the streams it would not finish.
    return mount(create_app(Settings(api_key="k", max_streams=LIMIT, worker_threads=1), gateway))


def _stream_text(url: str) -> str:
    with post_stream(url, HELLO) as response:
        assert response.status_code == 200
        return "".join(d["delta"]["text"] for n, d in sse_events(response) if n == "content_block_delta")


def test_short_work_completes_while_every_stream_waits_for_nexus(url: str, held: HeldOpen) -> None:
    with ThreadPoolExecutor(LIMIT) as clients:
        streams = [clients.submit(_stream_text, url) for _ in range(LIMIT)]
        assert held.all_waiting.wait(WAIT), "the streams never reached Nexus"
        count = requests.post(f"{url}/v1/messages/count_tokens", json=HELLO, timeout=WAIT)
        assert (count.status_code, count.json()) == (200, {"input_tokens": 42})
        models = requests.get(f"{url}/v1/models", timeout=WAIT)
        assert models.status_code == 200 and models.json()["data"]
        held.release.set()
        assert [s.result(WAIT) for s in streams] == ["done"] * LIMIT


def test_past_the_stream_limit_a_request_is_told_to_retry(url: str, held: HeldOpen) -> None:
    with ThreadPoolExecutor(LIMIT) as clients:
        streams = [clients.submit(_stream_text, url) for _ in range(LIMIT)]
        assert held.all_waiting.wait(WAIT)
        for extra in ({**HELLO, "stream": True}, HELLO):  # a stream, and a message not streamed
            refused = requests.post(f"{url}/v1/messages", json=extra, timeout=WAIT)
            assert refused.status_code == 429
            assert refused.headers["retry-after"].isdigit()
            assert refused.json()["error"]["type"] == "rate_limit_error"
            assert "limit" in refused.json()["error"]["message"]
        held.release.set()
        assert [s.result(WAIT) for s in streams] == ["done"] * LIMIT
    # Every slot came back: the limit's worth of streams again, one after the other.
    assert [_stream_text(url) for _ in range(LIMIT + 1)] == ["done"] * (LIMIT + 1)


def test_a_client_leaving_gives_its_slot_back(mount: Callable[[Any], str], gateway: FakeConverseGateway) -> None:
    runner = BlockingRunner(max_workers=LIMIT)
    url = mount(create_app(Settings(api_key="k", max_streams=LIMIT), gateway, runner=runner))
    never = threading.Event()
    gateway.on_stream = lambda _: [*text_events("first")[:2], never]
    for _ in range(LIMIT + 1):  # more streams than slots, each left by its client mid-read
        response = post_stream(url, HELLO)
        assert next(sse_events(response))[0] == "message_start"
        response.close()
        assert gateway.streams[-1].closed.wait(WAIT)
        # The slot goes back in the worker thread, before it counts as idle.
        assert runner.wait_idle(WAIT)
    gateway.on_stream = lambda _: text_events("done")
    assert _stream_text(url) == "done"
