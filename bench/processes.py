"""The processes the benchmark measures: the real ``nexus-claude-api start`` and the bench fake.

The proxy runs exactly as a user starts it (the console script, ``start``, so uvicorn with
``serve()``'s options), with ``HOME`` in a temporary directory so that no real config file
or log is touched. Its CPU time and memory come from the kernel's accounting of that one
process (``/proc/<pid>/stat`` and ``status``), never from the benchmark's own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "nxk-bench-secret"
CLI = Path(sys.executable).parent / "nexus-claude-api"
_TICKS = os.sysconf("SC_CLK_TCK")
HEALTH_POLL = 0.005


class FakeProcess:
    """``bench/fake_server.py`` in a child; ``tls`` is (certificate PEM, key PEM) for HTTPS."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "bench.fake_server", *(("--tls", *tls) if tls else ())]
        started = time.perf_counter()
        self._child = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._child.stdout is not None
        word, _, port = self._child.stdout.readline().partition(" ")
        if word != "ready":
            self.close()
            raise RuntimeError("the bench fake did not start; see its stderr above")
        self.startup = time.perf_counter() - started
        self.port = int(port)
        self.pid = self._child.pid

    def close(self) -> None:
        if self._child.stdin is not None:
            self._child.stdin.close()  # its end of input: it stops serving
        _wait_or_kill(self._child)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class ServerProcess:
    """``nexus-claude-api start`` on a free loopback port, pointed at ``endpoint``.

    Attributes:
        port: where it listens.
        pid: the server process (the console script execs Python itself: one process).
        startup: seconds from spawning ``start`` to the first healthy ``GET /health``.
    """

    def __init__(
        self, endpoint: str, environ: Mapping[str, str] | None = None, config: Mapping[str, object] | None = None
    ) -> None:
        self._home = tempfile.TemporaryDirectory(prefix="nexus-bench-home-")
        if config:  # a config file of the user's, e.g. {"one_cpu": False}
            folder = Path(self._home.name) / ".config" / "nexus-claude-api"
            folder.mkdir(mode=0o700, parents=True)
            (folder / "config.json").write_text(json.dumps(config))
            (folder / "config.json").chmod(0o600)
        self.port = free_port()
        env = {**os.environ, "HOME": self._home.name, "NEXUS_API_KEY": KEY, "NEXUS_ENDPOINT_URL": endpoint}
        env.update(environ or {})
        command = [str(CLI), "start", "--port", str(self.port)]
        started = time.perf_counter()
        self._child = subprocess.Popen(command, cwd=self._home.name, env=env, stdout=subprocess.DEVNULL)
        self.pid = self._child.pid
        while not _healthy(self.port):
            if self._child.poll() is not None or time.perf_counter() - started > 30:
                self.close()
                raise RuntimeError("nexus-claude-api start did not become healthy; see its stderr above")
            time.sleep(HEALTH_POLL)
        self.startup = time.perf_counter() - started

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15

    def _status_kb(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {key} for the proxy process")

    def rss_kb(self) -> int:
        return self._status_kb("VmRSS")

    def peak_kb(self) -> int:
        """The kernel's high-water mark of the process's resident memory."""
        return self._status_kb("VmHWM")

    def reset_peak_kb(self) -> int:
        """Reset the peak to the current RSS (``clear_refs`` 5); returns that RSS."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        return self.peak_kb()

    def close(self) -> None:
        if self._child.poll() is None:
            self._child.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops it
        _wait_or_kill(self._child)
        self._home.cleanup()


def _wait_or_kill(child: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
