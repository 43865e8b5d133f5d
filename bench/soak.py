"""A soak: 64 streams at once for a while, with clients leaving and Nexus failing at random.

The real server (``nexus-claude-api start``, ``bench/processes.py``) in front of the test
suite's fake Nexus (``tests/support/fake_nexus.py``, in this process), all on loopback. Each
of 64 client threads sends request after request until the time is up; each request names
its scenario in its prompt and the fake answers accordingly:

- ``whole``: a stream of 20 deltas, read to the end;
- ``abort``: the same, the client leaving after a few events;
- ``exception``: Nexus sends a ``throttlingException`` frame mid-stream (SSE ``error``);
- ``cut``: Nexus drops the connection mid-stream (FIN or RST; SSE ``error``);
- ``refused``: Nexus answers 503 before the stream (a JSON 503);
- ``message`` and ``count``: a whole message, a token count.

Printed: requests done, outcomes by kind, the server's threads and open fds before (after a
warm-up that fills its pools) and after (the same, once the last request is over), and
``GET /health`` latency (p50/p99) measured throughout from a process of its own
(``bench/health_probe.py``).

    uv run python bench/soak.py                # 60 s
    uv run python bench/soak.py --seconds 10
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find bench/ and tests/

from bench.health_probe import HealthProbe  # noqa: E402
from bench.processes import ServerProcess  # noqa: E402
from bench.table import Row, ms, percentile, render  # noqa: E402
from tests.support.fake_nexus import (  # noqa: E402
    Cut,
    FakeNexus,
    Gate,
    JsonReply,
    RecordedRequest,
    Reply,
    StreamException,
    error_reply,
    text_reply,
    text_stream,
)
from tests.support.sse_client import sse_events  # noqa: E402

CLIENTS = 64
SHORT_THREADS = 16  # Settings.worker_threads
POOL_SIZE = CLIENTS + SHORT_THREADS  # the gateway's connection pool: max_streams + worker_threads
DELTAS = 20
SCENARIOS = ("whole", "whole", "abort", "abort", "exception", "cut", "refused", "message", "count")
HEALTH_P99_TARGET = 0.100
SETTLE_SECONDS = 5.0


WARM_RELEASE = threading.Event()


def _reply(request: RecordedRequest) -> Reply:
    """The fake's answer, chosen by the scenario the prompt names."""
    body = request.body or {}
    messages = body.get("messages") or body.get("input", {}).get("converse", {}).get("messages") or [{}]
    prompt = str(messages[0].get("content", [{}])[0].get("text", ""))
    scenario = prompt.split(":")[1] if prompt.startswith("soak:") else "whole"
    if request.operation == "count-tokens":
        if scenario == "held":
            WARM_RELEASE.wait(30)
        return JsonReply({"inputTokens": 42})
    if request.operation == "converse":
        return text_reply("a whole message")
    if scenario == "refused":
        return error_reply(503, "ServiceUnavailableException", "Bedrock is busy")
    reply = text_stream(*(f" part {i}" for i in range(DELTAS)))
    if scenario == "held":
        reply.items.insert(1, Gate(WARM_RELEASE))
    elif scenario == "exception":
        reply.items.insert(5, StreamException("throttlingException", "Too many tokens, please wait"))
    elif scenario == "cut":
        reply.items.insert(5, Cut(reset=random.random() < 0.5))
    return reply


