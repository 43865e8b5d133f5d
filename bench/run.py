"""Speed and memory figures for nexus-claude-api, each beside the same traffic sent straight
to the fake Nexus, and beside its target.

Tests check behaviour and never time anything; the targets live here instead. The real
server (``nexus-claude-api start``) and a lean fake Nexus (``bench/fake_server.py``, Bedrock's
wire format) run as separate processes on loopback; the clients run here. Proxy and direct
traffic alternate in the same run; each figure is the median of several rounds.

    uv run python bench/run.py             # the table (~2 min); exit status 1 if a figure misses
    uv run python bench/run.py --quick     # fewer rounds (~1 min)
    uv run --with py-spy python bench/run.py --quick --profile   # also py-spy on a 5,000-delta stream
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find bench/ and tests/

from bench.cache_prefix import cache_prefix_rows
from bench.handshakes import tls_rows
from bench.latency import first_byte_rows, sequential_rows
from bench.memory import memory_rows
from bench.processes import FakeProcess, ServerProcess
from bench.rig import STREAM_OPERATION, Rig, claude_code_body, stream_prompt
from bench.spy import profile_stream
from bench.streams import concurrent_rows, long_stream_rows
from bench.table import Row, render
from bench.translation import translation_rows


class Rounds(NamedTuple):
    sequential: int
    first_byte: int
    long_stream: int
    concurrent: int
    startups: int


FULL = Rounds(sequential=3, first_byte=3, long_stream=5, concurrent=5, startups=3)
QUICK = Rounds(sequential=1, first_byte=1, long_stream=2, concurrent=1, startups=2)


async def _warm_up(rig: Rig) -> None:
    """One request of each kind, so that lazy imports and first-use caches are behind us."""
    for body in (claude_code_body(stream=False), claude_code_body(stream=True), stream_prompt(5)):
        connection = await rig.proxy_connection()
        answer = await connection.exchange(rig.to_proxy(body))
        await connection.close()
        if answer.status != 200:
            raise RuntimeError(f"warm-up: the proxy answered {answer.status}: {answer.body[:300]!r}")


async def _validity_rows(rig: Rig) -> list[Row]:
    """A figure is only worth something if Bedrock would have taken what the proxy sent."""
    from tests.support.converse_validation import validate_converse_body  # botocore: slow to import

    paths = json.loads(await rig.fake_get("/bench/stats"))["paths"]
    problems = []
    for operation in ("converse", STREAM_OPERATION):
        model_id = paths[operation].split("/")[2]
        body = json.loads(await rig.fake_get(f"/bench/last/{operation}"))
        problems += validate_converse_body(operation, model_id, body)
    for problem in problems:
        print(f"invalid upstream body: {problem}", file=sys.stderr)
    return [Row("upstream bodies Bedrock would refuse (botocore model)", str(len(problems)), "0", not problems)]


# The figures measured against the running server, by the name ``--only`` takes.
PARTS = ("memory", "sequential", "first_byte", "long", "concurrent")


async def _live_rows(rig: Rig, rounds: Rounds, only: frozenset[str]) -> list[Row]:
    await _warm_up(rig)
    rows = await memory_rows(rig) if "memory" in only else []
    if "sequential" in only:
        rows += await sequential_rows(rig, rounds.sequential)
    if "first_byte" in only:
        rows += await first_byte_rows(rig, rounds.first_byte)
    if "long" in only:
        rows += await long_stream_rows(rig, rounds.long_stream)
    if "concurrent" in only:
        rows += await concurrent_rows(rig, rounds.concurrent)
    rows.append(Row("    RSS at the end of the run", f"{rig.proxy.rss_kb() / 1024:.1f} MB"))
    return rows + await _validity_rows(rig)


def run_all(rounds: Rounds, profile: bool, only: frozenset[str] = frozenset(PARTS)) -> list[Row]:
    whole = only == frozenset(PARTS)
    # In this process, before any server runs.
    extras = translation_rows() + cache_prefix_rows() if whole else []
    startups: list[float] = []
    fake = FakeProcess()
    try:
        for _ in range(rounds.startups - 2):  # the two below count too
            extra = ServerProcess(f"http://127.0.0.1:{fake.port}")
            startups.append(extra.startup)
            extra.close()
        proxy = ServerProcess(f"http://127.0.0.1:{fake.port}")
        startups.append(proxy.startup)
        try:
            rig = Rig(fake, proxy)
            rows = asyncio.run(_live_rows(rig, rounds, only))
            if profile:
                asyncio.run(profile_stream(rig))
        finally:
            proxy.close()
    finally:
        fake.close()
    return rows + (tls_rows(startups, fake.startup, rounds.concurrent) if whole else []) + extras


def _machine() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load}, commit {commit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--profile", action="store_true", help="py-spy on the server during a 5,000-delta stream")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated figures against the server, of: {', '.join(PARTS)}"
    )
    args = parser.parse_args()
    only = frozenset(args.only.split(","))
    if only - set(PARTS):
        parser.error(f"--only takes {', '.join(PARTS)}")
    print(f"nexus-claude-api bench: {_machine()}", flush=True)
    start = time.perf_counter()
    rows = run_all(QUICK if args.quick else FULL, args.profile, only)
    print(render(rows))
    print(f"({time.perf_counter() - start:.0f} s; load average after: {os.getloadavg()[0]:.2f})")
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
