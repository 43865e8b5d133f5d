"""``GET /health`` polled from a process of its own while streams run, for its latency.

Polled from the benchmark's process, the probe would wait for the GIL behind the clients
reading 64 streams and time them instead of the proxy. Here it has a core's scheduler to
itself: ``start`` on stdin begins polling (one request every ``INTERVAL`` on a keep-alive
connection), ``stop`` ends it and prints the latencies in seconds as one JSON line.

    python -m bench.health_probe PORT
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

INTERVAL = 0.002
ROOT = Path(__file__).resolve().parents[1]


def _poll(port: int, stop: threading.Event, latencies: list[float]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        while not stop.is_set():
            start = time.perf_counter()
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
            if response.status != 200:
                raise RuntimeError(f"/health answered {response.status}")
            stop.wait(INTERVAL)
    finally:
        connection.close()


def main(port: int) -> None:
    stop, poller = threading.Event(), None
    latencies: list[float] = []
    for line in sys.stdin:
        if line.strip() == "start":
            stop, latencies = threading.Event(), []
            poller = threading.Thread(target=_poll, args=(port, stop, latencies))
            poller.start()
        elif line.strip() == "stop" and poller is not None:
            stop.set()
            poller.join()
            print(json.dumps(latencies), flush=True)


class HealthProbe:
    """The parent's handle: ``start()``, then ``stop()`` returns the latencies."""

    def __init__(self, port: int) -> None:
        command = [sys.executable, "-m", "bench.health_probe", str(port)]
        self._child = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _say(self, word: str) -> None:
        assert self._child.stdin is not None
        self._child.stdin.write(word + "\n")
        self._child.stdin.flush()

    def start(self) -> None:
        self._say("start")

    def stop(self) -> list[float]:
        self._say("stop")
        assert self._child.stdout is not None
        latencies: list[float] = json.loads(self._child.stdout.readline())
        return latencies

    def close(self) -> None:
        if self._child.stdin is not None:
            self._child.stdin.close()
        self._child.wait(timeout=15)


if __name__ == "__main__":
    main(int(sys.argv[1]))
