"""32 streams held open upstream at once: does the event loop still answer, and at what cost?

Claude Code runs sub-agents in parallel, so many long streams are open at the same time, each
holding a worker thread while it waits on Nexus. The event loop must keep answering (health
probes, new requests) meanwhile, every stream must finish whole once Nexus speaks again, and
the proxy's memory must stay modest. The fake Nexus holds every stream at a ``Gate`` after
``messageStart`` until the health measurement is done.
"""

from __future__ import annotations

import functools
import threading
import time

import requests

from bench.proxy_process import ProxyProcess
from bench.table import Row, ms, percentile
from tests.support.fake_nexus import FakeNexus, Gate, RecordedRequest, StreamReply, text_stream
from tests.support.sse_client import post_stream, sse_events

STREAMS = 32
HEALTH_REQUESTS = 200
PARTS = 20
WAIT = 30
HEALTH_P99_TARGET = 0.100
DONE_TARGET = 1.0
GROWTH_TARGET_MB = 100


def _body(text: str) -> dict[str, object]:
    return {"model": "claude-opus-4.6", "max_tokens": 256, "messages": [{"role": "user", "content": text}]}


def _expected(prompt: str) -> str:
    return f"reply to {prompt}" + "".join(f" part {i}" for i in range(PARTS))


def _held_reply(release: threading.Event, request: RecordedRequest) -> StreamReply:
    """A reply naming the prompt (so crossed streams show), held after ``messageStart``."""
    prompt = request.body["messages"][0]["content"][0]["text"]
    reply = text_stream(f"reply to {prompt}", *(f" part {i}" for i in range(PARTS)))
    reply.items.insert(1, Gate(release))
    return reply


class _Consumers:
    """One client thread per stream; each notes when it is open and when it is done."""

    def __init__(self, url: str, count: int) -> None:
        self.opened = threading.Semaphore(0)
        self.texts = [""] * count
        self.done_at = [0.0] * count
        self._threads = [threading.Thread(target=self._consume, args=(url, i), daemon=True) for i in range(count)]

    def _consume(self, url: str, i: int) -> None:
        with post_stream(url, _body(f"stream {i}")) as response:
            events = sse_events(response)
            next(events)  # message_start: the stream is open end to end
            self.opened.release()
            deltas = [data["delta"].get("text", "") for name, data in events if name == "content_block_delta"]
        self.texts[i] = "".join(deltas)
        self.done_at[i] = time.perf_counter()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def all_opened(self) -> bool:
        return all(self.opened.acquire(timeout=WAIT) for _ in self._threads)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(WAIT)


def _health_latencies(url: str, count: int) -> list[float]:
    latencies = []
    with requests.Session() as session:
        session.get(f"{url}/health", timeout=5).raise_for_status()  # connect outside the timing
        for _ in range(count):
            start = time.perf_counter()
            session.get(f"{url}/health", timeout=5).raise_for_status()
            latencies.append(time.perf_counter() - start)
    return latencies


def parallel_rows(fake: FakeNexus, proxy: ProxyProcess) -> list[Row]:
    release = threading.Event()
    fake.enqueue(*[functools.partial(_held_reply, release)] * STREAMS)
    consumers = _Consumers(proxy.url, STREAMS)
    consumers.start()
    try:
        if not consumers.all_opened():
            raise RuntimeError("not every stream opened through the proxy")
        health = _health_latencies(proxy.url, HEALTH_REQUESTS)
    finally:
        released = time.perf_counter()
        release.set()
    consumers.join()
    done = max(consumers.done_at) - released
    whole = sum(text == _expected(f"stream {i}") for i, text in enumerate(consumers.texts))
    growth_mb = (proxy.peak_kb() - proxy.start_kb) / 1024
    return _rows(health, whole, done, proxy.start_kb / 1024, growth_mb)


def _rows(health: list[float], whole: int, done: float, start_mb: float, growth_mb: float) -> list[Row]:
    p50, p99 = percentile(health, 0.5), percentile(health, 0.99)
    deltas = STREAMS * (PARTS + 1)
    return [
        Row(
            f"GET /health p50 / p99 / max, {STREAMS} streams held",
            f"{ms(p50)} / {ms(p99)} / {ms(max(health))}",
            f"p99 < {ms(HEALTH_P99_TARGET)}",
            p99 < HEALTH_P99_TARGET,
        ),
        Row(
            f"{STREAMS} streams returned their full text",
            f"{whole}/{STREAMS}",
            f"{STREAMS}/{STREAMS}",
            whole == STREAMS,
        ),
        Row(f"{STREAMS} streams, release to all done", ms(done), f"< {ms(DONE_TARGET)}", done < DONE_TARGET),
        Row(f"  i.e. {deltas} deltas over {STREAMS} streams", f"{deltas / done:,.0f} deltas/s"),
        Row(
            f"proxy peak RSS growth, start to after {STREAMS} streams",
            f"{growth_mb:.1f} MB (from {start_mb:.0f} MB)",
            f"< {GROWTH_TARGET_MB} MB",
            growth_mb < GROWTH_TARGET_MB,
        ),
    ]
