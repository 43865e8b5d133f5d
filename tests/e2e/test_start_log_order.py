"""The real ``start``: its traffic lines, written off the loop, all come before the session summary."""

from __future__ import annotations

import signal
import subprocess

import requests

from tests.e2e.test_shutdown import EXIT_WITHIN, HELLO, WAIT, server  # noqa: F401
from tests.support.fake_nexus import FakeNexus, text_reply

REQUESTS = 5


def test_every_traffic_line_is_printed_before_the_summary(
    server: tuple[str, subprocess.Popen[str]],  # noqa: F811
    fake_nexus: FakeNexus,
) -> None:
    url, process = server
    fake_nexus.enqueue(*(text_reply(f"answer {n}") for n in range(REQUESTS)))
    for _ in range(REQUESTS):
        assert requests.post(f"{url}/v1/messages", json=HELLO, timeout=WAIT).status_code == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(EXIT_WITHIN) == 0
    lines = process.communicate()[1].splitlines()
    traffic = [n for n, line in enumerate(lines) if "nexus_claude_api.traffic:" in line]
    summary = next(n for n, line in enumerate(lines) if line.startswith("session: "))
    assert len(traffic) == REQUESTS and max(traffic) < summary, lines
    assert lines[summary] == f"session: {REQUESTS} requests, errors: none"