class FakeNexusForSoak(FakeNexus):
    """The fake, answering every request by its scenario (no queue to cross between clients)."""

    def __init__(self) -> None:
        super().__init__()
        self.allow_invalid()

    def _receive(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        self.enqueue(_reply)
        return super()._receive(method, target, headers, raw)


def _body(scenario: str, i: int) -> dict[str, Any]:
    content = [{"type": "text", "text": f"soak:{scenario}:{i}"}]
    return {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": content}]}


def _stream(url: str, body: dict[str, Any], abort_after: int | None) -> str:
    with requests.post(f"{url}/v1/messages", json={**body, "stream": True}, stream=True, timeout=30) as response:
        if response.status_code != 200:
            return f"http {response.status_code} {response.json()['error']['type']}"
        last = ""
        for seen, (name, data) in enumerate(sse_events(response), 1):
            if abort_after is not None and seen >= abort_after:
                return "client left"
            last = f"sse error {data['error']['type']}" if name == "error" else str(name)
        return "stream whole" if last == "message_stop" else last or "empty stream"


def _one(url: str, scenario: str, i: int, rng: random.Random) -> str:
    body = _body(scenario, i)
    if scenario == "message":
        answer = requests.post(f"{url}/v1/messages", json=body, timeout=30)
        return "message" if answer.status_code == 200 else f"http {answer.status_code} {answer.json()['error']['type']}"
    if scenario == "count":
        answer = requests.post(f"{url}/v1/messages/count_tokens", json=body, timeout=30)
        return "count" if answer.status_code == 200 else f"http {answer.status_code} {answer.json()['error']['type']}"
    return _stream(url, body, rng.randint(1, DELTAS) if scenario == "abort" else None)


class Soak:
    """The client threads and the health probe, counting outcomes until ``deadline``."""

    def __init__(self, url: str, deadline: float) -> None:
        self.url, self.deadline = url, deadline
        self.outcomes: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        i = 0
        while time.monotonic() < self.deadline:
            scenario = rng.choice(SCENARIOS)
            try:
                outcome = _one(self.url, scenario, i, rng)
            except requests.RequestException as error:
                outcome = f"client exception {type(error).__name__}"
            with self._lock:
                self.outcomes[f"{scenario}: {outcome}"] += 1
            i += 1

    def run(self) -> None:
        threads = [threading.Thread(target=self.client, args=(seed,)) for seed in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def warm_up(url: str, fake: FakeNexus) -> None:
    """Every pool thread started: the stream limit's worth of streams and a short pool's
    worth of counts, all held by the fake at once, then released."""
    held = CLIENTS + SHORT_THREADS
    workers = [threading.Thread(target=_stream, args=(url, _body("held", i), None)) for i in range(CLIENTS)]
    workers += [
        threading.Thread(
            target=requests.post, args=(f"{url}/v1/messages/count_tokens",), kwargs={"json": _body("held", i)}
        )
        for i in range(SHORT_THREADS)
    ]
    for worker in workers:
        worker.start()
    stop = time.monotonic() + 30
    while len(fake.requests) < held and time.monotonic() < stop:
        time.sleep(0.05)
    WARM_RELEASE.set()
    for worker in workers:
        worker.join()


class Counts(NamedTuple):
    """The server's threads, its open fds other than pooled Nexus connections, and those."""

    threads: int
    fds: int
    pooled: int


def _upstream_inodes(pid: int, port: int) -> set[str]:
    # /proc/<pid>/net/tcp: "sl local rem st ... inode"; rem is hex ip:port.
    inodes = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":  # established
            inodes.add(fields[9])
    return inodes


def _counts(server: ServerProcess, nexus_port: int) -> Counts:
    status = Path(f"/proc/{server.pid}/status").read_text().splitlines()
    threads = int(next(line.split()[1] for line in status if line.startswith("Threads:")))
    links = []
    for fd in Path(f"/proc/{server.pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed meanwhile
            links.append(os.readlink(fd))
    upstream = _upstream_inodes(server.pid, nexus_port)
    pooled = sum(link.startswith("socket:[") and link[8:-1] in upstream for link in links)
    return Counts(threads, len(links) - pooled, pooled)


def _settled(server: ServerProcess, nexus_port: int, baseline: Counts) -> Counts:
    # Sockets the clients just closed take the server a moment to notice: wait, bounded.
    stop = time.monotonic() + SETTLE_SECONDS
    counts = _counts(server, nexus_port)
    while time.monotonic() < stop and (counts.threads > baseline.threads or counts.fds > baseline.fds):
        time.sleep(0.1)
        counts = _counts(server, nexus_port)
    return counts


def soak_rows(seconds: float) -> list[Row]:
    with FakeNexusForSoak() as fake:
        server = ServerProcess(fake.url)
        url = f"http://127.0.0.1:{server.port}"
        probe = HealthProbe(server.port)
        try:
            # Thread pools never shrink: the baseline is theirs at full size.
            warm_up(url, fake)
            nexus_port = int(fake.url.rsplit(":", 1)[1])
            baseline = _counts(server, nexus_port)
            soak = Soak(url, time.monotonic() + seconds)
            probe.start()
            soak.run()
            health = probe.stop()
            after = _settled(server, nexus_port, baseline)
        finally:
            probe.close()
            server.close()
    done = sum(soak.outcomes.values())
    p50, p99 = percentile(health, 0.5), percentile(health, 0.99)
    rows = [Row(f"requests done in {seconds:g} s, {CLIENTS} clients", f"{done:,}", "", None)]
    rows += [Row(f"  {kind}", f"{count:,}", "", None) for kind, count in sorted(soak.outcomes.items())]
    unexpected = sum(c for kind, c in soak.outcomes.items() if "exception" in kind.split(": ")[1])
    rows += [
        Row("client-side exceptions (cut bodies, resets)", str(unexpected), "0", unexpected == 0),
        Row(
            "server threads before / after",
            f"{baseline.threads} / {after.threads}",
            "after <= before",
            after.threads <= baseline.threads,
        ),
        Row(
            "server open fds before / after (pooled Nexus connections apart)",
            f"{baseline.fds} / {after.fds}",
            "after <= before",
            after.fds <= baseline.fds,
        ),
        Row(
            "idle pooled Nexus connections before / after",
            f"{baseline.pooled} / {after.pooled}",
            f"<= {POOL_SIZE} (the pool's size)",
            after.pooled <= POOL_SIZE,
        ),
        Row(
            f"GET /health p50 / p99 ({len(health):,} probes)",
            f"{ms(p50)} / {ms(p99)}",
            f"p99 < {ms(HEALTH_P99_TARGET)}",
            p99 < HEALTH_P99_TARGET,
        ),
    ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to soak (default 60)")
    args = parser.parse_args()
    rows = soak_rows(args.seconds)
    print(render(rows))
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
