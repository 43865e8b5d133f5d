"""How fast the proxy forwards a stream, and what it adds to each event's latency.

Two views. Throughput: one stream of 2,000 text deltas that the fake Nexus writes as fast as
it can; time to the first event at the client, total time, deltas per second. Latency: the
fake lets one delta out at a time (a ``Gate`` per delta, opened by the client once it has
the one before), so each round trip is one event's whole path. The same gated stream read
straight from the fake, without the proxy, gives the baseline that the proxy adds to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import requests

from bench.table import Row, ms, percentile
from tests.support.fake_nexus import FakeNexus, Gate, StreamReply, text_stream
from tests.support.sse_client import post_stream, sse_events

DELTAS = 2000
GATED_DELTAS = 200
FIRST_EVENT_TARGET = 0.050
# Ten times what a fast Claude model streams (~100 deltas/s): one stream must never wait on us.
RATE_TARGET = 1000
ADDED_P99_TARGET = 0.005
PROMPT = {"model": "claude-opus-4.6", "max_tokens": 256, "messages": [{"role": "user", "content": "go"}]}
CONVERSE = {"messages": [{"role": "user", "content": [{"text": "go"}]}]}


def _throughput(fake: FakeNexus, url: str) -> tuple[float, float, str]:
    """Seconds to the first event, seconds in all, and the text the client received."""
    fake.enqueue(text_stream(*(f"delta {i} " for i in range(DELTAS))))
    start = time.perf_counter()
    with post_stream(url, PROMPT) as response:
        events = sse_events(response)
        next(events)
        first = time.perf_counter() - start
        text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    return first, time.perf_counter() - start, text


def _gated_stream(gates: list[threading.Event]) -> StreamReply:
    """``messageStart``, then each delta behind its own gate."""
    reply = text_stream(*(f"d{i}" for i in range(len(gates))))
    start, deltas, tail = reply.items[0], reply.items[1 : 1 + len(gates)], reply.items[1 + len(gates) :]
    held = [item for gate, delta in zip(gates, deltas, strict=True) for item in (Gate(gate), delta)]
    return StreamReply([start, *held, *tail])


def _round_trips(pieces: Iterator[object], gates: list[threading.Event]) -> list[float]:
    """Seconds from opening each gate to the client holding what it let through."""
    next(pieces)  # messageStart, written before the first gate
    trips = []
    for gate in gates:
        opened = time.perf_counter()
        gate.set()
        next(pieces)
        trips.append(time.perf_counter() - opened)
    for _ in pieces:
        pass  # read to the end, so that both sides finish cleanly
    return trips


def _through_proxy(fake: FakeNexus, url: str) -> list[float]:
    gates = [threading.Event() for _ in range(GATED_DELTAS)]
    fake.enqueue(_gated_stream(gates))
    with post_stream(url, PROMPT) as response:
        wanted = {"message_start", "content_block_delta"}
        return _round_trips((name for name, _ in sse_events(response) if name in wanted), gates)


def _direct(fake: FakeNexus) -> list[float]:
    """The same stream read straight from the fake: one HTTP chunk is one frame."""
    gates = [threading.Event() for _ in range(GATED_DELTAS)]
    fake.enqueue(_gated_stream(gates))
    target = f"{fake.url}/model/claude-opus-4.6/converse-stream"
    with requests.post(target, json=CONVERSE, stream=True, timeout=30) as response:
        return _round_trips(response.iter_content(chunk_size=None), gates)


def _summary(trips: list[float]) -> str:
    return f"{ms(sum(trips) / len(trips))} / {ms(percentile(trips, 0.5))} / {ms(percentile(trips, 0.99))}"


def forwarding_rows(fake: FakeNexus, url: str) -> list[Row]:
    first, total, text = _throughput(fake, url)
    whole = text == "".join(f"delta {i} " for i in range(DELTAS))
    rate = DELTAS / (total - first)
    proxied, direct = _through_proxy(fake, url), _direct(fake)
    added_p50 = percentile(proxied, 0.5) - percentile(direct, 0.5)
    added_p99 = percentile(proxied, 0.99) - percentile(direct, 0.99)
    return [
        Row(
            f"{DELTAS}-delta stream: first event at client",
            ms(first),
            f"< {ms(FIRST_EVENT_TARGET)}",
            first < FIRST_EVENT_TARGET,
        ),
        Row(f"{DELTAS}-delta stream: total, text whole", f"{ms(total)}, {'yes' if whole else 'NO'}", "whole", whole),
        Row(
            f"{DELTAS}-delta stream: deltas per second", f"{rate:,.0f}/s", f">= {RATE_TARGET:,}/s", rate >= RATE_TARGET
        ),
        Row(f"gated round trip per delta, mean / p50 / p99 (n={GATED_DELTAS})", _summary(proxied)),
        Row("  same, straight from the fake (baseline)", _summary(direct)),
        Row(
            "  added by the proxy per delta, p50 / p99",
            f"{ms(added_p50)} / {ms(added_p99)}",
            f"p99 < {ms(ADDED_P99_TARGET)}",
            added_p99 < ADDED_P99_TARGET,
        ),
    ]
