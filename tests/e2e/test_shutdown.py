"""Stopping the real ``nexus-claude-api start`` with SIGTERM or Ctrl-C while calls are open."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.fake_nexus import FakeNexus, Gate, JsonReply, RecordedRequest, text_reply, text_stream
from tests.support.sse_client import post_stream, sse_events

CLI = Path(sys.executable).parent / "nexus-claude-api"
HELLO: dict[str, Any] = {"model": "claude-opus-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
WAIT = 10
EXIT_WITHIN = 3  # seconds, as the issue asks


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    # Readiness of another process can only be polled: try to connect until it answers.
    for _ in range(500):
        assert process.poll() is None, process.communicate()[1]
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.01)
    raise AssertionError("nexus-claude-api start never answered /health")


@pytest.fixture
def server(fake_nexus: FakeNexus, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "NEXUS_API_KEY": "nxk-shutdown-test",
        "NEXUS_ENDPOINT_URL": fake_nexus.url,
    }
    command = [str(CLI), "start", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


class HeldBeforeFirstByte:
    """A Converse reply that Nexus is still thinking about: nothing sent until released."""

    def __init__(self) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()

    def __call__(self, _: RecordedRequest) -> JsonReply:
        self.arrived.set()
        self.release.wait(WAIT)
        return text_reply("too late")


def _stream_until_it_ends(url: str, opened: threading.Event) -> list[tuple[str | None, dict[str, Any]]]:
    with post_stream(url, HELLO) as response:
        events = []
        for event in sse_events(response):  # raises if the body is cut off unterminated
            events.append(event)
            if event[0] == "content_block_delta":
                opened.set()
        return events


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_open_calls_cleanly_and_exits_0(
    server: tuple[str, subprocess.Popen[str]], fake_nexus: FakeNexus, sig: signal.Signals
) -> None:
    url, process = server
    held_stream = text_stream("first words", " never sent")
    held_stream.items.insert(3, Gate(threading.Event()))  # after the first delta
    held_call = HeldBeforeFirstByte()
    fake_nexus.enqueue(held_stream, held_call)
    opened = threading.Event()
    with ThreadPoolExecutor(2) as clients:
        stream = clients.submit(_stream_until_it_ends, url, opened)
        assert opened.wait(WAIT), "the stream never started"
        call = clients.submit(requests.post, f"{url}/v1/messages", json=HELLO, timeout=WAIT)
        assert held_call.arrived.wait(WAIT), "the call never reached Nexus"
        process.send_signal(sig)
        events = stream.result(WAIT)
        answer = call.result(WAIT)
    held_call.release.set()
    returncode = process.wait(EXIT_WITHIN)
    stderr = process.communicate()[1]
    assert events[-1] == (
        "error",
        {
            "type": "error",
            "error": {
                "type": "api_error",
                "message": "nexus-claude-api is shutting down; retry once it is running again",
            },
        },
    )
    assert answer.status_code == 503 and answer.json()["error"]["type"] == "api_error"
    assert answer.headers["retry-after"].isdigit()
    assert held_stream.client_closed.wait(WAIT), "the upstream stream was left open"
    assert returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
