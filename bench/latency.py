"""What the proxy adds to one request: a Claude Code sized call, and a stream's first byte.

(1) 200 sequential non-streamed requests of ~110 KB (``claude_code_request``), each followed
at once by its twin sent straight to the fake, on keep-alive connections; added latency is the
proxy's percentile minus the direct one, per round, and the median of the rounds is shown.
(3) Time to the first body byte of a short stream, the same way.
"""

from __future__ import annotations

import statistics

from bench.http_client import Connection
from bench.rig import STREAM_OPERATION, Rig, claude_code_body, stream_prompt
from bench.table import Row, ms, percentile

REQUESTS = 200
FIRST_BYTE_PAIRS = 30
LARGE_FIRST_BYTE_PAIRS = 10
ADDED_P50_TARGET = 0.002
ADDED_P95_TARGET = 0.004
FIRST_BYTE_TARGET = 0.002


async def _pairs(rig: Rig, proxy_request: bytes, direct_request: bytes, count: int) -> tuple[list[float], ...]:
    """(total, first byte) seconds of ``count`` interleaved pairs: proxy, then direct."""
    proxy, fake = await rig.proxy_connection(), await rig.fake_connection()
    totals: tuple[list[float], list[float]] = ([], [])
    firsts: tuple[list[float], list[float]] = ([], [])
    try:
        for _ in range(count):
            for side, connection, request in ((0, proxy, proxy_request), (1, fake, direct_request)):
                answer = await connection.exchange(request)
                if answer.status != 200:
                    raise RuntimeError(f"status {answer.status}: {answer.body[:300]!r}")
                totals[side].append(answer.done)
                firsts[side].append(answer.first)
    finally:
        await _close(proxy, fake)
    return totals[0], totals[1], firsts[0], firsts[1]


async def _close(*connections: Connection) -> None:
    for connection in connections:
        await connection.close()


def _added(proxied: list[list[float]], direct: list[list[float]], fraction: float) -> tuple[float, float, float]:
    """Median over rounds of (proxy percentile, direct percentile, their difference)."""
    p = [percentile(values, fraction) for values in proxied]
    d = [percentile(values, fraction) for values in direct]
    return statistics.median(p), statistics.median(d), statistics.median(a - b for a, b in zip(p, d, strict=True))


def _row(name: str, figures: tuple[float, float, float], target: float | None) -> Row:
    proxy, direct, added = figures
    verdict = None if target is None else added <= target
    return Row(name, f"{ms(proxy)} (+{ms(added)})", f"+ <= {ms(target)}" if target else "", verdict, ms(direct))


async def sequential_rows(rig: Rig, rounds: int) -> list[Row]:
    request = rig.to_proxy(claude_code_body(stream=False))
    direct = await rig.twin(request, "converse")
    runs = [await _pairs(rig, request, direct, REQUESTS) for _ in range(rounds)]
    proxied, straight = [run[0] for run in runs], [run[1] for run in runs]
    name = f"(1) {len(request) // 1024} KB request x {REQUESTS}, not streamed"
    return [
        _row(f"{name}: p50", _added(proxied, straight, 0.5), ADDED_P50_TARGET),
        _row(f"{name}: p95", _added(proxied, straight, 0.95), ADDED_P95_TARGET),
    ]


async def first_byte_rows(rig: Rig, rounds: int) -> list[Row]:
    short = rig.to_proxy(stream_prompt(5))
    short_direct = await rig.twin(short, STREAM_OPERATION)
    large = rig.to_proxy(claude_code_body(stream=True))
    large_direct = await rig.twin(large, STREAM_OPERATION)
    shorts = [await _pairs(rig, short, short_direct, FIRST_BYTE_PAIRS) for _ in range(rounds)]
    larges = [await _pairs(rig, large, large_direct, LARGE_FIRST_BYTE_PAIRS) for _ in range(rounds)]
    return [
        _row("(3) time to first byte, short stream (p50)", _added(*_firsts(shorts), 0.5), FIRST_BYTE_TARGET),
        _row(f"    same, {len(large) // 1024} KB Claude Code stream (p50)", _added(*_firsts(larges), 0.5), None),
    ]


def _firsts(runs: list[tuple[list[float], ...]]) -> tuple[list[list[float]], list[list[float]]]:
    return [run[2] for run in runs], [run[3] for run in runs]
